//! Named side conditions of rules, so a rule reads as its algebra plus a predicate
//! (`divides_exactly(c, d)`), never inline arithmetic.

use uop_ir::{DType, Op, UOp};

/// Integer math that the algebraic rules may reassociate: any integer dtype or `Index`.
pub fn is_int_math(u: &UOp) -> bool {
    u.dtype().is_int()
}

/// The node's value can be computed without wrapping: its bounds are known and narrower
/// than its dtype's full range.
pub fn fits_without_wrap(u: &UOp) -> bool {
    let (Some(b), Some(lo), Some(hi)) = (u.bounds(), u.dtype().int_min(), u.dtype().int_max())
    else {
        return false;
    };
    b.min > lo && b.max < hi
}

/// A positive integer constant.
pub fn positive_const(u: &UOp) -> Option<i128> {
    u.const_int().filter(|c| *c > 0)
}

/// `d` divides `c` with no remainder (`d != 0`).
pub fn divides_exactly(c: i128, d: i128) -> bool {
    d != 0 && c % d == 0
}

pub fn is_pow2(c: i128) -> bool {
    c > 0 && (c & (c - 1)) == 0
}

/// Greatest common divisor of absolute values; `gcd(0, 0) == 0`.
pub fn gcd(a: i128, b: i128) -> i128 {
    let (mut a, mut b) = (a.unsigned_abs(), b.unsigned_abs());
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a as i128
}

/// Ceiling division for a positive divisor.
pub fn ceil_div(a: i128, d: i128) -> i128 {
    -((-a).div_euclid(d))
}

/// Floor division for a positive divisor.
pub fn floor_div(a: i128, d: i128) -> i128 {
    a.div_euclid(d)
}

/// The node is a CONST with this value.
pub fn is_const(u: &UOp, v: i128) -> bool {
    u.const_int() == Some(v)
}

/// A bool node that is always true (by bounds).
pub fn always_true(u: &UOp) -> bool {
    u.dtype() == DType::Bool && u.bounds().and_then(|b| b.single()) == Some(1)
}

/// A leaf of index math: a variable-like node whose bounds are known.
pub fn is_leaf(u: &UOp) -> bool {
    matches!(u.op(), Op::Range | Op::DefineVar | Op::Special)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_helpers() {
        assert_eq!(gcd(12, -18), 6);
        assert_eq!(gcd(0, 5), 5);
        assert_eq!(ceil_div(7, 2), 4);
        assert_eq!(ceil_div(-7, 2), -3);
        assert_eq!(floor_div(-7, 2), -4);
        assert!(is_pow2(8) && !is_pow2(6) && !is_pow2(0));
        assert!(divides_exactly(12, 4) && !divides_exactly(12, 0));
    }

    #[test]
    fn wrap_detection_uses_bounds() {
        let r = UOp::range(10, 0);
        assert!(fits_without_wrap(&(&r * 4)));
        let big = UOp::var("x", 0, i64::MAX) * 4;
        assert!(!fits_without_wrap(&big));
    }
}
