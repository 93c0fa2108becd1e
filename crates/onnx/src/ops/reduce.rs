//! Reductions (`ReduceSum`, `ReduceMean`, `ReduceMax`, ..., `ArgMax`, `ArgMin`) with
//! ONNX's axes (an attribute, or an input from opset 13 for `ReduceSum` and 18 for the
//! rest), `keepdims` and `noop_with_empty_axes`. The result keeps the input's type; a
//! reduction over an empty dim gives the op's identity (-inf for a max, as numpy).

use dtype::DType;
use frontend_tensor::Tensor;

use super::{Inputs, OpCtx, OpDef, axis, one, onnx, out};
use crate::error::{Result, invalid};
use crate::value::{TensorValue, Value};

pub(crate) const OPS: &[OpDef] = &[
    onnx("ReduceSum", reduce_sum),
    onnx("ReduceMean", reduce_mean),
    onnx("ReduceMax", reduce_max),
    onnx("ReduceMin", reduce_min),
    onnx("ReduceProd", reduce_prod),
    onnx("ReduceL1", reduce_l1),
    onnx("ReduceL2", reduce_l2),
    onnx("ReduceLogSum", reduce_log_sum),
    onnx("ReduceLogSumExp", reduce_log_sum_exp),
    onnx("ReduceSumSquare", reduce_sum_square),
    onnx("ArgMax", arg_max),
    onnx("ArgMin", arg_min),
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sum,
    Mean,
    Max,
    Min,
    Prod,
    L1,
    L2,
    LogSum,
    LogSumExp,
    SumSquare,
}

/// The reduced axes (sorted, distinct), or `None` for "leave the input as it is".
fn reduced_axes(
    ctx: &OpCtx,
    i: &Inputs,
    input_from: i64,
    rank: usize,
) -> Result<Option<Vec<usize>>> {
    let given = if ctx.opset >= input_from {
        i.ints_opt(1)?
    } else {
        ctx.ints("axes")?
    };
    let axes = match given {
        Some(a) if !a.is_empty() => a,
        _ if ctx.int("noop_with_empty_axes", 0)? != 0 => return Ok(None),
        _ => (0..rank as i64).collect(),
    };
    let mut v: Vec<usize> = axes.iter().map(|&a| axis(a, rank)).collect::<Result<_>>()?;
    v.sort_unstable();
    v.dedup();
    Ok(Some(v))
}

fn reduce(ctx: &OpCtx, i: &Inputs, kind: Kind) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    let input_from = if kind == Kind::Sum { 13 } else { 18 };
    let keep = ctx.int("keepdims", 1)? != 0;
    let t = ctx.t(x)?;
    let Some(axes) = reduced_axes(ctx, i, input_from, x.rank())? else {
        return Ok(vec![identity_of(x, &t, kind)?]);
    };
    let dtype = t.dtype();
    if x.rank() == 0 {
        return Ok(vec![identity_of(x, &t, kind)?]);
    }
    let ax: Vec<isize> = axes.iter().map(|&a| a as isize).collect();
    let mut out_shape = x.shape().to_vec();
    for &a in axes.iter().rev() {
        if keep {
            out_shape[a] = 1;
        } else {
            out_shape.remove(a);
        }
    }
    if axes.iter().any(|&a| x.shape()[a] == 0) {
        return one(empty_reduction(kind, dtype, &out_shape)?);
    }
    let y = match kind {
        Kind::Sum => t.sum(&ax, keep)?,
        Kind::Mean => t.to_float()?.mean(&ax, keep)?,
        Kind::Max => t.max(&ax, keep)?,
        Kind::Min => min_of(&t, &ax, keep)?,
        Kind::Prod => t.prod(&ax, keep)?,
        Kind::L1 => t.abs()?.sum(&ax, keep)?,
        Kind::L2 => t.to_float()?.square()?.sum(&ax, keep)?.sqrt()?,
        Kind::LogSum => t.to_float()?.sum(&ax, keep)?.log()?,
        Kind::LogSumExp => t.to_float()?.logsumexp(&ax, keep)?,
        Kind::SumSquare => t.square()?.sum(&ax, keep)?,
    };
    let y = if kind == Kind::Mean && !dtype.is_float() {
        y.trunc()?.cast(dtype)?
    } else {
        y.cast(dtype)?
    };
    one(y)
}

/// The minimum over `ax`. `Tensor::min` is `-max(-x)`, which negation breaks for bool
/// and unsigned values; for those `min(x) = !max(!x)` holds exactly.
fn min_of(t: &Tensor, ax: &[isize], keep: bool) -> Result<Tensor> {
    let d = t.dtype();
    if d == DType::Bool {
        return Ok(t.logical_not()?.max(ax, keep)?.logical_not()?);
    }
    if d.is_int() && d.int_min() == Some(0) {
        return Ok(t.bitwise_not()?.max(ax, keep)?.bitwise_not()?);
    }
    Ok(t.min(ax, keep)?)
}

/// A reduction over no axes: the input itself, mapped as the op maps each element.
fn identity_of(x: &TensorValue, t: &Tensor, kind: Kind) -> Result<Value> {
    let y = match kind {
        Kind::L1 => t.abs()?,
        Kind::L2 => t.abs()?,
        Kind::SumSquare => t.square()?,
        Kind::LogSum => t.log()?,
        Kind::LogSumExp => t.clone(),
        _ => return Ok(Value::Tensor(x.clone())),
    };
    Ok(out(y.cast(t.dtype())?))
}

/// The value of a reduction of nothing.
fn empty_reduction(kind: Kind, dtype: DType, shape: &[i64]) -> Result<Tensor> {
    let v = match kind {
        Kind::Sum | Kind::L1 | Kind::L2 | Kind::SumSquare => 0.0,
        Kind::Prod => 1.0,
        Kind::Mean => f64::NAN,
        Kind::LogSum | Kind::LogSumExp => f64::NEG_INFINITY,
        Kind::Max => dtype
            .min_value_f64()
            .map(|_| f64::NEG_INFINITY)
            .or_else(|| dtype.int_min().map(|m| m as f64))
            .unwrap_or(0.0),
        Kind::Min => dtype
            .max_value_f64()
            .map(|_| f64::INFINITY)
            .or_else(|| dtype.int_max().map(|m| m as f64))
            .unwrap_or(1.0),
    };
    Ok(Tensor::full(shape, v, dtype)?)
}

fn reduce_sum(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    reduce(ctx, i, Kind::Sum)
}
fn reduce_mean(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    reduce(ctx, i, Kind::Mean)
}
fn reduce_max(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    reduce(ctx, i, Kind::Max)
}
fn reduce_min(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    reduce(ctx, i, Kind::Min)
}
fn reduce_prod(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    reduce(ctx, i, Kind::Prod)
}
fn reduce_l1(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    reduce(ctx, i, Kind::L1)
}
fn reduce_l2(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    reduce(ctx, i, Kind::L2)
}
fn reduce_log_sum(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    reduce(ctx, i, Kind::LogSum)
}
fn reduce_log_sum_exp(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    reduce(ctx, i, Kind::LogSumExp)
}
fn reduce_sum_square(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    reduce(ctx, i, Kind::SumSquare)
}

/// The index of the first (or, with `select_last_index`, last) extreme along `axis`.
fn arg_extreme(ctx: &OpCtx, i: &Inputs, max: bool) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    let rank = x.rank();
    let a = axis(ctx.int("axis", 0)?, rank)?;
    let keep = ctx.int("keepdims", 1)? != 0;
    let last = ctx.int("select_last_index", 0)? != 0;
    let mut t = ctx.t(x)?;
    if !max {
        t = if t.dtype().is_unsigned() || t.dtype().is_bool() {
            // order reversed without negation, which would wrap
            let top = Tensor::full(&[], t.dtype().int_max().unwrap_or(1) as f64, t.dtype())?;
            top.sub(&t)?
        } else {
            t.neg()
        };
    }
    if last {
        let n = x.shape()[a];
        let flipped = t.flip(&[a])?.argmax(a as isize, keep)?;
        let top = Tensor::full(&[], (n - 1) as f64, DType::I64)?;
        return one(top.sub(&flipped)?);
    }
    if x.shape()[a] == 0 {
        return Err(invalid!("arg extreme over an empty axis {a}"));
    }
    one(t.argmax(a as isize, keep)?)
}

fn arg_max(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    arg_extreme(ctx, i, true)
}
fn arg_min(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    arg_extreme(ctx, i, false)
}
