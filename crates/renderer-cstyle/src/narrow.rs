//! Narrow floats (f16, bf16 and the four fp8 formats) stored as their bits: in memory an
//! element is its raw bits (`uint16_t`, `uint8_t`); a LOAD decodes it into a `float` that
//! holds its value exactly, and a STORE or a CAST encodes a `float` back. The conversions
//! follow the `dtype` crate exactly: decoding is exact, encoding rounds to nearest with
//! ties to even and does not saturate (overflow gives inf for f16, bf16 and E5M2, NaN for
//! the fp8 formats without infinities). Only integer and bit operations are used, so the
//! results do not depend on the compiler's float settings. The bit casts between floats
//! and integers (`f32_bits`, `f64_bits`) live here too.

use dtype::DType;

use crate::helpers::{Helpers, Rank};

/// A float dtype that is stored as bits and computed on as `float`.
pub fn is_narrow_float(dtype: DType) -> bool {
    matches!(dtype, DType::F16 | DType::BF16) || dtype.is_fp8()
}

/// Asks for `f32_bits` and `f32_from_bits`.
pub fn f32_bits(helpers: &mut Helpers) {
    helpers.define(Rank::Bits, "f32_bits", || F32_BITS.into());
}

/// Asks for `f64_bits` and `f64_from_bits`.
pub fn f64_bits(helpers: &mut Helpers) {
    helpers.define(Rank::Bits, "f64_bits", || F64_BITS.into());
}

/// `f64_to_f32_odd(x)`: a double rounded to float with round-to-odd, so that rounding
/// that once more into a narrow float is the same as one direct rounding.
pub fn f64_to_f32_odd(helpers: &mut Helpers, x: &str) -> String {
    f32_bits(helpers);
    helpers.define(Rank::Support, "f64_to_f32_odd", || F64_TO_F32_ODD.into());
    format!("f64_to_f32_odd({x})")
}

/// `DTYPE_to_float(bits)`: the value of the bits of a narrow float.
pub fn decode(helpers: &mut Helpers, dtype: DType, bits: &str) -> String {
    f32_bits(helpers);
    let name = format!("{}_to_float", dtype.name());
    helpers.define(Rank::Decode, &name, || match dtype {
        DType::F16 => F16_DECODE.into(),
        DType::BF16 => BF16_DECODE.into(),
        d => fp8_decode(d),
    });
    format!("{name}({bits})")
}

/// `float_to_DTYPE(x)`: the bits of the narrow float nearest to the float `x`.
pub fn encode(helpers: &mut Helpers, dtype: DType, x: &str) -> String {
    f32_bits(helpers);
    helpers.define(Rank::Support, "rne_shr", || RNE_SHR.into());
    if dtype.is_fp8() {
        helpers.define(Rank::Support, "fp8_mag", || FP8_MAG.into());
    }
    let name = format!("float_to_{}", dtype.name());
    helpers.define(Rank::Encode, &name, || match dtype {
        DType::F16 => F16_ENCODE.into(),
        DType::BF16 => BF16_ENCODE.into(),
        d => fp8_encode(d),
    });
    format!("{name}({x})")
}

const F32_BITS: &str = "\
static inline uint32_t f32_bits(float x) { union { float f; uint32_t u; } v; v.f = x; return v.u; }
static inline float f32_from_bits(uint32_t u) { union { float f; uint32_t u; } v; v.u = u; return v.f; }
";

const F64_BITS: &str = "\
static inline uint64_t f64_bits(double x) { union { double f; uint64_t u; } v; v.f = x; return v.u; }
static inline double f64_from_bits(uint64_t u) { union { double f; uint64_t u; } v; v.u = u; return v.f; }
";

const RNE_SHR: &str = "\
/* m / 2^s rounded to nearest, ties to even, for m < 2^24. */
static inline uint32_t rne_shr(uint32_t m, uint32_t s) {
  if (s == 0) return m;
  if (s > 24) return 0;
  uint32_t q = m >> s, rem = m & ((1u << s) - 1u), half = 1u << (s - 1u);
  return q + (uint32_t)(rem > half || (rem == half && (q & 1u)));
}
";

const F64_TO_F32_ODD: &str = "\
/* x rounded to float toward zero, with the last bit set when inexact (round to odd):
   rounding that to nearest even into a narrower format equals one direct rounding. */
static inline float f64_to_f32_odd(double x) {
  float n = (float)x;
  if (x != x || (double)n == x) return n;
  double an = n < 0 ? -(double)n : (double)n, ax = x < 0 ? -x : x;
  uint32_t b = f32_bits(n);
  if (an > ax) b -= 1u;
  return f32_from_bits(b | 1u);
}
";

const FP8_MAG: &str = "\
/* The fp8 magnitude code of a finite float with magnitude bits a, rounded to nearest even
   with an unbounded exponent: n * 2^q with q the spacing of the format at |x|. 0xff when it
   does not fit in 7 bits. f32 subnormals lie far below every fp8 subnormal. */
static inline uint32_t fp8_mag(uint32_t a, int man, int bias) {
  int ef = (int)(a >> 23);
  if (ef == 0) return 0;
  int top = ef - 127, emin = 1 - bias;
  int q = (top > emin ? top : emin) - man;
  uint32_t n = rne_shr((a & 0x7fffffu) | 0x800000u, (uint32_t)(q - (ef - 150)));
  long long code = ((long long)(q - (emin - man)) << man) + (long long)n;
  return code > 0x7f ? 0xffu : (uint32_t)code;
}
";

const F16_DECODE: &str = "\
static inline float f16_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
  if (e == 0x1fu) return f32_from_bits(sign | 0x7f800000u | (m << 13));
  if (e == 0) { float v = (float)m * 0x1p-24f; return sign ? -v : v; }
  return f32_from_bits(sign | ((e + 112u) << 23) | (m << 13));
}
";

const F16_ENCODE: &str = "\
static inline uint16_t float_to_f16(float x) {
  uint32_t b = f32_bits(x), a = b & 0x7fffffffu;
  uint16_t sign = (uint16_t)((b >> 16) & 0x8000u);
  if (a > 0x7f800000u) return (uint16_t)(sign | 0x7e00u | ((a >> 13) & 0x3ffu));
  if (a >= 0x38800000u) {
    uint32_t r = a - 0x38000000u, h = (r + 0xfffu + ((r >> 13) & 1u)) >> 13;
    return (uint16_t)(sign | (h > 0x7c00u ? 0x7c00u : h));
  }
  return (uint16_t)(sign | rne_shr((a & 0x7fffffu) | 0x800000u, 126u - (a >> 23)));
}
";

const BF16_DECODE: &str = "\
static inline float bf16_to_float(uint16_t h) { return f32_from_bits((uint32_t)h << 16); }
";

const BF16_ENCODE: &str = "\
static inline uint16_t float_to_bf16(float x) {
  uint32_t b = f32_bits(x);
  if ((b & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((b >> 16) | 0x40u);
  return (uint16_t)((b + 0x7fffu + ((b >> 16) & 1u)) >> 16);
}
";

/// Which codes of an fp8 format are special.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Specials {
    /// S.1111.111 is NaN; no infinities.
    Fn,
    /// Exponent all ones: mantissa 0 is inf, else NaN.
    Ieee,
    /// 0x80 is the only NaN; no infinities, no -0.
    Fnuz,
}

/// Mantissa bits, bias, largest finite magnitude code and specials of an fp8 dtype.
fn fp8_spec(dtype: DType) -> (u32, i32, u8, Specials) {
    match dtype {
        DType::Fp8E4M3 => (3, 7, 0x7e, Specials::Fn),
        DType::Fp8E5M2 => (2, 15, 0x7b, Specials::Ieee),
        DType::Fp8E4M3Fnuz => (3, 8, 0x7f, Specials::Fnuz),
        _ => (2, 16, 0x7f, Specials::Fnuz),
    }
}

fn fp8_decode(dtype: DType) -> String {
    let (man, bias, _, specials) = fp8_spec(dtype);
    let name = dtype.name();
    let nan = match specials {
        Specials::Fn => "mag == 0x7fu",
        Specials::Ieee => "mag > 0x7cu",
        Specials::Fnuz => "c == 0x80u",
    };
    let inf = if specials == Specials::Ieee {
        "  if (mag == 0x7cu) return sign ? -INFINITY : INFINITY;\n"
    } else {
        ""
    };
    let sub_scale = bias - 1 + man as i32;
    let mask = (1u32 << man) - 1;
    let rebias = 127 - bias;
    let shift = 23 - man;
    format!(
        "static inline float {name}_to_float(uint8_t c) {{
  uint32_t sign = (uint32_t)(c & 0x80u) << 24, mag = c & 0x7fu;
  if ({nan}) return NAN;
{inf}  if ((mag >> {man}) == 0) {{ float v = (float)mag * 0x1p-{sub_scale}f; return sign ? -v : v; }}
  return f32_from_bits(sign | (((mag >> {man}) + {rebias}u) << 23) | ((mag & {mask}u) << {shift}));
}}
"
    )
}

fn fp8_encode(dtype: DType) -> String {
    let (man, bias, max_code, specials) = fp8_spec(dtype);
    let name = dtype.name();
    let (nan, overflow) = match specials {
        Specials::Fn => ("(uint8_t)(sign | 0x7fu)", "(uint8_t)(sign | 0x7fu)"),
        Specials::Ieee => ("(uint8_t)(sign | 0x7eu)", "(uint8_t)(sign | 0x7cu)"),
        Specials::Fnuz => ("0x80u", "0x80u"),
    };
    let zero = if specials == Specials::Fnuz {
        "  if (mag == 0) return 0;\n"
    } else {
        ""
    };
    format!(
        "static inline uint8_t float_to_{name}(float x) {{
  uint32_t b = f32_bits(x), a = b & 0x7fffffffu;
  uint32_t sign = (b >> 24) & 0x80u;
  if (a > 0x7f800000u) return {nan};
  uint32_t mag = a == 0x7f800000u ? 0xffu : fp8_mag(a, {man}, {bias});
{zero}  if (mag <= {max_code:#x}u) return (uint8_t)(sign | mag);
  return {overflow};
}}
"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoders_pull_in_their_dependencies_once_and_first() {
        let mut h = Helpers::default();
        assert_eq!(encode(&mut h, DType::Fp8E4M3, "x"), "float_to_fp8e4m3(x)");
        encode(&mut h, DType::Fp8E5M2, "y");
        let text = h.render();
        let at = |s: &str| text.find(s).unwrap_or(usize::MAX);
        assert!(at("f32_bits(float") < at("rne_shr(uint32_t"));
        assert!(at("rne_shr(uint32_t") < at("fp8_mag(uint32_t"));
        assert!(at("fp8_mag(uint32_t") < at("float_to_fp8e4m3(float"));
        assert_eq!(text.matches("static inline uint32_t rne_shr").count(), 1);
    }

    #[test]
    fn only_the_narrow_floats_are_stored_as_bits() {
        assert!(is_narrow_float(DType::BF16) && is_narrow_float(DType::Fp8E5M2Fnuz));
        assert!(!is_narrow_float(DType::F32) && !is_narrow_float(DType::I16));
    }
}
