//! Floor division and modulo by constants, the heart of index simplification. A reshape
//! writes an index as `(Σ a·t + k) // c` and `% c`; these rules fold such expressions
//! back to the ranges they came from. C-style division becomes floor division where the
//! two agree. Division by a zero constant is an error, never a value.

use uop_ir::{Bindings, Op, PatternMatcher, UOp, UPat};

use crate::linear::Linear;
use crate::predicates::{
    divides_exactly, fits_without_wrap, floor_div, gcd, is_int_math, positive_const,
};

/// `x // c` (or `x % c` when `is_mod`) for a constant `c > 0`, folded through the linear
/// form of `x`. `None` when nothing simpler is found.
fn fold_divmod(x: &UOp, c: i128, is_mod: bool) -> Option<UOp> {
    if !is_int_math(x) || !fits_without_wrap(x) {
        return None;
    }
    // the quotient is the same everywhere: x//c -> q, x%c -> x - q*c
    let b = x.bounds()?;
    let (q0, q1) = (floor_div(b.min, c), floor_div(b.max, c));
    if q0 == q1 {
        return Some(match (is_mod, q0) {
            (false, _) => x.const_like(q0),
            (true, 0) => x.clone(),
            (true, _) => x - x.const_like(q0 * c),
        });
    }
    let l = Linear::of(x)?;
    if l.is_const() {
        return None;
    }
    // gcd factoring: (g*y + k) // (g*c') -> (y + k//g) // c' ; % -> ((y + k//g) % c')*g + k%g
    let g = gcd(l.coef_gcd(), c);
    if g > 1 {
        let y = Linear {
            terms: l.terms.iter().map(|(t, a)| (t.clone(), a / g)).collect(),
            constant: floor_div(l.constant, g),
            dtype: l.dtype,
        }
        .build();
        let (cp, s) = (c / g, l.constant.rem_euclid(g));
        let (cp, g, s) = (y.const_like(cp), y.const_like(g), y.const_like(s));
        return Some(if is_mod {
            y.floormod(cp) * g + s
        } else {
            y.floordiv(cp)
        });
    }
    if let Some(folded) = drop_small_part(&l, c, is_mod) {
        return Some(folded);
    }
    // congruence split: a = q*c + r for every coefficient (and the constant)
    for nearest in [false, true] {
        let split = |a: i128| {
            let (q, r) = (floor_div(a, c), a.rem_euclid(c));
            if nearest && 2 * r > c {
                (q + 1, r - c)
            } else {
                (q, r)
            }
        };
        let (kq, kr) = (floor_div(l.constant, c), l.constant.rem_euclid(c));
        let mut quot = Linear {
            terms: Vec::new(),
            constant: kq,
            dtype: l.dtype,
        };
        let mut rem = Linear {
            terms: Vec::new(),
            constant: kr,
            dtype: l.dtype,
        };
        for (t, a) in &l.terms {
            let (q, r) = split(*a);
            if q != 0 {
                quot.terms.push((t.clone(), q));
            }
            if r != 0 {
                rem.terms.push((t.clone(), r));
            }
        }
        let rb = rem.bounds()?;
        let m = floor_div(rb.min, c);
        if floor_div(rb.max, c) == m {
            // the remainder stays inside one period [m*c, (m+1)*c)
            return Some(if is_mod {
                rem.constant -= m * c;
                rem.build()
            } else {
                quot.constant += m;
                quot.build()
            });
        }
        if !nearest && !quot.is_const_zero() {
            // x//c -> Q + R//c ; x%c -> R%c   (x = c*Q + R)
            let r = rem.build();
            let c = r.const_like(c);
            return Some(if is_mod {
                r.floormod(c)
            } else {
                quot.build() + r.floordiv(c)
            });
        }
    }
    None
}

/// Small-part split: `x = g*P + S` where `g` divides `c` and `0 <= S < g` everywhere.
/// Then `x // c -> P // (c/g)` and `x % c -> (P % (c/g))*g + S`: adding `S` to `g*P`
/// never crosses a multiple of `c`. `g` is tried as `gcd(c, a)` for each coefficient `a`,
/// largest first (`(r1*4096 + r2) // 8192 -> r1 // 2` for `r2 < 4096`).
fn drop_small_part(l: &Linear, c: i128, is_mod: bool) -> Option<UOp> {
    let mut candidates: Vec<i128> = l
        .terms
        .iter()
        .map(|(_, a)| gcd(a.abs(), c))
        .filter(|g| *g > 1)
        .collect();
    candidates.sort_unstable_by(|a, b| b.cmp(a));
    candidates.dedup();
    for g in candidates {
        let (big, small): (Vec<_>, Vec<_>) = l.terms.iter().cloned().partition(|(_, a)| a % g == 0);
        let part = Linear {
            terms: big.iter().map(|(t, a)| (t.clone(), a / g)).collect(),
            constant: 0,
            dtype: l.dtype,
        };
        let rest = Linear {
            terms: small,
            constant: l.constant,
            dtype: l.dtype,
        };
        let Some(rb) = rest.bounds() else {
            continue;
        };
        if part.terms.is_empty() || rb.min < 0 || rb.max >= g {
            continue;
        }
        let p = part.build();
        let cg = p.const_like(c / g);
        return Some(if is_mod {
            p.floormod(cg) * p.const_like(g) + rest.build()
        } else {
            p.floordiv(cg)
        });
    }
    None
}

fn div_rule(b: &Bindings, is_mod: bool) -> Result<Option<UOp>, String> {
    let (x, d) = (&b["x"], &b["d"]);
    match d.const_int() {
        Some(0) if is_int_math(x) => Err(format!(
            "division by zero: {} by a zero constant",
            if is_mod { "modulo" } else { "division" }
        )),
        // x//c -> (-x)//(-c) ; x%c -> -((-x)%(-c))   for c < 0
        Some(c) if c < 0 && is_int_math(x) => {
            let nx = x * -1;
            let nc = nx.const_like(-c);
            Ok(Some(if is_mod {
                nx.floormod(nc) * -1
            } else {
                nx.floordiv(nc)
            }))
        }
        Some(c) => Ok(fold_divmod(x, c, is_mod)),
        None => Ok(None),
    }
}

pub fn rules() -> PatternMatcher {
    let x = || UPat::var("x");
    let c = |n| UPat::cvar(n);
    PatternMatcher::new()
        // (x//a)//b -> x//(a*b)   (a, b > 0)
        .rule(
            "(x//a)//b -> x//(a*b)",
            x().floordiv(c("a")).floordiv(c("b")),
            |b| {
                let (a, bb) = (positive_const(&b["a"])?, positive_const(&b["b"])?);
                if !is_int_math(&b["x"]) {
                    return None;
                }
                Some(b["x"].floordiv(b["x"].const_like(a.checked_mul(bb)?)))
            },
        )
        // (x%(k*c))//c -> (x//c)%k
        .rule(
            "(x%(k*c))//c -> (x//c)%k",
            x().floormod(c("m")).floordiv(c("c")),
            |b| {
                let (m, cc) = (positive_const(&b["m"])?, positive_const(&b["c"])?);
                divides_exactly(m, cc)
                    .then(|| b["x"].floordiv(&b["c"]).floormod(b["x"].const_like(m / cc)))
            },
        )
        // (x%m)%c -> x%c   when c divides m
        .rule(
            "(x%m)%c -> x%c if c | m",
            x().floormod(c("m")).floormod(c("c")),
            |b| {
                let (m, cc) = (positive_const(&b["m"])?, positive_const(&b["c"])?);
                divides_exactly(m, cc).then(|| b["x"].floormod(&b["c"]))
            },
        )
        // x//c and x%c by a constant: bounds, gcd factoring, congruence split
        .rule_try("x//c -> linear fold", x().floordiv(UPat::cvar("d")), |b| {
            div_rule(b, false)
        })
        .rule_try("x%c -> linear fold", x().floormod(UPat::cvar("d")), |b| {
            div_rule(b, true)
        })
        // cdiv(x, c) -> x//c ; cmod(x, c) -> x%c   when x >= 0 and c > 0 (they agree there)
        .rule_try(
            "cdiv/cmod(x>=0, c>0) -> floor",
            UPat::ops(&[Op::CDiv, Op::CMod])
                .src([x(), UPat::cvar("d")])
                .named("n"),
            |b| {
                let (n, x) = (&b["n"], &b["x"]);
                match b["d"].const_int() {
                    Some(0) if is_int_math(x) => {
                        Err("division by zero: C division by a zero constant".into())
                    }
                    Some(d) if d > 0 && x.bounds().is_some_and(|bd| bd.min >= 0) => {
                        Ok(Some(if n.op() == Op::CDiv {
                            x.floordiv(&b["d"])
                        } else {
                            x.floormod(&b["d"])
                        }))
                    }
                    _ => Ok(None),
                }
            },
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simplify;

    #[test]
    fn reshape_round_trips_fold_to_ranges() {
        let r0 = UOp::range(3, 0);
        let r1 = UOp::range(4, 1);
        let flat = &r0 * 4 + &r1;
        assert_eq!(simplify(&flat.floordiv(4)), Ok(r0.clone()));
        assert_eq!(simplify(&flat.floormod(4)), Ok(r1.clone()));
        assert_eq!(
            simplify(&(&flat + 2).floordiv(2).floormod(2)),
            simplify(&(&r1 + 2).floordiv(2).floormod(2))
        );
    }

    #[test]
    fn a_small_part_below_the_step_is_dropped() {
        let (a, b) = (UOp::range(64, 0), UOp::range(512, 1));
        // (4096a + b) // 8192 -> a // 2   (b < 4096)
        assert_eq!(
            simplify(&(&a * 4096 + &b).floordiv(8192)),
            simplify(&a.floordiv(2))
        );
        // (4096a + b) % 8192 -> (a % 2) * 4096 + b
        assert_eq!(
            simplify(&(&a * 4096 + &b).floormod(8192)),
            simplify(&(a.floormod(2) * 4096 + &b))
        );
        // not when the small part can reach the step: b < 512 but the step is 256
        let e = simplify(&(&a * 256 + &b).floordiv(1024));
        assert_ne!(e, simplify(&a.floordiv(4)));
    }

    #[test]
    fn gcd_factoring() {
        let r = UOp::range(10, 0);
        // (4r + 2) // 8 -> (2r + 1) // 4
        assert_eq!(
            simplify(&(&r * 4 + 2).floordiv(8)),
            simplify(&(&r * 2 + 1).floordiv(4))
        );
        // (4r + 2) % 8 -> ((2r+1) % 4) * 2
        assert_eq!(
            simplify(&(&r * 4 + 2).floormod(8)),
            simplify(&((&r * 2 + 1).floormod(4) * 2))
        );
    }

    #[test]
    fn nested_divisions() {
        let x = UOp::var("x", 0, 1000);
        assert_eq!(simplify(&x.floordiv(3).floordiv(5)), Ok(x.floordiv(15)));
        assert_eq!(
            simplify(&x.floormod(12).floordiv(4)),
            Ok(x.floordiv(4).floormod(3))
        );
        assert_eq!(simplify(&x.floormod(12).floormod(4)), Ok(x.floormod(4)));
    }

    #[test]
    fn division_by_zero_is_reported() {
        let x = UOp::var("x", 0, 9);
        let err = simplify(&x.floordiv(&x - &x)).expect_err("x//0 has no value");
        assert!(err.to_string().contains("division by zero"), "{err}");
        assert!(simplify(&x.cmod(0)).is_err());
    }

    #[test]
    fn c_division_of_nonnegative_values_is_floor_division() {
        let r = UOp::range(10, 0);
        assert_eq!(simplify(&(&r + 3).cdiv(20)), Ok(UOp::int(0)));
    }
}
