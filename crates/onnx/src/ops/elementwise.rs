//! Elementwise math: unary functions, arithmetic with numpy broadcasting and ONNX's
//! typing (both operands share a type; integer division truncates; `Pow` keeps the base's
//! type), variadic `Sum`/`Mean`/`Max`/`Min`, `Clip`, `Cast`/`CastLike`, and bit ops.
//! Small integer operands known on the host are folded there.

use dtype::DType;
use frontend_tensor::{Rounding, Tensor};

use super::fold::{self, HostBinary, HostUnary};
use super::{Inputs, OpCtx, OpDef, one, onnx, out_host};
use crate::elem::ElemType;
use crate::error::{Result, invalid};
use crate::value::{TensorValue, Value};

pub(crate) const OPS: &[OpDef] = &[
    onnx("Abs", abs),
    onnx("Neg", neg),
    onnx("Reciprocal", reciprocal),
    onnx("Floor", floor),
    onnx("Ceil", ceil),
    onnx("Round", round),
    onnx("Sqrt", sqrt),
    onnx("Exp", exp),
    onnx("Log", log),
    onnx("Sin", sin),
    onnx("Cos", cos),
    onnx("Tan", tan),
    onnx("Asin", asin),
    onnx("Acos", acos),
    onnx("Atan", atan),
    onnx("Sinh", sinh),
    onnx("Cosh", cosh),
    onnx("Asinh", asinh),
    onnx("Acosh", acosh),
    onnx("Atanh", atanh),
    onnx("Erf", erf),
    onnx("Sign", sign),
    onnx("IsNaN", isnan),
    onnx("IsInf", isinf),
    onnx("Add", add),
    onnx("Sub", sub),
    onnx("Mul", mul),
    onnx("Div", div),
    onnx("Pow", pow),
    onnx("Mod", modulo),
    onnx("Sum", sum),
    onnx("Mean", mean),
    onnx("Max", max),
    onnx("Min", min),
    onnx("Clip", clip),
    onnx("Cast", cast),
    onnx("CastLike", cast_like),
    onnx("BitShift", bit_shift),
    onnx("BitwiseAnd", bitwise_and),
    onnx("BitwiseOr", bitwise_or),
    onnx("BitwiseXor", bitwise_xor),
    onnx("BitwiseNot", bitwise_not),
];

/// A unary op on input 0, folded on the host when `host` says how.
fn unary(
    ctx: &OpCtx,
    inputs: &Inputs,
    host: Option<HostUnary>,
    f: impl FnOnce(&Tensor) -> frontend_tensor::Result<Tensor>,
) -> Result<Vec<Value>> {
    let x = inputs.tensor(0)?;
    if let (Some(op), Some(h)) = (host, x.host())
        && let Some(r) = fold::unary(op, h)
    {
        return Ok(vec![out_host(r?)]);
    }
    one(f(&ctx.t(x)?)?)
}

/// A float function: integers are not accepted (ONNX types these ops as floats).
fn float_unary(
    ctx: &OpCtx,
    inputs: &Inputs,
    f: impl FnOnce(&Tensor) -> frontend_tensor::Result<Tensor>,
) -> Result<Vec<Value>> {
    let x = inputs.tensor(0)?;
    if !x.elem().is_float() {
        return Err(invalid!("input 0 must be a float tensor, got {}", x.elem()));
    }
    one(f(&ctx.t(x)?)?)
}

fn abs(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    unary(ctx, i, Some(HostUnary::Abs), |x| {
        if x.dtype().is_unsigned() || x.dtype().is_bool() {
            Ok(x.clone())
        } else {
            x.abs()
        }
    })
}
fn neg(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    unary(ctx, i, Some(HostUnary::Neg), |x| Ok(x.neg()))
}
fn floor(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    unary(ctx, i, Some(HostUnary::Floor), Tensor::floor)
}
fn ceil(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    unary(ctx, i, Some(HostUnary::Ceil), Tensor::ceil)
}
fn sign(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    unary(ctx, i, Some(HostUnary::Sign), Tensor::sign)
}
fn round(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    float_unary(ctx, i, Tensor::round)
}
fn reciprocal(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    float_unary(ctx, i, Tensor::recip)
}
fn sqrt(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    float_unary(ctx, i, Tensor::sqrt)
}
fn exp(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    float_unary(ctx, i, Tensor::exp)
}
fn log(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    float_unary(ctx, i, Tensor::log)
}
fn sin(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    float_unary(ctx, i, Tensor::sin)
}
fn cos(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    float_unary(ctx, i, Tensor::cos)
}
fn tan(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    float_unary(ctx, i, Tensor::tan)
}
fn asin(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    float_unary(ctx, i, Tensor::asin)
}
fn acos(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    float_unary(ctx, i, Tensor::acos)
}
fn atan(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    float_unary(ctx, i, Tensor::atan)
}
fn sinh(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    float_unary(ctx, i, Tensor::sinh)
}
fn cosh(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    float_unary(ctx, i, Tensor::cosh)
}
fn asinh(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    float_unary(ctx, i, Tensor::asinh)
}
fn acosh(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    float_unary(ctx, i, Tensor::acosh)
}
fn atanh(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    float_unary(ctx, i, Tensor::atanh)
}
fn erf(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    float_unary(ctx, i, Tensor::erf)
}
fn isnan(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    float_unary(ctx, i, Tensor::isnan)
}

fn isinf(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let (neg, pos) = (
        ctx.int("detect_negative", 1)?,
        ctx.int("detect_positive", 1)?,
    );
    float_unary(ctx, i, |x| {
        let inf = Tensor::full(&[], f64::INFINITY, x.dtype())?;
        let is_pos = x.eq(&inf)?;
        let is_neg = x.eq(&inf.neg())?;
        match (neg != 0, pos != 0) {
            (true, true) => is_pos.logical_or(&is_neg),
            (false, true) => Ok(is_pos),
            (true, false) => Ok(is_neg),
            (false, false) => x.ne(x)?.logical_and(&x.eq(x)?),
        }
    })
}

/// The two operands of a binary op, which ONNX requires to share a type.
fn pair<'a>(inputs: &Inputs<'a>) -> Result<(&'a TensorValue, &'a TensorValue)> {
    let (a, b) = (inputs.tensor(0)?, inputs.tensor(1)?);
    if a.elem() != b.elem() {
        return Err(invalid!(
            "the operands must have one type, got {} and {}",
            a.elem(),
            b.elem()
        ));
    }
    Ok((a, b))
}

/// A binary op of one type, folded on the host when both operands are there.
fn binary(
    ctx: &OpCtx,
    inputs: &Inputs,
    host: Option<HostBinary>,
    f: impl FnOnce(&Tensor, &Tensor) -> frontend_tensor::Result<Tensor>,
) -> Result<Vec<Value>> {
    let (a, b) = pair(inputs)?;
    if let (Some(op), Some(ha), Some(hb)) = (host, a.host(), b.host())
        && let Some(r) = fold::binary(op, ha, hb)
    {
        return Ok(vec![out_host(r?)]);
    }
    one(f(&ctx.t(a)?, &ctx.t(b)?)?)
}

fn add(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    binary(ctx, i, Some(HostBinary::Add), Tensor::add)
}
fn sub(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    binary(ctx, i, Some(HostBinary::Sub), Tensor::sub)
}
fn mul(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    binary(ctx, i, Some(HostBinary::Mul), Tensor::mul)
}

fn div(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    binary(ctx, i, Some(HostBinary::Div), |a, b| {
        if a.dtype().is_float() {
            a.div(b)
        } else {
            a.div_mode(b, Rounding::Trunc)
        }
    })
}

fn modulo(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let fmod = ctx.int("fmod", 0)? != 0;
    let (a, _) = pair(i)?;
    if a.elem().is_float() && !fmod {
        return Err(invalid!("Mod of floats needs fmod=1"));
    }
    let host = if fmod {
        HostBinary::Fmod
    } else {
        HostBinary::Mod
    };
    binary(ctx, i, Some(host), |a, b| {
        if fmod { a.fmod(b) } else { a.remainder(b) }
    })
}

/// `x ^ y` with the base's type: integers exactly (by repeated squaring for integer
/// exponents), floats as `pow`.
fn pow(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let (x, y) = (i.tensor(0)?, i.tensor(1)?);
    let (xt, yt) = (ctx.t(x)?, ctx.t(y)?);
    let dtype = xt.dtype();
    if dtype.is_float() {
        return one(xt.pow(&yt.cast(dtype)?)?.cast(dtype)?);
    }
    // integer base: compute in f64 (exact below 2^53) and round back
    let r = xt
        .cast(DType::F64)?
        .pow(&yt.cast(DType::F64)?)?
        .round()?
        .cast(dtype)?;
    one(r)
}

/// A variadic op folded pairwise, broadcasting all inputs together.
fn variadic(
    ctx: &OpCtx,
    inputs: &Inputs,
    host: HostBinary,
    f: fn(&Tensor, &Tensor) -> frontend_tensor::Result<Tensor>,
) -> Result<Tensor> {
    let items = inputs.rest(0)?;
    let first = items
        .first()
        .ok_or_else(|| invalid!("needs at least one input"))?;
    if items.iter().any(|t| t.elem() != first.elem()) {
        return Err(invalid!("the inputs must have one type"));
    }
    let _ = host;
    let mut acc = ctx.t(first)?;
    for t in &items[1..] {
        acc = f(&acc, &ctx.t(t)?)?;
    }
    Ok(acc)
}

/// The host form of a variadic op when every input is on the host.
fn variadic_host(inputs: &Inputs, op: HostBinary) -> Option<Result<Value>> {
    let items = inputs.rest(0).ok()?;
    let mut acc = (*items.first()?.host()?).as_ref().clone();
    for t in &items[1..] {
        acc = match fold::binary(op, &acc, t.host()?)? {
            Ok(h) => h,
            Err(e) => return Some(Err(e)),
        };
    }
    Some(Ok(out_host(acc)))
}

fn sum(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    if let Some(v) = variadic_host(i, HostBinary::Add) {
        return Ok(vec![v?]);
    }
    one(variadic(ctx, i, HostBinary::Add, Tensor::add)?)
}

fn mean(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let n = i.rest(0)?.len();
    let s = variadic(ctx, i, HostBinary::Add, Tensor::add)?;
    let dtype = s.dtype();
    one(s.div(&Tensor::full(&[], n as f64, dtype)?)?.cast(dtype)?)
}

fn max(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    if let Some(v) = variadic_host(i, HostBinary::Max) {
        return Ok(vec![v?]);
    }
    one(variadic(ctx, i, HostBinary::Max, Tensor::maximum)?)
}

fn min(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    if let Some(v) = variadic_host(i, HostBinary::Min) {
        return Ok(vec![v?]);
    }
    one(variadic(ctx, i, HostBinary::Min, Tensor::minimum)?)
}

/// `min(max(x, lo), hi)`: bounds from inputs 1 and 2 (opset 11+) or attributes.
fn clip(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = ctx.t(i.tensor(0)?)?;
    let dtype = x.dtype();
    let bound = |input: usize, attr: &str| -> Result<Option<Tensor>> {
        if ctx.opset < 11 {
            return ctx
                .float_opt(attr)?
                .map(|v| Ok(Tensor::full(&[], f64::from(v), dtype)?))
                .transpose();
        }
        i.opt_tensor(input)?.map(|t| ctx.t(t)).transpose()
    };
    let mut y = x.clone();
    if let Some(lo) = bound(1, "min")? {
        y = y.maximum(&lo.cast(dtype)?)?;
    }
    if let Some(hi) = bound(2, "max")? {
        y = y.minimum(&hi.cast(dtype)?)?;
    }
    one(y)
}

fn cast(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let to = ctx
        .int_opt("to")?
        .ok_or_else(|| invalid!("attribute 'to' is required"))?;
    let to = ElemType::from_onnx(to as i32)?;
    let saturate = ctx.int("saturate", 1)? != 0;
    Ok(vec![super::quantize::cast_value(
        ctx,
        i.tensor(0)?,
        to,
        saturate,
    )?])
}

fn cast_like(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let to = i.tensor(1)?.elem();
    let saturate = ctx.int("saturate", 1)? != 0;
    Ok(vec![super::quantize::cast_value(
        ctx,
        i.tensor(0)?,
        to,
        saturate,
    )?])
}

fn bit_shift(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let left = match ctx.string("direction", "")?.as_str() {
        "LEFT" => true,
        "RIGHT" => false,
        other => return Err(invalid!("direction must be LEFT or RIGHT, got {other:?}")),
    };
    binary(ctx, i, None, |a, b| if left { a.shl(b) } else { a.shr(b) })
}

fn bitwise_and(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    binary(ctx, i, None, Tensor::bitwise_and)
}
fn bitwise_or(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    binary(ctx, i, None, Tensor::bitwise_or)
}
fn bitwise_xor(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    binary(ctx, i, None, Tensor::bitwise_xor)
}
fn bitwise_not(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    unary(ctx, i, None, Tensor::bitwise_not)
}
