//! Narrow floats with the GPU's conversion instructions: f16 to `float` and back, and
//! `float` to bf16, are one `cvt` each (round to nearest, ties to even, overflow to
//! infinity, subnormals kept), where the base's portable helpers take a dozen integer
//! operations. They convert every finite value and infinity as the base does; a NaN stays
//! a NaN (with the instruction's canonical bits). The other conversions (bf16 to `float`,
//! the fp8 formats) are the base's.

use renderer_cstyle::{Helpers, Rank, narrow};
use uop_ir::DType;

const F16_DECODE: &str = "\
static inline float f16_to_float_cvt(uint16_t h) { float f; asm(\"cvt.f32.f16 %0, %1;\" : \"=f\"(f) : \"h\"(h)); return f; }
";

const F16_ENCODE: &str = "\
static inline uint16_t float_to_f16_cvt(float x) { uint16_t h; asm(\"cvt.rn.f16.f32 %0, %1;\" : \"=h\"(h) : \"f\"(x)); return h; }
";

const BF16_ENCODE: &str = "\
static inline uint16_t float_to_bf16_cvt(float x) { uint16_t h; asm(\"cvt.rn.bf16.f32 %0, %1;\" : \"=h\"(h) : \"f\"(x)); return h; }
";

/// The `float` value of the bits of a narrow float.
pub fn decode(dtype: DType, bits: &str, helpers: &mut Helpers) -> String {
    match dtype {
        DType::F16 => {
            helpers.define(Rank::Decode, "f16_to_float_cvt", || F16_DECODE.into());
            format!("f16_to_float_cvt({bits})")
        }
        d => narrow::decode(helpers, d, bits),
    }
}

/// The bits of the narrow float nearest to a `float`.
pub fn encode(dtype: DType, x: &str, helpers: &mut Helpers) -> String {
    match dtype {
        DType::F16 => {
            helpers.define(Rank::Encode, "float_to_f16_cvt", || F16_ENCODE.into());
            format!("float_to_f16_cvt({x})")
        }
        DType::BF16 => {
            helpers.define(Rank::Encode, "float_to_bf16_cvt", || BF16_ENCODE.into());
            format!("float_to_bf16_cvt({x})")
        }
        d => narrow::encode(helpers, d, x),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f16_and_bf16_use_cvt_and_fp8_the_base() {
        let mut h = Helpers::default();
        assert_eq!(decode(DType::F16, "b", &mut h), "f16_to_float_cvt(b)");
        assert_eq!(encode(DType::BF16, "x", &mut h), "float_to_bf16_cvt(x)");
        assert_eq!(decode(DType::BF16, "b", &mut h), "bf16_to_float(b)");
        assert!(encode(DType::Fp8E4M3, "x", &mut h).starts_with("float_to_fp8e4m3("));
        let text = h.render();
        assert!(text.contains("cvt.rn.bf16.f32"), "{text}");
    }
}
