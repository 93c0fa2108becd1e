//! `exp2_f32`: EXP2 of f32 (and of the narrow floats, computed as `float`) without libm,
//! by range reduction: `x = n + f` with `f` in [-0.5, 0.5], `2^f` by the Cephes polynomial
//! (relative error about 2e-7), `2^n` from exponent bits in two factors so that
//! subnormal results and overflow come out right. It has no branches and no call, so C
//! compilers vectorize loops over it; the vector `exp2_f32x8` (`vector.rs`) runs the same
//! operations in the same order, so both give the same bits.

use renderer_cstyle::{Helpers, Rank};

/// The coefficients of `2^f` on [-0.5, 0.5] (Cephes), highest degree first; the scalar
/// and vector `exp2` evaluate them in the same order.
pub(crate) const EXP2_POLY: [&str; 7] = [
    "1.535336188319500e-4f",
    "1.339887440266574e-3f",
    "9.618437357674640e-3f",
    "5.550332471162809e-2f",
    "2.402264791363012e-1f",
    "6.931472028550421e-1f",
    "1.0f",
];

/// `p = c0; p = p * f + c1; ...` over `EXP2_POLY`, indented by two spaces.
pub(crate) fn exp2_poly_lines(first: &str) -> String {
    let mut out = format!("  p = {first};\n");
    for c in &EXP2_POLY[1..] {
        out += &format!("  p = p * f + {c};\n");
    }
    out
}

/// `exp2_f32(x)`, defining the helper on first use.
pub(crate) fn exp2_f32(helpers: &mut Helpers, x: &str) -> String {
    helpers.define(Rank::Math, "exp2_f32", || {
        format!(
            "static inline float exp2_f32(float x) {{
  float xc = x < -150.0f ? -150.0f : (x > 128.0f ? 128.0f : x);
  float n = __builtin_floorf(xc + 0.5f);
  float f = xc - n;
  float p;
{}  int ni = (int)n;
  int n1 = ni >> 1;
  int n2 = ni - n1;
  union {{ unsigned int u; float f; }} a, b;
  a.u = (unsigned int)(n1 + 127) << 23;
  b.u = (unsigned int)(n2 + 127) << 23;
  float r = p * a.f * b.f;
  return x != x ? x : r;
}}
",
            exp2_poly_lines(EXP2_POLY[0])
        )
    });
    format!("exp2_f32({x})")
}
