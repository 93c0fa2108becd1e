//! Float to narrow integer casts through `i64`: the IR's CAST of a float to an integer
//! truncates toward zero and wraps to the target's width (`uop_ir::exec_alu`, PyTorch's
//! result on x86: `-5.0 -> u8` is 251), while C leaves a conversion whose value does not
//! fit the target undefined. Converting to `i64` first (exact for every float that fits
//! in it) and then narrowing (integer narrowing wraps) gives the IR's value.

use dtype::DType;
use uop_ir::{Arg, Op, PatternMatcher, UOp, UPat};

/// Integer dtypes narrower than 64 bits.
const NARROW_INTS: &[DType] = &[
    DType::I8,
    DType::I16,
    DType::I32,
    DType::U8,
    DType::U16,
    DType::U32,
];

pub fn rules() -> PatternMatcher {
    PatternMatcher::new()
        // cast<int>(x: float) -> cast<int>(cast<i64>(x))   (int narrower than 64 bits)
        .rule(
            "cast<int>(float x) -> cast<int>(cast<i64>(x))",
            UPat::op(Op::Cast)
                .dtype(NARROW_INTS)
                .src([UPat::var("x")])
                .named("n"),
            |b| {
                let (x, n) = (&b["x"], &b["n"]);
                let wide = UOp::new_vec(Op::Cast, DType::I64, n.lanes(), [x.clone()], Arg::None);
                x.dtype()
                    .is_float()
                    .then(|| UOp::new_vec(Op::Cast, n.dtype(), n.lanes(), [wide], Arg::None))
            },
        )
}
