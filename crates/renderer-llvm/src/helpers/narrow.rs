//! Narrow floats (f16, bf16 and the four fp8 formats) in IR: an element in memory is its
//! raw bits (`i16`, `i8`); a load decodes it into a `float` that holds its value exactly,
//! and a store or a cast encodes a `float` back, rounding to nearest with ties to even and
//! without saturation (overflow gives inf for f16, bf16 and E5M2, NaN for the fp8 formats
//! without infinities). These are the C renderer's conversions written in integer and bit
//! operations with selects instead of branches, so they give the same bits on every
//! target and need no library call. `f64_to_f32_odd` rounds a double to float with
//! round-to-odd, so that rounding it once more into a narrow float equals one rounding.

use uop_ir::DType;

use crate::module::{FnText, Module};

/// Mantissa bits, bias, largest finite magnitude code and specials of an fp8 dtype.
fn fp8_spec(dtype: DType) -> (u32, i32, u32, Specials) {
    match dtype {
        DType::Fp8E4M3 => (3, 7, 0x7e, Specials::Fn),
        DType::Fp8E5M2 => (2, 15, 0x7b, Specials::Ieee),
        DType::Fp8E4M3Fnuz => (3, 8, 0x7f, Specials::Fnuz),
        _ => (2, 16, 0x7f, Specials::Fnuz),
    }
}

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

/// The bits of the f32 quiet NaN C's `NAN` has.
const F32_NAN_BITS: u32 = 0x7fc0_0000;

/// `@DTYPE_to_float`: the value of the bits of a narrow float, defined on first use.
pub fn decode(m: &mut Module, dtype: DType) -> String {
    let name = format!("{}_to_float", dtype.name());
    m.helper(&name, |_| match dtype {
        DType::F16 => f16_decode(&name),
        DType::BF16 => bf16_decode(&name),
        d => fp8_decode(&name, d),
    });
    format!("@{name}")
}

/// `@float_to_DTYPE`: the bits of the narrow float nearest to a `float`.
pub fn encode(m: &mut Module, dtype: DType) -> String {
    let name = format!("float_to_{}", dtype.name());
    m.helper(&name, |m| match dtype {
        DType::F16 => f16_encode(m, &name),
        DType::BF16 => bf16_encode(&name),
        d => fp8_encode(m, &name, d),
    });
    format!("@{name}")
}

/// `@rne_shr(m, s)`: `m / 2^s` rounded to nearest, ties to even, for `m < 2^24`; 0 for
/// `s > 24`.
fn rne_shr(m: &mut Module) -> String {
    m.helper("rne_shr", |_| {
        let mut f = FnText::default();
        let big = f.op("icmp ugt i32 %s, 24");
        let s = f.op(format!("select i1 {big}, i32 24, i32 %s"));
        let q = f.op(format!("lshr i32 %m, {s}"));
        let unit = f.op(format!("shl i32 1, {s}"));
        let mask = f.op(format!("sub i32 {unit}, 1"));
        let rem = f.op(format!("and i32 %m, {mask}"));
        let half = f.op(format!("lshr i32 {unit}, 1"));
        let above = f.op(format!("icmp ugt i32 {rem}, {half}"));
        let tie = f.op(format!("icmp eq i32 {rem}, {half}"));
        let shifted = f.op(format!("icmp ne i32 {s}, 0"));
        let odd = f.op(format!("trunc i32 {q} to i1"));
        let tie_odd = f.op(format!("and i1 {tie}, {odd}"));
        let tie_up = f.op(format!("and i1 {tie_odd}, {shifted}"));
        let up = f.op(format!("or i1 {above}, {tie_up}"));
        let carry = f.op(format!("zext i1 {up} to i32"));
        let r = f.op(format!("add i32 {q}, {carry}"));
        let out = f.op(format!("select i1 {big}, i32 0, i32 {r}"));
        f.line(format!("ret i32 {out}"));
        f.define("i32", "rne_shr", "i32 %m, i32 %s")
    });
    "@rne_shr".into()
}

fn f16_decode(name: &str) -> String {
    let mut f = FnText::default();
    let w = f.op("zext i16 %h to i32");
    let sign_bit = f.op(format!("and i32 {w}, 32768"));
    let sign = f.op(format!("shl i32 {sign_bit}, 16"));
    let e_hi = f.op(format!("lshr i32 {w}, 10"));
    let e = f.op(format!("and i32 {e_hi}, 31"));
    let man = f.op(format!("and i32 {w}, 1023"));
    let man13 = f.op(format!("shl i32 {man}, 13"));
    // normal: rebias the exponent
    let eb = f.op(format!("add i32 {e}, 112"));
    let eb23 = f.op(format!("shl i32 {eb}, 23"));
    let n0 = f.op(format!("or i32 {sign}, {eb23}"));
    let n1 = f.op(format!("or i32 {n0}, {man13}"));
    let normal = f.op(format!("bitcast i32 {n1} to float"));
    // inf and NaN: exponent all ones
    let s0 = f.op(format!("or i32 {sign}, 2139095040"));
    let s1 = f.op(format!("or i32 {s0}, {man13}"));
    let special = f.op(format!("bitcast i32 {s1} to float"));
    // zero and subnormal: m * 2^-24
    let mf = f.op(format!("uitofp i32 {man} to float"));
    let v = f.op(format!("fmul float {mf}, 0x3E70000000000000"));
    let neg = f.op(format!("fneg float {v}"));
    let negative = f.op(format!("icmp ne i32 {sign}, 0"));
    let small = f.op(format!("select i1 {negative}, float {neg}, float {v}"));
    let is_small = f.op(format!("icmp eq i32 {e}, 0"));
    let is_special = f.op(format!("icmp eq i32 {e}, 31"));
    let r0 = f.op(format!(
        "select i1 {is_small}, float {small}, float {normal}"
    ));
    let r = f.op(format!(
        "select i1 {is_special}, float {special}, float {r0}"
    ));
    f.line(format!("ret float {r}"));
    f.define("float", name, "i16 %h")
}

fn f16_encode(m: &mut Module, name: &str) -> String {
    let rne = rne_shr(m);
    let mut f = FnText::default();
    let b = f.op("bitcast float %x to i32");
    let a = f.op(format!("and i32 {b}, 2147483647"));
    let b16 = f.op(format!("lshr i32 {b}, 16"));
    let sign = f.op(format!("and i32 {b16}, 32768"));
    // NaN: quiet, top mantissa bits kept
    let a13 = f.op(format!("lshr i32 {a}, 13"));
    let payload = f.op(format!("and i32 {a13}, 1023"));
    let q0 = f.op(format!("or i32 {sign}, 32256"));
    let nan = f.op(format!("or i32 {q0}, {payload}"));
    // normal: rebias and round the 13 dropped bits, saturating to inf
    let r = f.op(format!("sub i32 {a}, 939524096"));
    let r13 = f.op(format!("lshr i32 {r}, 13"));
    let odd = f.op(format!("and i32 {r13}, 1"));
    let r1 = f.op(format!("add i32 {r}, 4095"));
    let r2 = f.op(format!("add i32 {r1}, {odd}"));
    let h = f.op(format!("lshr i32 {r2}, 13"));
    let over = f.op(format!("icmp ugt i32 {h}, 31744"));
    let hc = f.op(format!("select i1 {over}, i32 31744, i32 {h}"));
    let normal = f.op(format!("or i32 {sign}, {hc}"));
    // subnormal or zero: the significand shifted right, rounded
    let man = f.op(format!("and i32 {a}, 8388607"));
    let sig = f.op(format!("or i32 {man}, 8388608"));
    let exp = f.op(format!("lshr i32 {a}, 23"));
    let shift = f.op(format!("sub i32 126, {exp}"));
    let q = f.op(format!("call i32 {rne}(i32 {sig}, i32 {shift})"));
    let small = f.op(format!("or i32 {sign}, {q}"));
    let is_nan = f.op(format!("icmp ugt i32 {a}, 2139095040"));
    let is_normal = f.op(format!("icmp uge i32 {a}, 947912704"));
    let v0 = f.op(format!("select i1 {is_normal}, i32 {normal}, i32 {small}"));
    let v = f.op(format!("select i1 {is_nan}, i32 {nan}, i32 {v0}"));
    let out = f.op(format!("trunc i32 {v} to i16"));
    f.line(format!("ret i16 {out}"));
    f.define("i16", name, "float %x")
}

fn bf16_decode(name: &str) -> String {
    let mut f = FnText::default();
    let w = f.op("zext i16 %h to i32");
    let bits = f.op(format!("shl i32 {w}, 16"));
    let v = f.op(format!("bitcast i32 {bits} to float"));
    f.line(format!("ret float {v}"));
    f.define("float", name, "i16 %h")
}

fn bf16_encode(name: &str) -> String {
    let mut f = FnText::default();
    let b = f.op("bitcast float %x to i32");
    let a = f.op(format!("and i32 {b}, 2147483647"));
    let hi = f.op(format!("lshr i32 {b}, 16"));
    let nan = f.op(format!("or i32 {hi}, 64"));
    let odd = f.op(format!("and i32 {hi}, 1"));
    let r0 = f.op(format!("add i32 {b}, 32767"));
    let r1 = f.op(format!("add i32 {r0}, {odd}"));
    let rounded = f.op(format!("lshr i32 {r1}, 16"));
    let is_nan = f.op(format!("icmp ugt i32 {a}, 2139095040"));
    let v = f.op(format!("select i1 {is_nan}, i32 {nan}, i32 {rounded}"));
    let out = f.op(format!("trunc i32 {v} to i16"));
    f.line(format!("ret i16 {out}"));
    f.define("i16", name, "float %x")
}

fn fp8_decode(name: &str, dtype: DType) -> String {
    let (man, bias, _, specials) = fp8_spec(dtype);
    let mut f = FnText::default();
    let w = f.op("zext i8 %c to i32");
    let sign_bit = f.op(format!("and i32 {w}, 128"));
    let sign = f.op(format!("shl i32 {sign_bit}, 24"));
    let mag = f.op(format!("and i32 {w}, 127"));
    let e = f.op(format!("lshr i32 {mag}, {man}"));
    let low = f.op(format!("and i32 {mag}, {}", (1u32 << man) - 1));
    let low_at = f.op(format!("shl i32 {low}, {}", 23 - man));
    let eb = f.op(format!("add i32 {e}, {}", 127 - bias));
    let eb23 = f.op(format!("shl i32 {eb}, 23"));
    let n0 = f.op(format!("or i32 {sign}, {eb23}"));
    let n1 = f.op(format!("or i32 {n0}, {low_at}"));
    let normal = f.op(format!("bitcast i32 {n1} to float"));
    let mf = f.op(format!("uitofp i32 {mag} to float"));
    let scale = f64::powi(2.0, -(bias - 1 + man as i32));
    let v = f.op(format!(
        "fmul float {mf}, {}",
        crate::types::float_bits_literal(scale)
    ));
    let neg = f.op(format!("fneg float {v}"));
    let negative = f.op(format!("icmp ne i32 {sign}, 0"));
    let small = f.op(format!("select i1 {negative}, float {neg}, float {v}"));
    let is_small = f.op(format!("icmp eq i32 {e}, 0"));
    let mut r = f.op(format!(
        "select i1 {is_small}, float {small}, float {normal}"
    ));
    if specials == Specials::Ieee {
        let inf_bits = f.op(format!("or i32 {sign}, 2139095040"));
        let inf = f.op(format!("bitcast i32 {inf_bits} to float"));
        let is_inf = f.op(format!("icmp eq i32 {mag}, 124"));
        r = f.op(format!("select i1 {is_inf}, float {inf}, float {r}"));
    }
    let is_nan = match specials {
        Specials::Fn => f.op(format!("icmp eq i32 {mag}, 127")),
        Specials::Ieee => f.op(format!("icmp ugt i32 {mag}, 124")),
        Specials::Fnuz => f.op(format!("icmp eq i32 {w}, 128")),
    };
    let nan = crate::types::float_bits_literal(f64::from(f32::from_bits(F32_NAN_BITS)));
    let out = f.op(format!("select i1 {is_nan}, float {nan}, float {r}"));
    f.line(format!("ret float {out}"));
    f.define("float", name, "i8 %c")
}

/// `@fp8_mag(a, man, bias)`: the fp8 magnitude code of a finite float with magnitude bits
/// `a`, rounded to nearest even with an unbounded exponent; 255 when it does not fit in 7
/// bits.
fn fp8_mag(m: &mut Module) -> String {
    let rne = rne_shr(m);
    m.helper("fp8_mag", |_| {
        let mut f = FnText::default();
        let ef = f.op("lshr i32 %a, 23");
        let top = f.op(format!("sub i32 {ef}, 127"));
        let emin = f.op("sub i32 1, %bias");
        let larger = f.op(format!("icmp sgt i32 {top}, {emin}"));
        let e = f.op(format!("select i1 {larger}, i32 {top}, i32 {emin}"));
        let q = f.op(format!("sub i32 {e}, %man"));
        let man = f.op("and i32 %a, 8388607");
        let sig = f.op(format!("or i32 {man}, 8388608"));
        let at = f.op(format!("sub i32 {ef}, 150"));
        let shift = f.op(format!("sub i32 {q}, {at}"));
        let n = f.op(format!("call i32 {rne}(i32 {sig}, i32 {shift})"));
        let base = f.op(format!("sub i32 {emin}, %man"));
        let steps = f.op(format!("sub i32 {q}, {base}"));
        let scaled = f.op(format!("shl i32 {steps}, %man"));
        let code = f.op(format!("add i32 {scaled}, {n}"));
        let over = f.op(format!("icmp sgt i32 {code}, 127"));
        let fit = f.op(format!("select i1 {over}, i32 255, i32 {code}"));
        let zero = f.op(format!("icmp eq i32 {ef}, 0"));
        let out = f.op(format!("select i1 {zero}, i32 0, i32 {fit}"));
        f.line(format!("ret i32 {out}"));
        f.define("i32", "fp8_mag", "i32 %a, i32 %man, i32 %bias")
    });
    "@fp8_mag".into()
}

fn fp8_encode(m: &mut Module, name: &str, dtype: DType) -> String {
    let (man, bias, max_code, specials) = fp8_spec(dtype);
    let mag_fn = fp8_mag(m);
    let (nan, overflow) = match specials {
        Specials::Fn => ("127", "127"),
        Specials::Ieee => ("126", "124"),
        Specials::Fnuz => ("128", "128"),
    };
    let mut f = FnText::default();
    let b = f.op("bitcast float %x to i32");
    let a = f.op(format!("and i32 {b}, 2147483647"));
    let b24 = f.op(format!("lshr i32 {b}, 24"));
    let sign = f.op(format!("and i32 {b24}, 128"));
    let finite = f.op(format!("call i32 {mag_fn}(i32 {a}, i32 {man}, i32 {bias})"));
    let is_inf = f.op(format!("icmp eq i32 {a}, 2139095040"));
    let mag = f.op(format!("select i1 {is_inf}, i32 255, i32 {finite}"));
    let fits = f.op(format!("icmp ule i32 {mag}, {max_code}"));
    let value = f.op(format!("or i32 {sign}, {mag}"));
    // the NaN and overflow codes keep the sign, except for the fnuz formats' single NaN
    let keep_sign = |f: &mut FnText, code: &str| {
        if specials == Specials::Fnuz {
            code.to_string()
        } else {
            f.op(format!("or i32 {sign}, {code}"))
        }
    };
    let over = keep_sign(&mut f, overflow);
    let mut r = f.op(format!("select i1 {fits}, i32 {value}, i32 {over}"));
    if specials == Specials::Fnuz {
        let zero = f.op(format!("icmp eq i32 {mag}, 0"));
        r = f.op(format!("select i1 {zero}, i32 0, i32 {r}"));
    }
    let nan_code = keep_sign(&mut f, nan);
    let is_nan = f.op(format!("icmp ugt i32 {a}, 2139095040"));
    let v = f.op(format!("select i1 {is_nan}, i32 {nan_code}, i32 {r}"));
    let out = f.op(format!("trunc i32 {v} to i8"));
    f.line(format!("ret i8 {out}"));
    f.define("i8", name, "float %x")
}

/// `@f64_to_f32_odd`: a double rounded to float toward zero, with the last bit set when
/// inexact (round to odd).
pub fn f64_to_f32_odd(m: &mut Module) -> String {
    m.helper("f64_to_f32_odd", |_| {
        let mut f = FnText::default();
        let n = f.op("fptrunc double %x to float");
        let back = f.op(format!("fpext float {n} to double"));
        let exact = f.op(format!("fcmp oeq double {back}, %x"));
        let nan = f.op("fcmp uno double %x, %x");
        let keep = f.op(format!("or i1 {exact}, {nan}"));
        let an = f.op(format!("call double @llvm.fabs.f64(double {back})"));
        let ax = f.op("call double @llvm.fabs.f64(double %x)");
        let away = f.op(format!("fcmp ogt double {an}, {ax}"));
        let bits = f.op(format!("bitcast float {n} to i32"));
        let down = f.op(format!("zext i1 {away} to i32"));
        let toward_zero = f.op(format!("sub i32 {bits}, {down}"));
        let odd = f.op(format!("or i32 {toward_zero}, 1"));
        let odd_f = f.op(format!("bitcast i32 {odd} to float"));
        let out = f.op(format!("select i1 {keep}, float {n}, float {odd_f}"));
        f.line(format!("ret float {out}"));
        f.define("float", "f64_to_f32_odd", "double %x")
    });
    m.declare("declare double @llvm.fabs.f64(double)");
    "@f64_to_f32_odd".into()
}
