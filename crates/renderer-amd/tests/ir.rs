//! Snapshots of the AMD IR of the test programs (read them like code), and what the
//! AMD flavor refuses. With the `llvm` feature every rendered module is also parsed and
//! verified by LLVM.

mod common;

use common::*;
use linearizer::Opt;
use renderer::{RenderError, Renderer};
use renderer_amd::{AmdRenderer, Arch};
use uop_ir::{Arg, DType, Op, Special, UOp};

fn render(arch: Arch, p: &renderer::LinearProgram) -> String {
    let src = AmdRenderer::new(arch)
        .render(p)
        .unwrap_or_else(|e| panic!("{e}"));
    #[cfg(feature = "llvm")]
    if let Err(e) = renderer_llvm::compile::verify(&p.name, &src.code) {
        panic!("{e}\n{}", src.code);
    }
    src.code
}

#[test]
fn snapshot_add1() {
    insta::assert_snapshot!(render(Arch::Gfx942, &add1(16)));
}

#[test]
fn snapshot_matmul_with_a_workgroup_of_16x4() {
    insta::assert_snapshot!(render(Arch::Gfx942, &matmul(Arch::Gfx942, 64, 64, 64)));
}

#[test]
fn snapshot_softmax_with_a_workgroup_sum() {
    let p = softmax(
        Arch::Gfx942,
        8,
        256,
        vec![Opt::Group {
            axis: 3,
            amount: 64,
        }],
    );
    assert_eq!(p.dims.local, [64, 1, 1]);
    insta::assert_snapshot!(render(Arch::Gfx942, &p));
}

#[test]
fn snapshot_mfma_f16_and_bf16() {
    let f16 = render(
        Arch::Gfx942,
        &wmma_tile(DType::F16, "mfma_f32_16x16x16_f16"),
    );
    let bf16 = render(
        Arch::Gfx942,
        &wmma_tile(DType::BF16, "mfma_f32_16x16x16_bf16"),
    );
    insta::assert_snapshot!(format!("{f16}\n;---- bf16\n\n{bf16}"));
}

#[test]
fn the_gpu_heuristics_kernels_render() {
    for arch in [Arch::Gfx942, Arch::Gfx1100] {
        for (name, p) in heuristic_programs(arch) {
            // the half matmul is the TC opt's MFMA GEMM where the processor has MFMA
            let gemm = p.uops.iter().any(|u| u.op() == Op::Wmma);
            assert_eq!(
                gemm,
                name == "half_matmul" && arch == Arch::Gfx942,
                "{name} on {arch}"
            );
            assert!(p.dims.local[0] > 1, "{name} on {arch}: workgroups");
            render(arch, &p);
        }
    }
}

#[test]
fn the_gemm_renders_for_every_shape_the_tc_opt_makes() {
    for dtype in [DType::F16, DType::BF16] {
        let p = half_matmul(Arch::Gfx942, dtype, 64, 128, 64);
        let ir = render(Arch::Gfx942, &p);
        let name = if dtype == DType::F16 {
            "16x16x16f16"
        } else {
            "16x16x16bf16.1k"
        };
        // 2 x 2 tiles of 16 x 16 per wavefront: four instructions a k step
        assert_eq!(
            ir.matches(&format!("call <4 x float> @llvm.amdgcn.mfma.f32.{name}"))
                .count(),
            4
        );
    }
    let scores = half_scores(Arch::Gfx942);
    assert_eq!(
        scores.dims.global,
        [1, 1, 6],
        "one 64 x 32 tile per batch entry"
    );
    let ir = render(Arch::Gfx942, &scores);
    assert!(ir.contains("fmul float"), "the scale");
}

#[test]
fn the_target_describes_the_processor() {
    let t = AmdRenderer::new(Arch::Gfx942).target().clone();
    assert_eq!((t.name, t.warp_size, t.scratch_bytes), ("AMD", 64, 65536));
    assert_eq!(t.tensor_cores.len(), 2);
    assert_eq!((t.max_local_size, t.max_threads), (1024, 1));
    let rdna = AmdRenderer::new(Arch::Gfx1100).target().clone();
    assert_eq!(rdna.warp_size, 32);
    assert!(rdna.tensor_cores.is_empty());
}

#[test]
fn what_the_flavor_refuses() {
    let out = param(0, DType::Index);
    let core = UOp::special(Special::Core, 2);
    let p = program("bad", &[store(&index(&out, &core), &core)]);
    match AmdRenderer::new(Arch::Gfx942).render(&p) {
        Err(RenderError::Unsupported { op, why, .. }) => {
            assert_eq!(op, Op::Special);
            assert!(why.contains("no core_id"), "{why}");
        }
        other => panic!("expected Unsupported, got {other:?}"),
    }
    // MFMA on a part without it
    let tile = wmma_tile(DType::F16, "mfma_f32_16x16x16_f16");
    let err = AmdRenderer::new(Arch::Gfx1100)
        .render(&tile)
        .expect_err("no MFMA");
    assert!(err.to_string().contains("gfx1100 has no MFMA"), "{err}");
    // an unknown instruction, and operands of the wrong shape
    let bad = wmma_tile(DType::F16, "mfma_f32_32x32x8_f16");
    let err = AmdRenderer::new(Arch::Gfx942)
        .render(&bad)
        .expect_err("unknown");
    assert!(err.to_string().contains("no matrix instruction"), "{err}");
    let (c, a) = (param(0, DType::F32), param(1, DType::F16));
    let fa = load_vec(&index(&a, &UOp::int(0)), 2);
    let fc = load_vec(&index(&c, &UOp::int(0)), 4);
    let d = UOp::new_vec(
        Op::Wmma,
        DType::F32,
        4,
        [fa.clone(), fa, fc],
        Arg::Name("mfma_f32_16x16x16_f16".into()),
    );
    let p = program("bad", &[store(&index(&c, &UOp::int(0)), &d)]);
    let err = AmdRenderer::new(Arch::Gfx942)
        .render(&p)
        .expect_err("2 lanes");
    assert!(
        err.to_string().contains("A must be 4 lanes of f16"),
        "{err}"
    );
    // the MFMA GEMM on a part without MFMA, and a GEMM of NVIDIA's unit
    let gemm = half_matmul(Arch::Gfx942, DType::F16, 32, 32, 16);
    let err = AmdRenderer::new(Arch::Gfx1100)
        .render(&gemm)
        .expect_err("no MFMA");
    assert!(err.to_string().contains("gfx1100 has no MFMA"), "{err}");
    let mut nv = gemm.clone();
    nv.uops = nv
        .uops
        .iter()
        .map(|u| match u.arg() {
            Arg::Name(text) if u.op() == Op::Wmma => UOp::new(
                Op::Wmma,
                u.dtype(),
                u.src().to_vec(),
                Arg::Name(text.replace("unit=16x16x16", "unit=m16n8k16").into()),
            ),
            _ => u.clone(),
        })
        .collect();
    let err = AmdRenderer::new(Arch::Gfx942)
        .render(&nv)
        .expect_err("not MFMA");
    assert!(
        err.to_string().contains("m16n8k16 is not made of MFMA"),
        "{err}"
    );
}

#[test]
fn snapshot_mfma_gemm_of_32x32x16() {
    let p = half_matmul(Arch::Gfx942, DType::F16, 32, 32, 16);
    assert_eq!(
        (p.dims.global, p.dims.local),
        ([1, 1, 1], [256, 1, 1]),
        "one block of 4 wavefronts"
    );
    insta::assert_snapshot!(render(Arch::Gfx942, &p));
}
