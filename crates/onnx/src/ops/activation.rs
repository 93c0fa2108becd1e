//! Activations and normalizing maps along an axis: ReLU and its relatives with ONNX's
//! attribute defaults, Gelu (exact or tanh), Softmax/LogSoftmax/Hardmax (before opset 13
//! over the input flattened to 2-D at `axis`), Shrink, and Dropout at inference.

use dtype::DType;
use frontend_tensor::Tensor;

use super::{Inputs, OpCtx, OpDef, axis, one, onnx, out};
use crate::error::{Result, invalid};
use crate::value::Value;

pub(crate) const OPS: &[OpDef] = &[
    onnx("Relu", relu),
    onnx("LeakyRelu", leaky_relu),
    onnx("PRelu", prelu),
    onnx("Elu", elu),
    onnx("Selu", selu),
    onnx("Celu", celu),
    onnx("Sigmoid", sigmoid),
    onnx("HardSigmoid", hard_sigmoid),
    onnx("HardSwish", hard_swish),
    onnx("Softplus", softplus),
    onnx("Softsign", softsign),
    onnx("Tanh", tanh),
    onnx("Gelu", gelu),
    onnx("Mish", mish),
    onnx("ThresholdedRelu", thresholded_relu),
    onnx("Swish", swish),
    onnx("Softmax", softmax),
    onnx("LogSoftmax", log_softmax),
    onnx("Hardmax", hardmax),
    onnx("Shrink", shrink),
    onnx("Dropout", dropout),
];

fn x(ctx: &OpCtx, i: &Inputs) -> Result<Tensor> {
    ctx.t(i.tensor(0)?)
}

/// A scalar of `x`'s dtype.
fn lit(x: &Tensor, v: f64) -> Result<Tensor> {
    Ok(Tensor::full(&[], v, x.dtype())?)
}

fn relu(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    one(x(ctx, i)?.relu()?)
}

fn leaky_relu(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let alpha = f64::from(ctx.float("alpha", 0.01)?);
    let x = x(ctx, i)?;
    one(x
        .lt(&lit(&x, 0.0)?)?
        .where_(&x.mul(&lit(&x, alpha)?)?, &x)?)
}

fn prelu(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = x(ctx, i)?;
    let mut slope = ctx.t(i.tensor(1)?)?;
    let (xs, ss) = (x.shape().to_vec(), slope.shape().to_vec());
    // a per-channel slope of a model from before numpy broadcasting (opset < 7)
    if ss.len() == 1 && xs.len() > 2 && ss[0] == xs[1] && xs.last() != Some(&ss[0]) {
        let mut s = vec![ss[0]];
        s.extend(vec![1; xs.len() - 2]);
        slope = slope.reshape(&s)?;
    }
    one(x.lt(&lit(&x, 0.0)?)?.where_(&x.mul(&slope)?, &x)?)
}

/// `x` where positive, `alpha * (exp(x) - 1)` elsewhere, times `scale`.
fn elu_like(x: &Tensor, alpha: f64, scale: f64) -> Result<Tensor> {
    let negative = x.exp()?.sub(&lit(x, 1.0)?)?.mul(&lit(x, alpha)?)?;
    let y = x.gt(&lit(x, 0.0)?)?.where_(x, &negative)?;
    Ok(if scale == 1.0 {
        y
    } else {
        y.mul(&lit(x, scale)?)?
    })
}

fn elu(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let alpha = f64::from(ctx.float("alpha", 1.0)?);
    one(elu_like(&x(ctx, i)?, alpha, 1.0)?)
}

fn selu(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let alpha = f64::from(ctx.float("alpha", 1.673_263_2)?);
    let gamma = f64::from(ctx.float("gamma", 1.050_701)?);
    one(elu_like(&x(ctx, i)?, alpha, gamma)?)
}

/// `max(0, x) + min(0, alpha * (exp(x / alpha) - 1))`.
fn celu(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let alpha = f64::from(ctx.float("alpha", 1.0)?);
    let x = x(ctx, i)?;
    let e = x
        .div(&lit(&x, alpha)?)?
        .exp()?
        .sub(&lit(&x, 1.0)?)?
        .mul(&lit(&x, alpha)?)?;
    one(x.relu()?.add(&e.minimum(&lit(&x, 0.0)?)?)?)
}

fn sigmoid(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    one(x(ctx, i)?.sigmoid()?)
}

/// `clip(alpha * x + beta, 0, 1)`.
fn hard_sigmoid(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let alpha = f64::from(ctx.float("alpha", 0.2)?);
    let beta = f64::from(ctx.float("beta", 0.5)?);
    let x = x(ctx, i)?;
    one(x
        .mul(&lit(&x, alpha)?)?
        .add(&lit(&x, beta)?)?
        .clip(Some(0.0), Some(1.0))?)
}

fn hard_swish(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = x(ctx, i)?;
    let gate = x
        .mul(&lit(&x, 1.0 / 6.0)?)?
        .add(&lit(&x, 0.5)?)?
        .clip(Some(0.0), Some(1.0))?;
    one(x.mul(&gate)?)
}

/// `ln(1 + exp(x))`, exactly `x` where exp would overflow.
fn softplus(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    one(x(ctx, i)?.softplus(1.0, 20.0)?)
}

fn softsign(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    one(x(ctx, i)?.softsign()?)
}

fn tanh(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    one(x(ctx, i)?.tanh()?)
}

fn gelu(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = x(ctx, i)?;
    match ctx.string("approximate", "none")?.as_str() {
        "none" => one(x.gelu()?),
        "tanh" => one(x.gelu_tanh()?),
        other => Err(invalid!("approximate must be none or tanh, got {other:?}")),
    }
}

fn mish(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    one(x(ctx, i)?.mish()?)
}

fn thresholded_relu(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let alpha = f64::from(ctx.float("alpha", 1.0)?);
    let x = x(ctx, i)?;
    one(x.gt(&lit(&x, alpha)?)?.where_(&x, &lit(&x, 0.0)?)?)
}

/// `x * sigmoid(alpha * x)`.
fn swish(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let alpha = f64::from(ctx.float("alpha", 1.0)?);
    let x = x(ctx, i)?;
    one(x.mul(&x.mul(&lit(&x, alpha)?)?.sigmoid()?)?)
}

/// `f` along `axis` (default -1 from opset 13, else 1 over the input flattened to 2-D at
/// `axis`, as those opsets define it).
fn along_axis(
    ctx: &OpCtx,
    i: &Inputs,
    f: impl FnOnce(&Tensor, isize) -> frontend_tensor::Result<Tensor>,
) -> Result<Vec<Value>> {
    let x = x(ctx, i)?;
    let rank = x.shape().len();
    if ctx.opset >= 13 {
        let a = axis(ctx.int("axis", -1)?, rank)?;
        return one(f(&x, a as isize)?);
    }
    let a = axis(ctx.int("axis", 1)?, rank.max(1))?;
    let rows: i64 = x.shape()[..a].iter().product();
    let cols: i64 = x.shape()[a..].iter().product();
    let y = f(&x.reshape(&[rows, cols])?, 1)?;
    one(y.reshape(x.shape())?)
}

fn softmax(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    along_axis(ctx, i, |x, a| x.softmax(a))
}

fn log_softmax(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    along_axis(ctx, i, |x, a| x.log_softmax(a))
}

/// 1 at the first maximum along the axis, 0 elsewhere.
fn hardmax(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    along_axis(ctx, i, |x, a| {
        let n = x.shape()[a as usize];
        let first = x.argmax(a, true)?;
        let mut shape = vec![1; x.shape().len()];
        shape[a as usize] = n;
        let positions = Tensor::arange(n, DType::I64)?.reshape(&shape)?;
        first.eq(&positions)?.cast(x.dtype())
    })
}

/// `x + bias` below `-lambd`, `x - bias` above `lambd`, 0 between.
fn shrink(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let bias = f64::from(ctx.float("bias", 0.0)?);
    let lambd = f64::from(ctx.float("lambd", 0.5)?);
    let x = x(ctx, i)?;
    let zero = lit(&x, 0.0)?;
    let low = x.lt(&lit(&x, -lambd)?)?;
    let high = x.gt(&lit(&x, lambd)?)?;
    let y = low.where_(
        &x.add(&lit(&x, bias)?)?,
        &high.where_(&x.sub(&lit(&x, bias)?)?, &zero)?,
    )?;
    one(y.cast(x.dtype())?)
}

/// Inference dropout: the input unchanged and an all-true mask. Training mode (random
/// masks) is refused unless the ratio is 0.
fn dropout(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = x(ctx, i)?;
    let training = match i.opt_tensor(2)? {
        Some(t) if ctx.opset >= 12 => t.scalar_i64()? != 0,
        _ => false,
    };
    let ratio = match i.opt_tensor(1)? {
        Some(t) if ctx.opset >= 12 => t.scalar_f64()?,
        _ => f64::from(ctx.float("ratio", 0.5)?),
    };
    if training && ratio > 0.0 {
        return Err(invalid!(
            "training-mode dropout draws a random mask; only inference is supported"
        ));
    }
    let mask = Tensor::ones(x.shape(), DType::Bool)?;
    Ok(vec![out(x), out(mask)])
}
