//! `@exp2_f32` (and `@exp2_f32xN` on vectors): EXP2 of f32 without a library call, by
//! range reduction: `x = n + f` with `f` in [-0.5, 0.5], `2^f` by the Cephes polynomial
//! (relative error about 2e-7), `2^n` from exponent bits in two factors so that subnormal
//! results and overflow come out right. It is the C renderer's `exp2_f32`, operation for
//! operation (the same clamps, the same coefficients evaluated in the same order, nothing
//! fused), so both backends give the same bits; the vector form runs the same operations
//! on every lane. Narrow floats compute it in f32 too.

use crate::module::{FnText, Module};
use crate::types::{float_bits_literal, splat, vector_of};

/// The coefficients of `2^f` on [-0.5, 0.5] (Cephes), highest degree first, as the f32
/// values the C renderer's literals denote.
pub const EXP2_POLY: [f32; 7] = [
    1.535_336_2e-4,
    1.339_887_4e-3,
    9.618_437e-3,
    5.550_332_5e-2,
    2.402_264_8e-1,
    6.931_472e-1,
    1.0,
];

/// The helper computing EXP2 of `lanes` f32 values, defined on first use.
pub fn exp2_f32(m: &mut Module, lanes: u8) -> String {
    let name = if lanes > 1 {
        format!("exp2_f32x{lanes}")
    } else {
        "exp2_f32".to_string()
    };
    let (v, iv, b) = (
        vector_of("float", lanes),
        vector_of("i32", lanes),
        vector_of("i1", lanes),
    );
    let c = |x: f32| splat("float", &float_bits_literal(f64::from(x)), lanes);
    let ci = |x: i32| splat("i32", &x.to_string(), lanes);
    let suffix = if lanes > 1 {
        format!("v{lanes}f32")
    } else {
        "f32".into()
    };
    let floor = format!("llvm.floor.{suffix}");
    m.declare(format!("declare {v} @{floor}({v})"));
    m.helper(&name, |_| {
        let mut f = FnText::default();
        // xc = x < -150 ? -150 : (x > 128 ? 128 : x)
        let above = f.op(format!("fcmp ogt {v} %x, {}", c(128.0)));
        let hi = f.op(format!("select {b} {above}, {v} {}, {v} %x", c(128.0)));
        let below = f.op(format!("fcmp olt {v} %x, {}", c(-150.0)));
        let xc = f.op(format!("select {b} {below}, {v} {}, {v} {hi}", c(-150.0)));
        // n = floor(xc + 0.5), f = xc - n
        let t = f.op(format!("fadd {v} {xc}, {}", c(0.5)));
        let n = f.op(format!("call {v} @{floor}({v} {t})"));
        let frac = f.op(format!("fsub {v} {xc}, {n}"));
        // p = c0; p = p * f + c_k ...
        let mut p = c(EXP2_POLY[0]);
        for k in &EXP2_POLY[1..] {
            let prod = f.op(format!("fmul {v} {p}, {frac}"));
            p = f.op(format!("fadd {v} {prod}, {}", c(*k)));
        }
        // 2^n as two exponent factors
        let ni = f.op(format!("fptosi {v} {n} to {iv}"));
        let n1 = f.op(format!("ashr {iv} {ni}, {}", ci(1)));
        let n2 = f.op(format!("sub {iv} {ni}, {n1}"));
        let scale = |f: &mut FnText, half: &str| {
            let biased = f.op(format!("add {iv} {half}, {}", ci(127)));
            let bits = f.op(format!("shl {iv} {biased}, {}", ci(23)));
            f.op(format!("bitcast {iv} {bits} to {v}"))
        };
        let a = scale(&mut f, &n1);
        let b2 = scale(&mut f, &n2);
        let r0 = f.op(format!("fmul {v} {p}, {a}"));
        let r = f.op(format!("fmul {v} {r0}, {b2}"));
        // NaN in, NaN out
        let nan = f.op(format!("fcmp uno {v} %x, %x"));
        let out = f.op(format!("select {b} {nan}, {v} %x, {v} {r}"));
        f.line(format!("ret {v} {out}"));
        f.define(&v, &name, &format!("{v} %x"))
    });
    format!("@{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coefficients_are_the_c_renderers_literals() {
        let c = [
            "1.535336188319500e-4",
            "1.339887440266574e-3",
            "9.618437357674640e-3",
            "5.550332471162809e-2",
            "2.402264791363012e-1",
            "6.931472028550421e-1",
            "1.0",
        ];
        for (k, text) in c.iter().enumerate() {
            let parsed: f32 = text.parse().expect("a float");
            assert_eq!(parsed.to_bits(), EXP2_POLY[k].to_bits(), "{text}");
        }
    }

    #[test]
    fn the_scalar_and_vector_forms_are_defined_once() {
        let mut m = Module::default();
        assert_eq!(exp2_f32(&mut m, 1), "@exp2_f32");
        assert_eq!(exp2_f32(&mut m, 8), "@exp2_f32x8");
        exp2_f32(&mut m, 8);
        let text = m.render("", "", "");
        assert_eq!(text.matches("define internal").count(), 2);
        assert!(text.contains("declare <8 x float> @llvm.floor.v8f32(<8 x float>)"));
        assert!(text.contains("fcmp ogt <8 x float> %x, splat (float 0x4060000000000000)"));
    }
}
