//! Integer comparisons. `x < c` is rewritten on the linear form of `x`: the constant
//! moves to the right, a common factor of the coefficients divides out, and terms too
//! small to cross a multiple of that factor drop (`4a + b < 8 -> a < 2` when `0 <= b < 4`).
//! `x//d < c -> x < c*d`. Comparisons that bounds decide are folded by `fold`.

use uop_ir::{Op, PatternMatcher, UOp, UPat};

use crate::linear::Linear;
use crate::predicates::{
    ceil_div, divides_exactly, fits_without_wrap, gcd, is_int_math, positive_const,
};

/// `x < c` on the linear form of `x`, if that changes anything.
fn fold_lt(x: &UOp, c: i128) -> Option<UOp> {
    if !is_int_math(x) || !fits_without_wrap(x) {
        return None;
    }
    let l = Linear::of(x)?;
    if l.is_const() {
        return None;
    }
    let mut rhs = c.checked_sub(l.constant)?;
    let mut lhs = Linear {
        constant: 0,
        ..l.clone()
    };
    // Σ g*a_i*t_i < rhs  ->  Σ a_i*t_i < ceil(rhs / g)
    let g = lhs.coef_gcd();
    if g > 1 {
        lhs.terms.iter_mut().for_each(|(_, a)| *a /= g);
        rhs = ceil_div(rhs, g);
    }
    // d*y + s < rhs  ->  y < rhs/d   when 0 <= s < d and d | rhs
    let big: Vec<&(UOp, i128)> = lhs
        .terms
        .iter()
        .filter(|(t, a)| !small_term(t, *a))
        .collect();
    if !big.is_empty() && big.len() < lhs.terms.len() {
        let d = big.iter().fold(0, |g, (_, a)| gcd(g, *a));
        let small = Linear {
            terms: lhs
                .terms
                .iter()
                .filter(|(t, a)| small_term(t, *a))
                .cloned()
                .collect(),
            constant: 0,
            dtype: l.dtype,
        };
        if let Some(sb) = small.bounds()
            && d > 1
            && sb.min >= 0
            && sb.max < d
            && divides_exactly(rhs, d)
        {
            lhs.terms.retain(|(t, a)| !small_term(t, *a));
            lhs.terms.iter_mut().for_each(|(_, a)| *a /= d);
            rhs /= d;
        }
    }
    let new = lhs.build().lt(lhs.build().const_like(rhs));
    Some(new)
}

/// A term whose coefficient is 1 is a candidate to be dropped by `fold_lt`.
fn small_term(_t: &UOp, a: i128) -> bool {
    a == 1
}

pub fn rules() -> PatternMatcher {
    let x = || UPat::var("x");
    PatternMatcher::new()
        // Σ a*t + k < c -> Σ a*t < c-k ; gcd and small-term folding
        .rule(
            "lin < c -> folded",
            x().lt(UPat::cvar("c")).named("n"),
            |b| {
                let new = fold_lt(&b["x"], b["c"].const_int()?)?;
                (new != b["n"]).then_some(new)
            },
        )
        // x//d < c -> x < c*d   (d > 0)
        .rule(
            "x//d < c -> x < c*d",
            x().floordiv(UPat::cvar("d")).lt(UPat::cvar("c")),
            |b| {
                let (d, c) = (positive_const(&b["d"])?, b["c"].const_int()?);
                Some(b["x"].lt(b["x"].const_like(c.checked_mul(d)?)))
            },
        )
        // c < x -> !(x < c+1)   (integers: one comparison shape for the rules above)
        .rule("c < x -> !(x < c+1)", UPat::cvar("c").lt(x()), |b| {
            let x = &b["x"];
            if !is_int_math(x) || x.op() == Op::Const {
                return None;
            }
            Some(
                x.lt(x.const_like(b["c"].const_int()?.checked_add(1)?))
                    .not(),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simplify;

    #[test]
    fn constants_move_right_and_factors_divide_out() {
        let a = UOp::var("a", 0, 9);
        let b = UOp::var("b", 0, 3);
        assert_eq!(simplify(&(&a + 3).lt(5)), Ok(a.lt(2)));
        assert_eq!(simplify(&(&a * 4).lt(7)), Ok(a.lt(2)));
        assert_eq!(simplify(&(&a * 4 + &b).lt(8)), Ok(a.lt(2)));
        assert_eq!(simplify(&a.floordiv(3).lt(2)), Ok(a.lt(6)));
    }

    #[test]
    fn bounds_decide_comparisons() {
        let r = UOp::range(5, 0);
        assert_eq!(simplify(&r.lt(5)), Ok(UOp::bool(true)));
        assert_eq!(simplify(&(&r + 1).ge(1)), Ok(UOp::bool(true)));
    }
}
