//! Term combining for integer sums and products. A sum is rebuilt in its linear form
//! (like terms collected, terms in canonical order, the constant last), and pairs that a
//! reshape splits are merged back: `(x%d)*m + (x//d)*(d*m) -> x*m`. Products fold their
//! constants, and a constant multiplier distributes over a sum so that sums stay flat.

use uop_ir::{Op, PatternMatcher, UOp, UPat};

use crate::linear::Linear;
use crate::predicates::is_int_math;

/// `(x%d)*m + (x//d)*(d*m) -> x*m`, also through a nested divide:
/// `((x//a)%d)*m + (x//(a*d))*(d*m) -> (x//a)*m`. Returns whether anything merged.
fn recombine_divmod(l: &mut Linear) -> bool {
    for i in 0..l.terms.len() {
        let (t, m) = l.terms[i].clone();
        if t.op() != Op::FloorMod {
            continue;
        }
        let (x, d) = (&t.src()[0], &t.src()[1]);
        let Some(dv) = d.const_int().filter(|d| *d > 0) else {
            continue;
        };
        let Some(dm) = dv.checked_mul(m) else {
            continue;
        };
        let quotient = match (x.op(), x.src().get(1).and_then(UOp::const_int)) {
            (Op::FloorDiv, Some(a)) if a > 0 => [
                x.floordiv(d),
                x.src()[0].floordiv(x.src()[1].const_like(a * dv)),
            ],
            _ => [x.floordiv(d), x.floordiv(d)],
        };
        let Some(j) = l
            .terms
            .iter()
            .position(|(q, c)| *c == dm && quotient.contains(q))
        else {
            continue;
        };
        let (i, j) = (i.min(j), i.max(j));
        l.terms.remove(j);
        l.terms.remove(i);
        // x may itself be a sum: fold it in term by term
        let Some(inner) = Linear::of(x) else {
            return false;
        };
        for (term, c) in inner.terms {
            let Some(c) = c.checked_mul(m) else {
                return false;
            };
            match l.terms.iter_mut().find(|(u, _)| *u == term) {
                Some((_, old)) => *old += c,
                None => l.terms.push((term, c)),
            }
        }
        l.constant += inner.constant * m;
        l.terms.retain(|(_, c)| *c != 0);
        l.terms.sort_by(|a, b| a.0.canonical_cmp(&b.0));
        return true;
    }
    false
}

/// The canonical form of an integer sum, if it differs from `n`.
fn normalize_sum(n: &UOp) -> Option<UOp> {
    if !is_int_math(n) {
        return None;
    }
    let mut l = Linear::of(n)?;
    while recombine_divmod(&mut l) {}
    Some(l.build())
}

pub fn rules() -> PatternMatcher {
    let x = || UPat::var("x");
    PatternMatcher::new()
        // Σ terms -> canonical Σ (x*c0 + x*c1 -> x*(c0+c1), (x+c0)+c1 -> x+(c0+c1), ...)
        .rule(
            "sum -> canonical linear form",
            UPat::op(Op::Add).named("n"),
            |b| normalize_sum(&b["n"]),
        )
        // (x*c0)*c1 -> x*(c0*c1)   (integers)
        .rule(
            "(x*c0)*c1 -> x*(c0*c1)",
            (x() * UPat::cvar("c0")) * UPat::cvar("c1"),
            |b| {
                let (x, c0, c1) = (&b["x"], b["c0"].const_int()?, b["c1"].const_int()?);
                if !is_int_math(x) || x.op() == Op::Const {
                    return None;
                }
                Some(x * x.const_like(c0.checked_mul(c1)?))
            },
        )
        // (x+y)*c -> x*c + y*c   (integers: keeps sums flat)
        .rule(
            "(x+y)*c -> x*c+y*c",
            (x() + UPat::var("y")) * UPat::cvar("c"),
            |b| {
                let (x, y, c) = (&b["x"], &b["y"], &b["c"]);
                is_int_math(x).then(|| {
                    UOp::alu(Op::Mul, [x.clone(), c.clone()])
                        + UOp::alu(Op::Mul, [y.clone(), c.clone()])
                })
            },
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use uop_ir::rewrite;

    #[test]
    fn like_terms_combine() {
        let x = UOp::var("x", 0, 9);
        let y = UOp::var("y", 0, 9);
        let e = (&x * 2 + &y + 3) + (&x * 3 + 4);
        assert_eq!(rewrite(&e, &rules()), Ok((&x * 5 + &y) + 7));
    }

    #[test]
    fn div_and_mod_recombine() {
        let r = UOp::range(12, 0);
        let e = r.floormod(4) * 2 + r.floordiv(4) * 8;
        assert_eq!(rewrite(&e, &rules()), Ok(&r * 2));
        let nested = r.floordiv(2).floormod(3) + r.floordiv(6) * 3;
        assert_eq!(rewrite(&nested, &rules()), Ok(r.floordiv(2)));
    }

    #[test]
    fn products_fold_and_distribute() {
        let x = UOp::var("x", 0, 9);
        let y = UOp::var("y", 0, 9);
        assert_eq!(rewrite(&((&x * 3) * 4), &rules()), Ok(&x * 12));
        assert_eq!(rewrite(&((&x + &y) * 2), &rules()), Ok(&x * 2 + &y * 2));
    }
}
