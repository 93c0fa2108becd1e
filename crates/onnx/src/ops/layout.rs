//! Movement ops: `Transpose`, `Concat`, `Split`, `Slice` (any step, negative ones by a
//! flip), `Expand`, `Tile`, `Pad` (constant, reflect, edge, wrap; negative pads crop),
//! `DepthToSpace`/`SpaceToDepth`, `CenterCropPad` and `Trilu`. Small host tensors move on
//! the host by picking elements.

use frontend_tensor::{PadMode, Tensor};

use super::fold::{self, strides, walk};
use super::{Inputs, OpCtx, OpDef, axis, one, onnx, out_host};
use crate::error::{Result, invalid};
use crate::host::numel_of;
use crate::value::{TensorValue, Value};

pub(crate) const OPS: &[OpDef] = &[
    onnx("Transpose", transpose),
    onnx("Concat", concat),
    onnx("Split", split),
    onnx("Slice", slice),
    onnx("Expand", expand),
    onnx("Tile", tile),
    onnx("Pad", pad),
    onnx("DepthToSpace", depth_to_space),
    onnx("SpaceToDepth", space_to_depth),
    onnx("CenterCropPad", center_crop_pad),
    onnx("Trilu", trilu),
];

/// A result with the input's element type.
fn like(x: &TensorValue, t: Tensor) -> Result<Value> {
    Ok(Value::Tensor(TensorValue::from_tensor_as(t, x.elem())?))
}

/// `x` moved on the host by `picks` when small and known there.
fn host_pick(
    x: &TensorValue,
    shape: &[i64],
    picks: impl FnOnce() -> Vec<usize>,
) -> Option<Result<Value>> {
    let h = x.host()?;
    if numel_of(shape).ok()? > fold::FOLD_LIMIT {
        return None;
    }
    let p = picks();
    fold::pick(h, &p, shape.to_vec()).map(|r| r.map(out_host))
}

fn transpose(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    let rank = x.rank();
    let perm: Vec<usize> = match ctx.ints("perm")? {
        Some(p) => p.iter().map(|&a| axis(a, rank)).collect::<Result<_>>()?,
        None => (0..rank).rev().collect(),
    };
    let mut seen = perm.clone();
    seen.sort_unstable();
    if seen != (0..rank).collect::<Vec<_>>() {
        return Err(invalid!("perm {perm:?} is not a permutation of 0..{rank}"));
    }
    let shape: Vec<i64> = perm.iter().map(|&a| x.shape()[a]).collect();
    let st = strides(x.shape());
    let picks = || {
        walk(&shape, numel_of(&shape).unwrap_or(0), |idx| {
            idx.iter().zip(&perm).map(|(&k, &a)| k * st[a]).sum()
        })
    };
    if let Some(r) = host_pick(x, &shape, picks) {
        return Ok(vec![r?]);
    }
    Ok(vec![like(x, ctx.t(x)?.permute(&perm)?)?])
}

fn concat(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let items = i.rest(0)?;
    let first = items
        .first()
        .ok_or_else(|| invalid!("needs at least one input"))?;
    let rank = first.rank();
    let a = axis(
        ctx.int_opt("axis")?
            .ok_or_else(|| invalid!("attribute 'axis' is required"))?,
        rank,
    )?;
    for t in &items {
        let same = t.rank() == rank
            && t.elem() == first.elem()
            && (0..rank).all(|d| d == a || t.shape()[d] == first.shape()[d]);
        if !same {
            return Err(invalid!(
                "cannot join {:?} {} with {:?} {} along axis {a}",
                t.shape(),
                t.elem(),
                first.shape(),
                first.elem()
            ));
        }
    }
    let mut shape = first.shape().to_vec();
    shape[a] = items.iter().map(|t| t.shape()[a]).sum();
    if items.iter().all(|t| t.host().is_some()) && numel_of(&shape)? <= fold::FOLD_LIMIT {
        let hosts: Vec<_> = items.iter().filter_map(|t| t.host()).collect();
        let bytes: Vec<u8> = hosts
            .iter()
            .flat_map(|h| h.bytes().iter().copied())
            .collect();
        let offsets: Vec<usize> = hosts
            .iter()
            .scan(0, |acc, h| {
                let o = *acc;
                *acc += h.numel();
                Some(o)
            })
            .collect();
        let joined = crate::host::HostTensor::new(
            first.elem(),
            vec![bytes.len() as i64 / first.elem().storage().itemsize() as i64],
            bytes,
        )?;
        let st_out = shape.clone();
        let picks = walk(&st_out, numel_of(&st_out)?, |idx| {
            let mut pos = idx[a] as i64;
            let mut k = 0;
            while pos >= items[k].shape()[a] {
                pos -= items[k].shape()[a];
                k += 1;
            }
            let st = strides(items[k].shape());
            let inner: usize = idx
                .iter()
                .enumerate()
                .map(|(d, &v)| {
                    if d == a {
                        pos as usize * st[d]
                    } else {
                        v * st[d]
                    }
                })
                .sum();
            offsets[k] + inner
        });
        return Ok(vec![out_host(joined.gather_elements(&picks, shape)?)]);
    }
    let tensors: Vec<Tensor> = items
        .iter()
        .filter(|t| t.shape()[a] > 0)
        .map(|t| ctx.t(t))
        .collect::<Result<_>>()?;
    if tensors.is_empty() {
        return Ok(vec![like(first, ctx.t(first)?.reshape(&shape)?)?]);
    }
    let refs: Vec<&Tensor> = tensors.iter().collect();
    Ok(vec![like(first, Tensor::cat(&refs, a as isize)?)?])
}

/// Cuts `x` along `a` into pieces of `sizes`.
pub(crate) fn split_sizes(
    ctx: &OpCtx,
    x: &TensorValue,
    a: usize,
    sizes: &[i64],
) -> Result<Vec<Value>> {
    if sizes.iter().any(|&s| s < 0) || sizes.iter().sum::<i64>() != x.shape()[a] {
        return Err(invalid!(
            "split sizes {sizes:?} do not add up to dim {a} of {:?}",
            x.shape()
        ));
    }
    let mut start = 0;
    sizes
        .iter()
        .map(|&s| {
            let mut ranges: Vec<(i64, i64, i64)> = x.shape().iter().map(|&d| (0, d, 1)).collect();
            ranges[a] = (start, start + s, 1);
            start += s;
            strided(ctx, x, &ranges)
        })
        .collect()
}

fn split(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    let a = axis(ctx.int("axis", 0)?, x.rank())?;
    let dim = x.shape()[a];
    let given = if ctx.opset >= 13 {
        i.ints_opt(1)?
    } else {
        ctx.ints("split")?
    };
    let sizes = match given {
        Some(s) => s,
        None => {
            let n = match ctx.int_opt("num_outputs")? {
                Some(n) => n,
                None => ctx.node.outputs.len() as i64,
            };
            if n < 1 {
                return Err(invalid!("cannot split into {n} pieces"));
            }
            if ctx.has_attr("num_outputs") {
                // pieces of ceil(dim / n), the last one smaller
                let piece = (dim + n - 1) / n;
                let mut v = Vec::new();
                let mut left = dim;
                while left > 0 && (v.len() as i64) < n {
                    v.push(piece.min(left));
                    left -= piece.min(left);
                }
                v
            } else {
                if dim % n != 0 {
                    return Err(invalid!("dim {dim} does not split into {n} equal pieces"));
                }
                vec![dim / n; n as usize]
            }
        }
    };
    split_sizes(ctx, x, a, &sizes)
}

/// `x[start:end:step]` per dim, with numpy's clamping of out-of-range bounds.
pub(crate) fn strided(ctx: &OpCtx, x: &TensorValue, ranges: &[(i64, i64, i64)]) -> Result<Value> {
    // (start, count, step) per dim after clamping
    let mut plan = Vec::with_capacity(ranges.len());
    for (&(start, end, step), &dim) in ranges.iter().zip(x.shape()) {
        if step == 0 {
            return Err(invalid!("a slice step is 0"));
        }
        let norm = |v: i64| if v < 0 { v.saturating_add(dim) } else { v };
        let (s, e) = if step > 0 {
            (norm(start).clamp(0, dim), norm(end).clamp(0, dim))
        } else {
            (norm(start).clamp(-1, dim - 1), norm(end).clamp(-1, dim - 1))
        };
        let count = if step > 0 {
            ((e - s).max(0) + step - 1) / step
        } else {
            ((s - e).max(0) + (-step) - 1) / (-step)
        };
        plan.push((s, count, step));
    }
    let shape: Vec<i64> = plan.iter().map(|p| p.1).collect();
    let st = strides(x.shape());
    let picks = || {
        walk(&shape, numel_of(&shape).unwrap_or(0), |idx| {
            idx.iter()
                .zip(&plan)
                .zip(&st)
                .map(|((&k, &(s, _, step)), &stride)| (s + k as i64 * step) as usize * stride)
                .sum()
        })
    };
    if let Some(r) = host_pick(x, &shape, picks) {
        return r;
    }
    let mut t = ctx.t(x)?;
    let flips: Vec<usize> = (0..plan.len()).filter(|&d| plan[d].2 < 0).collect();
    if !flips.is_empty() {
        t = t.flip(&flips)?;
    }
    // each dim now runs forward from `first` by `step`
    let mut keep = Vec::with_capacity(plan.len());
    let mut steps = Vec::with_capacity(plan.len());
    for (d, &(s, count, step)) in plan.iter().enumerate() {
        let dim = x.shape()[d];
        let (first, step) = if step < 0 {
            (dim - 1 - s, -step)
        } else {
            (s, step)
        };
        let end = if count == 0 {
            first
        } else {
            first + (count - 1) * step + 1
        };
        keep.push((first.min(dim), end.min(dim)));
        steps.push(step);
    }
    t = t.shrink(&keep)?;
    for (d, &step) in steps.iter().enumerate() {
        if step > 1 && shape[d] > 0 {
            t = take_every(&t, d, step, shape[d])?;
        }
    }
    like(x, t)
}

/// Every `step`-th element of dim `d` (which holds `(count - 1) * step + 1` elements).
fn take_every(t: &Tensor, d: usize, step: i64, count: i64) -> Result<Tensor> {
    let mut pads = vec![(0, 0); t.shape().len()];
    pads[d] = (0, count * step - t.shape()[d]);
    let padded = t.pad(&pads)?;
    let mut shape = padded.shape().to_vec();
    shape.splice(d..=d, [count, step]);
    let grouped = padded.reshape(&shape)?;
    let mut keep: Vec<(i64, i64)> = shape.iter().map(|&s| (0, s)).collect();
    keep[d + 1] = (0, 1);
    let mut out = t.shape().to_vec();
    out[d] = count;
    Ok(grouped.shrink(&keep)?.reshape(&out)?)
}

fn slice(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    let rank = x.rank();
    let (starts, ends, axes, steps) = if ctx.opset < 10 {
        (
            ctx.ints("starts")?
                .ok_or_else(|| invalid!("attribute 'starts' is required"))?,
            ctx.ints("ends")?
                .ok_or_else(|| invalid!("attribute 'ends' is required"))?,
            ctx.ints("axes")?,
            None,
        )
    } else {
        (
            i.tensor(1)?.ints()?,
            i.tensor(2)?.ints()?,
            i.ints_opt(3)?,
            i.ints_opt(4)?,
        )
    };
    if starts.len() != ends.len() {
        return Err(invalid!("{} starts but {} ends", starts.len(), ends.len()));
    }
    let axes: Vec<usize> = match axes {
        Some(a) => a.iter().map(|&v| axis(v, rank)).collect::<Result<_>>()?,
        None => (0..starts.len()).collect(),
    };
    let steps = steps.unwrap_or_else(|| vec![1; starts.len()]);
    if axes.len() != starts.len() || steps.len() != starts.len() {
        return Err(invalid!("starts, ends, axes and steps differ in length"));
    }
    let mut ranges: Vec<(i64, i64, i64)> = x.shape().iter().map(|&d| (0, d, 1)).collect();
    for (k, &a) in axes.iter().enumerate() {
        if a >= rank {
            return Err(invalid!("axis {a} is out of range for rank {rank}"));
        }
        ranges[a] = (starts[k], ends[k], steps[k]);
    }
    Ok(vec![strided(ctx, x, &ranges)?])
}

fn expand(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    let target = i.tensor(1)?.ints()?;
    let shape = fold::broadcast_shapes(x.shape(), &target)?;
    if let Some(h) = x.host()
        && numel_of(&shape)? <= fold::FOLD_LIMIT
    {
        let picks = fold::broadcast_picks(x.shape(), &shape)?;
        return Ok(vec![out_host(h.gather_elements(&picks, shape)?)]);
    }
    Ok(vec![like(x, ctx.t(x)?.broadcast_to(&shape)?)?])
}

fn tile(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    let reps = i.tensor(1)?.ints()?;
    if reps.len() != x.rank() || reps.iter().any(|&r| r < 0) {
        return Err(invalid!(
            "repeats {reps:?} must be one count >= 0 per dim of {:?}",
            x.shape()
        ));
    }
    let shape: Vec<i64> = x.shape().iter().zip(&reps).map(|(d, r)| d * r).collect();
    let st = strides(x.shape());
    let dims = x.shape().to_vec();
    let picks = || {
        walk(&shape, numel_of(&shape).unwrap_or(0), |idx| {
            idx.iter()
                .zip(&dims)
                .zip(&st)
                .map(|((&k, &d), &s)| (k % d as usize) * s)
                .sum()
        })
    };
    if let Some(r) = host_pick(x, &shape, picks) {
        return Ok(vec![r?]);
    }
    // (.., d) -> (.., 1, d) expanded to (.., r, d) -> (.., r * d)
    let t = ctx.t(x)?;
    let mut lifted = Vec::new();
    let mut expanded = Vec::new();
    for (&d, &r) in x.shape().iter().zip(&reps) {
        lifted.extend([1, d]);
        expanded.extend([r, d]);
    }
    let y = t.reshape(&lifted)?.expand(&expanded)?.reshape(&shape)?;
    Ok(vec![like(x, y)?])
}

fn pad(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    let rank = x.rank();
    let mode = ctx.string("mode", "constant")?;
    let (pads, value, axes) = if ctx.opset < 11 {
        let pads = ctx
            .ints("pads")?
            .or(ctx.ints("paddings")?)
            .ok_or_else(|| invalid!("attribute 'pads' is required"))?;
        (pads, f64::from(ctx.float("value", 0.0)?), None)
    } else {
        let value = match i.opt_tensor(2)? {
            Some(v) if v.numel() > 0 => v.scalar_f64()?,
            _ => 0.0,
        };
        (i.tensor(1)?.ints()?, value, i.ints_opt(3)?)
    };
    let axes: Vec<usize> = match axes {
        Some(a) => a.iter().map(|&v| axis(v, rank)).collect::<Result<_>>()?,
        None => (0..rank).collect(),
    };
    if pads.len() != 2 * axes.len() {
        return Err(invalid!(
            "{} pads for {} axes (two per axis expected)",
            pads.len(),
            axes.len()
        ));
    }
    let mut pairs = vec![(0i64, 0i64); rank];
    for (k, &a) in axes.iter().enumerate() {
        pairs[a] = (pads[k], pads[k + axes.len()]);
    }
    // negative pads crop first
    let mut t = ctx.t(x)?;
    let crop: Vec<(i64, i64)> = pairs
        .iter()
        .zip(x.shape())
        .map(|(&(b, e), &d)| ((-b).max(0), d - (-e).max(0)))
        .collect();
    if crop.iter().any(|&(s, e)| s > e) {
        return Err(invalid!(
            "pads {pads:?} crop more than shape {:?}",
            x.shape()
        ));
    }
    t = t.shrink(&crop)?;
    let grow: Vec<(i64, i64)> = pairs.iter().map(|&(b, e)| (b.max(0), e.max(0))).collect();
    let mode = match mode.as_str() {
        "constant" => PadMode::Constant(value),
        "reflect" => PadMode::Reflect,
        "edge" => PadMode::Replicate,
        "wrap" => PadMode::Circular,
        other => return Err(invalid!("unknown pad mode {other:?}")),
    };
    Ok(vec![like(x, t.pad_mode(&grow, mode)?)?])
}

fn blocksize(ctx: &OpCtx) -> Result<i64> {
    match ctx.int_opt("blocksize")? {
        Some(b) if b > 0 => Ok(b),
        other => Err(invalid!("blocksize must be positive, got {other:?}")),
    }
}

fn depth_to_space(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    let b = blocksize(ctx)?;
    let [n, c, h, w] = x.shape()[..] else {
        return Err(invalid!("input must be 4-D, got {:?}", x.shape()));
    };
    if c % (b * b) != 0 {
        return Err(invalid!(
            "channels {c} do not divide by blocksize^2 {}",
            b * b
        ));
    }
    let c2 = c / (b * b);
    let t = ctx.t(x)?;
    let y = if ctx.string("mode", "DCR")? == "CRD" {
        t.reshape(&[n, c2, b, b, h, w])?
            .permute(&[0, 1, 4, 2, 5, 3])?
    } else {
        t.reshape(&[n, b, b, c2, h, w])?
            .permute(&[0, 3, 4, 1, 5, 2])?
    };
    Ok(vec![like(x, y.reshape(&[n, c2, h * b, w * b])?)?])
}

fn space_to_depth(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    let b = blocksize(ctx)?;
    let [n, c, h, w] = x.shape()[..] else {
        return Err(invalid!("input must be 4-D, got {:?}", x.shape()));
    };
    if h % b != 0 || w % b != 0 {
        return Err(invalid!("{h}x{w} does not divide by blocksize {b}"));
    }
    let y = ctx
        .t(x)?
        .reshape(&[n, c, h / b, b, w / b, b])?
        .permute(&[0, 3, 5, 1, 2, 4])?
        .reshape(&[n, c * b * b, h / b, w / b])?;
    Ok(vec![like(x, y)?])
}

/// Crops or zero-pads each listed axis to the target size, centred.
fn center_crop_pad(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    let sizes = i.tensor(1)?.ints()?;
    let rank = x.rank();
    let axes: Vec<usize> = match ctx.ints("axes")? {
        Some(a) => a.iter().map(|&v| axis(v, rank)).collect::<Result<_>>()?,
        None => (0..rank).collect(),
    };
    if axes.len() != sizes.len() {
        return Err(invalid!("{} sizes for {} axes", sizes.len(), axes.len()));
    }
    let mut crop: Vec<(i64, i64)> = x.shape().iter().map(|&d| (0, d)).collect();
    let mut grow = vec![(0i64, 0i64); rank];
    for (&a, &s) in axes.iter().zip(&sizes) {
        let d = x.shape()[a];
        if s < d {
            let start = (d - s) / 2;
            crop[a] = (start, start + s);
        } else if s > d {
            let before = (s - d) / 2;
            grow[a] = (before, s - d - before);
        }
    }
    let y = ctx.t(x)?.shrink(&crop)?.pad(&grow)?;
    Ok(vec![like(x, y)?])
}

fn trilu(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    let k = match i.opt_tensor(1)? {
        Some(t) => t.scalar_i64()?,
        None => 0,
    };
    let t = ctx.t(x)?;
    if ctx.int("upper", 1)? != 0 {
        one(t.triu(k)?)
    } else {
        one(t.tril(k)?)
    }
}
