//! C expressions of ALU, CAST and BITCAST nodes. Operands are atoms (names or literals),
//! so no expression needs parentheses around its operands. Each expression is assigned
//! to a declared variable of the node's type, which wraps narrow integers as the IR
//! says (`uop_ir::exec_alu`). Floats follow C with `-ffp-contract=off`: nothing is fused
//! but MULACC, which is C's `fma` (one rounding). Errors are the reason an op cannot be
//! rendered.

use uop_ir::{DType, Op};

use crate::dtypes::{Helper, Helpers, bits_type, is_narrow_float, math_suffix, value_type};

/// An operand: its C text and dtype.
#[derive(Clone, Debug)]
pub(crate) struct Operand {
    pub text: String,
    pub dtype: DType,
    /// Vector lanes (1 for a scalar).
    pub lanes: u8,
}

/// The expression of `op` on `src`; `out` is the node's dtype.
pub(crate) fn expr(
    op: Op,
    out: DType,
    src: &[Operand],
    helpers: &mut Helpers,
) -> Result<String, String> {
    let arity = op.alu_arity().ok_or("not an ALU op")?;
    if src.len() != arity {
        return Err(format!("takes {arity} operands, got {}", src.len()));
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
        Op::Cast => cast(dt, out, a, helpers),
        Op::Bitcast => bitcast(dt, out, a, helpers),
        // On bools ADD is OR and MUL is AND (as `exec_alu` has them).
        Op::Add if dt.is_bool() => Ok(infix("|")),
        Op::Mul if dt.is_bool() => Ok(infix("&")),
        Op::MulAcc if dt.is_bool() => Ok(format!("({a} & {b}) | {c}")),
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
        Op::Max if float => Ok(format!(
            "({a} != {a} || {b} != {b}) ? NAN : ({a} > {b} ? {a} : {b})"
        )),
        Op::Max => Ok(format!("{a} > {b} ? {a} : {b}")),
        Op::Trunc if !float => Ok(a.clone()),
        Op::FDiv => float_only(infix("/")),
        Op::Recip => float_only(format!(
            "{} / {a}",
            if dt == DType::F64 { "1.0" } else { "1.0f" }
        )),
        Op::Exp2 if float && dt != DType::F64 => {
            helpers.require(Helper::Exp2F32);
            Ok(format!("exp2_f32({a})"))
        }
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
        Op::FloorDiv | Op::FloorMod if float => Err(format!("{op} needs integers, got {dt}")),
        Op::FloorDiv | Op::FloorMod if dt.is_unsigned() || dt.is_bool() => {
            Ok(infix(if op == Op::FloorDiv { "/" } else { "%" }))
        }
        Op::FloorDiv | Op::FloorMod => {
            let (helper, name) = if op == Op::FloorDiv {
                (Helper::FloorDiv, "floordiv_i64")
            } else {
                (Helper::FloorMod, "floormod_i64")
            };
            helpers.require(helper);
            Ok(format!("{name}({a}, {b})"))
        }
        _ => Err("the C renderer has no rule for it".into()),
    }
}

/// A value conversion from `from` to `to`, as `exec_alu` defines it.
fn cast(from: DType, to: DType, x: &str, helpers: &mut Helpers) -> Result<String, String> {
    let ty = value_type(to).ok_or("cannot cast to void")?;
    value_type(from).ok_or("cannot cast from void")?;
    Ok(if to == from {
        x.to_string()
    } else if to == DType::Bool {
        format!("{x} != 0")
    } else if is_narrow_float(to) {
        // Round once: wide sources go through float rounded to odd.
        let single = if from == DType::F64 || (from.is_int() && from.bitsize() >= 32) {
            helpers.require(Helper::F64ToF32Odd);
            format!("f64_to_f32_odd((double){x})")
        } else if from.is_float() {
            x.to_string()
        } else {
            format!("(float){x}")
        };
        let bits = helpers.encode(to, &single);
        helpers.decode(to, &bits)
    } else if to == DType::F32 && from.is_float() && from != DType::F64 {
        x.to_string()
    } else {
        format!("({ty}){x}")
    })
}

/// A reinterpretation of the bits of `x` as `to`; the sizes must agree.
fn bitcast(from: DType, to: DType, x: &str, helpers: &mut Helpers) -> Result<String, String> {
    let ty = value_type(to).ok_or("cannot bitcast to void")?;
    if from.itemsize() != to.itemsize() || from == DType::Void {
        return Err(format!("cannot bitcast {from} to {to}: sizes differ"));
    }
    let bits_ty = bits_type(from);
    let bits = match from {
        DType::F32 => {
            helpers.require(Helper::F32Bits);
            format!("f32_bits({x})")
        }
        DType::F64 => {
            helpers.require(Helper::F64Bits);
            format!("f64_bits({x})")
        }
        d if is_narrow_float(d) => helpers.encode(d, x),
        _ => format!("({bits_ty}){x}"),
    };
    Ok(match to {
        DType::Bool => format!("{bits} != 0"),
        DType::F32 => {
            helpers.require(Helper::F32Bits);
            format!("f32_from_bits({bits})")
        }
        DType::F64 => {
            helpers.require(Helper::F64Bits);
            format!("f64_from_bits({bits})")
        }
        d if is_narrow_float(d) => helpers.decode(d, &bits),
        _ => format!("({ty}){bits}"),
    })
}
