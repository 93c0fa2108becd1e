//! MAX of floats with NaN propagation, as `exec_alu` has it: NaN when either operand is
//! NaN, else the larger. C's `fmax` returns the other operand for one NaN, so the base
//! writes it as a select: `a` where `a` is larger or NaN, else `b` (which is then NaN, or
//! the larger, or equal). Only scalars: a vector MAX is the language's own
//! (`CStyle::vector_alu`), since a select on vectors needs a bool per lane.

use dtype::DType;
use uop_ir::{Op, PatternMatcher, UOp, UPat};

/// A scalar node: these rules leave vectors to the language.
fn is_scalar(u: &UOp) -> bool {
    u.lanes() == 1
}

pub fn rules() -> PatternMatcher {
    let floats: Vec<DType> = DType::ALL.into_iter().filter(|d| d.is_float()).collect();
    PatternMatcher::new()
        // max(a, b) -> where((b < a) | (a != a), a, b)   (floats)
        .rule(
            "max(a, b) -> where(b < a or a is NaN, a, b)",
            UPat::op(Op::Max)
                .dtype(&floats)
                .src([UPat::var("a"), UPat::var("b")])
                .named("max"),
            |b| {
                let (x, y) = (&b["a"], &b["b"]);
                is_scalar(&b["max"]).then(|| {
                    let larger = UOp::alu(Op::CmpLt, [y.clone(), x.clone()]);
                    let nan = UOp::alu(Op::CmpNe, [x.clone(), x.clone()]);
                    let take_a = UOp::alu(Op::Or, [larger, nan]);
                    UOp::alu(Op::Where, [take_a, x.clone(), y.clone()])
                })
            },
        )
}
