//! `Resize` (and the older `Upsample`): one axis at a time. For each resized axis the
//! host computes where every output coordinate falls in the input (the
//! `coordinate_transformation_mode`), then either the nearest input index
//! (`nearest_mode`; an exact `index_select`, any dtype) or the interpolation weights of
//! its neighbours (`linear`, `cubic` with `cubic_coeff_a`, `antialias` widening the
//! filter when shrinking, `exclude_outside` renormalizing), which become an
//! `(in, out)` matrix the axis is multiplied by. Neighbours past an edge repeat the
//! edge; `tf_crop_and_resize` puts `extrapolation_value` where a coordinate leaves the
//! input.

use dtype::DType;
use frontend_tensor::Tensor;

use super::{Inputs, OpCtx, OpDef, axis, host_budget, onnx};
use crate::error::{Result, invalid};
use crate::value::{TensorValue, Value};

pub(crate) const OPS: &[OpDef] = &[onnx("Resize", resize), onnx("Upsample", upsample)];

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Nearest,
    Linear,
    Cubic,
}

/// Everything that decides one axis's resampling.
struct Plan {
    mode: Mode,
    coord: String,
    nearest: String,
    cubic_a: f64,
    exclude_outside: bool,
    antialias: bool,
    extrapolation: f64,
}

/// The input coordinate of output coordinate `x` on an axis of `n_in` resized by
/// `scale` to `n_out` (`roi` for `tf_crop_and_resize`).
fn source_coord(p: &Plan, x: f64, n_in: i64, n_out: i64, scale: f64, roi: (f64, f64)) -> f64 {
    let (fi, fo) = (n_in as f64, n_out as f64);
    match p.coord.as_str() {
        "asymmetric" => x / scale,
        "align_corners" if n_out == 1 => 0.0,
        // the resized length as a float: a scale that is not a ratio of sizes counts
        "align_corners" => x * (fi - 1.0) / (scale * fi - 1.0),
        "pytorch_half_pixel" if n_out == 1 => 0.0,
        "half_pixel_symmetric" => {
            let adjustment = fo / (scale * fi);
            let center = fi / 2.0;
            center * (1.0 - adjustment) + (x + 0.5) / scale - 0.5
        }
        "tf_crop_and_resize" if n_out == 1 => 0.5 * (roi.0 + roi.1) * (fi - 1.0),
        "tf_crop_and_resize" => roi.0 * (fi - 1.0) + x * (roi.1 - roi.0) * (fi - 1.0) / (fo - 1.0),
        // half_pixel, pytorch_half_pixel
        _ => (x + 0.5) / scale - 0.5,
    }
}

fn nearest_index(p: &Plan, xo: f64) -> f64 {
    let frac = xo - xo.floor();
    match p.nearest.as_str() {
        "floor" => xo.floor(),
        "ceil" => xo.ceil(),
        "round_prefer_ceil" if frac == 0.5 => xo.ceil(),
        "round_prefer_ceil" => xo.round(),
        _ if frac == 0.5 => xo.floor(),
        _ => xo.round(),
    }
}

/// The filter weights at integer offsets `start..` from `floor(xo)`.
fn filter(p: &Plan, ratio: f64, scale: f64) -> (i64, Vec<f64>) {
    let s = if p.antialias { scale.min(1.0) } else { 1.0 };
    let a = p.cubic_a;
    let cubic = |x: f64| {
        let x = x.abs();
        if x <= 1.0 {
            ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
        } else if x < 2.0 {
            ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a
        } else {
            0.0
        }
    };
    let (start, end) = match p.mode {
        Mode::Cubic => {
            let st = (-2.0 / s).floor() as i64 + 1;
            (st, 2 - st)
        }
        _ => {
            let st = (-1.0 / s).floor() as i64 + 1;
            (st, 2 - st)
        }
    };
    let w: Vec<f64> = (start..end)
        .map(|k| {
            let d = s * (k as f64 - ratio);
            match p.mode {
                Mode::Cubic => cubic(d),
                _ => (1.0 - d.abs()).clamp(0.0, 1.0),
            }
        })
        .collect();
    (start, w)
}

/// Resizes axis `a` of `t` from `n_in` to `n_out`.
fn resize_axis(
    p: &Plan,
    t: &Tensor,
    a: usize,
    n_out: i64,
    scale: f64,
    roi: (f64, f64),
) -> Result<Tensor> {
    let n_in = t.shape()[a];
    host_budget(n_out, "the resized axis")?;
    let coords: Vec<f64> = (0..n_out)
        .map(|x| source_coord(p, x as f64, n_in, n_out, scale, roi))
        .collect();
    let outside: Vec<bool> = coords
        .iter()
        .map(|&c| p.coord == "tf_crop_and_resize" && (c < 0.0 || c > (n_in - 1) as f64))
        .collect();
    let mut y = if p.mode == Mode::Nearest {
        let idx: Vec<i64> = coords
            .iter()
            .map(|&c| (nearest_index(p, c) as i64).clamp(0, n_in - 1))
            .collect();
        t.index_select(a as isize, &Tensor::from_slice(&idx, &[n_out])?)?
    } else {
        // (n_in, n_out) weights
        let mut w = vec![0f64; host_budget(n_in.saturating_mul(n_out), "the resize weights")?];
        for (o, &c) in coords.iter().enumerate() {
            let base = c.floor();
            let (start, ws) = filter(p, c - base, scale);
            let mut picks: Vec<(i64, f64)> = ws
                .iter()
                .enumerate()
                .map(|(k, &wk)| (base as i64 + start + k as i64, wk))
                .collect();
            if p.exclude_outside {
                picks.retain(|&(j, _)| (0..n_in).contains(&j));
            }
            let total: f64 = picks.iter().map(|&(_, wk)| wk).sum();
            for (j, wk) in picks {
                let j = j.clamp(0, n_in - 1);
                let norm = if total != 0.0 { wk / total } else { 0.0 };
                w[(j * n_out) as usize + o] += norm;
            }
        }
        let dt = if t.dtype().is_float() {
            t.dtype()
        } else {
            DType::F32
        };
        let w: Vec<f32> = w.iter().map(|&v| v as f32).collect();
        let wt = Tensor::from_slice(&w, &[n_in, n_out])?.cast(dt)?;
        let r = t.shape().len();
        let mut order: Vec<usize> = (0..r).filter(|&d| d != a).collect();
        order.push(a);
        let mut back = vec![0; r];
        for (k, &d) in order.iter().enumerate() {
            back[d] = k;
        }
        let moved = t.cast(dt)?.permute(&order)?;
        let res = moved.matmul(&wt)?.permute(&back)?;
        if t.dtype().is_float() {
            res
        } else {
            res.round()?.cast(t.dtype())?
        }
    };
    if outside.iter().any(|&o| o) {
        let mut s = vec![1; t.shape().len()];
        s[a] = n_out;
        let mask = Tensor::from_slice(&outside, &s)?;
        y = mask.where_(&Tensor::full(&[], p.extrapolation, y.dtype())?, &y)?;
    }
    Ok(y)
}

fn plan(ctx: &OpCtx, coord_default: &str) -> Result<Plan> {
    let mode = match ctx.string("mode", "nearest")?.as_str() {
        "nearest" => Mode::Nearest,
        "linear" | "bilinear" | "trilinear" => Mode::Linear,
        "cubic" | "bicubic" => Mode::Cubic,
        other => return Err(invalid!("unknown mode '{other}'")),
    };
    Ok(Plan {
        mode,
        coord: ctx.string("coordinate_transformation_mode", coord_default)?,
        nearest: ctx.string("nearest_mode", "round_prefer_floor")?,
        cubic_a: f64::from(ctx.float("cubic_coeff_a", -0.75)?),
        exclude_outside: ctx.int("exclude_outside", 0)? != 0,
        antialias: ctx.int("antialias", 0)? != 0,
        extrapolation: f64::from(ctx.float("extrapolation_value", 0.0)?),
    })
}

/// Resizes `x` to per-axis sizes with per-axis scales and rois.
fn run(
    p: &Plan,
    x: &TensorValue,
    t: Tensor,
    sizes: &[i64],
    scales: &[f64],
    roi: &[(f64, f64)],
) -> Result<Vec<Value>> {
    let mut t = t;
    for a in 0..x.rank() {
        if sizes[a] == x.shape()[a] && scales[a] == 1.0 && p.coord != "tf_crop_and_resize" {
            continue;
        }
        if sizes[a] < 1 {
            return Err(invalid!("output size {} of axis {a}", sizes[a]));
        }
        t = resize_axis(p, &t, a, sizes[a], scales[a], roi[a])?;
    }
    Ok(vec![Value::Tensor(TensorValue::from_tensor_as(
        t,
        x.elem(),
    )?)])
}

fn resize(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    let r = x.rank();
    let p = plan(
        ctx,
        if ctx.opset < 11 {
            "asymmetric"
        } else {
            "half_pixel"
        },
    )?;
    let (roi_in, scales_in, sizes_in) = if ctx.opset < 11 {
        (None, i.floats_opt(1)?, None)
    } else {
        (i.floats_opt(1)?, i.floats_opt(2)?, i.ints_opt(3)?)
    };
    let axes: Vec<usize> = match ctx.ints("axes")? {
        Some(a) => a.iter().map(|&v| axis(v, r)).collect::<Result<_>>()?,
        None => (0..r).collect(),
    };
    let k = axes.len();
    let mut roi = vec![(0.0, 1.0); r];
    if let Some(v) = roi_in.filter(|v| !v.is_empty()) {
        if v.len() != 2 * k {
            return Err(invalid!("roi of {} values for {k} axes", v.len()));
        }
        for (j, &a) in axes.iter().enumerate() {
            roi[a] = (v[j], v[j + k]);
        }
    }
    let mut scales = vec![1.0; r];
    let mut sizes = x.shape().to_vec();
    let crop = p.coord == "tf_crop_and_resize";
    match (
        scales_in.filter(|v| !v.is_empty()),
        sizes_in.filter(|v| !v.is_empty()),
    ) {
        (Some(s), None) => {
            if s.len() != k {
                return Err(invalid!("{} scales for {k} axes", s.len()));
            }
            for (j, &a) in axes.iter().enumerate() {
                let span = if crop { roi[a].1 - roi[a].0 } else { 1.0 };
                scales[a] = s[j];
                sizes[a] = (x.shape()[a] as f64 * span * s[j]).floor() as i64;
            }
        }
        (None, Some(s)) => {
            if s.len() != k {
                return Err(invalid!("{} sizes for {k} axes", s.len()));
            }
            let policy = ctx.string("keep_aspect_ratio_policy", "stretch")?;
            let ratios: Vec<f64> = axes
                .iter()
                .zip(&s)
                .map(|(&a, &n)| n as f64 / x.shape()[a] as f64)
                .collect();
            let common = match policy.as_str() {
                "stretch" => None,
                "not_larger" => Some(ratios.iter().copied().fold(f64::INFINITY, f64::min)),
                "not_smaller" => Some(ratios.iter().copied().fold(0.0, f64::max)),
                other => return Err(invalid!("unknown keep_aspect_ratio_policy '{other}'")),
            };
            for (j, &a) in axes.iter().enumerate() {
                match common {
                    None => {
                        sizes[a] = s[j];
                        scales[a] = ratios[j];
                    }
                    Some(c) => {
                        sizes[a] = (x.shape()[a] as f64 * c).round() as i64;
                        scales[a] = c;
                    }
                }
            }
        }
        _ => return Err(invalid!("exactly one of scales and sizes must be given")),
    }
    run(&p, x, ctx.t(x)?, &sizes, &scales, &roi)
}

fn upsample(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    let p = Plan {
        nearest: "floor".into(),
        ..plan(ctx, "asymmetric")?
    };
    let scales: Vec<f64> = match i.floats_opt(1)? {
        Some(s) => s,
        None => ctx
            .floats("scales")?
            .ok_or_else(|| invalid!("scales are required"))?
            .iter()
            .map(|&v| f64::from(v))
            .collect(),
    };
    if scales.len() != x.rank() {
        return Err(invalid!("{} scales for rank {}", scales.len(), x.rank()));
    }
    let sizes: Vec<i64> = x
        .shape()
        .iter()
        .zip(&scales)
        .map(|(&n, &s)| (n as f64 * s).floor() as i64)
        .collect();
    let roi = vec![(0.0, 1.0); x.rank()];
    run(&p, x, ctx.t(x)?, &sizes, &scales, &roi)
}
