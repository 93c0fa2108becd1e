//! Shape queries and reshaping: `Shape`, `Size`, `Reshape`, `Flatten`, `Squeeze`,
//! `Unsqueeze`, `Identity`, and constants (`Constant`, `ConstantOfShape`, `Range`,
//! `EyeLike`). Shapes are known when the graph is built, so `Shape` and `Size` are host
//! values, and reshapes of small host tensors stay on the host.

use std::sync::Arc;

use dtype::DType;
use frontend_tensor::Tensor;

use super::fold::FOLD_LIMIT;
use super::{Inputs, OpCtx, OpDef, axis, one, onnx, out_host};
use crate::elem::ElemType;
use crate::error::{Result, invalid};
use crate::host::{HostTensor, numel_of};
use crate::value::{TensorValue, Value};

pub(crate) const OPS: &[OpDef] = &[
    onnx("Shape", shape),
    onnx("Size", size),
    onnx("Reshape", reshape),
    onnx("Flatten", flatten),
    onnx("Squeeze", squeeze),
    onnx("Unsqueeze", unsqueeze),
    onnx("Identity", identity),
    onnx("Constant", constant),
    onnx("ConstantOfShape", constant_of_shape),
    onnx("Range", range),
    onnx("EyeLike", eye_like),
];

const I64: ElemType = ElemType::Native(DType::I64);

fn shape(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let dims = match i.value(0) {
        Some(Value::Tensor(t)) => t.shape().to_vec(),
        _ => return Err(invalid!("input 0 must be a tensor")),
    };
    let rank = dims.len() as i64;
    // start and end clamp into 0..=rank, negative ones counting from the end
    let clamp = |v: i64| (if v < 0 { v + rank } else { v }).clamp(0, rank) as usize;
    let start = clamp(ctx.int("start", 0)?);
    let end = clamp(ctx.int("end", rank)?);
    let kept = dims[start..end.max(start)].to_vec();
    Ok(vec![out_host(HostTensor::from_i64s(
        I64,
        vec![kept.len() as i64],
        &kept,
    )?)])
}

fn size(_ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let n = i.tensor(0)?.numel();
    Ok(vec![out_host(HostTensor::from_i64s(
        I64,
        Vec::new(),
        &[n],
    )?)])
}

/// The same values under a new shape: on the host when small and known there.
pub(crate) fn reshaped(ctx: &OpCtx, x: &TensorValue, shape: &[i64]) -> Result<Value> {
    if numel_of(shape)? as i64 != x.numel() {
        return Err(invalid!(
            "cannot reshape {:?} ({} elements) to {shape:?}",
            x.shape(),
            x.numel()
        ));
    }
    if let Some(h) = x.host()
        && h.numel() <= FOLD_LIMIT
    {
        return Ok(out_host(h.reshaped(shape.to_vec())?));
    }
    let t = ctx.t(x)?.reshape(shape)?;
    Ok(Value::Tensor(TensorValue::from_tensor_as(t, x.elem())?))
}

/// ONNX's reshape target: 0 copies the input's dim (unless `allowzero`), one -1 is
/// inferred.
pub(crate) fn resolve_reshape(input: &[i64], target: &[i64], allowzero: bool) -> Result<Vec<i64>> {
    let mut dims: Vec<i64> = target
        .iter()
        .enumerate()
        .map(|(k, &d)| match d {
            0 if !allowzero => input
                .get(k)
                .copied()
                .ok_or_else(|| invalid!("shape {target:?}: dim {k} copies a dim the input lacks")),
            d if d < -1 => Err(invalid!("shape {target:?} has a negative dim")),
            d => Ok(d),
        })
        .collect::<Result<_>>()?;
    let total: i64 = input.iter().product();
    let unknown: Vec<usize> = (0..dims.len()).filter(|&k| dims[k] == -1).collect();
    match unknown[..] {
        [] => {}
        [k] => {
            let known: i64 = dims.iter().filter(|&&d| d != -1).product();
            if known == 0 || total % known != 0 {
                return Err(invalid!(
                    "cannot infer the -1 of {target:?} for input {input:?}"
                ));
            }
            dims[k] = total / known;
        }
        _ => return Err(invalid!("shape {target:?} has more than one -1")),
    }
    Ok(dims)
}

fn reshape(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    let target = if ctx.opset < 5 {
        ctx.ints("shape")?
            .ok_or_else(|| invalid!("attribute 'shape' is required"))?
    } else {
        i.tensor(1)?.ints()?
    };
    let dims = resolve_reshape(x.shape(), &target, ctx.int("allowzero", 0)? != 0)?;
    Ok(vec![reshaped(ctx, x, &dims)?])
}

fn flatten(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    let rank = x.rank() as i64;
    let a = ctx.int("axis", 1)?;
    let a = if a < 0 { a + rank } else { a };
    if !(0..=rank).contains(&a) {
        return Err(invalid!("axis {a} is out of range for rank {rank}"));
    }
    let rows: i64 = x.shape()[..a as usize].iter().product();
    let cols: i64 = x.shape()[a as usize..].iter().product();
    Ok(vec![reshaped(ctx, x, &[rows, cols])?])
}

/// The axes of a Squeeze/Unsqueeze: an input from opset 13, an attribute before.
fn axes_arg(ctx: &OpCtx, i: &Inputs) -> Result<Option<Vec<i64>>> {
    if ctx.opset >= 13 {
        i.ints_opt(1)
    } else {
        ctx.ints("axes")
    }
}

fn squeeze(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    let rank = x.rank();
    let drop: Vec<usize> = match axes_arg(ctx, i)? {
        Some(axes) => axes.iter().map(|&a| axis(a, rank)).collect::<Result<_>>()?,
        None => (0..rank).filter(|&k| x.shape()[k] == 1).collect(),
    };
    if let Some(&k) = drop.iter().find(|&&k| x.shape()[k] != 1) {
        return Err(invalid!(
            "cannot squeeze dim {k} of shape {:?}: it is not 1",
            x.shape()
        ));
    }
    let dims: Vec<i64> = (0..rank)
        .filter(|k| !drop.contains(k))
        .map(|k| x.shape()[k])
        .collect();
    Ok(vec![reshaped(ctx, x, &dims)?])
}

fn unsqueeze(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    let axes = axes_arg(ctx, i)?.ok_or_else(|| invalid!("the axes are required"))?;
    let rank = x.rank() + axes.len();
    let mut new: Vec<usize> = axes.iter().map(|&a| axis(a, rank)).collect::<Result<_>>()?;
    new.sort_unstable();
    if new.windows(2).any(|w| w[0] == w[1]) {
        return Err(invalid!("axes {axes:?} repeat an axis"));
    }
    let mut rest = x.shape().iter();
    let dims: Vec<i64> = (0..rank)
        .map(|k| {
            if new.contains(&k) {
                1
            } else {
                rest.next().copied().unwrap_or(1)
            }
        })
        .collect();
    Ok(vec![reshaped(ctx, x, &dims)?])
}

fn identity(_ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    Ok(vec![
        i.value(0)
            .cloned()
            .ok_or_else(|| invalid!("input 0 is required"))?,
    ])
}

fn constant(ctx: &OpCtx, _i: &Inputs) -> Result<Vec<Value>> {
    let h = if let Some(t) = ctx.tensor_attr("value")? {
        t.as_ref().clone()
    } else if let Some(v) = ctx.float_opt("value_float")? {
        HostTensor::from_f64s(ElemType::Native(DType::F32), Vec::new(), &[f64::from(v)])?
    } else if let Some(v) = ctx.floats("value_floats")? {
        let v: Vec<f64> = v.iter().map(|&x| f64::from(x)).collect();
        HostTensor::from_f64s(ElemType::Native(DType::F32), vec![v.len() as i64], &v)?
    } else if let Some(v) = ctx.int_opt("value_int")? {
        HostTensor::from_i64s(I64, Vec::new(), &[v])?
    } else if let Some(v) = ctx.ints("value_ints")? {
        HostTensor::from_i64s(I64, vec![v.len() as i64], &v)?
    } else if ctx.has_attr("value_string") || ctx.has_attr("value_strings") {
        return Err(invalid!("string constants are not supported"));
    } else if ctx.has_attr("sparse_value") {
        return Err(invalid!("sparse constants are not supported"));
    } else {
        return Err(invalid!("no value attribute"));
    };
    Ok(vec![out_host(h)])
}

/// A tensor of `shape` filled with `value` (a one-element host tensor).
pub(crate) fn filled(ctx: &OpCtx, value: &HostTensor, shape: &[i64]) -> Result<Value> {
    let n = numel_of(shape)?;
    if n <= FOLD_LIMIT {
        let picks = vec![0usize; n];
        return Ok(out_host(value.gather_elements(&picks, shape.to_vec())?));
    }
    let scalar = value.reshaped(Vec::new())?.to_tensor(ctx.device())?;
    let t = scalar.broadcast_to(shape)?;
    Ok(Value::Tensor(TensorValue::from_tensor_as(t, value.elem())?))
}

fn constant_of_shape(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let shape = i.tensor(0)?.ints()?;
    let value = match ctx.tensor_attr("value")? {
        Some(v) => {
            if v.numel() != 1 {
                return Err(invalid!("value must hold one element, got {:?}", v.shape()));
            }
            v
        }
        None => Arc::new(HostTensor::from_f64s(
            ElemType::Native(DType::F32),
            vec![1],
            &[0.0],
        )?),
    };
    Ok(vec![filled(ctx, &value, &shape)?])
}

/// `start, start + delta, ..` below `limit` (above it for a negative delta).
fn range(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let (s, l, d) = (i.tensor(0)?, i.tensor(1)?, i.tensor(2)?);
    let elem = s.elem();
    if elem.is_float() {
        let (start, limit, delta) = (s.scalar_f64()?, l.scalar_f64()?, d.scalar_f64()?);
        if delta == 0.0 {
            return Err(invalid!("delta is 0"));
        }
        let n = ((limit - start) / delta).ceil().max(0.0) as i64;
        // each value is start + k * delta in the input's type, as the reference computes it
        let dtype = elem.storage();
        let values: Vec<f64> = (0..n)
            .map(|k| dtype.round_float(start + k as f64 * delta))
            .collect();
        return host_or_device(ctx, HostTensor::from_f64s(elem, vec![n], &values)?);
    }
    let (start, limit, delta) = (s.scalar_i64()?, l.scalar_i64()?, d.scalar_i64()?);
    if delta == 0 {
        return Err(invalid!("delta is 0"));
    }
    let span = i128::from(limit) - i128::from(start);
    let n = (span + i128::from(delta) - i128::from(delta.signum())) / i128::from(delta);
    let n = i64::try_from(n.max(0)).map_err(|_| invalid!("the range is too long"))?;
    let values: Vec<i64> = (0..n).map(|k| start + k * delta).collect();
    host_or_device(ctx, HostTensor::from_i64s(elem, vec![n], &values)?)
}

/// A computed host tensor, kept on the host when small.
fn host_or_device(ctx: &OpCtx, h: HostTensor) -> Result<Vec<Value>> {
    if h.numel() <= FOLD_LIMIT {
        return Ok(vec![out_host(h)]);
    }
    let elem = h.elem();
    Ok(vec![Value::Tensor(TensorValue::from_tensor_as(
        h.to_tensor(ctx.device())?,
        elem,
    )?)])
}

/// Ones on the `k`-th diagonal of a 2-D tensor's shape.
fn eye_like(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    let [n, m] = x.shape()[..] else {
        return Err(invalid!("input must be 2-D, got {:?}", x.shape()));
    };
    let k = ctx.int("k", 0)?;
    let dtype = match ctx.int_opt("dtype")? {
        Some(code) => ElemType::from_onnx(code as i32)?.storage(),
        None => x.elem().storage(),
    };
    let rows = Tensor::arange(n, DType::I64)?.reshape(&[n, 1])?;
    let cols = Tensor::arange(m, DType::I64)?
        .reshape(&[1, m])?
        .sub(&Tensor::full(&[], k as f64, DType::I64)?)?;
    one(rows.eq(&cols)?.cast(dtype)?)
}
