//! Arithmetic of bools as logic: on bools ADD is OR and MUL is AND (as `exec_alu` has
//! them), which every C-like language has as `|` and `&` on any integer type.

use dtype::DType;
use uop_ir::{Op, PatternMatcher, UOp, UPat};

/// A node of `op` on bools, with its operands bound to `names`.
fn on_bools(op: Op, names: &[&'static str]) -> UPat {
    UPat::op(op)
        .dtype(&[DType::Bool])
        .src(names.iter().map(|&n| UPat::var(n)))
}

pub fn rules() -> PatternMatcher {
    PatternMatcher::new()
        // a + b -> a | b   (bools)
        .always("a+b -> a|b (bools)", on_bools(Op::Add, &["a", "b"]), |b| {
            UOp::alu(Op::Or, [b["a"].clone(), b["b"].clone()])
        })
        // a * b -> a & b   (bools)
        .always("a*b -> a&b (bools)", on_bools(Op::Mul, &["a", "b"]), |b| {
            UOp::alu(Op::And, [b["a"].clone(), b["b"].clone()])
        })
        // a * b + c -> (a & b) | c   (MULACC of bools)
        .always(
            "mulacc(a, b, c) -> (a&b)|c (bools)",
            on_bools(Op::MulAcc, &["a", "b", "c"]),
            |b| {
                let both = UOp::alu(Op::And, [b["a"].clone(), b["b"].clone()]);
                UOp::alu(Op::Or, [both, b["c"].clone()])
            },
        )
}
