//! `DType::round_float` against the definition of rounding to nearest, ties to even: the
//! result is a value of the dtype, no neighbouring value is nearer, and a tie picks the
//! even code. Checked on random `f64`s and on `f64`s a hair away from a tie, where rounding
//! through `f32` first would go wrong.

use dtype::{DType, Fp8Overflow};
use half::{bf16, f16};
use proptest::prelude::*;

const NARROW: [DType; 6] = [
    DType::F16,
    DType::BF16,
    DType::Fp8E4M3,
    DType::Fp8E5M2,
    DType::Fp8E4M3Fnuz,
    DType::Fp8E5M2Fnuz,
];

fn sign_bit(d: DType) -> u16 {
    if d.itemsize() == 1 { 0x80 } else { 0x8000 }
}

fn decode(d: DType, code: u16) -> f64 {
    match (d, d.fp8_format()) {
        (DType::F16, _) => f16::from_bits(code).to_f64(),
        (DType::BF16, _) => bf16::from_bits(code).to_f64(),
        (_, Some(fmt)) => f64::from(fmt.decode(code as u8)),
        _ => f64::NAN,
    }
}

/// The code of `r`, a value of `d` (so every conversion path is exact).
fn encode(d: DType, r: f64) -> u16 {
    match (d, d.fp8_format()) {
        (DType::F16, _) => f16::from_f64(r).to_bits(),
        (DType::BF16, _) => bf16::from_f64(r).to_bits(),
        (_, Some(fmt)) => u16::from(fmt.encode(r as f32, Fp8Overflow::NonSaturate)),
        _ => 0,
    }
}

/// The code one step up (`dir = 1`) or down (`-1`) in value from `code`.
fn step(d: DType, code: u16, dir: i32) -> Option<u16> {
    let sign = sign_bit(d);
    let mag = i32::from(code & !sign);
    let key = if code & sign != 0 { -mag } else { mag } + dir;
    let mag = u16::try_from(key.abs()).ok().filter(|&m| m < sign)?;
    Some(if key < 0 { sign | mag } else { mag })
}

fn check_nearest(d: DType, v: f64) -> Result<(), TestCaseError> {
    let r = d.round_float(v);
    let max = d.max_value_f64().unwrap_or(f64::INFINITY);
    if !r.is_finite() {
        prop_assert!(v.abs() > max, "{} {}: overflowed to {}", d, v, r);
        return Ok(());
    }
    let code = encode(d, r);
    prop_assert_eq!(
        decode(d, code).to_bits(),
        r.to_bits(),
        "{} {}: {} is not a value",
        d,
        v,
        r
    );
    for dir in [-1, 1] {
        let Some(w) = step(d, code, dir).map(|c| decode(d, c)) else {
            continue;
        };
        if !w.is_finite() {
            continue;
        }
        prop_assert!(
            (v - r).abs() <= (v - w).abs(),
            "{} {}: chose {} but {} is nearer",
            d,
            v,
            r,
            w
        );
        if w != r && (r + w) / 2.0 == v {
            prop_assert_eq!(
                code & 1,
                0,
                "{} {}: tie between {} and {} must pick even",
                d,
                v,
                r,
                w
            );
        }
    }
    Ok(())
}

fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<u64>()
            .prop_map(f64::from_bits)
            .prop_filter("not NaN", |x| !x.is_nan()),
        -70000.0f64..70000.0,
        -1.0f64..1.0,
        -1e-4f64..1e-4,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn round_float_is_nearest(v in any_f64()) {
        for d in NARROW {
            check_nearest(d, v)?;
        }
    }

    /// `v` is a few f64 ulps from the midpoint of two adjacent values of `d`.
    #[test]
    fn round_float_is_nearest_near_ties(
        d in proptest::sample::select(NARROW.to_vec()),
        code in any::<u16>(),
        nudge in -(1i64 << 20)..(1i64 << 20),
    ) {
        let code = if d.itemsize() == 1 { code & 0xFF } else { code };
        let (r, next) = (decode(d, code), step(d, code, 1).map(|c| decode(d, c)));
        if let Some(w) = next.filter(|w| w.is_finite() && r.is_finite()) {
            let mid = (r + w) / 2.0;
            let v = f64::from_bits(mid.to_bits().wrapping_add_signed(nudge));
            check_nearest(d, v)?;
        }
    }
}
