//! Expressions of scalar ALU, CAST and BITCAST nodes in C-like languages. Operands are
//! atoms (names or literals), so no expression needs parentheses around its operands.
//! Each expression is assigned to a declared variable of the node's type, which wraps
//! narrow integers as the IR says (`uop_ir::exec_alu`). Floats follow C with
//! `-ffp-contract=off`: nothing is fused but MULACC, which is `fma` (one rounding).
//!
//! Floor division and modulo, MAX of floats and the arithmetic of bools arrive here
//! already decomposed by the base rules (`rules/`), so every op here is one C operator or
//! one math function. A language spells an op its own way through `CStyle::alu`.
//! Errors are the reason an op cannot be written.

use dtype::DType;
use uop_ir::Op;

use crate::dtypes::{bits_type, math_suffix};
use crate::helpers::Helpers;
use crate::language::CStyle;
use crate::narrow::{f32_bits, f64_bits, f64_to_f32_odd};

/// An operand: its text (a name or a literal), dtype and lanes (1 for a scalar).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operand {
    pub text: String,
    pub dtype: DType,
    pub lanes: u8,
}

/// The expression of `op` on `src`; `out` is the node's dtype.
pub fn expr<L: CStyle + ?Sized>(
    lang: &L,
    op: Op,
    out: DType,
    src: &[Operand],
    helpers: &mut Helpers,
) -> Result<String, String> {
    let arity = op.alu_arity().ok_or("not an ALU op")?;
    if src.len() != arity {
        return Err(format!("takes {arity} operands, got {}", src.len()));
    }
    if let Some(own) = lang.alu(op, out, src, helpers) {
        return own;
    }
    let a = &src[0].text;
    let dt = src[0].dtype;
    let float = dt.is_float();
    let f = math_suffix(dt);
    let b = src.get(1).map_or("", |o| o.text.as_str());
    let c = src.get(2).map_or("", |o| o.text.as_str());
    let infix = |sym: &str| format!("{a} {sym} {b}");
    let float_only = |e: String| {
        if float {
            Ok(e)
        } else {
            Err(format!("{op} needs floats, got {dt}"))
        }
    };
    let int_only = |e: String| {
        if float {
            Err(format!("{op} needs integers, got {dt}"))
        } else {
            Ok(e)
        }
    };
    match op {
        Op::Cast => cast(lang, dt, out, a, helpers),
        Op::Bitcast => bitcast(lang, dt, out, a, helpers),
        Op::Add => Ok(infix("+")),
        Op::Sub => Ok(infix("-")),
        Op::Mul => Ok(infix("*")),
        Op::CmpLt => Ok(infix("<")),
        Op::CmpNe => Ok(infix("!=")),
        Op::CmpEq => Ok(infix("==")),
        Op::Neg => Ok(format!("-{a}")),
        Op::Where => Ok(format!("{a} ? {b} : {c}")),
        Op::MulAcc if float => Ok(format!("fma{f}({a}, {b}, {c})")),
        Op::MulAcc => Ok(format!("{a} * {b} + {c}")),
        Op::Max if float => Err("MAX of floats is decomposed by the base rules".into()),
        Op::Max => Ok(format!("{a} > {b} ? {a} : {b}")),
        Op::Trunc if !float => Ok(a.clone()),
        Op::FDiv => float_only(infix("/")),
        Op::Recip => float_only(format!(
            "{} / {a}",
            if dt == DType::F64 { "1.0" } else { "1.0f" }
        )),
        Op::Exp2 => float_only(format!("exp2{f}({a})")),
        Op::Log2 => float_only(format!("log2{f}({a})")),
        Op::Sin => float_only(format!("sin{f}({a})")),
        Op::Sqrt => float_only(format!("sqrt{f}({a})")),
        Op::Trunc => float_only(format!("trunc{f}({a})")),
        Op::Pow => float_only(format!("pow{f}({a}, {b})")),
        Op::CDiv => int_only(infix("/")),
        Op::CMod => int_only(infix("%")),
        Op::And => int_only(infix("&")),
        Op::Or => int_only(infix("|")),
        Op::Xor => int_only(infix("^")),
        Op::Shl => int_only(infix("<<")),
        Op::Shr => int_only(infix(">>")),
        Op::FloorDiv | Op::FloorMod => Err(format!(
            "{op} on {dt} is decomposed by the base rules (integers only)"
        )),
        _ => Err(format!("{} has no rule for it", lang.name())),
    }
}

/// A value conversion from `from` to `to`, as `exec_alu` defines it.
fn cast<L: CStyle + ?Sized>(
    lang: &L,
    from: DType,
    to: DType,
    x: &str,
    helpers: &mut Helpers,
) -> Result<String, String> {
    let ty = lang.value_type(to).ok_or("cannot cast to void")?;
    lang.value_type(from).ok_or("cannot cast from void")?;
    Ok(if to == from {
        x.to_string()
    } else if to == DType::Bool {
        format!("{x} != 0")
    } else if lang.stores_as_bits(to) {
        // Round once: wide sources go through float rounded to odd.
        let single = if from == DType::F64 || (from.is_int() && from.bitsize() >= 32) {
            f64_to_f32_odd(helpers, &format!("(double){x}"))
        } else if from.is_float() {
            x.to_string()
        } else {
            format!("(float){x}")
        };
        let bits = lang.encode_narrow(to, &single, helpers);
        lang.decode_narrow(to, &bits, helpers)
    } else if to == DType::F32 && from.is_float() && from != DType::F64 {
        x.to_string()
    } else {
        format!("({ty}){x}")
    })
}

/// A reinterpretation of the bits of `x` as `to`; the sizes must agree.
fn bitcast<L: CStyle + ?Sized>(
    lang: &L,
    from: DType,
    to: DType,
    x: &str,
    helpers: &mut Helpers,
) -> Result<String, String> {
    let ty = lang.value_type(to).ok_or("cannot bitcast to void")?;
    if from.itemsize() != to.itemsize() || from == DType::Void {
        return Err(format!("cannot bitcast {from} to {to}: sizes differ"));
    }
    let bits = match from {
        DType::F32 => {
            f32_bits(helpers);
            format!("f32_bits({x})")
        }
        DType::F64 => {
            f64_bits(helpers);
            format!("f64_bits({x})")
        }
        d if lang.stores_as_bits(d) => lang.encode_narrow(d, x, helpers),
        _ => format!("({}){x}", bits_type(from)),
    };
    Ok(match to {
        DType::Bool => format!("{bits} != 0"),
        DType::F32 => {
            f32_bits(helpers);
            format!("f32_from_bits({bits})")
        }
        DType::F64 => {
            f64_bits(helpers);
            format!("f64_from_bits({bits})")
        }
        d if lang.stores_as_bits(d) => lang.decode_narrow(d, &bits, helpers),
        _ => format!("({ty}){bits}"),
    })
}
