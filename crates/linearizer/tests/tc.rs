//! The TC opt on hand-built half-precision matmul kernels: which unit it picks for a
//! target's tensor cores (NVIDIA's m16n8k16, AMD's 16x16x16 MFMA, neither), the tiles
//! and K steps each unit takes, and the sizes each refuses.

mod common;

use common::*;
use linearizer::opts::tc::{GemmUnit, TcGemm, match_gemm, tc};
use linearizer::{Target, TensorCore};
use uop_ir::{Arg, AxisType, DType, Op, Special, UOp};

/// `c[i, j] = f16(sum_k f32(a[i, k]) * f32(b[k, j]))` of `dtype` A (slot 1, m x k) and
/// B (slot 2, k x n, or n x k when `bt`), C in slot 0.
fn half_matmul(dtype: DType, m: i64, n: i64, k: i64, bt: bool) -> UOp {
    let (i, j) = (range(m, 0, AxisType::Loop), range(n, 1, AxisType::Loop));
    let r = range(k, 2, AxisType::Reduce);
    let a = load(&param(1, dtype), &(&(&i * k) + &r)).cast(DType::F32);
    let b_off = if bt { &(&j * k) + &r } else { &(&r * n) + &j };
    let b = load(&param(2, dtype), &b_off).cast(DType::F32);
    let sum = reduce(Op::Add, &(&a * &b), &[r]);
    sink(&[store(&param(0, dtype), &(&(&i * n) + &j), &sum.cast(dtype))])
}

/// A target whose tensor cores are `unit` with f16 and bf16 inputs.
fn target_with(unit: Option<GemmUnit>) -> Target {
    let cores: Vec<TensorCore> = unit
        .into_iter()
        .flat_map(|u| [u.tensor_core(DType::F16), u.tensor_core(DType::BF16)])
        .collect();
    Target {
        name: "gpu",
        max_local_size: 1024,
        max_local_dims: [1024; 3],
        max_global_dims: [65535; 3],
        warp_size: 32,
        tensor_cores: cores,
        ..Target::default()
    }
}

fn gemm(ast: &UOp, unit: Option<GemmUnit>) -> Option<TcGemm> {
    match_gemm(ast, &target_with(unit))
}

#[test]
fn each_unit_takes_its_own_tiles() {
    for dtype in [DType::F16, DType::BF16] {
        let ast = half_matmul(dtype, 256, 128, 64, false);
        let nv = gemm(&ast, Some(GemmUnit::M16n8k16)).expect("m16n8k16");
        assert_eq!(
            (nv.unit, nv.tile_m, nv.tile_n, nv.dtype_in),
            (GemmUnit::M16n8k16, 128, 128, dtype)
        );
        let amd = gemm(&ast, Some(GemmUnit::Mfma16x16x16)).expect("MFMA");
        assert_eq!(
            (amd.unit, amd.tile_m, amd.tile_n, amd.dtype_in),
            (GemmUnit::Mfma16x16x16, 64, 64, dtype)
        );
        // everything but the unit and its tiles is the same GEMM
        let same = TcGemm {
            unit: nv.unit,
            tile_m: nv.tile_m,
            tile_n: nv.tile_n,
            ..amd.clone()
        };
        assert_eq!(same, nv);
        assert!(gemm(&ast, None).is_none(), "no tensor cores");
    }
    let bt = gemm(
        &half_matmul(DType::F16, 64, 96, 32, true),
        Some(GemmUnit::Mfma16x16x16),
    )
    .expect("B transposed");
    assert!(bt.b_transposed);
    assert_eq!((bt.tile_m, bt.tile_n), (64, 32));
}

#[test]
fn sizes_the_tiles_do_not_divide_are_refused() {
    let mfma = Some(GemmUnit::Mfma16x16x16);
    let nv = Some(GemmUnit::M16n8k16);
    // K a multiple of 16 but not of 32: MFMA steps by 16, mma.sync by 32
    let k48 = half_matmul(DType::F16, 64, 64, 48, false);
    assert!(gemm(&k48, mfma).is_some());
    assert!(gemm(&k48, nv).is_none());
    // 32 rows: one MFMA block tile, below mma.sync's smallest
    let m32 = half_matmul(DType::F16, 32, 64, 64, false);
    assert_eq!(gemm(&m32, mfma).map(|g| g.tile_m), Some(32));
    assert!(gemm(&m32, nv).is_none());
    for (m, n, k) in [(48, 64, 64), (64, 80, 64), (64, 64, 24), (16, 64, 64)] {
        let ast = half_matmul(DType::F16, m, n, k, false);
        assert!(gemm(&ast, mfma).is_none(), "{m} x {n} x {k}");
    }
}

#[test]
fn the_kernel_names_the_gemm_and_its_launch() {
    let ast = half_matmul(DType::BF16, 128, 64, 32, false);
    let target = target_with(Some(GemmUnit::Mfma16x16x16));
    let kernel = tc(&ast, &target).expect("a GEMM");
    let wmma = &kernel.src()[0];
    assert_eq!(wmma.op(), Op::Wmma);
    let Arg::Name(text) = wmma.arg() else {
        panic!("no name: {:?}", wmma.arg())
    };
    assert!(text.starts_with("gemm unit=16x16x16 "), "{text}");
    assert_eq!(TcGemm::parse(text), match_gemm(&ast, &target));
    let launch: Vec<(Special, i64)> = wmma.src()[3..]
        .iter()
        .map(|s| {
            let which = s.special_kind().expect("a SPECIAL");
            (which, s.src()[0].const_int().unwrap_or(0) as i64)
        })
        .collect();
    assert_eq!(
        launch,
        [
            (Special::Global(0), 1),
            (Special::Global(1), 2),
            (Special::Global(2), 1),
            (Special::Local(0), 256),
        ]
    );
}
