//! vmin/vmax: interval bounds of integer, index and bool nodes, computed once when a node
//! is built from the bounds of its sources (so deep graphs need no recursion). Float
//! nodes have no bounds. A result that could leave its dtype's range (and so wrap) gets
//! the dtype's full range.

use dtype::DType;

use crate::arg::{Arg, ConstValue};
use crate::op::Op;
use crate::uop::UOp;

/// `min <= value <= max` for every value the node can take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    pub min: i128,
    pub max: i128,
}

impl Bounds {
    pub const fn new(min: i128, max: i128) -> Bounds {
        Bounds { min, max }
    }

    pub const fn exact(v: i128) -> Bounds {
        Bounds { min: v, max: v }
    }

    /// The single value, when `min == max`.
    pub const fn single(self) -> Option<i128> {
        if self.min == self.max {
            Some(self.min)
        } else {
            None
        }
    }

    fn full(dtype: DType) -> Option<Bounds> {
        Some(Bounds::new(dtype.int_min()?, dtype.int_max()?))
    }
}

const BOOL_UNKNOWN: Bounds = Bounds::new(0, 1);

fn bool_bounds(v: Option<bool>) -> Bounds {
    match v {
        Some(b) => Bounds::exact(b as i128),
        None => BOOL_UNKNOWN,
    }
}

pub(crate) fn compute_bounds(op: Op, dtype: DType, src: &[UOp], arg: &Arg) -> Option<Bounds> {
    let full = Bounds::full(dtype)?;
    let b = |i: usize| src.get(i).and_then(UOp::bounds);
    let out = match op {
        Op::Const => match arg {
            Arg::Const(ConstValue::Int(v)) => Some(Bounds::exact(*v)),
            Arg::Const(ConstValue::Bool(v)) => Some(Bounds::exact(*v as i128)),
            _ => None,
        },
        Op::DefineVar => match arg {
            Arg::Var { min, max, .. } => Some(Bounds::new(*min as i128, *max as i128)),
            _ => None,
        },
        Op::Range | Op::Special => b(0).map(|end| Bounds::new(0, (end.max - 1).max(0))),
        Op::Add => binary(b(0), b(1), |x, y| {
            Some((x.min.checked_add(y.min)?, x.max.checked_add(y.max)?))
        }),
        Op::Sub => binary(b(0), b(1), |x, y| {
            Some((x.min.checked_sub(y.max)?, x.max.checked_sub(y.min)?))
        }),
        Op::Mul => binary(b(0), b(1), |x, y| corners(x, y, |p, q| p.checked_mul(q))),
        Op::Neg => b(0).and_then(|x| Some(Bounds::new(x.max.checked_neg()?, x.min.checked_neg()?))),
        Op::Max => binary(b(0), b(1), |x, y| {
            Some((x.min.max(y.min), x.max.max(y.max)))
        }),
        Op::FloorDiv => binary(b(0), b(1), |x, y| {
            nonzero(y).then(|| corners(x, y, floor_div))?
        }),
        Op::CDiv => binary(b(0), b(1), |x, y| {
            nonzero(y).then(|| corners(x, y, |p, q| p.checked_div(q)))?
        }),
        Op::FloorMod => binary(b(0), b(1), floor_mod_bounds),
        Op::CMod => binary(b(0), b(1), c_mod_bounds),
        Op::CmpLt => binary(b(0), b(1), |x, y| {
            let v = if x.max < y.min {
                Some(true)
            } else if x.min >= y.max {
                Some(false)
            } else {
                None
            };
            Some(pair(bool_bounds(v)))
        }),
        Op::CmpNe | Op::CmpEq => binary(b(0), b(1), |x, y| {
            let ne = if x.max < y.min || y.max < x.min {
                Some(true)
            } else if x.single().is_some() && x == y {
                Some(false)
            } else {
                None
            };
            Some(pair(bool_bounds(if op == Op::CmpEq {
                ne.map(|v| !v)
            } else {
                ne
            })))
        }),
        Op::And | Op::Or | Op::Xor if dtype == DType::Bool => binary(b(0), b(1), |x, y| {
            let (p, q) = (x.single().map(|v| v != 0), y.single().map(|v| v != 0));
            let v = match (op, p, q) {
                (Op::And, Some(false), _) | (Op::And, _, Some(false)) => Some(false),
                (Op::And, Some(true), Some(true)) => Some(true),
                (Op::Or, Some(true), _) | (Op::Or, _, Some(true)) => Some(true),
                (Op::Or, Some(false), Some(false)) => Some(false),
                (Op::Xor, Some(a), Some(b)) => Some(a ^ b),
                _ => None,
            };
            Some(pair(bool_bounds(v)))
        }),
        Op::And => binary(b(0), b(1), |x, y| match (x.min >= 0, y.min >= 0) {
            (true, true) => Some((0, x.max.min(y.max))),
            (true, false) => Some((0, x.max)),
            (false, true) => Some((0, y.max)),
            _ => None,
        }),
        Op::Or | Op::Xor => binary(b(0), b(1), |x, y| {
            (x.min >= 0 && y.min >= 0).then(|| (0, next_pow2_minus1(x.max.max(y.max))))
        }),
        Op::Shl => binary(b(0), b(1), |x, y| {
            let s = u32::try_from(y.single()?).ok().filter(|s| *s < 64)?;
            Some((x.min.checked_mul(1 << s)?, x.max.checked_mul(1 << s)?))
        }),
        Op::Shr => binary(b(0), b(1), |x, y| {
            let s = u32::try_from(y.single()?).ok().filter(|s| *s < 64)?;
            Some((x.min >> s, x.max >> s))
        }),
        Op::Where => match (b(0), b(1), b(2)) {
            (Some(c), Some(t), Some(f)) => Some(match c.single() {
                Some(0) => f,
                Some(_) => t,
                None => Bounds::new(t.min.min(f.min), t.max.max(f.max)),
            }),
            _ => None,
        },
        Op::Cast => b(0).filter(|x| x.min >= full.min && x.max <= full.max),
        Op::After => b(0),
        Op::Stack => {
            let all: Option<Vec<Bounds>> = src.iter().map(UOp::bounds).collect();
            all.and_then(|v| {
                v.into_iter()
                    .reduce(|a, b| Bounds::new(a.min.min(b.min), a.max.max(b.max)))
            })
        }
        _ => None,
    };
    match out {
        Some(o) if o.min >= full.min && o.max <= full.max && o.min <= o.max => Some(o),
        Some(o) if dtype == DType::Bool => Some(Bounds::new(o.min.clamp(0, 1), o.max.clamp(0, 1))),
        _ => Some(full),
    }
}

fn pair(b: Bounds) -> (i128, i128) {
    (b.min, b.max)
}

fn binary(
    x: Option<Bounds>,
    y: Option<Bounds>,
    f: impl FnOnce(Bounds, Bounds) -> Option<(i128, i128)>,
) -> Option<Bounds> {
    let (lo, hi) = f(x?, y?)?;
    Some(Bounds::new(lo, hi))
}

fn nonzero(y: Bounds) -> bool {
    y.min > 0 || y.max < 0
}

/// min and max of `f` over the four corners (enough for monotone-per-quadrant ops).
fn corners(x: Bounds, y: Bounds, f: impl Fn(i128, i128) -> Option<i128>) -> Option<(i128, i128)> {
    let v = [
        f(x.min, y.min)?,
        f(x.min, y.max)?,
        f(x.max, y.min)?,
        f(x.max, y.max)?,
    ];
    Some((*v.iter().min()?, *v.iter().max()?))
}

/// Floor division (rounds toward negative infinity).
pub fn floor_div(a: i128, b: i128) -> Option<i128> {
    let q = a.checked_div(b)?;
    Some(if (a % b != 0) && ((a < 0) != (b < 0)) {
        q - 1
    } else {
        q
    })
}

/// Floor modulo (the result has the sign of the divisor).
pub fn floor_mod(a: i128, b: i128) -> Option<i128> {
    Some(a - b.checked_mul(floor_div(a, b)?)?)
}

fn floor_mod_bounds(x: Bounds, y: Bounds) -> Option<(i128, i128)> {
    if y.min > 0 {
        // same quotient at both ends: the remainder moves with x
        if let Some(c) = y.single()
            && floor_div(x.min, c)? == floor_div(x.max, c)?
        {
            return Some((floor_mod(x.min, c)?, floor_mod(x.max, c)?));
        }
        if x.min >= 0 && x.max < y.min {
            return Some((x.min, x.max));
        }
        Some((0, y.max - 1))
    } else if y.max < 0 {
        Some((y.min + 1, 0))
    } else {
        None
    }
}

fn c_mod_bounds(x: Bounds, y: Bounds) -> Option<(i128, i128)> {
    if !nonzero(y) {
        return None;
    }
    let m = y.min.abs().max(y.max.abs()) - 1;
    if x.min >= 0 && x.max < y.min.abs().min(y.max.abs()) {
        return Some((x.min, x.max));
    }
    let lo = if x.min >= 0 { 0 } else { x.min.max(-m) };
    let hi = if x.max <= 0 { 0 } else { x.max.min(m) };
    Some((lo, hi))
}

fn next_pow2_minus1(v: i128) -> i128 {
    if v <= 0 {
        0
    } else {
        (1i128 << (128 - v.leading_zeros())) - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_division_rounds_down() {
        assert_eq!(floor_div(7, 2), Some(3));
        assert_eq!(floor_div(-7, 2), Some(-4));
        assert_eq!(floor_div(7, -2), Some(-4));
        assert_eq!(floor_mod(-7, 2), Some(1));
        assert_eq!(floor_mod(7, -2), Some(-1));
        assert_eq!(floor_div(1, 0), None);
    }

    #[test]
    fn mod_bounds_follow_the_quotient() {
        assert_eq!(
            floor_mod_bounds(Bounds::new(5, 7), Bounds::exact(4)),
            Some((1, 3))
        );
        assert_eq!(
            floor_mod_bounds(Bounds::new(3, 9), Bounds::exact(4)),
            Some((0, 3))
        );
        assert_eq!(
            c_mod_bounds(Bounds::new(-9, 2), Bounds::exact(4)),
            Some((-3, 2))
        );
    }

    #[test]
    fn or_bounds_round_to_a_power_of_two() {
        assert_eq!(next_pow2_minus1(5), 7);
        assert_eq!(next_pow2_minus1(8), 15);
        assert_eq!(next_pow2_minus1(0), 0);
    }
}
