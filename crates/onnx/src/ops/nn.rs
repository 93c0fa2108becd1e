//! Convolutions, pooling and normalizations over `(n, c, spatial..)` inputs: `Conv`,
//! `ConvTranspose`, `MaxPool`, `AveragePool`, `LpPool`, their `Global*` forms,
//! `BatchNormalization` (inference and training mode), `InstanceNormalization`,
//! `LayerNormalization`, `GroupNormalization`, `RMSNormalization`, `LpNormalization`,
//! `LRN` and `MeanVarianceNormalization`.
//!
//! Padding is explicit before a window is taken: ONNX pads may differ per side
//! (`auto_pad` SAME_UPPER/SAME_LOWER put the odd one at the end or the start), and
//! `ceil_mode` adds the padding a last partial window needs. Pools pad with the value
//! that cannot win (the dtype's lowest for max, zero for sums); an average divides by the
//! count of the elements its window covers, padding counted or not.

use dtype::DType;
use frontend_tensor::{ConvOpts, Tensor};

use super::{Inputs, OpCtx, OpDef, onnx, out};
use crate::error::{Result, invalid};
use crate::value::{TensorValue, Value};

pub(crate) const OPS: &[OpDef] = &[
    onnx("Conv", conv),
    onnx("ConvTranspose", conv_transpose),
    onnx("MaxPool", max_pool),
    onnx("AveragePool", average_pool),
    onnx("LpPool", lp_pool),
    onnx("GlobalMaxPool", global_max_pool),
    onnx("GlobalAveragePool", global_average_pool),
    onnx("GlobalLpPool", global_lp_pool),
    onnx("BatchNormalization", batch_norm),
    onnx("InstanceNormalization", instance_norm),
    onnx("LayerNormalization", layer_norm),
    onnx("GroupNormalization", group_norm),
    onnx("RMSNormalization", rms_norm),
    onnx("LpNormalization", lp_norm),
    onnx("LRN", lrn),
    onnx("MeanVarianceNormalization", mean_variance_norm),
];

/// The largest kernel, stride, dilation or pad accepted (larger ones are malformed).
const MAX_WINDOW: i64 = 1 << 20;

fn like(x: &TensorValue, t: Tensor) -> Result<Value> {
    Ok(Value::Tensor(TensorValue::from_tensor_as(t, x.elem())?))
}

fn lit(x: &Tensor, v: f64) -> Result<Tensor> {
    Ok(Tensor::full(&[], v, x.dtype())?)
}

/// Kernel, strides, dilations and per-side pads of the spatial dims of a window op.
struct Windows {
    kernel: Vec<i64>,
    stride: Vec<i64>,
    dilation: Vec<i64>,
    /// `(begin, end)` per spatial dim, `ceil_mode`'s extra end padding included in `extra`.
    pads: Vec<(i64, i64)>,
    extra: Vec<i64>,
}

impl Windows {
    /// Reads the window attributes for `spatial` input dims; `kernel` comes from the
    /// weight for a convolution.
    fn read(ctx: &OpCtx, spatial: &[i64], kernel: Option<Vec<i64>>) -> Result<Windows> {
        let d = spatial.len();
        let kernel = match kernel {
            Some(k) => k,
            None => ctx
                .ints("kernel_shape")?
                .ok_or_else(|| invalid!("attribute 'kernel_shape' is required"))?,
        };
        let per_dim = |name: &str| -> Result<Vec<i64>> {
            let v = ctx.ints(name)?.unwrap_or_else(|| vec![1; d]);
            if v.len() != d || v.iter().any(|&s| s < 1) {
                return Err(invalid!(
                    "{name} {v:?}: one positive value per spatial dim ({d})"
                ));
            }
            Ok(v)
        };
        let (stride, dilation) = (per_dim("strides")?, per_dim("dilations")?);
        let sane = |v: &[i64]| v.iter().all(|&x| (1..=MAX_WINDOW).contains(&x));
        if !sane(&stride)
            || !sane(&dilation)
            || !sane(&kernel)
            || spatial.iter().any(|&n| !(0..=1 << 40).contains(&n))
        {
            return Err(invalid!(
                "kernel {kernel:?}, strides {stride:?}, dilations {dilation:?} must be in 1..={MAX_WINDOW}"
            ));
        }
        if kernel.len() != d || kernel.iter().any(|&k| k < 1) {
            return Err(invalid!(
                "kernel {kernel:?}: one positive size per spatial dim ({d})"
            ));
        }
        let span = |j: usize| dilation[j] * (kernel[j] - 1) + 1;
        let pads: Vec<(i64, i64)> = match ctx.string("auto_pad", "NOTSET")?.as_str() {
            "NOTSET" => match ctx.ints("pads")? {
                Some(p) if p.len() == 2 * d => (0..d).map(|j| (p[j], p[j + d])).collect(),
                Some(p) => return Err(invalid!("pads {p:?}: two per spatial dim ({d})")),
                None => vec![(0, 0); d],
            },
            "VALID" => vec![(0, 0); d],
            mode @ ("SAME_UPPER" | "SAME_LOWER") => (0..d)
                .map(|j| {
                    let o = (spatial[j] + stride[j] - 1) / stride[j];
                    let total = ((o - 1) * stride[j] + span(j) - spatial[j]).max(0);
                    let small = total / 2;
                    if mode == "SAME_UPPER" {
                        (small, total - small)
                    } else {
                        (total - small, small)
                    }
                })
                .collect(),
            other => return Err(invalid!("unknown auto_pad '{other}'")),
        };
        if pads
            .iter()
            .any(|&(b, e)| !(0..=MAX_WINDOW).contains(&b) || !(0..=MAX_WINDOW).contains(&e))
        {
            return Err(invalid!("negative pads {pads:?}"));
        }
        let ceil = ctx.int("ceil_mode", 0)? != 0;
        let mut extra = vec![0; d];
        for j in 0..d {
            let padded = spatial[j] + pads[j].0 + pads[j].1;
            if padded < span(j) {
                return Err(invalid!(
                    "a window of {} does not fit dim {j} of {} (padded {padded})",
                    span(j),
                    spatial[j]
                ));
            }
            if ceil {
                let mut o = (padded - span(j) + stride[j] - 1) / stride[j] + 1;
                // a last window that starts in the end padding is dropped
                if (o - 1) * stride[j] >= spatial[j] + pads[j].0 {
                    o -= 1;
                }
                extra[j] = ((o - 1) * stride[j] + span(j) - padded).max(0);
            }
        }
        Ok(Windows {
            kernel,
            stride,
            dilation,
            pads,
            extra,
        })
    }

    /// `x (n, c, spatial..)` padded with `value` (`ceil_mode`'s extra with `extra_value`).
    fn pad(&self, x: &Tensor, value: f64, extra_value: f64) -> Result<Tensor> {
        let lead = x.shape().len() - self.kernel.len();
        let mut pads = vec![(0, 0); lead];
        pads.extend(self.pads.iter().copied());
        let mut t = pad_value(x, &pads, value)?;
        if self.extra.iter().any(|&e| e > 0) {
            let mut ext = vec![(0, 0); lead];
            ext.extend(self.extra.iter().map(|&e| (0, e)));
            t = pad_value(&t, &ext, extra_value)?;
        }
        Ok(t)
    }

    /// `x` padded (see `pad`) as windows `(n, c, out.., kernel..)`.
    fn windows(&self, x: &Tensor, value: f64, extra_value: f64) -> Result<Tensor> {
        Ok(self.pad(x, value, extra_value)?.sliding_windows(
            &self.kernel,
            &self.stride,
            &self.dilation,
        )?)
    }

    /// The kernel axes of a windows tensor of rank `rank`.
    fn kernel_axes(&self, rank: usize) -> Vec<isize> {
        (rank - self.kernel.len()..rank)
            .map(|a| a as isize)
            .collect()
    }
}

/// `x` padded with a constant.
fn pad_value(x: &Tensor, pads: &[(i64, i64)], value: f64) -> Result<Tensor> {
    if pads.iter().all(|&p| p == (0, 0)) {
        return Ok(x.clone());
    }
    if value == 0.0 {
        return Ok(x.pad(pads)?);
    }
    // pad a mask of ones with zeros: where it is zero, the value goes
    let ones = Tensor::full(x.shape(), 1.0, DType::Bool)?;
    let inside = ones.pad(pads)?;
    Ok(inside.where_(&x.pad(pads)?, &lit(x, value)?)?)
}

/// The lowest value of `dtype` (what a max pool pads with).
fn lowest(dtype: DType) -> f64 {
    match dtype {
        DType::I8 => f64::from(i8::MIN),
        DType::I16 => f64::from(i16::MIN),
        DType::I32 => f64::from(i32::MIN),
        DType::I64 => i64::MIN as f64,
        DType::U8 | DType::U16 | DType::U32 | DType::U64 | DType::Bool => 0.0,
        _ => f64::NEG_INFINITY,
    }
}

fn spatial_input(x: &TensorValue) -> Result<&[i64]> {
    if x.rank() < 3 {
        return Err(invalid!("input {:?} must be (n, c, spatial..)", x.shape()));
    }
    Ok(&x.shape()[2..])
}

fn conv(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let (x, w) = (i.tensor(0)?, i.tensor(1)?);
    let spatial = spatial_input(x)?;
    if w.rank() != x.rank() {
        return Err(invalid!("weight {:?} for input {:?}", w.shape(), x.shape()));
    }
    let win = Windows::read(ctx, spatial, Some(w.shape()[2..].to_vec()))?;
    let t = win.pad(&ctx.t(x)?, 0.0, 0.0)?;
    let bias = i.opt_tensor(2)?.map(|b| ctx.t(b)).transpose()?;
    let opts = ConvOpts {
        stride: win.stride.clone(),
        padding: vec![0; spatial.len()],
        dilation: win.dilation.clone(),
        groups: ctx.int("group", 1)?,
    };
    Ok(vec![like(x, t.conv(&ctx.t(w)?, bias.as_ref(), &opts)?)?])
}

fn conv_transpose(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let (x, w) = (i.tensor(0)?, i.tensor(1)?);
    let spatial = spatial_input(x)?;
    let d = spatial.len();
    if w.rank() != x.rank() {
        return Err(invalid!("weight {:?} for input {:?}", w.shape(), x.shape()));
    }
    let kernel = w.shape()[2..].to_vec();
    let per_dim = |name: &str, default: i64| -> Result<Vec<i64>> {
        let v = ctx.ints(name)?.unwrap_or_else(|| vec![default; d]);
        if v.len() != d {
            return Err(invalid!("{name} {v:?}: one value per spatial dim ({d})"));
        }
        Ok(v)
    };
    let (stride, dilation) = (per_dim("strides", 1)?, per_dim("dilations", 1)?);
    let out_pad = per_dim("output_padding", 0)?;
    let sane = |v: &[i64], lo: i64| v.iter().all(|&x| (lo..=MAX_WINDOW).contains(&x));
    if !sane(&stride, 1) || !sane(&dilation, 1) || !sane(&out_pad, 0) || !sane(&kernel, 1) {
        return Err(invalid!(
            "strides {stride:?}, dilations {dilation:?}, output_padding {out_pad:?} or kernel {kernel:?} out of range"
        ));
    }
    let group = ctx.int("group", 1)?;
    let full = ctx
        .t(x)?
        .conv_transpose_full(&ctx.t(w)?, &stride, &dilation, group)?;
    // the full output per dim, and what to cut from each side
    let full_len: Vec<i64> = (0..d)
        .map(|j| (spatial[j] - 1) * stride[j] + dilation[j] * (kernel[j] - 1) + 1 + out_pad[j])
        .collect();
    let auto_pad = ctx.string("auto_pad", "NOTSET")?;
    let wanted = match ctx.ints("output_shape")? {
        Some(s) => Some(s[s.len().saturating_sub(d)..].to_vec()),
        None if auto_pad.starts_with("SAME") => {
            Some((0..d).map(|j| spatial[j] * stride[j]).collect())
        }
        None => None,
    };
    let cuts: Vec<(i64, i64)> = match wanted {
        Some(o) if o.len() == d => (0..d)
            .map(|j| {
                let total = full_len[j] - o[j];
                let half = total.div_euclid(2);
                if auto_pad == "SAME_UPPER" {
                    (half, total - half)
                } else {
                    (total - half, half)
                }
            })
            .collect(),
        Some(o) => {
            return Err(invalid!(
                "output_shape {o:?}: one size per spatial dim ({d})"
            ));
        }
        None => match ctx.ints("pads")? {
            Some(p) if p.len() == 2 * d => (0..d).map(|j| (p[j], p[j + d])).collect(),
            Some(p) => return Err(invalid!("pads {p:?}: two per spatial dim ({d})")),
            None => vec![(0, 0); d],
        },
    };
    // output padding adds zeros (no input reaches there) at the end, then the cut
    let mut pads = vec![(0, 0), (0, 0)];
    pads.extend(out_pad.iter().map(|&p| (0, p)));
    let mut t = full.pad(&pads)?;
    let grow: Vec<(i64, i64)> = [(0, 0), (0, 0)]
        .into_iter()
        .chain(cuts.iter().map(|&(b, e)| ((-b).max(0), (-e).max(0))))
        .collect();
    t = t.pad(&grow)?;
    let shape = t.shape().to_vec();
    let mut keep = vec![(0, shape[0]), (0, shape[1])];
    for (j, &(b, e)) in cuts.iter().enumerate() {
        keep.push((b.max(0), shape[2 + j] - e.max(0)));
    }
    if keep.iter().any(|&(b, e)| e <= b) {
        return Err(invalid!(
            "pads {cuts:?} cut away the whole output {full_len:?}"
        ));
    }
    t = t.shrink(&keep)?;
    if let Some(b) = i.opt_tensor(2)? {
        let mut bshape = vec![1, b.numel()];
        bshape.extend(vec![1; d]);
        t = t.add(&ctx.t(b)?.reshape(&bshape)?)?;
    }
    Ok(vec![like(x, t)?])
}

fn max_pool(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    let win = Windows::read(ctx, spatial_input(x)?, None)?;
    let t = ctx.t(x)?;
    let low = lowest(t.dtype());
    let w = win.windows(&t, low, low)?;
    let axes = win.kernel_axes(w.shape().len());
    let y = w.max(&axes, false)?;
    let mut outs = vec![like(x, y.clone())?];
    if ctx.node.outputs.len() > 1 && !ctx.node.outputs[1].is_empty() {
        outs.push(out(argmax_indices(ctx, x, &win, &w, &y)?));
    }
    Ok(outs)
}

/// The flat index (into each `(n, c)` plane's unpadded input, `storage_order` 1 for column
/// major, offset by the plane) of the first maximum of every window.
fn argmax_indices(
    ctx: &OpCtx,
    x: &TensorValue,
    win: &Windows,
    w: &Tensor,
    y: &Tensor,
) -> Result<Tensor> {
    let shape = x.shape();
    let spatial = &shape[2..];
    let d = spatial.len();
    let column_major = ctx.int("storage_order", 0)? != 0;
    // the flat position of every input element, padded with -1
    let mut st = vec![1i64; d];
    if column_major {
        for j in 1..d {
            st[j] = st[j - 1] * spatial[j - 1];
        }
    } else {
        for j in (0..d.saturating_sub(1)).rev() {
            st[j] = st[j + 1] * spatial[j + 1];
        }
    }
    let plane: i64 = spatial.iter().product();
    let mut pos = Tensor::full(spatial, 0.0, DType::I64)?;
    for j in 0..d {
        let mut s = vec![1; d];
        s[j] = spatial[j];
        let a = Tensor::arange(spatial[j], DType::I64)?
            .mul(&Tensor::full(&[], st[j] as f64, DType::I64)?)?
            .reshape(&s)?;
        pos = pos.add(&a)?;
    }
    let nc = Tensor::arange(shape[0] * shape[1], DType::I64)?
        .mul(&Tensor::full(&[], plane as f64, DType::I64)?)?
        .reshape(
            &[shape[0], shape[1]]
                .into_iter()
                .chain(vec![1; d])
                .collect::<Vec<_>>(),
        )?;
    let pos = pos
        .reshape(
            &[1, 1]
                .into_iter()
                .chain(spatial.iter().copied())
                .collect::<Vec<_>>(),
        )?
        .add(&nc)?;
    let pw = win.windows(&pos, -1.0, -1.0)?;
    let rank = w.shape().len();
    let axes = win.kernel_axes(rank);
    let mut yk = y.clone();
    for _ in 0..d {
        yk = yk.unsqueeze(yk.shape().len())?;
    }
    // the smallest position among those equal to the max (later ones are larger)
    let big = Tensor::full(&[], x.numel() as f64, DType::I64)?;
    let cand = w
        .eq(&yk)?
        .logical_and(&pw.ge(&Tensor::full(&[], 0.0, DType::I64)?)?)?;
    Ok(cand.where_(&pw, &big)?.min(&axes, false)?)
}

fn average_pool(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    let spatial = spatial_input(x)?;
    let win = Windows::read(ctx, spatial, None)?;
    let t = ctx.t(x)?;
    let w = win.windows(&t, 0.0, 0.0)?;
    let axes = win.kernel_axes(w.shape().len());
    let sum = w.sum(&axes, false)?;
    // how many elements each window averages: padding counts when asked, the end padding
    // ceil_mode adds never does
    let include = ctx.int("count_include_pad", 0)? != 0;
    let ones = Tensor::full(spatial, 1.0, t.dtype())?;
    let counted = win.windows(&ones, if include { 1.0 } else { 0.0 }, 0.0)?;
    let caxes = win.kernel_axes(counted.shape().len());
    let count = counted.sum(&caxes, false)?;
    Ok(vec![like(x, sum.div(&count)?)?])
}

fn lp_pool(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    let win = Windows::read(ctx, spatial_input(x)?, None)?;
    let p = ctx.int("p", 2)? as f64;
    let t = ctx.t(x)?;
    let w = win.windows(&t.abs()?.pow_scalar(p)?, 0.0, 0.0)?;
    let axes = win.kernel_axes(w.shape().len());
    Ok(vec![like(x, w.sum(&axes, false)?.pow_scalar(1.0 / p)?)?])
}

fn spatial_axes(x: &TensorValue) -> Vec<isize> {
    (2..x.rank() as isize).collect()
}

fn global_max_pool(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    Ok(vec![like(x, ctx.t(x)?.max(&spatial_axes(x), true)?)?])
}

fn global_average_pool(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    Ok(vec![like(x, ctx.t(x)?.mean(&spatial_axes(x), true)?)?])
}

fn global_lp_pool(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    let p = ctx.int("p", 2)? as f64;
    let t = ctx
        .t(x)?
        .abs()?
        .pow_scalar(p)?
        .sum(&spatial_axes(x), true)?;
    Ok(vec![like(x, t.pow_scalar(1.0 / p)?)?])
}

/// A per-channel `(c,)` tensor shaped to broadcast over `(n, c, spatial..)` of rank `rank`.
fn per_channel(t: &Tensor, rank: usize) -> Result<Tensor> {
    let mut s = vec![1; rank.max(2)];
    s[1] = t.numel();
    Ok(t.reshape(&s)?)
}

/// The population mean and variance over `axes`, kept.
fn moments(t: &Tensor, axes: &[isize]) -> Result<(Tensor, Tensor)> {
    let mean = t.mean(axes, true)?;
    let var = t.sub(&mean)?.square()?.mean(axes, true)?;
    Ok((mean, var))
}

fn batch_norm(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    let r = x.rank();
    let eps = f64::from(ctx.float("epsilon", 1e-5)?);
    let t = ctx.t(x)?;
    let ch =
        |k: usize| -> Result<Tensor> { per_channel(&ctx.t(i.tensor(k)?)?.cast(t.dtype())?, r) };
    let (scale, bias, rmean, rvar) = (ch(1)?, ch(2)?, ch(3)?, ch(4)?);
    let training = ctx.int("training_mode", 0)? != 0;
    let norm = |mean: &Tensor, var: &Tensor| -> Result<Tensor> {
        Ok(t.sub(mean)?
            .div(&var.add(&lit(&t, eps)?)?.sqrt()?)?
            .mul(&scale)?
            .add(&bias)?)
    };
    if !training {
        return Ok(vec![like(x, norm(&rmean, &rvar)?)?]);
    }
    let axes: Vec<isize> = (0..r as isize).filter(|&a| a != 1).collect();
    let (mean, var) = moments(&t, &axes)?;
    let y = norm(&mean, &var)?;
    let momentum = f64::from(ctx.float("momentum", 0.9)?);
    let run = |old: &Tensor, new: &Tensor| -> Result<Tensor> {
        Ok(old
            .mul(&lit(&t, momentum)?)?
            .add(&new.mul(&lit(&t, 1.0 - momentum)?)?)?
            .reshape(&[x.shape()[1]])?)
    };
    let m_out = run(&rmean, &mean)?;
    let v_out = run(&rvar, &var)?;
    let mean_in = i.tensor(3)?;
    Ok(vec![
        like(x, y)?,
        like(mean_in, m_out.cast(mean_in.elem().storage())?)?,
        like(mean_in, v_out.cast(mean_in.elem().storage())?)?,
    ])
}

fn instance_norm(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    let r = x.rank();
    let eps = f64::from(ctx.float("epsilon", 1e-5)?);
    let t = ctx.t(x)?;
    let (mean, var) = moments(&t, &spatial_axes(x))?;
    let y = t
        .sub(&mean)?
        .div(&var.add(&lit(&t, eps)?)?.sqrt()?)?
        .mul(&per_channel(&ctx.t(i.tensor(1)?)?, r)?)?
        .add(&per_channel(&ctx.t(i.tensor(2)?)?, r)?)?;
    Ok(vec![like(x, y)?])
}

/// `x` in the dtype statistics are computed in (`stash_type` 1: f32 at least).
fn stash(ctx: &OpCtx, t: &Tensor) -> Result<Tensor> {
    let wide = ctx.int("stash_type", 1)? == 1;
    Ok(if wide && matches!(t.dtype(), DType::F16 | DType::BF16) {
        t.cast(DType::F32)?
    } else {
        t.clone()
    })
}

fn layer_norm(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    let r = x.rank();
    let a = super::axis(ctx.int("axis", -1)?, r)?;
    let eps = f64::from(ctx.float("epsilon", 1e-5)?);
    let t0 = ctx.t(x)?;
    let t = stash(ctx, &t0)?;
    let axes: Vec<isize> = (a as isize..r as isize).collect();
    let (mean, var) = moments(&t, &axes)?;
    let inv = var.add(&lit(&t, eps)?)?.sqrt()?.reciprocal()?;
    let mut y = t.sub(&mean)?.mul(&inv)?.cast(t0.dtype())?;
    y = y.mul(&ctx.t(i.tensor(1)?)?)?;
    if let Some(b) = i.opt_tensor(2)? {
        y = y.add(&ctx.t(b)?)?;
    }
    let stat = |s: Tensor| -> Result<Value> { Ok(out(s)) };
    Ok(vec![like(x, y)?, stat(mean)?, stat(inv)?])
}

fn group_norm(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    let s = x.shape().to_vec();
    let r = s.len();
    if r < 3 {
        return Err(invalid!("input {s:?} must be (n, c, spatial..)"));
    }
    let g = ctx
        .int_opt("num_groups")?
        .ok_or_else(|| invalid!("attribute 'num_groups' is required"))?;
    if g < 1 || s[1] % g != 0 {
        return Err(invalid!("{} channels do not split into {g} groups", s[1]));
    }
    let eps = f64::from(ctx.float("epsilon", 1e-5)?);
    let t0 = ctx.t(x)?;
    let t = stash(ctx, &t0)?;
    let grouped = t.reshape(&[s[0], g, -1].map(|v| {
        if v == -1 {
            s[1..].iter().product::<i64>() / g
        } else {
            v
        }
    }))?;
    let (mean, var) = moments(&grouped, &[2])?;
    let normed = grouped
        .sub(&mean)?
        .div(&var.add(&lit(&t, eps)?)?.sqrt()?)?
        .reshape(&s)?
        .cast(t0.dtype())?;
    let (scale, bias) = (ctx.t(i.tensor(1)?)?, ctx.t(i.tensor(2)?)?);
    // before opset 21 scale and bias are per group
    let expand = |p: &Tensor| -> Result<Tensor> {
        if p.numel() == g && g != s[1] {
            per_channel(
                &p.reshape(&[g, 1])?
                    .expand(&[g, s[1] / g])?
                    .reshape(&[s[1]])?,
                r,
            )
        } else {
            per_channel(p, r)
        }
    };
    Ok(vec![like(
        x,
        normed.mul(&expand(&scale)?)?.add(&expand(&bias)?)?,
    )?])
}

fn rms_norm(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    let r = x.rank();
    let a = super::axis(ctx.int("axis", -1)?, r)?;
    let eps = f64::from(ctx.float("epsilon", 1e-5)?);
    let t0 = ctx.t(x)?;
    let t = stash(ctx, &t0)?;
    let axes: Vec<isize> = (a as isize..r as isize).collect();
    let ms = t.square()?.mean(&axes, true)?;
    let y = t.div(&ms.add(&lit(&t, eps)?)?.sqrt()?)?.cast(t0.dtype())?;
    Ok(vec![like(x, y.mul(&ctx.t(i.tensor(1)?)?)?)?])
}

fn lp_norm(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    let a = super::axis(ctx.int("axis", -1)?, x.rank())? as isize;
    let t = ctx.t(x)?;
    let norm = match ctx.int("p", 2)? {
        1 => t.abs()?.sum(&[a], true)?,
        2 => t.square()?.sum(&[a], true)?.sqrt()?,
        p => return Err(invalid!("p {p} must be 1 or 2")),
    };
    Ok(vec![like(x, t.div(&norm)?)?])
}

fn lrn(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    let r = x.rank();
    if r < 3 {
        return Err(invalid!("input {:?} must be (n, c, spatial..)", x.shape()));
    }
    let size = ctx
        .int_opt("size")?
        .ok_or_else(|| invalid!("attribute 'size' is required"))?;
    if size < 1 {
        return Err(invalid!("size {size} must be positive"));
    }
    let alpha = f64::from(ctx.float("alpha", 1e-4)?);
    let beta = f64::from(ctx.float("beta", 0.75)?);
    let bias = f64::from(ctx.float("bias", 1.0)?);
    let t = ctx.t(x)?;
    // channels last, padded, windows of `size`, summed
    let mut order: Vec<usize> = (0..r).filter(|&a| a != 1).collect();
    order.push(1);
    let mut back: Vec<usize> = vec![0, r - 1];
    back.extend(1..r - 1);
    let sq = t.square()?.permute(&order)?;
    let mut pads = vec![(0, 0); r];
    pads[r - 1] = ((size - 1) / 2, size - 1 - (size - 1) / 2);
    let sums = sq
        .pad(&pads)?
        .sliding_windows(&[size], &[1], &[1])?
        .sum(&[-1], false)?
        .permute(&back)?;
    let den = sums
        .mul(&lit(&t, alpha / size as f64)?)?
        .add(&lit(&t, bias)?)?
        .pow_scalar(beta)?;
    Ok(vec![like(x, t.div(&den)?)?])
}

fn mean_variance_norm(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    let r = x.rank();
    let axes: Vec<isize> = match ctx.ints("axes")? {
        Some(a) => a
            .iter()
            .map(|&v| super::axis(v, r).map(|u| u as isize))
            .collect::<Result<_>>()?,
        None => vec![0, 2, 3],
    };
    let t = ctx.t(x)?;
    let (mean, var) = moments(&t, &axes)?;
    Ok(vec![like(x, t.sub(&mean)?.div(&var.sqrt()?)?)?])
}
