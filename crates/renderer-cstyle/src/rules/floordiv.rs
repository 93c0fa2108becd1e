//! Floor division and modulo (FLOORDIV, FLOORMOD: Python's `//` and `%`, which index math
//! uses) in C's division, which truncates toward zero (CDIV, CMOD). The two agree where
//! the quotient is not negative; elsewhere the floor is one less, and the remainder takes
//! the divisor's sign. The rules go from the cheapest case to the general one:
//!
//! - unsigned integers and bools, or a dividend that is never negative with a divisor
//!   that is always positive (their bounds say so): C's operators as they are;
//! - a divisor that is always positive: the remainder alone says whether to correct;
//! - any divisor: the remainder and the divisor's sign do.
//!
//! Division by zero is left as it is (C's and the IR's both fail there).

use dtype::DType;
use uop_ir::{Bindings, Op, PatternMatcher, UOp, UPat};

/// A node whose value is never negative.
fn is_nonnegative(u: &UOp) -> bool {
    u.bounds().is_some_and(|b| b.min >= 0)
}

/// A node whose value is always above zero.
fn is_positive(u: &UOp) -> bool {
    u.bounds().is_some_and(|b| b.min > 0)
}

/// An integer dtype without negative values.
fn is_unsigned_or_bool(d: DType) -> bool {
    d.is_unsigned() || d == DType::Bool
}

/// `x op y` for the bound `x` and `y`.
fn apply(op: Op, b: &Bindings) -> UOp {
    UOp::alu(op, [b["x"].clone(), b["y"].clone()])
}

/// `x // y` or `x % y` (of `op`) on integers, with `x` and `y` bound.
fn floor_op(op: Op) -> UPat {
    let ints: Vec<DType> = DType::ALL
        .into_iter()
        .filter(|d| d.is_int() || *d == DType::Bool)
        .collect();
    UPat::op(op)
        .dtype(&ints)
        .src([UPat::var("x"), UPat::var("y")])
}

/// Whether C's `/` and `%` already give the floor for these operands.
fn truncation_is_floor(b: &Bindings) -> bool {
    is_unsigned_or_bool(b["x"].dtype()) || (is_nonnegative(&b["x"]) && is_positive(&b["y"]))
}

/// The parts of the correction: `(x / y, x % y, whether to correct)`, the last for a
/// positive divisor when `positive`, else for any.
fn corrected(b: &Bindings, positive: bool) -> (UOp, UOp, UOp) {
    let (x, y) = (&b["x"], &b["y"]);
    let q = UOp::alu(Op::CDiv, [x.clone(), y.clone()]);
    let r = UOp::alu(Op::CMod, [x.clone(), y.clone()]);
    let negative = |v: &UOp| UOp::alu(Op::CmpLt, [v.clone(), v.const_like(0)]);
    let fix = if positive {
        negative(&r)
    } else {
        let nonzero = UOp::alu(Op::CmpNe, [r.clone(), r.const_like(0)]);
        let signs_differ = UOp::alu(Op::CmpNe, [negative(&r), negative(y)]);
        UOp::alu(Op::And, [nonzero, signs_differ])
    };
    (q, r, fix)
}

pub fn rules() -> PatternMatcher {
    PatternMatcher::new()
        // x // y -> x / y   (unsigned, or x >= 0 and y > 0)
        .rule(
            "x//y -> x/y (no rounding down)",
            floor_op(Op::FloorDiv),
            |b| truncation_is_floor(b).then(|| apply(Op::CDiv, b)),
        )
        // x % y -> x % y (C's)   (unsigned, or x >= 0 and y > 0)
        .rule(
            "x%y -> cmod(x, y) (no rounding down)",
            floor_op(Op::FloorMod),
            |b| truncation_is_floor(b).then(|| apply(Op::CMod, b)),
        )
        // x // y -> where(x % y < 0, x / y - 1, x / y)   (y > 0)
        .rule(
            "x//y -> x/y - (x%y < 0) (y > 0)",
            floor_op(Op::FloorDiv),
            |b| {
                is_positive(&b["y"]).then(|| {
                    let (q, _, fix) = corrected(b, true);
                    UOp::alu(Op::Where, [fix, &q - 1, q])
                })
            },
        )
        // x % y -> where(x % y < 0, x % y + y, x % y)   (y > 0)
        .rule(
            "x%y -> cmod + (cmod < 0 ? y : 0) (y > 0)",
            floor_op(Op::FloorMod),
            |b| {
                is_positive(&b["y"]).then(|| {
                    let (_, r, fix) = corrected(b, true);
                    UOp::alu(Op::Where, [fix, &r + &b["y"], r])
                })
            },
        )
        // x // y -> where(x % y != 0 & (x % y < 0) != (y < 0), x / y - 1, x / y)
        .always(
            "x//y -> x/y - (signs differ)",
            floor_op(Op::FloorDiv),
            |b| {
                let (q, _, fix) = corrected(b, false);
                UOp::alu(Op::Where, [fix, &q - 1, q])
            },
        )
        // x % y -> where(x % y != 0 & (x % y < 0) != (y < 0), x % y + y, x % y)
        .always(
            "x%y -> cmod + (signs differ ? y : 0)",
            floor_op(Op::FloorMod),
            |b| {
                let (_, r, fix) = corrected(b, false);
                UOp::alu(Op::Where, [fix, &r + &b["y"], r])
            },
        )
}
