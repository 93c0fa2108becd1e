//! The GEMMs the TC opt makes of tensor matmuls for gfx942 (f16 and bf16, a batched
//! `q @ k^T * scale`, a narrow result widened for its consumers), run through the
//! software model (`model.rs`) on random inputs: C must equal what the plain program
//! (no opts, one thread) computes in the linearizer's interpreter. This ties the TC
//! opt's reading of a kernel (strides, batch, scale, roundings) to the layout the IR
//! uses.

use std::sync::{Arc, Once};

use frontend_tensor::Tensor;
use linearizer::opts::tc::{GemmUnit, TcGemm};
use linearizer::{LinearizeOptions, Target, interpret, linearize};
use renderer::Renderer;
use uop_ir::{Arg, ConstValue, DType, Op};

use super::model;
use crate::{AmdRenderer, Arch};

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

/// A realized tensor of `shape` and `dtype` (its values do not matter here).
fn half(shape: &[i64], dtype: DType) -> Tensor {
    let n: i64 = shape.iter().product();
    let v: Vec<f32> = (0..n).map(|i| (i % 5) as f32).collect();
    Tensor::from_slice(&v, shape)
        .and_then(|t| t.cast(dtype))
        .and_then(|t| t.realize().cloned())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Small integers as values of `dtype` (exact in f16 and bf16, sums exact in f32).
fn inputs(dtype: DType, n: usize, seed: &mut u64) -> Vec<ConstValue> {
    (0..n)
        .map(|_| {
            *seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let x = ((*seed >> 33) % 7) as i64 - 3;
            if dtype.is_float() {
                ConstValue::Float(x as f64)
            } else {
                ConstValue::Int(i128::from(x))
            }
        })
        .collect()
}

fn floats(values: &[ConstValue]) -> Vec<f32> {
    values
        .iter()
        .map(|v| v.as_f64().unwrap_or(f64::NAN) as f32)
        .collect()
}

/// The GEMM of `t`'s one kernel on gfx942, checked against the interpreter.
fn check(t: &Tensor) -> TcGemm {
    let sched = Tensor::schedule(&[t]).unwrap_or_else(|e| panic!("{e}"));
    let kernels: Vec<_> = sched
        .kernels
        .iter()
        .filter(|k| !k.ast.src().is_empty())
        .collect();
    assert_eq!(kernels.len(), 1, "one kernel");
    let k = kernels[0];
    let options = LinearizeOptions {
        optimize: true,
        opts: None,
    };
    let target = AmdRenderer::new(Arch::Gfx942).target().clone();
    let p =
        linearize(&k.ast, &k.buffer_sizes(), &target, &options).unwrap_or_else(|e| panic!("{e}"));
    let g = p
        .uops
        .iter()
        .find(|u| u.op() == Op::Wmma)
        .and_then(|u| match u.arg() {
            Arg::Name(text) => TcGemm::parse(text),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no GEMM in {}", p.name));
    assert_eq!(g.unit, GemmUnit::Mfma16x16x16);
    let plain = linearize(
        &k.ast,
        &k.buffer_sizes(),
        &Target::default(),
        &LinearizeOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut seed = 11;
    let mut buffers: Vec<Vec<ConstValue>> = k
        .buffers
        .iter()
        .zip(k.buffer_sizes())
        .map(|(b, n)| inputs(b.dtype(), n, &mut seed))
        .collect();
    let [c, a, b] = g.slots.map(|s| s as usize);
    let mut got = vec![f32::NAN; buffers[c].len()];
    model::run(&g, &floats(&buffers[a]), &floats(&buffers[b]), &mut got)
        .unwrap_or_else(|e| panic!("{e}"));
    interpret(&plain, &mut buffers).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(got, floats(&buffers[c]), "{g}");
    g
}

#[test]
fn the_tensor_matmuls_match_the_interpreter() {
    register_cpu();
    for dtype in [DType::F16, DType::BF16] {
        let out = half(&[64, 128], dtype)
            .matmul(&half(&[128, 64], dtype))
            .unwrap_or_else(|e| panic!("{e}"));
        let g = check(&out);
        assert_eq!((g.m, g.n, g.k, g.dtype_in), (64, 64, 128, dtype));
    }
    // batched, B transposed, scaled after the cast: attention's scores
    let q = half(&[2, 3, 64, 32], DType::F16);
    let k = half(&[2, 3, 32, 32], DType::F16);
    let scores = q
        .matmul(&k.transpose(2, 3).unwrap_or_else(|e| panic!("{e}")))
        .and_then(|s| s.mul_scalar(0.125))
        .unwrap_or_else(|e| panic!("{e}"));
    let g = check(&scores);
    assert!(g.b_transposed && g.scale_after_cast, "{g}");
    assert_eq!(g.batch_size(), 6);
    // a bf16 result widened to f32 for its consumers
    let wide = half(&[32, 64], DType::BF16)
        .matmul(&half(&[64, 96], DType::BF16))
        .and_then(|s| s.cast(DType::F32))
        .unwrap_or_else(|e| panic!("{e}"));
    let g = check(&wide);
    assert!(g.store_f32 && g.dtype_out == DType::BF16, "{g}");
}
