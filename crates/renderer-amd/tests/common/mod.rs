//! The programs the AMD tests render: the matmul and softmax kernels the scheduler makes
//! from tensor programs (scheduling needs a registered device: the C CPU device, which
//! runs nothing here), linearized for an AMD target with explicit workgroup opts or with
//! the GPU heuristics; half-precision matmuls the TC opt makes one MFMA GEMM of; a
//! hand-built `add1` (the kernel of the descriptor golden vectors); and a WMMA tile.
#![allow(dead_code)]

use std::sync::{Arc, Once};

use frontend_tensor::Tensor;
use linearizer::{LinearProgram, LinearizeOptions, Opt, linearize};
use renderer::{LaunchDims, ParamInfo, Renderer};
use renderer_amd::{AmdRenderer, Arch};
use uop_ir::{Arg, AxisType, DType, Op, Special, UOp, toposort_many};

fn register_cpu() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        device::register("CPU", |name| {
            Ok(Arc::new(runtime_cpu::CpuDevice::new(
                name,
                Box::new(renderer_c::CRenderer::new()),
            )))
        });
    });
}

/// The single kernel the scheduler makes of `t`, linearized for `arch` with `opts`.
fn one_kernel(t: &Tensor, arch: Arch, opts: Vec<Opt>) -> LinearProgram {
    let options = LinearizeOptions {
        optimize: false,
        opts: Some(opts),
    };
    one_kernel_with(t, arch, &options)
}

/// The single kernel the scheduler makes of `t`, linearized for `arch` with `options`.
fn one_kernel_with(t: &Tensor, arch: Arch, options: &LinearizeOptions) -> LinearProgram {
    let sched = Tensor::schedule(&[t]).unwrap_or_else(|e| panic!("{e}"));
    let kernels: Vec<_> = sched
        .kernels
        .iter()
        .filter(|k| !k.ast.src().is_empty())
        .collect();
    assert_eq!(kernels.len(), 1, "one kernel");
    let k = kernels[0];
    linearize(
        &k.ast,
        &k.buffer_sizes(),
        AmdRenderer::new(arch).target(),
        options,
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

/// A realized f32 tensor of `shape` (its values do not matter here).
fn data(shape: &[i64]) -> Tensor {
    let n: i64 = shape.iter().product();
    let v: Vec<f32> = (0..n).map(|i| i as f32).collect();
    Tensor::from_slice(&v, shape).unwrap_or_else(|e| panic!("{e}"))
}

/// `a @ b` of (m, k) x (k, n) f32, each workgroup's 16x4 threads taking neighbouring
/// outputs (LOCAL on both output loops).
pub fn matmul(arch: Arch, m: i64, n: i64, k: i64) -> LinearProgram {
    register_cpu();
    let a = data(&[m, k]);
    let b = data(&[k, n]);
    let c = a.matmul(&b).unwrap_or_else(|e| panic!("{e}"));
    one_kernel(
        &c,
        arch,
        vec![
            Opt::Local {
                axis: 1,
                amount: 16,
            },
            Opt::Local { axis: 0, amount: 4 },
        ],
    )
}

/// What the GPU heuristics (and the grid stage) make for `arch` of an f32 matmul, an f16
/// matmul of a size the tensor-core GEMM would take, and softmax, by name.
pub fn heuristic_programs(arch: Arch) -> Vec<(&'static str, LinearProgram)> {
    register_cpu();
    let options = LinearizeOptions {
        optimize: true,
        opts: None,
    };
    let half = |shape: &[i64]| {
        data(shape)
            .cast(DType::F16)
            .and_then(|t| t.realize().cloned())
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let matmul = data(&[64, 64])
        .matmul(&data(&[64, 64]))
        .unwrap_or_else(|e| panic!("{e}"));
    let half_matmul = half(&[256, 64])
        .matmul(&half(&[64, 128]))
        .unwrap_or_else(|e| panic!("{e}"));
    let softmax = data(&[8, 256])
        .softmax(-1)
        .unwrap_or_else(|e| panic!("{e}"));
    vec![
        ("matmul", one_kernel_with(&matmul, arch, &options)),
        ("half_matmul", one_kernel_with(&half_matmul, arch, &options)),
        ("softmax", one_kernel_with(&softmax, arch, &options)),
    ]
}

/// A realized tensor of `shape` and the narrow float `dtype`.
fn half(shape: &[i64], dtype: DType) -> Tensor {
    data(shape)
        .cast(dtype)
        .and_then(|t| t.realize().cloned())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// `a @ b` of (m, k) x (k, n) `dtype`, linearized for `arch` by the GPU heuristics (the
/// TC opt's GEMM where the processor has MFMA).
pub fn half_matmul(arch: Arch, dtype: DType, m: i64, n: i64, k: i64) -> LinearProgram {
    register_cpu();
    let c = half(&[m, k], dtype)
        .matmul(&half(&[k, n], dtype))
        .unwrap_or_else(|e| panic!("{e}"));
    one_kernel_with(
        &c,
        arch,
        &LinearizeOptions {
            optimize: true,
            opts: None,
        },
    )
}

/// Attention's scores `q @ k^T * 0.125` of f16 (batch 2 x 3, 64 queries, 32 keys, 32
/// features), linearized for `arch` by the GPU heuristics.
pub fn half_scores(arch: Arch) -> LinearProgram {
    register_cpu();
    let q = half(&[2, 3, 64, 32], DType::F16);
    let k = half(&[2, 3, 32, 32], DType::F16);
    let s = q
        .matmul(&k.transpose(2, 3).unwrap_or_else(|e| panic!("{e}")))
        .and_then(|s| s.mul_scalar(0.125))
        .unwrap_or_else(|e| panic!("{e}"));
    one_kernel_with(
        &s,
        arch,
        &LinearizeOptions {
            optimize: true,
            opts: None,
        },
    )
}

/// Softmax over the rows of (rows, cols) f32, each row's reductions split across 64
/// threads of a workgroup (GROUP: partials in LDS, a barrier).
pub fn softmax(arch: Arch, rows: i64, cols: i64, opts: Vec<Opt>) -> LinearProgram {
    register_cpu();
    let x = data(&[rows, cols]);
    let s = x.softmax(-1).unwrap_or_else(|e| panic!("{e}"));
    one_kernel(&s, arch, opts)
}

/// The ranges of the softmax kernel, to pick opts from.
pub fn softmax_ranges(rows: i64, cols: i64) -> Vec<(u32, AxisType, i64)> {
    register_cpu();
    let x = data(&[rows, cols]);
    let s = x.softmax(-1).unwrap_or_else(|e| panic!("{e}"));
    let sched = Tensor::schedule(&[&s]).unwrap_or_else(|e| panic!("{e}"));
    let mut out: Vec<(u32, AxisType, i64)> = sched
        .kernels
        .iter()
        .flat_map(|k| uop_ir::toposort(&k.ast))
        .filter_map(|u| match u.arg() {
            Arg::Range { axis, kind } if u.op() == Op::Range => {
                Some((*axis, *kind, u.src()[0].const_int().unwrap_or(0) as i64))
            }
            _ => None,
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

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

pub fn load_vec(target: &UOp, lanes: u8) -> UOp {
    UOp::new_vec(Op::Load, target.dtype(), lanes, [target.clone()], Arg::None)
}

pub fn store(target: &UOp, value: &UOp) -> UOp {
    UOp::new(
        Op::Store,
        DType::Void,
        [target.clone(), value.clone()],
        Arg::None,
    )
}

/// A program of `roots` in order (sources first), with its launch read off its SPECIALs.
pub fn program(name: &str, roots: &[UOp]) -> LinearProgram {
    let uops = toposort_many(roots);
    let mut params: Vec<ParamInfo> = uops
        .iter()
        .filter_map(|u| match (u.op(), u.arg()) {
            (Op::Param, Arg::Param { slot }) => Some(ParamInfo {
                slot: *slot,
                dtype: u.dtype(),
                size: 0,
                written: false,
            }),
            _ => None,
        })
        .collect();
    params.sort_by_key(|p| p.slot);
    let dims = LaunchDims::of(&uops).unwrap_or_else(|e| panic!("{e}"));
    LinearProgram {
        name: name.into(),
        uops,
        params,
        dims,
        ops: 0,
        bytes: 0,
    }
}

/// `out[i] = in[i] + 1` with `i = gidx0 * 64 + lidx0`: the kernel of the descriptor
/// golden vectors.
pub fn add1(groups: i64) -> LinearProgram {
    let (out, inp) = (param(0, DType::F32), param(1, DType::F32));
    let g = UOp::special(Special::Global(0), groups);
    let l = UOp::special(Special::Local(0), 64);
    let i = &g * 64 + &l;
    let x = UOp::new(Op::Load, DType::F32, [index(&inp, &i)], Arg::None);
    let v = x + UOp::const_of(DType::F32, uop_ir::ConstValue::Float(1.0));
    program("add1", &[store(&index(&out, &i), &v)])
}

/// One wavefront (64 threads) multiplying a 16x16 tile of `dtype` A by B into an f32
/// tile, each thread loading its 4 values of A and B and its 4 of C (the MFMA layout is
/// the instruction's; this checks the rendering and the instruction, not the layout).
pub fn wmma_tile(dtype: DType, instruction: &str) -> LinearProgram {
    let (c, a, b) = (param(0, DType::F32), param(1, dtype), param(2, dtype));
    let l = UOp::special(Special::Local(0), 64);
    let at = &l * 4;
    let fa = load_vec(&index(&a, &at), 4);
    let fb = load_vec(&index(&b, &at), 4);
    let fc = load_vec(&index(&c, &at), 4);
    let d = UOp::new_vec(
        Op::Wmma,
        DType::F32,
        4,
        [fa, fb, fc],
        Arg::Name(instruction.into()),
    );
    let st = UOp::new(Op::Store, DType::Void, [index(&c, &at), d], Arg::None);
    program(&format!("wmma_{dtype}"), &[st])
}
