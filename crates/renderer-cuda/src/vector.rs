//! Vector ALU for CUDA's built-in vector types: `float4` and its kin have no operators,
//! so each vector op is a small helper (`add_f32x4(a, b)`) that applies the scalar op
//! lane by lane and is defined once per file. Keeping these ops on vectors keeps a
//! reduction's accumulator a vector (one partial per thread in shared memory, one
//! barrier) rather than one reduction per lane.
//!
//! MAX keeps the scalar rule of the base (NaN if either side is NaN).

use renderer_cstyle::{Helpers, Operand, Rank};
use uop_ir::{DType, Op};

use crate::language::vector_name;

/// The vector ops the CUDA target declares, on f32 vectors.
pub const CUDA_VECTOR_OPS: [Op; 7] = [
    Op::Add,
    Op::Sub,
    Op::Mul,
    Op::FDiv,
    Op::Neg,
    Op::Max,
    Op::MulAcc,
];

/// Every (op, dtype) of `CUDA_VECTOR_OPS` on f32.
pub fn cuda_vector_alu() -> Vec<(Op, DType)> {
    CUDA_VECTOR_OPS.iter().map(|&op| (op, DType::F32)).collect()
}

/// The scalar expression of `op` on lanes `a`, `b`, `c`.
fn lane_expr(op: Op, a: &str, b: &str, c: &str) -> Option<String> {
    Some(match op {
        Op::Add => format!("{a} + {b}"),
        Op::Sub => format!("{a} - {b}"),
        Op::Mul => format!("{a} * {b}"),
        Op::FDiv => format!("{a} / {b}"),
        Op::Neg => format!("-{a}"),
        Op::Max => format!("({b} < {a} || {a} != {a}) ? {a} : {b}"),
        Op::MulAcc => format!("fmaf({a}, {b}, {c})"),
        _ => return None,
    })
}

/// The call of the helper that computes `op` on vectors of `lanes` (defining it once).
pub fn alu(op: Op, lanes: u8, src: &[Operand], helpers: &mut Helpers) -> Result<String, String> {
    let dtype = src.first().map_or(DType::Void, |o| o.dtype);
    let ty = vector_name(dtype, lanes)
        .filter(|_| dtype == DType::F32 && CUDA_VECTOR_OPS.contains(&op))
        .ok_or_else(|| format!("CUDA has no vector {op} on {lanes} {dtype}"))?;
    let arity = op.alu_arity().unwrap_or(0);
    let name = format!("{}_f32x{lanes}", op.name().to_ascii_lowercase());
    helpers.define(Rank::Vector, &name, || {
        let params: Vec<String> = ["a", "b", "c"][..arity]
            .iter()
            .map(|p| format!("{ty} {p}"))
            .collect();
        let lanes_text: Vec<String> = ["x", "y", "z", "w"][..lanes as usize]
            .iter()
            .map(|l| {
                let (a, b, c) = (format!("a.{l}"), format!("b.{l}"), format!("c.{l}"));
                lane_expr(op, &a, &b, &c).unwrap_or_default()
            })
            .collect();
        format!(
            "static inline {ty} {name}({}) {{ return make_{ty}({}); }}\n",
            params.join(", "),
            lanes_text.join(", ")
        )
    });
    let args: Vec<&str> = src.iter().map(|o| o.text.as_str()).collect();
    Ok(format!("{name}({})", args.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f4(text: &str) -> Operand {
        Operand {
            text: text.into(),
            dtype: DType::F32,
            lanes: 4,
        }
    }

    #[test]
    fn vector_ops_are_helpers_defined_once() {
        let mut h = Helpers::default();
        let e = alu(Op::Add, 4, &[f4("p"), f4("q")], &mut h).expect("add");
        assert_eq!(e, "add_f32x4(p, q)");
        alu(Op::Add, 4, &[f4("r"), f4("s")], &mut h).expect("again");
        let text = h.render();
        assert_eq!(text.matches("add_f32x4(float4 a").count(), 1, "{text}");
        assert!(text.contains("a.w + b.w"), "{text}");
    }

    #[test]
    fn max_propagates_nan_and_fma_is_fused() {
        let mut h = Helpers::default();
        alu(Op::Max, 2, &[f4("p"), f4("q")], &mut h).expect("max");
        alu(Op::MulAcc, 4, &[f4("a"), f4("b"), f4("c")], &mut h).expect("fma");
        let text = h.render();
        assert!(text.contains("a.x != a.x"), "{text}");
        assert!(text.contains("fmaf(a.w, b.w, c.w)"), "{text}");
        assert!(alu(Op::Exp2, 4, &[f4("p")], &mut h).is_err());
    }
}
