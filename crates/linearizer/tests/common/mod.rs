//! Builders of kernel ASTs shared by the linearizer's tests.

#![allow(dead_code)]

use linearizer::{LinearizeOptions, Opt, VectorTarget};
use uop_ir::{Arg, AxisType, ConstValue, DType, Op, UOp};

pub const F32: DType = DType::F32;

/// AVX2-like vectors: 32 bytes of f32 or f64, with the common arithmetic.
pub fn avx2() -> VectorTarget {
    let ops = [
        Op::Add,
        Op::Sub,
        Op::Mul,
        Op::FDiv,
        Op::Neg,
        Op::Max,
        Op::MulAcc,
        Op::Where,
    ];
    VectorTarget {
        bytes: 32,
        dtypes: vec![DType::F32, DType::F64],
        alu: ops
            .iter()
            .flat_map(|&op| [(op, DType::F32), (op, DType::F64)])
            .collect(),
        aligned: false,
    }
}

/// Options that apply `list` instead of the heuristics.
pub fn with_opts(list: Vec<Opt>) -> LinearizeOptions {
    LinearizeOptions {
        opts: Some(list),
        ..Default::default()
    }
}

pub fn param(slot: u32, dtype: DType) -> UOp {
    UOp::new(Op::Param, dtype, [], Arg::Param { slot })
}

pub fn range(n: i64, axis: u32, kind: AxisType) -> UOp {
    UOp::range_of(UOp::int(n), axis, kind)
}

pub fn index(buf: &UOp, off: &UOp) -> UOp {
    UOp::new(
        Op::Index,
        buf.dtype(),
        [buf.clone(), off.clone()],
        Arg::None,
    )
}

pub fn load(buf: &UOp, off: &UOp) -> UOp {
    UOp::new(Op::Load, buf.dtype(), [index(buf, off)], Arg::None)
}

pub fn store(buf: &UOp, off: &UOp, v: &UOp) -> UOp {
    UOp::new(
        Op::Store,
        DType::Void,
        [index(buf, off), v.clone()],
        Arg::None,
    )
}

pub fn sink(stores: &[UOp]) -> UOp {
    UOp::new(Op::Sink, DType::Void, stores.to_vec(), Arg::None)
}

pub fn reduce(op: Op, v: &UOp, ranges: &[UOp]) -> UOp {
    let mut src = vec![v.clone()];
    src.extend(ranges.iter().cloned());
    UOp::new(
        Op::Reduce,
        v.dtype(),
        src,
        Arg::Reduce {
            op,
            axes: Vec::new().into(),
        },
    )
}

pub fn f32c(v: f64) -> UOp {
    UOp::const_of(DType::F32, ConstValue::Float(v))
}

/// `c[i, j] = sum_k a[i, k] * b[k, j]` for row-major `a` (m x k) in slot 1, `b` (k x n)
/// in slot 2 and `c` (m x n) in slot 0; axes i = 0, j = 1, k = 2.
pub fn matmul(m: i64, n: i64, k: i64) -> UOp {
    let (i, j) = (range(m, 0, AxisType::Loop), range(n, 1, AxisType::Loop));
    let r = range(k, 2, AxisType::Reduce);
    let a = load(&param(1, F32), &(&(&i * k) + &r));
    let b = load(&param(2, F32), &(&(&r * n) + &j));
    let sum = reduce(Op::Add, &(&a * &b), &[r]);
    sink(&[store(&param(0, F32), &(&(&i * n) + &j), &sum)])
}
