//! ONNX element types (`TensorProto.DataType`) and the ferrograd dtype that holds each.
//! Types ferrograd has no dtype for are held widened: 4-bit integers as i8/u8 (one value
//! a byte), 4-bit floats and the E8M0 scale type as f32; casts and quantizers round to
//! their value sets. Strings and complex numbers are not supported.

use dtype::DType;

use crate::error::{OnnxError, Result};

/// An ONNX element type that can be held in a ferrograd tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ElemType {
    /// A type with a ferrograd dtype of its own.
    Native(DType),
    /// 4-bit signed integer (-8..=7), held in i8.
    Int4,
    /// 4-bit unsigned integer (0..=15), held in u8.
    UInt4,
    /// 4-bit float E2M1 (values ±{0, 0.5, 1, 1.5, 2, 3, 4, 6}), held in f32.
    Float4E2M1,
    /// 8-bit power of two E8M0 (2^-127..2^127, NaN), held in f32.
    Float8E8M0,
}

impl ElemType {
    /// The type with ONNX code `code`, or why it is not supported.
    pub fn from_onnx(code: i32) -> Result<ElemType> {
        use ElemType::Native as N;
        Ok(match code {
            1 => N(DType::F32),
            2 => N(DType::U8),
            3 => N(DType::I8),
            4 => N(DType::U16),
            5 => N(DType::I16),
            6 => N(DType::I32),
            7 => N(DType::I64),
            9 => N(DType::Bool),
            10 => N(DType::F16),
            11 => N(DType::F64),
            12 => N(DType::U32),
            13 => N(DType::U64),
            16 => N(DType::BF16),
            17 => N(DType::Fp8E4M3),
            18 => N(DType::Fp8E4M3Fnuz),
            19 => N(DType::Fp8E5M2),
            20 => N(DType::Fp8E5M2Fnuz),
            21 => ElemType::UInt4,
            22 => ElemType::Int4,
            23 => ElemType::Float4E2M1,
            24 => ElemType::Float8E8M0,
            8 => {
                return Err(OnnxError::Invalid(
                    "string tensors are not supported".into(),
                ));
            }
            14 | 15 => {
                return Err(OnnxError::Invalid(
                    "complex tensors are not supported".into(),
                ));
            }
            0 => {
                return Err(OnnxError::Invalid(
                    "the element type is undefined (0)".into(),
                ));
            }
            other => return Err(OnnxError::Invalid(format!("unknown element type {other}"))),
        })
    }

    /// The ONNX code of this type.
    pub fn onnx_code(self) -> i32 {
        match self {
            ElemType::Native(d) => match d {
                DType::F32 => 1,
                DType::U8 => 2,
                DType::I8 => 3,
                DType::U16 => 4,
                DType::I16 => 5,
                DType::I32 => 6,
                DType::I64 => 7,
                DType::Bool => 9,
                DType::F16 => 10,
                DType::F64 => 11,
                DType::U32 => 12,
                DType::U64 => 13,
                DType::BF16 => 16,
                DType::Fp8E4M3 => 17,
                DType::Fp8E4M3Fnuz => 18,
                DType::Fp8E5M2 => 19,
                DType::Fp8E5M2Fnuz => 20,
                DType::Void | DType::Index => 0,
            },
            ElemType::UInt4 => 21,
            ElemType::Int4 => 22,
            ElemType::Float4E2M1 => 23,
            ElemType::Float8E8M0 => 24,
        }
    }

    /// The ferrograd dtype holding values of this type.
    pub fn storage(self) -> DType {
        match self {
            ElemType::Native(d) => d,
            ElemType::Int4 => DType::I8,
            ElemType::UInt4 => DType::U8,
            ElemType::Float4E2M1 | ElemType::Float8E8M0 => DType::F32,
        }
    }

    /// Bits of one element in ONNX's packed encoding.
    pub fn bits(self) -> usize {
        match self {
            ElemType::Native(d) => d.itemsize() * 8,
            ElemType::Int4 | ElemType::UInt4 | ElemType::Float4E2M1 => 4,
            ElemType::Float8E8M0 => 8,
        }
    }

    /// ONNX's name of the type (`float`, `int64`, `float8e4m3fn`, ...).
    pub fn name(self) -> &'static str {
        match self {
            ElemType::Native(d) => match d {
                DType::F32 => "float",
                DType::F64 => "double",
                DType::F16 => "float16",
                DType::BF16 => "bfloat16",
                DType::Fp8E4M3 => "float8e4m3fn",
                DType::Fp8E4M3Fnuz => "float8e4m3fnuz",
                DType::Fp8E5M2 => "float8e5m2",
                DType::Fp8E5M2Fnuz => "float8e5m2fnuz",
                other => other.name(),
            },
            ElemType::Int4 => "int4",
            ElemType::UInt4 => "uint4",
            ElemType::Float4E2M1 => "float4e2m1",
            ElemType::Float8E8M0 => "float8e8m0",
        }
    }

    pub fn is_float(self) -> bool {
        self.storage().is_float()
    }
}

impl std::fmt::Display for ElemType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl From<DType> for ElemType {
    fn from(d: DType) -> ElemType {
        ElemType::Native(d)
    }
}

/// The value of a 4-bit E2M1 code (bit 3 the sign, bits 2..1 the exponent with bias 1,
/// bit 0 the mantissa; no infinities or NaN).
pub fn float4_decode(code: u8) -> f32 {
    const MAGNITUDES: [f32; 8] = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0];
    let m = MAGNITUDES[usize::from(code & 7)];
    if code & 8 != 0 { -m } else { m }
}

/// The E2M1 code nearest `x` (ties to even mantissa; beyond ±6 saturates; NaN, which
/// E2M1 cannot hold, gives a zero of its sign bit, as ONNX's reference encodes it).
pub fn float4_encode(x: f32) -> u8 {
    let sign = if x.is_sign_negative() { 8u8 } else { 0 };
    let a = x.abs();
    if a.is_nan() {
        return sign;
    }
    // midpoints between neighbouring magnitudes, ties going to the even code
    let code = match a {
        a if a <= 0.25 => 0,
        a if a < 0.75 => 1,
        a if a <= 1.25 => 2,
        a if a < 1.75 => 3,
        a if a <= 2.5 => 4,
        a if a < 3.5 => 5,
        a if a <= 5.0 => 6,
        _ => 7,
    };
    sign | code
}

/// The value of an E8M0 code: 2^(code - 127); 0xFF is NaN.
pub fn e8m0_decode(code: u8) -> f32 {
    if code == 0xFF {
        f32::NAN
    } else {
        (2.0f64).powi(i32::from(code) - 127) as f32
    }
}

/// The E8M0 code of `x`, rounding the exponent up when `x` is not a power of two (ONNX's
/// default "up" rounding), saturating to the largest finite code.
pub fn e8m0_encode(x: f32, saturate: bool) -> u8 {
    if x.is_nan() || (!saturate && x.is_infinite()) {
        return 0xFF;
    }
    if x <= 0.0 || x.is_infinite() && x < 0.0 {
        return 0;
    }
    if x.is_infinite() {
        return 0xFE;
    }
    let bits = x.to_bits();
    let exp = ((bits >> 23) & 0xFF) as i32;
    let mantissa = bits & 0x7F_FFFF;
    let e = if exp == 0 {
        // subnormal f32: 2^-127 is the smallest E8M0 value
        0
    } else {
        exp + i32::from(mantissa != 0)
    };
    e.clamp(0, if saturate { 0xFE } else { 0xFF }) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn onnx_codes_round_trip() {
        for code in (1..=24).filter(|c| ![8, 14, 15].contains(c)) {
            let t = ElemType::from_onnx(code).expect("a supported code");
            assert_eq!(t.onnx_code(), code, "{t}");
        }
        assert!(ElemType::from_onnx(8).is_err());
        assert!(ElemType::from_onnx(99).is_err());
    }

    #[test]
    fn float4_codes_round_trip_and_round_to_nearest() {
        for code in 0..16u8 {
            let v = float4_decode(code);
            // -0 encodes as 8, +0 as 0
            assert_eq!(float4_encode(v), code, "{v}");
        }
        assert_eq!(float4_decode(float4_encode(2.6)), 3.0);
        assert_eq!(float4_decode(float4_encode(-100.0)), -6.0);
        assert_eq!(float4_decode(float4_encode(0.25)), 0.0);
    }

    #[test]
    fn e8m0_is_a_power_of_two_rounded_up() {
        assert_eq!(e8m0_decode(127), 1.0);
        assert_eq!(e8m0_encode(1.0, true), 127);
        assert_eq!(e8m0_encode(3.0, true), 129);
        assert!(e8m0_decode(0xFF).is_nan());
    }
}
