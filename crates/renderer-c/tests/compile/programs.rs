//! The canonical programs of the snapshot tests, run.

use uop_ir::{ConstValue, DType};

use crate::common::*;
use crate::kernel::{Kernel, skip_without_cc};
use crate::run::{Buf, Rng, f16_value};

fn f32_bits(buf: &Buf) -> Vec<u32> {
    buf.bits().into_iter().map(|b| b as u32).collect()
}

#[test]
fn elementwise_mul_add() {
    if skip_without_cc() {
        return;
    }
    let n = 37;
    let mut rng = Rng::new(1);
    let a: Vec<f32> = (0..n).map(|_| rng.float(10.0)).collect();
    let b: Vec<f32> = (0..n).map(|_| rng.float(10.0)).collect();
    let (mut out, mut ba, mut bb) = (Buf::zeros(DType::F32, n), Buf::f32s(&a), Buf::f32s(&b));
    Kernel::build(&elementwise(n as i64)).run(&mut [&mut out, &mut ba, &mut bb]);
    let expect: Vec<u32> = (0..n).map(|i| (a[i] * b[i] + 1.0).to_bits()).collect();
    assert_eq!(f32_bits(&out), expect);
}

#[test]
fn row_sums_accumulate_in_order() {
    if skip_without_cc() {
        return;
    }
    let (rows, cols) = (5, 7);
    let mut rng = Rng::new(2);
    let a: Vec<f32> = (0..rows * cols).map(|_| rng.float(100.0)).collect();
    let (mut out, mut ba) = (Buf::zeros(DType::F32, rows), Buf::f32s(&a));
    Kernel::build(&row_sums(rows as i64, cols as i64)).run(&mut [&mut out, &mut ba]);
    let expect: Vec<u32> = (0..rows)
        .map(|r| {
            a[r * cols..(r + 1) * cols]
                .iter()
                .fold(0.0f32, |s, x| s + x)
                .to_bits()
        })
        .collect();
    assert_eq!(f32_bits(&out), expect);
}

#[test]
fn padded_load_reads_only_valid_elements() {
    if skip_without_cc() {
        return;
    }
    let (n, before, after) = (10usize, 2usize, 3usize);
    let a: Vec<f32> = (0..n).map(|i| i as f32 + 0.5).collect();
    let (mut out, mut ba) = (Buf::zeros(DType::F32, n + before + after), Buf::f32s(&a));
    Kernel::build(&padded(n as i64, before as i64, after as i64)).run(&mut [&mut out, &mut ba]);
    let expect: Vec<u32> = (0..n + before + after)
        .map(|i| {
            if (before..before + n).contains(&i) {
                a[i - before]
            } else {
                0.0
            }
        })
        .map(f32::to_bits)
        .collect();
    assert_eq!(f32_bits(&out), expect);
}

#[test]
fn floor_index_handles_negative_offsets() {
    if skip_without_cc() {
        return;
    }
    let n = 12i64;
    let a: Vec<ConstValue> = (0..4).map(|v| ConstValue::Int(v * 7 + 1)).collect();
    let (mut out, mut ba) = (
        Buf::zeros(DType::I32, n as usize),
        Buf::from_values(DType::I32, &a),
    );
    Kernel::build(&floor_index(n)).run(&mut [&mut out, &mut ba]);
    let expect: Vec<ConstValue> = (0..n)
        .map(|i| {
            let s = i128::from(i - 3);
            let x = a[(s.div_euclid(4) + 1) as usize].as_int().unwrap_or(0);
            ConstValue::Int(x * 10 + s.rem_euclid(4))
        })
        .collect();
    assert_eq!(out.values(), expect);
}

#[test]
fn half_precision_load_compute_store() {
    if skip_without_cc() {
        return;
    }
    let n = 4096;
    let mut rng = Rng::new(3);
    let not_nan = |d: DType, bits: u64| !crate::run::is_narrow_nan(d, bits);
    let a: Vec<u64> = (0..)
        .map(|_| rng.next() & 0xffff)
        .filter(|&b| not_nan(DType::F16, b))
        .take(n)
        .collect();
    let b: Vec<u64> = (0..)
        .map(|_| rng.next() & 0xffff)
        .filter(|&b| not_nan(DType::BF16, b))
        .take(n)
        .collect();
    let mut out = Buf::zeros(DType::F16, n);
    let (mut ba, mut bb) = (
        Buf::from_bits(DType::F16, &a),
        Buf::from_bits(DType::BF16, &b),
    );
    Kernel::build(&half(n as i64)).run(&mut [&mut out, &mut ba, &mut bb]);
    for (i, got) in out.bits().into_iter().enumerate() {
        let x = f16_value(a[i] as u16) as f32 * 1.5;
        let y = DType::F16.round_float(f64::from(f32::from_bits((b[i] as u32) << 16))) as f32;
        let want = DType::F16.round_float(f64::from(x + y));
        let got = f16_value(got as u16);
        assert!(
            got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
            "{i}: a={:#06x} b={:#06x}: got {got}, want {want}",
            a[i],
            b[i]
        );
    }
}

#[test]
fn every_thread_writes_its_chunk() {
    if skip_without_cc() {
        return;
    }
    let mut out = Buf::zeros(DType::F32, 32);
    Kernel::build(&threaded(4, 8)).run(&mut [&mut out]);
    let expect: Vec<u32> = (0..32).map(|i| (i as f32).to_bits()).collect();
    assert_eq!(f32_bits(&out), expect);
}
