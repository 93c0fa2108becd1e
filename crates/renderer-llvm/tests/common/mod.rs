//! Builders of linear programs by hand, and the canonical programs the snapshot and
//! compile tests render (the same ones as the C renderer's tests).
#![allow(dead_code)]

use renderer::{LaunchDims, LinearProgram, ParamInfo};
use uop_ir::{Arg, ConstValue, DType, Op, Special, UOp, toposort_many};

pub fn param(slot: u32, dtype: DType) -> UOp {
    UOp::new(Op::Param, dtype, [], Arg::Param { slot })
}

pub fn index(buf: &UOp, offset: &UOp) -> UOp {
    UOp::new(
        Op::Index,
        buf.dtype(),
        [buf.clone(), offset.clone()],
        Arg::None,
    )
}

pub fn load(target: &UOp) -> UOp {
    UOp::new(Op::Load, target.dtype(), [target.clone()], Arg::None)
}

/// `gate ? *target : alt`.
pub fn gated_load(target: &UOp, gate: &UOp, alt: &UOp) -> UOp {
    UOp::new(
        Op::Load,
        target.dtype(),
        [target.clone(), gate.clone(), alt.clone()],
        Arg::None,
    )
}

pub fn store(target: &UOp, value: &UOp) -> UOp {
    UOp::new(
        Op::Store,
        DType::Void,
        [target.clone(), value.clone()],
        Arg::None,
    )
}

pub fn end(range: &UOp) -> UOp {
    UOp::new(Op::End, DType::Void, [range.clone()], Arg::None)
}

pub fn reg(slot: u32, init: &UOp) -> UOp {
    UOp::new(
        Op::DefineReg,
        init.dtype(),
        [init.clone()],
        Arg::Param { slot },
    )
}

pub fn after(reg: &UOp, stmts: &[UOp]) -> UOp {
    let src: Vec<UOp> = std::iter::once(reg.clone())
        .chain(stmts.iter().cloned())
        .collect();
    UOp::new(Op::After, reg.dtype(), src, Arg::None)
}

pub fn float(dtype: DType, v: f64) -> UOp {
    UOp::const_of(dtype, ConstValue::Float(v))
}

pub fn core_id(count: i64) -> UOp {
    UOp::special(Special::Core, count)
}

/// `a < b` as a node of any dtype (the builder's `lt` takes literals of `a`'s dtype).
pub fn alu(op: Op, src: &[UOp]) -> UOp {
    UOp::alu(op, src.to_vec())
}

/// A program of `roots` in order, each preceded by those of its sources not placed yet
/// (depth first): list a RANGE before the nodes that must sit in its loop.
pub fn program(name: &str, roots: &[UOp]) -> LinearProgram {
    let uops = toposort_many(roots);
    let mut params: Vec<ParamInfo> = uops
        .iter()
        .filter(|u| u.op() == Op::Param)
        .filter_map(|u| match u.arg() {
            Arg::Param { slot } => Some(ParamInfo {
                slot: *slot,
                dtype: u.dtype(),
                size: 0,
                written: uops
                    .iter()
                    .any(|s| s.op() == Op::Store && s.src()[0].src().first() == Some(u)),
            }),
            _ => None,
        })
        .collect();
    params.sort_by_key(|p| p.slot);
    LinearProgram {
        name: name.to_string(),
        uops,
        params,
        dims: LaunchDims::default(),
        ops: 0,
        bytes: 0,
    }
}

/// `data0[i] = data1[i] * data2[i] + 1` over `0..n`, in f32.
pub fn elementwise(n: i64) -> LinearProgram {
    let (out, a, b) = (
        param(0, DType::F32),
        param(1, DType::F32),
        param(2, DType::F32),
    );
    let i = UOp::range(n, 0);
    let v = load(&index(&a, &i)) * load(&index(&b, &i)) + float(DType::F32, 1.0);
    program(
        "E_mul_add",
        &[i.clone(), store(&index(&out, &i), &v), end(&i)],
    )
}

/// `data0[r] = sum over c of data1[r * cols + c]`, with an accumulator per row.
pub fn row_sums(rows: i64, cols: i64) -> LinearProgram {
    let (out, a) = (param(0, DType::F32), param(1, DType::F32));
    let r = UOp::range(rows, 0);
    let c = UOp::range_of(UOp::int(cols), 1, uop_ir::AxisType::Reduce);
    let acc = reg(0, &float(DType::F32, 0.0));
    let x = load(&index(&a, &(&r * cols + &c)));
    let update = store(&acc, &(load(&acc) + x));
    let end_c = end(&c);
    let total = load(&after(&acc, std::slice::from_ref(&end_c)));
    program(
        "r_row_sums",
        &[
            r.clone(),
            acc,
            c,
            update,
            end_c,
            store(&index(&out, &r), &total),
            end(&r),
        ],
    )
}

/// `data0[i] = before <= i < before + n ? data1[i - before] : 0` over `0..n + before + after`.
pub fn padded(n: i64, before: i64, after: i64) -> LinearProgram {
    let (out, a) = (param(0, DType::F32), param(1, DType::F32));
    let i = UOp::range(n + before + after, 0);
    let valid = i.ge(before).and(i.lt(before + n));
    let v = gated_load(&index(&a, &(&i - before)), &valid, &float(DType::F32, 0.0));
    program("E_pad", &[i.clone(), store(&index(&out, &i), &v), end(&i)])
}

/// `data0[i] = data1[(i - 3) // 4 + 1] * 10 + (i - 3) % 4` over `0..n`, in i32.
pub fn floor_index(n: i64) -> LinearProgram {
    let (out, a) = (param(0, DType::I32), param(1, DType::I32));
    let i = UOp::range(n, 0);
    let shifted = &i - 3;
    let x = load(&index(&a, &(shifted.floordiv(4) + 1)));
    let v = x * 10 + shifted.floormod(4).cast(DType::I32);
    program(
        "E_floor_index",
        &[i.clone(), store(&index(&out, &i), &v), end(&i)],
    )
}

/// `data0[i] = data1[i] * 1.5 + data2[i]` over `0..n`: f16 out and in, bf16 in.
pub fn half(n: i64) -> LinearProgram {
    let (out, a, b) = (
        param(0, DType::F16),
        param(1, DType::F16),
        param(2, DType::BF16),
    );
    let i = UOp::range(n, 0);
    let v = load(&index(&a, &i)) * float(DType::F16, 1.5) + load(&index(&b, &i)).cast(DType::F16);
    program("E_half", &[i.clone(), store(&index(&out, &i), &v), end(&i)])
}

/// `data0[core_id * per + i] = (float)(core_id * per + i)` over `core_id` in `0..threads`.
pub fn threaded(threads: i64, per: i64) -> LinearProgram {
    let out = param(0, DType::F32);
    let t = core_id(threads);
    let i = UOp::range(per, 0);
    let at = &t * per + &i;
    let mut p = program(
        "E_threaded",
        &[
            t,
            i.clone(),
            store(&index(&out, &at), &at.cast(DType::F32)),
            end(&i),
        ],
    );
    p.dims = LaunchDims::of(&p.uops).unwrap_or_else(|e| panic!("{e}"));
    p
}

/// `data0[i] = (fp8e4m3)(data1[i] + (float)data2[i])` over `0..n`: f32 and fp8e5m2fnuz in.
pub fn fp8(n: i64) -> LinearProgram {
    let out = param(0, DType::Fp8E4M3);
    let (a, b) = (param(1, DType::F32), param(2, DType::Fp8E5M2Fnuz));
    let i = UOp::range(n, 0);
    let v = (load(&index(&a, &i)) + load(&index(&b, &i)).cast(DType::F32)).cast(DType::Fp8E4M3);
    program("E_fp8", &[i.clone(), store(&index(&out, &i), &v), end(&i)])
}

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
