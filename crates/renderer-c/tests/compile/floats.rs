//! The narrow-float conversions of the generated C against the `dtype` crate: every code
//! of f16, bf16 and the four fp8 formats decodes exactly, every code's value encodes back
//! to it, and a sample of a million f32 values (plus the halfway points between codes)
//! rounds to nearest even like `Fp8Format::encode` and `DType::round_float` do.

use dtype::Fp8Overflow;
use uop_ir::{ConstValue, DType, UOp};

use crate::common::*;
use crate::kernel::{Kernel, skip_without_cc};
use crate::run::{Buf, from_bits, is_narrow_nan};

const NARROW: [DType; 6] = [
    DType::F16,
    DType::BF16,
    DType::Fp8E4M3,
    DType::Fp8E5M2,
    DType::Fp8E4M3Fnuz,
    DType::Fp8E5M2Fnuz,
];

/// `data0[i] = (to)data1[i]` over `0..n`.
fn cast_kernel(from: DType, to: DType, n: usize) -> Kernel {
    let i = UOp::range(n as i64, 0);
    let x = load(&index(&param(1, from), &i)).cast(to);
    Kernel::build(&program(
        &format!("cast_{from}_{to}"),
        &[i.clone(), store(&index(&param(0, to), &i), &x), end(&i)],
    ))
}

fn float_of(v: ConstValue) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

#[test]
fn every_code_decodes_exactly() {
    if skip_without_cc() {
        return;
    }
    for dtype in NARROW {
        let codes: Vec<u64> = (0..1u64 << dtype.bitsize()).collect();
        let mut out = Buf::zeros(DType::F32, codes.len());
        let mut input = Buf::from_bits(dtype, &codes);
        cast_kernel(dtype, DType::F32, codes.len()).run(&mut [&mut out, &mut input]);
        for (&code, got) in codes.iter().zip(out.bits()) {
            let got = f32::from_bits(got as u32);
            let want = float_of(from_bits(dtype, code)) as f32;
            assert!(
                got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                "{dtype} code {code:#x}: C gave {got}, want {want}"
            );
        }
    }
}

/// Values to encode: every code's value, the halfway points between neighbouring codes
/// and just beside them, and every 4099th f32 bit pattern.
fn encode_inputs(dtype: DType) -> Vec<f32> {
    let mut values: Vec<f32> = (0..1u64 << dtype.bitsize())
        .filter(|&c| !is_narrow_nan(dtype, c))
        .map(|c| float_of(from_bits(dtype, c)) as f32)
        .collect();
    values.sort_by(f32::total_cmp);
    let mids: Vec<f32> = values
        .windows(2)
        .filter(|w| w[0].is_finite() && w[1].is_finite())
        .map(|w| ((f64::from(w[0]) + f64::from(w[1])) / 2.0) as f32)
        .collect();
    for m in mids {
        values.extend([
            m,
            f32::from_bits(m.to_bits() + 1),
            f32::from_bits(m.to_bits().wrapping_sub(1)),
        ]);
    }
    values.extend((0..=u32::MAX).step_by(4099).map(f32::from_bits));
    values.extend([
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        -f32::NAN,
        f32::MAX,
        f32::MIN_POSITIVE,
    ]);
    values
}

/// Whether the narrow code `got` is what `x` should encode to.
fn encodes_right(dtype: DType, x: f32, got: u64) -> bool {
    match dtype.fp8_format() {
        Some(fmt) => {
            let want = fmt.encode(x, Fp8Overflow::NonSaturate);
            u64::from(want) == got || (fmt.is_nan(want) && is_narrow_nan(dtype, got))
        }
        None => {
            let want = dtype.round_float(f64::from(x));
            let got = float_of(from_bits(dtype, got));
            got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan())
        }
    }
}

#[test]
fn encoding_rounds_to_nearest_even_without_saturating() {
    if skip_without_cc() {
        return;
    }
    for dtype in NARROW {
        let values = encode_inputs(dtype);
        let v: Vec<ConstValue> = values
            .iter()
            .map(|&x| ConstValue::Float(f64::from(x)))
            .collect();
        let mut out = Buf::zeros(dtype, values.len());
        let mut input = Buf::from_values(DType::F32, &v);
        cast_kernel(DType::F32, dtype, values.len()).run(&mut [&mut out, &mut input]);
        for (&x, got) in values.iter().zip(out.bits()) {
            assert!(
                encodes_right(dtype, x, got),
                "{dtype}: {x:e} ({:#010x}) encoded to {got:#x}",
                x.to_bits()
            );
        }
    }
}

#[test]
fn every_code_round_trips() {
    if skip_without_cc() {
        return;
    }
    // Narrow -> f32 -> narrow, through the C conversions alone.
    for dtype in NARROW {
        let codes: Vec<u64> = (0..1u64 << dtype.bitsize())
            .filter(|&c| !is_narrow_nan(dtype, c))
            .collect();
        let i = UOp::range(codes.len() as i64, 0);
        let x = load(&index(&param(1, dtype), &i))
            .cast(DType::F32)
            .cast(dtype);
        let p = program(
            "round_trip",
            &[i.clone(), store(&index(&param(0, dtype), &i), &x), end(&i)],
        );
        let mut out = Buf::zeros(dtype, codes.len());
        let mut input = Buf::from_bits(dtype, &codes);
        Kernel::build(&p).run(&mut [&mut out, &mut input]);
        let want: Vec<u64> = match dtype.fp8_format() {
            // fnuz formats have no -0: 0x80 is NaN, so every non-NaN code is canonical.
            Some(fmt) => codes
                .iter()
                .map(|&c| u64::from(fmt.encode(fmt.decode(c as u8), Fp8Overflow::NonSaturate)))
                .collect(),
            None => codes.clone(),
        };
        assert_eq!(out.bits(), want, "{dtype}");
        assert_eq!(want, codes, "{dtype}: the dtype crate itself round-trips");
    }
}

#[test]
fn f64_casts_round_once() {
    if skip_without_cc() {
        return;
    }
    let eps = 2f64.powi(-40);
    let values = [
        1.0 + 2f64.powi(-11) + eps,
        1.0 + 2f64.powi(-11),
        1.0 + 2f64.powi(-8) + eps,
        1.0625 + eps,
        1.0625,
        -(1.125 + eps),
        65519.99,
        65520.0,
        464.0,
        1e300,
        -1e-300,
        0.1,
        f64::NAN,
        f64::NEG_INFINITY,
    ];
    let v: Vec<ConstValue> = values.iter().map(|&x| ConstValue::Float(x)).collect();
    for dtype in NARROW.into_iter().chain([DType::F32]) {
        let mut out = Buf::zeros(dtype, values.len());
        let mut input = Buf::from_values(DType::F64, &v);
        cast_kernel(DType::F64, dtype, values.len()).run(&mut [&mut out, &mut input]);
        for (&x, got) in values.iter().zip(out.values()) {
            let (got, want) = (float_of(got), dtype.round_float(x));
            assert!(
                got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                "{dtype}: {x:e} became {got:e}, want {want:e}"
            );
        }
    }
}
