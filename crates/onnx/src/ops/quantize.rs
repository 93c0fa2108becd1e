//! Type conversion and quantization: `Cast` semantics shared with `CastLike` (fp8
//! saturation, 4-bit types rounded and clamped, E2M1/E8M0 encoded on the host),
//! `QuantizeLinear` / `DequantizeLinear` (per tensor, per axis, or per block),
//! `DynamicQuantizeLinear`, and the integer products `MatMulInteger`, `QLinearMatMul`.

use dtype::DType;
use frontend_tensor::Tensor;

use super::fold;
use super::{Inputs, OpCtx, OpDef, axis, one, onnx, out, out_as, out_host};
use crate::elem::{ElemType, e8m0_decode, e8m0_encode, float4_decode, float4_encode};
use crate::error::{Result, invalid};
use crate::host::HostTensor;
use crate::value::{TensorValue, Value};

pub(crate) const OPS: &[OpDef] = &[
    onnx("QuantizeLinear", quantize_linear),
    onnx("DequantizeLinear", dequantize_linear),
    onnx("DynamicQuantizeLinear", dynamic_quantize_linear),
    onnx("MatMulInteger", matmul_integer),
    onnx("QLinearMatMul", qlinear_matmul),
];

/// `x` converted to `to` as ONNX's Cast converts (`saturate` applies to fp8 targets).
pub(crate) fn cast_value(
    ctx: &OpCtx,
    x: &TensorValue,
    to: ElemType,
    saturate: bool,
) -> Result<Value> {
    if let Some(h) = x.host()
        && let Some(r) = fold::cast(h, to)
    {
        return Ok(out_host(r?));
    }
    match to {
        ElemType::Float4E2M1 | ElemType::Float8E8M0 => {
            // encoded value by value on the host: rare types, small tensors
            let h = x.to_host()?;
            let vals: Vec<f64> = h
                .to_f64s()
                .into_iter()
                .map(|v| {
                    let v = v as f32;
                    f64::from(if to == ElemType::Float4E2M1 {
                        float4_decode(float4_encode(v))
                    } else {
                        e8m0_decode(e8m0_encode(v, saturate))
                    })
                })
                .collect();
            let y = HostTensor::from_f64s(ElemType::Native(DType::F32), h.shape().to_vec(), &vals)?;
            Ok(out_host(y.retyped(to)))
        }
        ElemType::Int4 | ElemType::UInt4 => {
            // integers wrap into 4 bits (two's complement for Int4), as NumPy's astype
            let t = ctx.t(x)?;
            let t = if t.dtype().is_float() { t.round()? } else { t };
            let low = t
                .cast(DType::I64)?
                .bitwise_and(&Tensor::full(&[], 15.0, DType::I64)?)?;
            let t = if to == ElemType::Int4 {
                let eight = Tensor::full(&[], 8.0, DType::I64)?;
                low.ge(&eight)?
                    .where_(&low.sub(&Tensor::full(&[], 16.0, DType::I64)?)?, &low)?
            } else {
                low
            };
            out_as(t.cast(to.storage())?, to)
        }
        ElemType::Native(d) => {
            let t = ctx.t(x)?;
            out_as(cast_tensor(&t, d, saturate)?, to)
        }
    }
}

/// `t` as `d`, saturating fp8 targets when asked (values beyond the largest finite one,
/// infinities included, clamp to it; NaN stays NaN).
pub(crate) fn cast_tensor(t: &Tensor, d: DType, saturate: bool) -> Result<Tensor> {
    let Some(fmt) = d.fp8_format() else {
        return Ok(t.cast(d)?);
    };
    if !saturate || !t.dtype().is_float() {
        return Ok(t.cast(d)?);
    }
    let max = f64::from(fmt.max_finite());
    let wide = t.cast(DType::F32)?;
    Ok(wide.clip(Some(-max), Some(max))?.cast(d)?)
}

/// The axis a per-axis or blocked scale runs along (unused, so unchecked, for one scale
/// of the whole tensor).
fn param_axis(ctx: &OpCtx, i: &Inputs, rank: usize) -> Result<usize> {
    let whole = i.tensor(1)?.numel() == 1 && ctx.int("block_size", 0)? == 0;
    if whole {
        return Ok(0);
    }
    axis(ctx.int("axis", 1)?, rank.max(1))
}

/// A scale or zero point shaped to broadcast against `x` along `axis`: a scalar as is,
/// a 1-D per-axis one reshaped, a blocked one repeated `block` times along the axis.
fn align(param: Tensor, x_rank: usize, a: usize, block: i64, x_dim: i64) -> Result<Tensor> {
    if param.numel() == 1 && param.shape().len() <= 1 {
        return Ok(param.reshape(&[])?);
    }
    if block > 0 {
        let p = param.repeat_interleave(block, a as isize)?;
        let mut keep: Vec<(i64, i64)> = p.shape().iter().map(|&d| (0, d)).collect();
        keep[a] = (0, x_dim);
        return Ok(p.shrink(&keep)?);
    }
    if param.shape().len() != 1 {
        return Err(invalid!(
            "a per-axis parameter must be 1-D, got {:?}",
            param.shape()
        ));
    }
    let mut shape = vec![1; x_rank];
    shape[a] = param.shape()[0];
    Ok(param.reshape(&shape)?)
}

fn quantize_linear(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = ctx.t(i.tensor(0)?)?;
    let rank = x.shape().len();
    let zp_value = i.opt_tensor(2)?;
    let to = match (zp_value, ctx.int("output_dtype", 0)?) {
        (Some(z), _) => z.elem(),
        (None, 0) => ElemType::Native(DType::U8),
        (None, code) => ElemType::from_onnx(code as i32)?,
    };
    let a = param_axis(ctx, i, rank)?;
    let block = ctx.int("block_size", 0)?;
    let x_dim = x.shape().get(a).copied().unwrap_or(1);
    let scale = align(ctx.t(i.tensor(1)?)?, rank, a, block, x_dim)?;
    let compute = if x.dtype() == DType::F64 {
        DType::F64
    } else {
        DType::F32
    };
    let scaled = x.cast(compute)?.div(&scale.cast(compute)?)?;
    let saturate = ctx.int("saturate", 1)? != 0;
    match to {
        ElemType::Native(d) if d.is_fp8() => {
            let y = match zp_value {
                Some(z) => scaled.add(&align(ctx.t(z)?.cast(compute)?, rank, a, block, x_dim)?)?,
                None => scaled,
            };
            one(cast_tensor(&y, d, saturate)?)
        }
        ElemType::Float4E2M1 => {
            let v = TensorValue::from_tensor(scaled);
            Ok(vec![cast_value(ctx, &v, to, saturate)?])
        }
        _ => {
            let (lo, hi) = match to {
                ElemType::Int4 => (-8.0, 7.0),
                ElemType::UInt4 => (0.0, 15.0),
                ElemType::Native(d) if d.is_int() => (
                    d.int_min().unwrap_or(0) as f64,
                    d.int_max().unwrap_or(255) as f64,
                ),
                other => return Err(invalid!("cannot quantize to {other}")),
            };
            let mut y = scaled.round()?;
            if let Some(z) = zp_value {
                y = y.add(&align(ctx.t(z)?.cast(compute)?, rank, a, block, x_dim)?)?;
            }
            let y = y.clip(Some(lo), Some(hi))?.cast(to.storage())?;
            Ok(vec![out_as(y, to)?])
        }
    }
}

fn dequantize_linear(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = ctx.t(i.tensor(0)?)?;
    let rank = x.shape().len();
    let scale_t = ctx.t(i.tensor(1)?)?;
    let out_dtype = match ctx.int("output_dtype", 0)? {
        0 => scale_t.dtype(),
        code => ElemType::from_onnx(code as i32)?.storage(),
    };
    let a = param_axis(ctx, i, rank)?;
    let block = ctx.int("block_size", 0)?;
    let x_dim = x.shape().get(a).copied().unwrap_or(1);
    let scale = align(scale_t, rank, a, block, x_dim)?.cast(DType::F32)?;
    let mut v = x.cast(DType::F32)?;
    if let Some(z) = i.opt_tensor(2)? {
        v = v.sub(&align(ctx.t(z)?.cast(DType::F32)?, rank, a, block, x_dim)?)?;
    }
    one(v.mul(&scale)?.cast(out_dtype)?)
}

/// u8 quantization with the scale and zero point that map `[min(x, 0), max(x, 0)]` onto
/// `0..=255`.
fn dynamic_quantize_linear(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = ctx.t(i.tensor(0)?)?.cast(DType::F32)?;
    let zero = Tensor::full(&[], 0.0, DType::F32)?;
    let hi = x.max(&[], false)?.maximum(&zero)?;
    let lo = x.min(&[], false)?.minimum(&zero)?;
    let scale = hi.sub(&lo)?.div(&Tensor::full(&[], 255.0, DType::F32)?)?;
    let zp = zero
        .sub(&lo.div(&scale)?)?
        .round()?
        .clip(Some(0.0), Some(255.0))?;
    let y = x
        .div(&scale)?
        .round()?
        .add(&zp)?
        .clip(Some(0.0), Some(255.0))?
        .cast(DType::U8)?;
    Ok(vec![out(y), out(scale), out(zp.cast(DType::U8)?)])
}

/// `(A - a_zero) @ (B - b_zero)` in i32.
fn matmul_integer(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let centered = |k: usize, zp: usize, row_axis: bool| -> Result<Tensor> {
        let t = ctx.t(i.tensor(k)?)?.cast(DType::I32)?;
        match i.opt_tensor(zp)? {
            Some(z) => {
                let z = ctx.t(z)?.cast(DType::I32)?;
                // a per-row (A) or per-column (B) zero point
                let z = if z.numel() > 1 && row_axis {
                    z.reshape(&[z.numel(), 1])?
                } else {
                    z
                };
                Ok(t.sub(&z)?)
            }
            None => Ok(t),
        }
    };
    let a = centered(0, 2, true)?;
    let b = centered(1, 3, false)?;
    one(a.matmul(&b)?.cast(DType::I32)?)
}

/// The quantized product: dequantize both, multiply, quantize with the output's scale and
/// zero point.
fn qlinear_matmul(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let deq = |k: usize| -> Result<Tensor> {
        let x = ctx.t(i.tensor(k)?)?.cast(DType::F32)?;
        let scale = ctx.t(i.tensor(k + 1)?)?.cast(DType::F32)?;
        let zp = ctx.t(i.tensor(k + 2)?)?.cast(DType::F32)?;
        let rows = k == 0;
        let shape_for = |t: Tensor| -> Result<Tensor> {
            if t.numel() > 1 && rows {
                Ok(t.reshape(&[t.numel(), 1])?)
            } else {
                Ok(t)
            }
        };
        Ok(x.sub(&shape_for(zp)?)?.mul(&shape_for(scale)?)?)
    };
    let y = deq(0)?.matmul(&deq(3)?)?;
    let y_scale = ctx.t(i.tensor(6)?)?.cast(DType::F32)?;
    let y_zp = i.tensor(7)?;
    let d = y_zp.elem().storage();
    let q = y
        .div(&y_scale)?
        .round()?
        .add(&ctx.t(y_zp)?.cast(DType::F32)?)?
        .clip(
            Some(d.int_min().unwrap_or(0) as f64),
            Some(d.int_max().unwrap_or(255) as f64),
        )?
        .cast(d)?;
    one(q)
}
