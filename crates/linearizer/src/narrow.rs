//! Narrow floats (f16, bf16, fp8) compute in f32, rounded after every op: an ALU node of a
//! narrow dtype that can round becomes `CAST<narrow>(op<f32>(CAST<f32>(src)..))`. This
//! is what the IR means by a narrow ALU node (`uop_ir::exec_alu` rounds each result to its
//! dtype), and what PyTorch computes; without it a C-like target would keep a chain of
//! narrow ops in `float` and round only when it stores, so a result would depend on where
//! kernels split. Ops that are exact on their operands (MAX, NEG, WHERE, comparisons) and
//! the conversions themselves are left alone. `linearize` applies this first, before any
//! opt, so the vectorizer sees plain f32 math and casts.

use uop_ir::{DType, Mode, Op, PatternMatcher, RewriteError, UOp, UPat, graph_rewrite};

/// The ALU ops whose result may need rounding to the operands' dtype.
const ROUNDING_OPS: &[Op] = &[
    Op::Add,
    Op::Sub,
    Op::Mul,
    Op::FDiv,
    Op::MulAcc,
    Op::Pow,
    Op::Exp2,
    Op::Log2,
    Op::Sin,
    Op::Sqrt,
    Op::Recip,
];

fn rules() -> PatternMatcher {
    PatternMatcher::new()
        // op<narrow>(a, ..) -> cast<narrow>(op<f32>(cast<f32>(a), ..))
        .rule(
            "op<narrow>(a, ..) -> cast<narrow>(op<f32>(cast<f32>(a), ..))",
            UPat::ops(ROUNDING_OPS).named("n"),
            |b| {
                let n = &b["n"];
                if !n.dtype().is_narrow_float() {
                    return None;
                }
                let wide: Vec<UOp> = n.src().iter().map(|s| s.cast(DType::F32)).collect();
                let op = UOp::new_vec(n.op(), DType::F32, n.lanes(), wide, n.arg().clone());
                Some(UOp::new_vec(
                    Op::Cast,
                    n.dtype(),
                    n.lanes(),
                    [op],
                    uop_ir::Arg::None,
                ))
            },
        )
}

/// `ast` with every rounding ALU of a narrow float computed in f32 and rounded once.
pub fn round_narrow_floats(ast: &UOp) -> Result<UOp, RewriteError> {
    graph_rewrite(ast, &rules(), &mut (), Mode::PostOrder)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use uop_ir::{Arg, ConstValue, eval_with};

    fn f16_const(v: f64) -> UOp {
        UOp::const_of(DType::F16, ConstValue::Float(v))
    }

    #[test]
    fn each_narrow_op_rounds_once() {
        let x = f16_const(10.0);
        let e = UOp::alu(Op::Mul, [x.clone(), f16_const(10000.0)]);
        let r = round_narrow_floats(&e).expect("rewrite");
        let wide = UOp::alu(
            Op::Mul,
            [x.cast(DType::F32), f16_const(10000.0).cast(DType::F32)],
        );
        assert_eq!(r, wide.cast(DType::F16));
    }

    #[test]
    fn exact_ops_and_wide_floats_stay() {
        let x = f16_const(1.5);
        let m = UOp::alu(Op::Max, [x.clone(), f16_const(2.0)]);
        assert_eq!(round_narrow_floats(&m), Ok(m.clone()));
        let f = UOp::const_of(DType::F32, ConstValue::Float(2.0));
        let a = UOp::alu(Op::Add, [f.clone(), f]);
        assert_eq!(round_narrow_floats(&a), Ok(a.clone()));
        let _ = Arg::None;
    }

    proptest! {
        /// The rewrite keeps the value: `exec_alu` rounds a narrow result to its dtype,
        /// and so does the cast of the f32 result (f32 holds every product and sum of two
        /// narrow values exactly enough that rounding twice equals rounding once).
        #[test]
        fn rewrite_keeps_values(a in -300.0f64..300.0, b in -300.0f64..300.0, c in -4.0f64..4.0,
                                op in prop::sample::select(vec![Op::Add, Op::Sub, Op::Mul, Op::FDiv]),
                                dtype in prop::sample::select(vec![DType::F16, DType::BF16, DType::Fp8E4M3, DType::Fp8E5M2])) {
            let k = |v: f64| UOp::const_of(dtype, ConstValue::Float(dtype.round_float(v)));
            let e = UOp::alu(op, [UOp::alu(Op::Mul, [k(a), k(c)]), k(b)]);
            let before = eval_with(&e, &Default::default());
            let after = eval_with(&round_narrow_floats(&e).expect("rewrite"), &Default::default());
            match (before, after) {
                (Ok(x), Ok(y)) => {
                    let (x, y) = (x.as_f64().unwrap_or(f64::NAN), y.as_f64().unwrap_or(f64::NAN));
                    prop_assert!(x == y || (x.is_nan() && y.is_nan()), "{x} vs {y}");
                }
                (x, y) => prop_assert_eq!(x.is_ok(), y.is_ok()),
            }
        }
    }
}
