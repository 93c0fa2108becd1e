//! Rounding an `f64` constant to a float dtype, as constant folding needs it: the result
//! is the value a cast to that dtype would hold, read back as `f64`.
//!
//! Every narrowing rounds once, to nearest with ties to even. `half`'s own `from_f64` does
//! not (on x86 with F16C it goes through `f32`, and its `bf16` drops the low 32 bits first),
//! so every type narrower than `f32` goes through [`f64_to_f32_round_odd`]: rounding to odd
//! into a format with at least two more bits, then to nearest even into the target, equals
//! one direct rounding to nearest even (Boldo and Melquiond, "When double rounding is odd").
//! `f32` keeps 13 more bits than `f16`, 16 more than `bf16`, and its subnormals reach far
//! below theirs, so the condition holds across the whole range.

use crate::{DType, Fp8Overflow};
use half::{bf16, f16};

impl DType {
    /// `v` rounded to the nearest value of this float dtype (ties to even), as `f64`.
    /// Overflow gives ±inf, or NaN for the fp8 formats without infinities, as a cast does.
    /// NaN stays NaN. Non-float dtypes return `v` unchanged, like [`DType::wrap_int`] does
    /// for floats.
    pub fn round_float(self, v: f64) -> f64 {
        match self {
            DType::F64 => v,
            DType::F32 => f64::from(v as f32),
            DType::F16 => f16::from_f32(f64_to_f32_round_odd(v)).to_f64(),
            DType::BF16 => bf16::from_f32(f64_to_f32_round_odd(v)).to_f64(),
            _ => match self.fp8_format() {
                Some(fmt) => {
                    let code = fmt.encode(f64_to_f32_round_odd(v), Fp8Overflow::NonSaturate);
                    f64::from(fmt.decode(code))
                }
                None => v,
            },
        }
    }

    /// The largest finite value of a float dtype; `None` for other dtypes (see
    /// [`DType::int_max`] for those).
    pub fn max_value_f64(self) -> Option<f64> {
        match self {
            DType::F64 => Some(f64::MAX),
            DType::F32 => Some(f64::from(f32::MAX)),
            DType::F16 => Some(f16::MAX.to_f64()),
            DType::BF16 => Some(bf16::MAX.to_f64()),
            _ => self.fp8_format().map(|fmt| f64::from(fmt.max_finite())),
        }
    }

    /// The most negative finite value of a float dtype (every float format here is
    /// symmetric, so this is `-max`); `None` for other dtypes.
    pub fn min_value_f64(self) -> Option<f64> {
        self.max_value_f64().map(|m| -m)
    }
}

/// `v` rounded to `f32` towards zero, with the last bit set if that was inexact
/// ("round to odd"). Infinities and NaN pass through; finite overflow gives ±`f32::MAX`.
pub(crate) fn f64_to_f32_round_odd(v: f64) -> f32 {
    let nearest = v as f32;
    if !v.is_finite() || f64::from(nearest) == v {
        return nearest;
    }
    // Sign-magnitude: one less in the bits is one step towards zero.
    let truncated = if f64::from(nearest).abs() > v.abs() {
        f32::from_bits(nearest.to_bits() - 1)
    } else {
        nearest
    };
    f32::from_bits(truncated.to_bits() | 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLOATS: [DType; 8] = [
        DType::Fp8E4M3,
        DType::Fp8E5M2,
        DType::Fp8E4M3Fnuz,
        DType::Fp8E5M2Fnuz,
        DType::F16,
        DType::BF16,
        DType::F32,
        DType::F64,
    ];

    #[test]
    fn round_odd_sets_the_sticky_bit() {
        assert_eq!(f64_to_f32_round_odd(1.0), 1.0);
        let above_one = 1.0 + f64::powi(2.0, -40);
        assert_eq!(
            f64_to_f32_round_odd(above_one).to_bits(),
            1.0f32.to_bits() | 1
        );
        let below_two = 2.0 - f64::powi(2.0, -40);
        assert_eq!(
            f64_to_f32_round_odd(below_two),
            f32::from_bits(2.0f32.to_bits() - 1)
        );
        assert_eq!(f64_to_f32_round_odd(-1e-300), -f32::from_bits(1));
        assert_eq!(f64_to_f32_round_odd(1e300), f32::MAX);
        assert_eq!(f64_to_f32_round_odd(f64::NEG_INFINITY), f32::NEG_INFINITY);
        assert!(f64_to_f32_round_odd(f64::NAN).is_nan());
    }

    #[test]
    fn no_double_rounding_just_above_a_tie() {
        // A tie in f32 but not in f64: rounding through f32 would pick the even neighbour.
        let eps = f64::powi(2.0, -40);
        assert_eq!(
            DType::F16.round_float(1.0 + f64::powi(2.0, -11) + eps),
            1.0 + f64::powi(2.0, -10)
        );
        assert_eq!(
            DType::BF16.round_float(1.0 + f64::powi(2.0, -8) + eps),
            1.0 + f64::powi(2.0, -7)
        );
        assert_eq!(DType::Fp8E4M3.round_float(1.0625 + eps), 1.125);
        assert_eq!(DType::Fp8E5M2.round_float(-(1.125 + eps)), -1.25);
        // And exact ties still go to even.
        assert_eq!(DType::F16.round_float(1.0 + f64::powi(2.0, -11)), 1.0);
        assert_eq!(DType::Fp8E4M3.round_float(1.0625), 1.0);
    }

    #[test]
    fn f32_and_f64() {
        assert_eq!(DType::F64.round_float(0.1), 0.1);
        assert_eq!(DType::F32.round_float(0.1), f64::from(0.1f32));
        assert_eq!(DType::F32.round_float(1e39), f64::INFINITY);
    }

    #[test]
    fn overflow_follows_a_cast() {
        assert_eq!(DType::F16.round_float(65520.0), f64::INFINITY); // tie above max: to even
        assert_eq!(DType::F16.round_float(65519.0), 65504.0);
        assert_eq!(DType::Fp8E5M2.round_float(-1e6), f64::NEG_INFINITY);
        assert!(DType::Fp8E4M3.round_float(1e6).is_nan());
        assert!(DType::Fp8E4M3Fnuz.round_float(f64::INFINITY).is_nan());
        assert_eq!(DType::Fp8E4M3.round_float(464.0), 448.0);
    }

    #[test]
    fn non_floats_pass_through() {
        assert_eq!(DType::I32.round_float(0.1), 0.1);
        assert_eq!(DType::Void.round_float(2.5), 2.5);
    }

    #[test]
    fn round_float_is_idempotent_and_keeps_nan() {
        for d in FLOATS {
            for v in [0.1, -3.7, 1e-6, 250.0, 1e-30] {
                let r = d.round_float(v);
                assert_eq!(d.round_float(r).to_bits(), r.to_bits(), "{d} {v}");
            }
            assert!(d.round_float(f64::NAN).is_nan(), "{d}");
        }
    }

    #[test]
    fn bounds() {
        let expect = [
            448.0,
            57344.0,
            240.0,
            57344.0,
            65504.0,
            3.3895313892515355e38,
        ];
        for (d, m) in FLOATS.into_iter().zip(expect) {
            assert_eq!(d.max_value_f64(), Some(m), "{d}");
            assert_eq!(d.min_value_f64(), Some(-m), "{d}");
            assert_eq!(d.round_float(m), m, "{d}");
        }
        assert_eq!(DType::F32.max_value_f64(), Some(f64::from(f32::MAX)));
        assert_eq!(DType::F64.min_value_f64(), Some(f64::MIN));
        assert_eq!(DType::I8.max_value_f64(), None);
        assert_eq!(DType::Void.min_value_f64(), None);
    }
}
