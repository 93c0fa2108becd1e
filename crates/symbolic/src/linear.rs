//! Linear form of integer sums: `Σ coef·term + constant`, where terms are nodes that are
//! not sums, negations or products with a constant. Sum rules normalize through it, and
//! the div/mod and comparison rules read coefficients from it.

use uop_ir::{Bounds, DType, Op, UOp};

/// `Σ coef·term + constant` with distinct terms and nonzero coefficients, in canonical
/// term order.
#[derive(Clone, Debug, PartialEq)]
pub struct Linear {
    pub terms: Vec<(UOp, i128)>,
    pub constant: i128,
    pub dtype: DType,
}

impl Linear {
    /// Decomposes `u` (an integer node). `None` if a coefficient would overflow.
    pub fn of(u: &UOp) -> Option<Linear> {
        let mut out = Linear {
            terms: Vec::new(),
            constant: 0,
            dtype: u.dtype(),
        };
        let mut stack = vec![(u.clone(), 1i128)];
        while let Some((n, coef)) = stack.pop() {
            match n.op() {
                Op::Add => stack.extend(n.src().iter().map(|s| (s.clone(), coef))),
                Op::Sub => {
                    stack.push((n.src()[0].clone(), coef));
                    stack.push((n.src()[1].clone(), coef.checked_neg()?));
                }
                Op::Neg => stack.push((n.src()[0].clone(), coef.checked_neg()?)),
                Op::Mul if n.src()[1].const_int().is_some() => {
                    stack.push((
                        n.src()[0].clone(),
                        coef.checked_mul(n.src()[1].const_int()?)?,
                    ));
                }
                Op::Mul if n.src()[0].const_int().is_some() => {
                    stack.push((
                        n.src()[1].clone(),
                        coef.checked_mul(n.src()[0].const_int()?)?,
                    ));
                }
                Op::Const => {
                    out.constant = out
                        .constant
                        .checked_add(coef.checked_mul(n.const_int()?)?)?
                }
                _ => out.add_term(n, coef)?,
            }
        }
        out.terms.retain(|(_, c)| *c != 0);
        out.terms.sort_by(|a, b| a.0.canonical_cmp(&b.0));
        Some(out)
    }

    fn add_term(&mut self, t: UOp, coef: i128) -> Option<()> {
        match self.terms.iter_mut().find(|(x, _)| *x == t) {
            Some((_, c)) => *c = c.checked_add(coef)?,
            None => self.terms.push((t, coef)),
        }
        Some(())
    }

    /// Bounds of the sum from the bounds of its terms (`None` if a term has none).
    pub fn bounds(&self) -> Option<Bounds> {
        let (mut lo, mut hi) = (self.constant, self.constant);
        for (t, c) in &self.terms {
            let b = t.bounds()?;
            let (p, q) = (b.min.checked_mul(*c)?, b.max.checked_mul(*c)?);
            lo = lo.checked_add(p.min(q))?;
            hi = hi.checked_add(p.max(q))?;
        }
        Some(Bounds::new(lo, hi))
    }

    /// Builds the canonical node: terms in canonical order, left-associated, `t*c` with the
    /// constant on the right (`t` alone when `c == 1`), the constant last.
    pub fn build(&self) -> UOp {
        let mut acc: Option<UOp> = None;
        for (t, c) in &self.terms {
            let term = if *c == 1 {
                t.clone()
            } else {
                UOp::alu(Op::Mul, [t.clone(), t.const_like(*c)])
            };
            acc = Some(match acc {
                Some(a) => UOp::alu(Op::Add, [a, term]),
                None => term,
            });
        }
        let k = UOp::const_of(self.dtype, uop_ir::ConstValue::Int(self.constant));
        match acc {
            None => k,
            Some(a) if self.constant == 0 => a,
            Some(a) => UOp::alu(Op::Add, [a, k]),
        }
    }

    /// Greatest common divisor of every coefficient (0 when there are no terms).
    pub fn coef_gcd(&self) -> i128 {
        self.terms
            .iter()
            .fold(0, |g, (_, c)| crate::predicates::gcd(g, *c))
    }

    /// No terms and a zero constant.
    pub fn is_const_zero(&self) -> bool {
        self.terms.is_empty() && self.constant == 0
    }

    pub fn is_const(&self) -> bool {
        self.terms.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_like_terms() {
        let x = UOp::var("x", 0, 9);
        let y = UOp::var("y", 0, 9);
        let e = (&x * 3 + &y) - (&x + 2) + (&y * -1) + 5;
        let l = Linear::of(&e).expect("no overflow");
        assert_eq!(l.terms, vec![(x.clone(), 2)]);
        assert_eq!(l.constant, 3);
        assert_eq!(l.build(), &x * 2 + 3);
    }

    #[test]
    fn bounds_of_terms() {
        let r = UOp::range(4, 0);
        let l = Linear::of(&(&r * -2 + 7)).expect("no overflow");
        assert_eq!(l.bounds(), Some(Bounds::new(1, 7)));
    }
}
