//! The canonical programs the snapshot and compile tests render: the C renderer's test
//! programs (the same file, included), and one with explicit vectors.
#![allow(dead_code)]

#[path = "../../../renderer-c/tests/common/mod.rs"]
mod c_programs;

pub use c_programs::*;
use renderer::LinearProgram;
use uop_ir::{Arg, DType, Op, UOp};

/// `data0[i..i+8] = max(data1[i..i+8], data2[i..i+8]) * 2 + exp2(data1)` over `0..n/8`,
/// as 8-lane f32 vectors, with a masked load of the last partial vector of `data2`.
pub fn vectors(n: i64) -> LinearProgram {
    let (out, a, b) = (
        param(0, DType::F32),
        param(1, DType::F32),
        param(2, DType::F32),
    );
    let i = UOp::range((n + 7) / 8, 0);
    let at = &i * 8;
    let x = UOp::new_vec(Op::Load, DType::F32, 8, [index(&a, &at)], Arg::None);
    let lanes: Vec<UOp> = (0..8).map(|k| (&at + k).lt(n)).collect();
    let gate = UOp::new_vec(Op::Stack, DType::Bool, 8, lanes, Arg::None);
    let y = UOp::new_vec(
        Op::Load,
        DType::F32,
        8,
        [index(&b, &at), gate.clone(), float(DType::F32, 0.0)],
        Arg::None,
    );
    let m = UOp::new_vec(Op::Max, DType::F32, 8, [x.clone(), y], Arg::None);
    let two = UOp::new_vec(
        Op::Mul,
        DType::F32,
        8,
        [m, float(DType::F32, 2.0)],
        Arg::None,
    );
    let e = UOp::new_vec(Op::Exp2, DType::F32, 8, [x], Arg::None);
    let v = UOp::new_vec(Op::Add, DType::F32, 8, [two, e], Arg::None);
    let st = UOp::new(
        Op::Store,
        DType::Void,
        [index(&out, &at), v, gate],
        Arg::None,
    );
    program("E_vectors", &[i.clone(), st, end(&i)])
}

/// `data0[i] = (i32)data1[i] + (data2[i] ? 1 : 0)` over `0..n`: a float to int cast and
/// a bool buffer.
pub fn casts(n: i64) -> LinearProgram {
    let (out, a, g) = (
        param(0, DType::I32),
        param(1, DType::F32),
        param(2, DType::Bool),
    );
    let i = UOp::range(n, 0);
    let x = load(&index(&a, &i)).cast(DType::I32);
    let flag = load(&index(&g, &i)).cast(DType::I32);
    program(
        "E_casts",
        &[i.clone(), store(&index(&out, &i), &(x + flag)), end(&i)],
    )
}
