//! Indexing: `Gather`, `GatherElements`, `GatherND`, `ScatterElements`/`Scatter`,
//! `ScatterND` (every reduction), `OneHot`, `CumSum`, `TopK`, and the ops whose result
//! shape depends on values (`NonZero`, `Compress`, `Unique`, `ReverseSequence`'s lengths),
//! which read those values on the host. Negative indices count from the end; a `Gather`
//! of small host tensors (a shape's entries) is folded on the host.
//!
//! Scatters write through a mask: every update position is compared with every target
//! position (`(updates, targets)` booleans), and each target reduces the updates that
//! hit it. That is memory-hungry for large targets but exact for every reduction.

use dtype::DType;
use frontend_tensor::Tensor;

use super::fold::{self, strides, walk};
use super::{Inputs, OpCtx, OpDef, axis, host_budget, onnx, out_host};
use crate::elem::ElemType;
use crate::error::{Result, invalid};
use crate::host::{HostTensor, numel_of};
use crate::value::{TensorValue, Value};

pub(crate) const OPS: &[OpDef] = &[
    onnx("Gather", gather),
    onnx("GatherElements", gather_elements),
    onnx("GatherND", gather_nd),
    onnx("ScatterElements", scatter_elements),
    onnx("Scatter", scatter_elements),
    onnx("ScatterND", scatter_nd),
    onnx("OneHot", one_hot),
    onnx("CumSum", cumsum),
    onnx("TopK", top_k),
    onnx("NonZero", non_zero),
    onnx("Compress", compress),
    onnx("Unique", unique),
    onnx("ReverseSequence", reverse_sequence),
];

/// A result with the input's element type.
fn like(x: &TensorValue, t: Tensor) -> Result<Value> {
    Ok(Value::Tensor(TensorValue::from_tensor_as(t, x.elem())?))
}

fn i64s(v: &[i64], shape: &[i64]) -> Result<Tensor> {
    Ok(Tensor::from_slice(v, shape)?)
}

/// `idx` as i64 with negative entries counted from `n` (per last-dim entry when `n` has
/// several values).
fn normalized(idx: &Tensor, n: &[i64]) -> Result<Tensor> {
    if !idx.dtype().is_int() {
        return Err(invalid!("indices must be integers, got {}", idx.dtype()));
    }
    let idx = idx.cast(DType::I64)?;
    let n = if n.len() == 1 {
        Tensor::full(&[], n[0] as f64, DType::I64)?
    } else {
        i64s(n, &[n.len() as i64])?
    };
    let zero = Tensor::full(&[], 0.0, DType::I64)?;
    Ok(idx.lt(&zero)?.where_(&idx.add(&n)?, &idx)?)
}

/// Host indices checked against `n` and made non-negative.
fn host_indices(idx: &HostTensor, n: i64) -> Result<Vec<i64>> {
    idx.to_i64s()
        .into_iter()
        .map(|i| {
            let j = if i < 0 { i + n } else { i };
            if (0..n).contains(&j) {
                Ok(j)
            } else {
                Err(invalid!("index {i} is out of range for a dim of {n}"))
            }
        })
        .collect()
}

fn gather(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let (x, idx) = (i.tensor(0)?, i.tensor(1)?);
    let a = axis(ctx.int("axis", 0)?, x.rank())?;
    let ds = x.shape();
    let mut shape = ds[..a].to_vec();
    shape.extend(idx.shape());
    shape.extend(&ds[a + 1..]);
    if let (Some(h), Some(ih)) = (x.host(), idx.host())
        && numel_of(&shape)? <= fold::FOLD_LIMIT
    {
        let picked = host_indices(ih, ds[a])?;
        let st = strides(ds);
        let qr = idx.rank();
        let picks = walk(&shape, numel_of(&shape)?, |p| {
            let q = fold_index(&p[a..a + qr], idx.shape());
            let mut off = picked[q] as usize * st[a];
            for (d, &k) in p[..a].iter().enumerate() {
                off += k * st[d];
            }
            for (d, &k) in p[a + qr..].iter().enumerate() {
                off += k * st[a + 1 + d];
            }
            off
        });
        if let Some(r) = fold::pick(h, &picks, shape.clone()) {
            return Ok(vec![out_host(r?)]);
        }
    }
    let flat = normalized(&ctx.t(idx)?, &[ds[a]])?.reshape(&[idx.numel()])?;
    let t = ctx.t(x)?.index_select(a as isize, &flat)?.reshape(&shape)?;
    Ok(vec![like(x, t)?])
}

/// The flat position of multi-index `p` in `shape`.
fn fold_index(p: &[usize], shape: &[i64]) -> usize {
    p.iter()
        .zip(shape)
        .fold(0, |acc, (&k, &d)| acc * d.max(0) as usize + k)
}

fn gather_elements(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let (x, idx) = (i.tensor(0)?, i.tensor(1)?);
    let a = axis(ctx.int("axis", 0)?, x.rank())?;
    if idx.rank() != x.rank() {
        return Err(invalid!(
            "indices {:?} must have the data's rank {}",
            idx.shape(),
            x.rank()
        ));
    }
    let norm = normalized(&ctx.t(idx)?, &[x.shape()[a]])?;
    let t = ctx.t(x)?.gather(a as isize, &norm)?;
    Ok(vec![like(x, t)?])
}

/// Row-major strides as i64.
fn strides_i64(shape: &[i64]) -> Vec<i64> {
    strides(shape).iter().map(|&s| s as i64).collect()
}

/// The flat positions (i64, shape `q[..q.len()-1]`) that the last-dim tuples of `idx`
/// name in `dims`.
fn linear_nd(idx: &Tensor, dims: &[i64]) -> Result<Tensor> {
    let k = dims.len() as i64;
    let norm = normalized(idx, dims)?;
    let st = i64s(&strides_i64(dims), &[k])?;
    Ok(norm.mul(&st)?.sum(&[-1], false)?)
}

fn gather_nd(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let (x, idx) = (i.tensor(0)?, i.tensor(1)?);
    let b = usize::try_from(ctx.int("batch_dims", 0)?)
        .map_err(|_| invalid!("batch_dims must be non-negative"))?;
    let (ds, qs) = (x.shape(), idx.shape());
    let q = qs.len();
    let k = *qs
        .last()
        .ok_or_else(|| invalid!("indices must have rank >= 1"))? as usize;
    if b >= q || b + k > ds.len() || ds[..b] != qs[..b] {
        return Err(invalid!(
            "indices {qs:?} do not index data {ds:?} with batch_dims {b}"
        ));
    }
    let batch: i64 = ds[..b].iter().product();
    let inner: i64 = ds[b..b + k].iter().product();
    let rest: i64 = ds[b + k..].iter().product();
    let mut shape = qs[..q - 1].to_vec();
    shape.extend(&ds[b + k..]);
    let mut lin = if k == 0 {
        Tensor::zeros(&qs[..q - 1], DType::I64)?
    } else {
        linear_nd(&ctx.t(idx)?, &ds[b..b + k])?
    };
    if b > 0 {
        let mut bshape = qs[..b].to_vec();
        bshape.extend(vec![1; q - 1 - b]);
        let offsets = Tensor::arange(batch, DType::I64)?
            .mul(&Tensor::full(&[], inner as f64, DType::I64)?)?
            .reshape(&bshape)?;
        lin = lin.add(&offsets)?;
    }
    let m: i64 = qs[..q - 1].iter().product();
    let t = ctx
        .t(x)?
        .reshape(&[batch * inner, rest])?
        .index_select(0, &lin.reshape(&[m])?)?
        .reshape(&shape)?;
    Ok(vec![like(x, t)?])
}

/// How a scatter combines an update with what is there.
#[derive(Clone, Copy)]
enum Reduction {
    None,
    Add,
    Mul,
    Max,
    Min,
}

fn reduction(ctx: &OpCtx) -> Result<Reduction> {
    Ok(match ctx.string("reduction", "none")?.as_str() {
        "none" => Reduction::None,
        "add" => Reduction::Add,
        "mul" => Reduction::Mul,
        "max" => Reduction::Max,
        "min" => Reduction::Min,
        other => return Err(invalid!("unknown reduction '{other}'")),
    })
}

/// `data (n, r)` with rows `lin (m,)` combined with `upd (m, r)`.
fn scatter_rows(data: &Tensor, lin: &Tensor, upd: &Tensor, how: Reduction) -> Result<Tensor> {
    let (n, r) = (data.shape()[0], data.shape()[1]);
    let m = lin.shape()[0];
    let targets = Tensor::arange(n, DType::I64)?.reshape(&[1, n])?;
    let mask = lin.reshape(&[m, 1])?.eq(&targets)?;
    let m3 = mask.reshape(&[m, n, 1])?;
    let u3 = upd.reshape(&[m, 1, r])?;
    let fill = |v: f64| Tensor::full(&[], v, data.dtype());
    Ok(match how {
        Reduction::None => {
            let hit = mask.cast(DType::I32)?.sum(&[0], false)?.reshape(&[n, 1])?;
            let written = m3.where_(&u3, &fill(0.0)?)?.sum(&[0], false)?;
            hit.gt(&Tensor::full(&[], 0.0, DType::I32)?)?
                .where_(&written.cast(data.dtype())?, data)?
        }
        Reduction::Add => data.add(
            &m3.where_(&u3, &fill(0.0)?)?
                .sum(&[0], false)?
                .cast(data.dtype())?,
        )?,
        Reduction::Mul => data.mul(
            &m3.where_(&u3, &fill(1.0)?)?
                .prod(&[0], false)?
                .cast(data.dtype())?,
        )?,
        Reduction::Max => data.maximum(
            &m3.where_(&u3, &data.reshape(&[1, n, r])?)?
                .max(&[0], false)?,
        )?,
        Reduction::Min => data.minimum(
            &m3.where_(&u3, &data.reshape(&[1, n, r])?)?
                .min(&[0], false)?,
        )?,
    })
}

fn scatter_elements(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let (x, idx, upd) = (i.tensor(0)?, i.tensor(1)?, i.tensor(2)?);
    let a = axis(ctx.int("axis", 0)?, x.rank())?;
    let how = reduction(ctx)?;
    let (ds, is) = (x.shape(), idx.shape());
    if is.len() != ds.len() || upd.shape() != is || (0..ds.len()).any(|d| d != a && is[d] > ds[d]) {
        return Err(invalid!(
            "indices {is:?} and updates {:?} do not fit data {ds:?} along axis {a}",
            upd.shape()
        ));
    }
    let st = strides_i64(ds);
    // flat target of every update: its own position off the axis, the index on it
    let mut lin =
        normalized(&ctx.t(idx)?, &[ds[a]])?.mul(&Tensor::full(&[], st[a] as f64, DType::I64)?)?;
    for d in (0..ds.len()).filter(|&d| d != a) {
        let mut shape = vec![1; ds.len()];
        shape[d] = is[d];
        let pos = Tensor::arange(is[d], DType::I64)?
            .mul(&Tensor::full(&[], st[d] as f64, DType::I64)?)?
            .reshape(&shape)?;
        lin = lin.add(&pos)?;
    }
    let m = idx.numel();
    let n = x.numel();
    let t = scatter_rows(
        &ctx.t(x)?.reshape(&[n, 1])?,
        &lin.reshape(&[m])?,
        &ctx.t(upd)?.reshape(&[m, 1])?,
        how,
    )?
    .reshape(ds)?;
    Ok(vec![like(x, t)?])
}

fn scatter_nd(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let (x, idx, upd) = (i.tensor(0)?, i.tensor(1)?, i.tensor(2)?);
    let how = reduction(ctx)?;
    let (ds, qs) = (x.shape(), idx.shape());
    let q = qs.len();
    let k = *qs
        .last()
        .ok_or_else(|| invalid!("indices must have rank >= 1"))? as usize;
    let mut ushape = qs[..q - 1].to_vec();
    if k <= ds.len() {
        ushape.extend(&ds[k..]);
    }
    if k > ds.len() || upd.shape() != ushape {
        return Err(invalid!(
            "indices {qs:?} and updates {:?} do not fit data {ds:?}",
            upd.shape()
        ));
    }
    let n: i64 = ds[..k].iter().product();
    let r: i64 = ds[k..].iter().product();
    let m: i64 = qs[..q - 1].iter().product();
    let lin = if k == 0 {
        Tensor::zeros(&[m], DType::I64)?
    } else {
        linear_nd(&ctx.t(idx)?, &ds[..k])?.reshape(&[m])?
    };
    let t = scatter_rows(
        &ctx.t(x)?.reshape(&[n, r])?,
        &lin,
        &ctx.t(upd)?.reshape(&[m, r])?,
        how,
    )?
    .reshape(ds)?;
    Ok(vec![like(x, t)?])
}

fn one_hot(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let (idx, values) = (i.tensor(0)?, i.tensor(2)?);
    let depth = i.tensor(1)?.scalar_f64()? as i64;
    if depth < 1 {
        return Err(invalid!("depth {depth} must be positive"));
    }
    if values.numel() != 2 {
        return Err(invalid!(
            "values must hold [off, on], got shape {:?}",
            values.shape()
        ));
    }
    let r = idx.rank();
    let a = axis(ctx.int("axis", -1)?, r + 1)?;
    let mut idx = ctx.t(idx)?;
    if !idx.dtype().is_int() {
        idx = idx.cast(DType::I64)?;
    }
    let idx = normalized(&idx, &[depth])?.unsqueeze(a)?;
    let mut cls = vec![1; r + 1];
    cls[a] = depth;
    let classes = Tensor::arange(depth, DType::I64)?.reshape(&cls)?;
    let v = ctx.t(values)?.reshape(&[2])?;
    let off = v.shrink(&[(0, 1)])?.reshape(&[])?;
    let on = v.shrink(&[(1, 2)])?.reshape(&[])?;
    let t = idx.eq(&classes)?.where_(&on, &off)?;
    Ok(vec![like(values, t)?])
}

/// `t` moved by one along `a`: `shift(t)[j] = t[j - 1]`, zero at 0.
fn shift_forward(t: &Tensor, a: usize) -> Result<Tensor> {
    let shape = t.shape().to_vec();
    let mut pads = vec![(0, 0); shape.len()];
    pads[a] = (1, 0);
    let mut keep: Vec<(i64, i64)> = shape.iter().map(|&d| (0, d)).collect();
    keep[a] = (0, shape[a]);
    Ok(t.pad(&pads)?.shrink(&keep)?)
}

fn cumsum(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    let a = axis(i.tensor(1)?.scalar_i64()?, x.rank())?;
    let (exclusive, reverse) = (ctx.int("exclusive", 0)? != 0, ctx.int("reverse", 0)? != 0);
    let mut t = ctx.t(x)?;
    if reverse {
        t = t.flip(&[a])?;
    }
    if exclusive {
        t = shift_forward(&t, a)?;
    }
    let mut s = t.cumsum(a as isize)?;
    if reverse {
        s = s.flip(&[a])?;
    }
    Ok(vec![like(x, s.cast(x.elem().storage())?)?])
}

fn top_k(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    let k = match i.opt_tensor(1)? {
        Some(k) => k.scalar_i64()?,
        None => ctx.int_opt("k")?.ok_or_else(|| {
            invalid!("k is required (an input or, before opset 10, an attribute)")
        })?,
    };
    let a = axis(ctx.int("axis", -1)?, x.rank())?;
    if k < 0 || k > x.shape()[a] {
        return Err(invalid!(
            "k {k} is out of range for a dim of {}",
            x.shape()[a]
        ));
    }
    let largest = ctx.int("largest", 1)? != 0;
    let (v, idx) = ctx.t(x)?.topk(k, a as isize, largest)?;
    Ok(vec![like(x, v)?, super::out(idx.cast(DType::I64)?)])
}

fn non_zero(_ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    let h = x.to_host()?;
    let shape = x.shape();
    let st = strides(shape);
    let hits: Vec<usize> = if h.dtype().is_float() {
        h.to_f64s()
            .iter()
            .enumerate()
            .filter(|(_, v)| **v != 0.0)
            .map(|(k, _)| k)
            .collect()
    } else {
        h.to_i64s()
            .iter()
            .enumerate()
            .filter(|(_, v)| **v != 0)
            .map(|(k, _)| k)
            .collect()
    };
    let r = shape.len();
    let mut coords = vec![0i64; r * hits.len()];
    for (j, &flat) in hits.iter().enumerate() {
        for d in 0..r {
            coords[d * hits.len() + j] = ((flat / st[d]) % shape[d].max(1) as usize) as i64;
        }
    }
    let out = HostTensor::from_i64s(
        ElemType::Native(DType::I64),
        vec![r as i64, hits.len() as i64],
        &coords,
    )?;
    Ok(vec![out_host(out)])
}

fn compress(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    let cond = i.tensor(1)?.ints()?;
    let (t, a) = match ctx.int_opt("axis")? {
        Some(a) => (ctx.t(x)?, axis(a, x.rank())?),
        None => (ctx.t(x)?.reshape(&[x.numel()])?, 0),
    };
    let n = t.shape()[a];
    if cond.len() as i64 > n {
        return Err(invalid!(
            "condition of {} entries for a dim of {n}",
            cond.len()
        ));
    }
    let keep: Vec<i64> = (0..cond.len() as i64)
        .filter(|&j| cond[j as usize] != 0)
        .collect();
    let sel = i64s(&keep, &[keep.len() as i64])?;
    Ok(vec![like(x, t.index_select(a as isize, &sel)?)?])
}

/// `Unique` on the host: the distinct slices along `axis` (elements when none), sorted
/// or in order of first appearance, with first indices, inverse indices and counts.
fn unique(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    let h = x.to_host()?;
    let (shape, a) = match ctx.int_opt("axis")? {
        Some(a) => (x.shape().to_vec(), axis(a, x.rank())?),
        None => (vec![x.numel()], 0),
    };
    let h = h.reshaped(shape.clone())?;
    let n = shape[a] as usize;
    let st = strides(&shape);
    let vals = h.to_f64s();
    // the flat positions of slice j
    let slice_of = |j: usize| -> Vec<usize> {
        let mut sub = shape.clone();
        sub[a] = 1;
        walk(&sub, numel_of(&sub).unwrap_or(0), |p| {
            p.iter()
                .enumerate()
                .map(|(d, &k)| if d == a { j * st[d] } else { k * st[d] })
                .sum()
        })
    };
    let slices: Vec<Vec<usize>> = (0..n).map(slice_of).collect();
    let key = |j: usize| -> Vec<f64> { slices[j].iter().map(|&p| vals[p]).collect() };
    let mut firsts: Vec<usize> = Vec::new();
    let mut inverse = vec![0usize; n];
    for (j, inv) in inverse.iter_mut().enumerate() {
        let kj = key(j);
        *inv = match firsts.iter().position(|&f| key(f) == kj) {
            Some(u) => u,
            None => {
                firsts.push(j);
                firsts.len() - 1
            }
        };
    }
    let mut order: Vec<usize> = (0..firsts.len()).collect();
    if ctx.int("sorted", 1)? != 0 {
        order.sort_by(|&p, &q| {
            key(firsts[p])
                .partial_cmp(&key(firsts[q]))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
    }
    let mut rank_of = vec![0usize; order.len()];
    for (r, &u) in order.iter().enumerate() {
        rank_of[u] = r;
    }
    let u = order.len();
    let mut oshape = shape.clone();
    oshape[a] = u as i64;

    let picks = walk(&oshape, numel_of(&oshape)?, |p| {
        let src = firsts[order[p[a]]];
        p.iter()
            .enumerate()
            .map(|(d, &k)| if d == a { src * st[d] } else { k * st[d] })
            .sum()
    });
    let y = h.gather_elements(&picks, oshape)?;
    let i64t =
        |v: Vec<i64>| HostTensor::from_i64s(ElemType::Native(DType::I64), vec![v.len() as i64], &v);
    let first_idx: Vec<i64> = order.iter().map(|&q| firsts[q] as i64).collect();
    let inv: Vec<i64> = inverse.iter().map(|&q| rank_of[q] as i64).collect();
    let mut counts = vec![0i64; u];
    for &q in &inverse {
        counts[rank_of[q]] += 1;
    }
    Ok(vec![
        out_host(y),
        out_host(i64t(first_idx)?),
        out_host(i64t(inv)?),
        out_host(i64t(counts)?),
    ])
}

fn reverse_sequence(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    let lens = i.tensor(1)?.ints()?;
    let ba = axis(ctx.int("batch_axis", 1)?, x.rank())?;
    let ta = axis(ctx.int("time_axis", 0)?, x.rank())?;
    let shape = x.shape();
    if ba == ta || lens.len() as i64 != shape[ba] {
        return Err(invalid!(
            "sequence_lens of {} for batch axis {ba} and time axis {ta} of {shape:?}",
            lens.len()
        ));
    }
    host_budget(x.numel(), "the reversal index")?;
    let idx = walk(shape, numel_of(shape)?, |p| {
        let (b, t) = (p[ba] as i64, p[ta] as i64);
        let l = lens[b as usize].clamp(0, shape[ta]);
        if t < l { l - 1 - t } else { t }
    });
    let idx = i64s(&idx, shape)?;
    Ok(vec![like(x, ctx.t(x)?.gather(ta as isize, &idx)?)?])
}
