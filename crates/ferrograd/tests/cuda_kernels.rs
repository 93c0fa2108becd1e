//! CUDA kernels without a GPU: tensor programs are scheduled, linearized for an H100's
//! target with the GPU heuristics, rendered as CUDA C and
//! - run in the linearizer's interpreter, where they must compute what the plain program
//!   (no opts, one thread) computes: the grid, workgroups, GROUP and vectors are right;
//! - compiled with NVRTC for `sm_90`, every one of them, every dtype and op;
//! - disassembled with `cuobjdump`, where the SASS must show 16-byte loads and stores in
//!   the bandwidth-bound kernels, shared memory and barriers in the grouped reductions,
//!   and no local-memory spills.
//!
//! Without NVRTC or cuobjdump (the `.nv` virtual environment `.ci/run` makes, or
//! `LD_LIBRARY_PATH`/`CUOBJDUMP` pointing at them) those checks skip with the reason.
// the test bodies live in helper functions (one per device), not in #[test] fns
#![allow(clippy::unwrap_used)]
#![cfg(feature = "cuda")]

use ferrograd::cuda::{CudaArch, CudaRenderer, nvrtc};
use ferrograd::{DType, Tensor};
use linearizer::{LinearProgram, LinearizeOptions, Target, interpret, linearize};
use renderer::Renderer;
use uop_ir::{Arg, ConstValue, Op, UOp};

/// The kernels of `tensors`, scheduled as for a GPU (no scratch stages) and each
/// linearized for the H100 target with the heuristics.
fn cuda_programs(tensors: &[&Tensor]) -> Vec<(rangeify::Kernel, LinearProgram)> {
    ferrograd::init();
    let nodes: Vec<UOp> = tensors.iter().map(|t| t.node()).collect();
    let sink = UOp::new(Op::Sink, DType::Void, nodes, Arg::None);
    let sched =
        rangeify::schedule_with(&sink, "CPU", rangeify::StageLimits::NONE).expect("schedule");
    let r = CudaRenderer::new(CudaArch::h100());
    let options = LinearizeOptions {
        optimize: true,
        opts: None,
    };
    sched
        .kernels
        .iter()
        .map(|k| {
            let p = linearize(&k.ast, &k.buffer_sizes(), r.target(), &options)
                .unwrap_or_else(|e| panic!("linearize: {e}"));
            (k.clone(), p)
        })
        .collect()
}

fn render(p: &LinearProgram) -> String {
    CudaRenderer::new(CudaArch::h100())
        .render(p)
        .unwrap_or_else(|e| panic!("render {}: {e}", p.name))
        .code
}

/// Random values of `dtype` (small, nonzero for floats).
fn random_buffer(dtype: DType, n: usize, seed: &mut u64) -> Vec<ConstValue> {
    (0..n)
        .map(|_| {
            *seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let x = (*seed >> 33) as f64 / (1u64 << 31) as f64;
            if dtype.is_float() {
                ConstValue::Float(x * 4.0 - 2.0)
            } else if dtype == DType::Bool {
                ConstValue::Bool(x < 0.5)
            } else {
                ConstValue::Int((x * 100.0) as i128)
            }
        })
        .collect()
}

/// Runs `p` and the plain program of the same kernel in the interpreter on the same
/// random inputs; their outputs must agree (floats to a relative 1e-4, narrow floats to about an ulp: GROUP and vectors
/// reassociate sums).
fn check_interpreted(k: &rangeify::Kernel, p: &LinearProgram) {
    let plain = linearize(
        &k.ast,
        &k.buffer_sizes(),
        &Target::default(),
        &LinearizeOptions::default(),
    )
    .expect("plain");
    let mut seed = 7;
    let inputs: Vec<Vec<ConstValue>> = k
        .buffers
        .iter()
        .zip(k.buffer_sizes())
        .map(|(b, n)| random_buffer(b.dtype(), n, &mut seed))
        .collect();
    let (mut a, mut b) = (inputs.clone(), inputs);
    interpret(p, &mut a).unwrap_or_else(|e| panic!("interpret {}: {e}", p.name));
    interpret(&plain, &mut b).expect("interpret plain");
    for (slot, (x, y)) in a.iter().zip(&b).enumerate() {
        // a reassociated sum may round to the neighbouring narrow float
        let tol = match k.buffers[slot].dtype() {
            DType::F16 => 2e-3,
            DType::BF16 => 1.6e-2,
            _ => 1e-4,
        };
        for (i, (u, v)) in x.iter().zip(y).enumerate() {
            let (u, v) = (
                u.as_f64().unwrap_or(f64::NAN),
                v.as_f64().unwrap_or(f64::NAN),
            );
            let ok =
                u == v || (u - v).abs() <= tol * v.abs().max(1.0) || (u.is_nan() && v.is_nan());
            assert!(ok, "{}: buffer {slot} element {i}: {u} vs {v}", p.name);
        }
    }
}

/// The cubin of `code`, or `None` (after saying why) without NVRTC.
fn compile(function: &str, code: &str) -> Option<Vec<u8>> {
    if !nvrtc::available() {
        eprintln!("skipping NVRTC: libnvrtc is not on the loader path (see .ci/run)");
        return None;
    }
    Some(
        nvrtc::compile_cubin(function, code, "sm_90")
            .unwrap_or_else(|e| panic!("NVRTC on {function}: {e}\n{code}")),
    )
}

/// `cuobjdump`: `$CUOBJDUMP`, else the `.nv` virtual environment's, else the PATH's.
fn cuobjdump() -> Option<std::path::PathBuf> {
    if let Some(p) = std::env::var_os("CUOBJDUMP") {
        return Some(p.into());
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let venv = std::fs::read_dir(root.join(".nv/lib"))
        .ok()?
        .flatten()
        .find_map(|py| {
            let p = py.path().join("site-packages/nvidia/cu13/bin/cuobjdump");
            p.exists().then_some(p)
        });
    venv.or_else(|| {
        std::process::Command::new("cuobjdump")
            .arg("--version")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|_| "cuobjdump".into())
    })
}

/// The SASS of `cubin`, or `None` (after saying why) without cuobjdump.
fn sass(name: &str, cubin: &[u8]) -> Option<String> {
    let Some(tool) = cuobjdump() else {
        eprintln!("skipping SASS: no cuobjdump (set CUOBJDUMP, or see .ci/run)");
        return None;
    };
    let path = std::env::temp_dir().join(format!("ferrograd-{}-{name}.cubin", std::process::id()));
    std::fs::write(&path, cubin).expect("write cubin");
    let out = std::process::Command::new(tool)
        .arg("-sass")
        .arg(&path)
        .output()
        .expect("cuobjdump runs");
    let _ = std::fs::remove_file(&path);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "cuobjdump failed on {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(text)
}

/// Registers stay registers: no local memory in the SASS `s` (sin's slow path uses some,
/// so the kernels that call it are not asked).
fn assert_no_spills(s: &str) {
    assert!(
        !s.contains("LDL") && !s.contains("STL"),
        "local memory:\n{s}"
    );
}

/// Every kernel of `tensors`: interpreted, compiled, and its SASS returned (when the
/// tools are here), with the rendered source.
fn check_all(tensors: &[&Tensor]) -> Vec<(String, Option<String>)> {
    cuda_programs(tensors)
        .iter()
        .map(|(k, p)| {
            let code = render(p);
            if std::env::var_os("SHOW_CUDA").is_some() {
                eprintln!("{code}");
            }
            // the interpreter has no tensor cores: a GEMM is checked on the GPU
            if !p.uops.iter().any(|u| u.op() == uop_ir::Op::Wmma) {
                check_interpreted(k, p);
            }
            let sass = compile(&p.name, &code).and_then(|c| sass(&p.name, &c));
            (code, sass)
        })
        .collect()
}

fn ramp(shape: &[i64]) -> Tensor {
    ferrograd::init();
    let n: i64 = shape.iter().product();
    let data: Vec<f32> = (0..n)
        .map(|i| ((i * 7919) % 1000) as f32 / 250.0 - 2.0)
        .collect();
    Tensor::from_slice(&data, shape).expect("tensor")
}

#[test]
fn elementwise_loads_and_stores_16_bytes() {
    let (a, b) = (ramp(&[1 << 14]), ramp(&[1 << 14]));
    let out = a.mul(&b).unwrap().add_scalar(1.0).unwrap();
    let all = check_all(&[&out]);
    assert_eq!(all.len(), 1);
    insta::assert_snapshot!(all[0].0);
    if let Some(s) = &all[0].1 {
        assert!(s.contains("LDG.E.128"), "{s}");
        assert!(s.contains("STG.E.128"), "{s}");
        assert_no_spills(s);
    }
}

#[test]
fn softmax_is_one_kernel_with_shared_memory() {
    let x = ramp(&[64, 1024]);
    let out = x.softmax(-1).unwrap();
    let all = check_all(&[&out]);
    assert_eq!(all.len(), 1, "softmax is one kernel");
    insta::assert_snapshot!(all[0].0);
    if let Some(s) = &all[0].1 {
        assert!(s.contains("LDG.E.128"), "{s}");
        assert!(s.contains("BAR.SYNC"), "{s}");
        assert!(s.contains("STS"), "{s}");
        assert_no_spills(s);
    }
}

#[test]
fn a_large_sum_reads_16_bytes_a_thread() {
    let x = ramp(&[1 << 20]);
    let out = x.sum(&[0], false).unwrap();
    let all = check_all(&[&out]);
    insta::assert_snapshot!(all[0].0);
    if let Some(s) = &all[0].1 {
        assert!(s.contains("LDG.E.128"), "{s}");
        assert_no_spills(s);
    }
}

#[test]
fn matmul_tiles_registers() {
    let (a, b) = (ramp(&[128, 32]), ramp(&[32, 128]));
    let out = a.matmul(&b).unwrap();
    let all = check_all(&[&out]);
    insta::assert_snapshot!(all[0].0);
    if let Some(s) = &all[0].1 {
        assert!(s.contains("FFMA"), "{s}");
        assert_no_spills(s);
    }
}

fn half_ramp(shape: &[i64], dtype: DType) -> Tensor {
    ramp(shape).cast(dtype).unwrap().realize().unwrap().clone()
}

#[test]
fn half_matmuls_run_on_tensor_cores() {
    for dtype in [DType::F16, DType::BF16] {
        let (a, b) = (half_ramp(&[256, 64], dtype), half_ramp(&[64, 128], dtype));
        let out = a.matmul(&b).unwrap();
        let programs = cuda_programs(&[&out]);
        assert_eq!(programs.len(), 1);
        assert!(
            programs[0]
                .1
                .uops
                .iter()
                .any(|u| u.op() == uop_ir::Op::Wmma),
            "no TC for {dtype}"
        );
        let all = check_all(&[&out]);
        if dtype == DType::F16 {
            insta::assert_snapshot!(all[0].0);
        }
        if let Some(s) = &all[0].1 {
            assert!(s.contains("HMMA.16816.F32"), "{s}");
            assert!(s.contains("LDGSTS"), "{s}");
            assert!(s.contains("LDSM"), "{s}");
            assert_no_spills(s);
        }
    }
    // a long K is a blocked sum, still one GEMM
    let (a, b) = (
        half_ramp(&[128, 2048], DType::F16),
        half_ramp(&[2048, 64], DType::F16),
    );
    let long = a.matmul(&b).unwrap();
    let programs = cuda_programs(&[&long]);
    assert!(
        programs[0]
            .1
            .uops
            .iter()
            .any(|u| u.op() == uop_ir::Op::Wmma),
        "blocked K on TC"
    );
    // rounded to f16, widened to f32 for its consumer: C is an f32 buffer
    let (a, b) = (
        half_ramp(&[128, 64], DType::F16),
        half_ramp(&[64, 128], DType::F16),
    );
    let wide = a.matmul(&b).unwrap().cast(DType::F32).unwrap();
    let programs = cuda_programs(&[&wide]);
    assert_eq!(programs.len(), 1);
    let code = render(&programs[0].1);
    assert!(code.contains("mma.sync"), "widened result on TC:\n{code}");
    assert!(
        code.contains("float* __restrict__ data0"),
        "an f32 C is declared float:\n{code}"
    );
    check_all(&[&wide]);
    // batched, with B transposed and a scale: attention's q @ k^T
    let q = half_ramp(&[2, 3, 128, 64], DType::F16);
    let k = half_ramp(&[2, 3, 128, 64], DType::F16);
    let scores = q
        .matmul(&k.transpose(2, 3).unwrap())
        .unwrap()
        .mul_scalar(0.125)
        .unwrap();
    let programs = cuda_programs(&[&scores]);
    let gemm = programs
        .iter()
        .find(|(_, p)| p.uops.iter().any(|u| u.op() == uop_ir::Op::Wmma));
    assert!(gemm.is_some(), "q @ k^T on tensor cores");
    check_all(&[&scores]);
    // whole attention: on a GPU the scores are not staged per query row (a copy loop
    // would run on one thread per workgroup) but stored, so q @ k^T is a GEMM of its own
    let v = half_ramp(&[2, 3, 128, 64], DType::F16);
    let out = scores.softmax(-1).unwrap().matmul(&v).unwrap();
    let programs = cuda_programs(&[&out]);
    assert!(
        programs
            .iter()
            .any(|(_, p)| p.uops.iter().any(|u| u.op() == uop_ir::Op::Wmma)),
        "attention's scores on tensor cores"
    );
    assert!(
        programs
            .iter()
            .all(|(_, p)| p.dims.local.iter().product::<u32>() > 1),
        "every attention kernel has a workgroup of threads: {:?}",
        programs.iter().map(|(_, p)| p.dims).collect::<Vec<_>>()
    );
    check_all(&[&out]);
}

#[test]
fn every_dtype_and_op_compiles() {
    let x = ramp(&[4, 33]);
    let dtypes = [
        DType::F32,
        DType::F64,
        DType::F16,
        DType::BF16,
        DType::Fp8E4M3,
        DType::Fp8E5M2,
        DType::I8,
        DType::I16,
        DType::I32,
        DType::I64,
        DType::U8,
        DType::U16,
        DType::U32,
        DType::U64,
    ];
    let mut outs = Vec::new();
    for d in dtypes {
        let t = x.cast(d).unwrap();
        outs.push(t.add(&t).unwrap().mul(&t).unwrap());
        outs.push(t.maximum(&t.neg()).unwrap());
        outs.push(t.sum(&[1], false).unwrap());
        outs.push(t.max(&[0], false).unwrap());
        outs.push(t.lt(&t.add_scalar(1.0).unwrap()).unwrap());
        outs.push(t.cast(DType::F32).unwrap());
        if d.is_float() {
            for f in [
                Tensor::exp,
                Tensor::log,
                Tensor::sin,
                Tensor::sqrt,
                Tensor::recip,
            ] {
                outs.push(f(&t.abs().unwrap()).unwrap());
            }
            outs.push(t.div(&t.add_scalar(3.0).unwrap()).unwrap());
        } else {
            outs.push(t.div(&t.abs().unwrap().add_scalar(1.0).unwrap()).unwrap());
        }
    }
    let b = x.gt_scalar(0.0).unwrap();
    outs.push(b.logical_and(&b.logical_not().unwrap()).unwrap());
    outs.push(b.where_(&x, &x.neg()).unwrap());
    let refs: Vec<&Tensor> = outs.iter().collect();
    let all = check_all(&refs);
    assert!(all.len() >= dtypes.len(), "{} kernels", all.len());
}

/// A sum over a broadcast of a sum, added to that same sum: the GPU heuristics merge a
/// sum of sums into one loop nest only where the inner sum has no other user (merged, the
/// shared inner range closed two loop nests and the second read one element; found by
/// fuzz-kernels --interpret, seed 1201, case 5041).
#[test]
fn a_sum_used_inside_and_outside_another_sum() {
    let x = ramp(&[5, 1, 9]).expand(&[5, 67, 9]).unwrap();
    let s = x.sum(&[2], true).unwrap().expand(&[5, 67, 9]).unwrap();
    let out = s
        .sum(&[2], true)
        .unwrap()
        .expand(&[5, 67, 9])
        .unwrap()
        .add(&s)
        .unwrap();
    let all = check_all(&[&out]);
    assert_eq!(all.len(), 1);
}
