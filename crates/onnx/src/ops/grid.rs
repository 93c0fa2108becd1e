//! Sampling at coordinates: `GridSample` (nearest, linear, cubic; zeros, border or
//! reflection padding; any number of spatial dims) and `AffineGrid` (the normalized
//! coordinates an affine map sends each output position to).
//!
//! A grid is data, so sampling is built from tensor ops: each grid point's coordinate is
//! denormalized per dim, moved inside (border, reflection) when it falls out, and split
//! into taps (1, 2 or 4 per dim) with weights. Every combination of taps gathers one
//! value per point from the flattened input, weighted, and the weighted values add up.

use dtype::DType;
use frontend_tensor::Tensor;

use super::{Inputs, OpCtx, OpDef, host_budget, onnx};
use crate::error::{Result, invalid};
use crate::value::{TensorValue, Value};

pub(crate) const OPS: &[OpDef] = &[
    onnx("GridSample", grid_sample),
    onnx("AffineGrid", affine_grid),
];

#[derive(Clone, Copy, PartialEq)]
enum Padding {
    Zeros,
    Border,
    Reflection,
}

/// `x` reflected by the near border into `[lo, hi]` until inside (`lo == hi`: `lo`).
fn reflect(x: &Tensor, lo: f64, hi: f64) -> Result<Tensor> {
    let dt = x.dtype();
    let c = |v: f64| Tensor::full(&[], v, dt);
    let range = hi - lo;
    if range <= 0.0 {
        return Ok(x.mul(&c(0.0)?)?.add(&c(lo)?)?);
    }
    let below = x.lt(&c(lo)?)?;
    let above = x.gt(&c(hi)?)?;
    let dx = below.where_(&c(lo)?.sub(x)?, &x.sub(&c(hi)?)?)?;
    let n = dx.div(&c(range)?)?.floor()?;
    let r = dx.sub(&n.mul(&c(range)?)?)?;
    let half = n.mul(&c(0.5)?)?;
    let even = half.eq(&half.floor()?)?;
    let from_lo = c(lo)?.add(&r)?;
    let from_hi = c(hi)?.sub(&r)?;
    let low_side = even.where_(&from_lo, &from_hi)?;
    let high_side = even.where_(&from_hi, &from_lo)?;
    Ok(below.where_(&low_side, &above.where_(&high_side, x)?)?)
}

/// One tap along one dim: the index (as a float), its weight and whether it is inside.
struct Tap {
    index: Tensor,
    weight: Tensor,
}

fn cubic_weights(t: &Tensor) -> Result<[Tensor; 4]> {
    let dt = t.dtype();
    let c = |v: f64| Tensor::full(&[], v, dt);
    let a = -0.75;
    // |x| in 1..2: ((a*x - 5a)*x + 8a)*x - 4a ; |x| <= 1: ((a+2)*x - (a+3))*x*x + 1
    let far = |x: &Tensor| -> Result<Tensor> {
        Ok(x.mul(&c(a)?)?
            .sub(&c(5.0 * a)?)?
            .mul(x)?
            .add(&c(8.0 * a)?)?
            .mul(x)?
            .sub(&c(4.0 * a)?)?)
    };
    let near = |x: &Tensor| -> Result<Tensor> {
        Ok(x.mul(&c(a + 2.0)?)?
            .sub(&c(a + 3.0)?)?
            .mul(x)?
            .mul(x)?
            .add(&c(1.0)?)?)
    };
    let one = c(1.0)?;
    Ok([
        far(&t.add(&one)?)?,
        near(t)?,
        near(&one.sub(t)?)?,
        far(&c(2.0)?.sub(t)?)?,
    ])
}

fn grid_sample(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let (xv, gv) = (i.tensor(0)?, i.tensor(1)?);
    let x = ctx.t(xv)?;
    let xs = x.shape().to_vec();
    let d = xs.len().saturating_sub(2);
    let gs = gv.shape().to_vec();
    if d == 0 || gs.len() != d + 2 || gs[0] != xs[0] || gs[d + 1] != d as i64 {
        return Err(invalid!(
            "grid {gs:?} does not fit input {xs:?}: (n, out.., {d})"
        ));
    }
    let mode = match ctx
        .string("mode", if ctx.opset < 20 { "bilinear" } else { "linear" })?
        .as_str()
    {
        "nearest" => 0,
        "linear" | "bilinear" => 1,
        "cubic" | "bicubic" => 2,
        other => return Err(invalid!("unknown mode '{other}'")),
    };
    let padding = match ctx.string("padding_mode", "zeros")?.as_str() {
        "zeros" => Padding::Zeros,
        "border" => Padding::Border,
        "reflection" => Padding::Reflection,
        other => return Err(invalid!("unknown padding_mode '{other}'")),
    };
    let align = ctx.int("align_corners", 0)? != 0;
    let (n, ch) = (xs[0], xs[1]);
    let points: i64 = gs[1..=d].iter().product();
    let dt = if x.dtype() == DType::F64 {
        DType::F64
    } else {
        DType::F32
    };
    let c = |v: f64| Tensor::full(&[], v, dt);
    let grid = ctx.t(gv)?.cast(dt)?.reshape(&[n, points, d as i64])?;
    // per spatial dim: its taps
    let mut taps_per_dim: Vec<Vec<Tap>> = Vec::new();
    for k in 0..d {
        let len = xs[2 + k];
        // the grid's last dim lists coordinates innermost dim first
        let g = grid
            .shrink(&[(0, n), (0, points), ((d - 1 - k) as i64, (d - k) as i64)])?
            .reshape(&[n, points])?;
        let lf = len as f64;
        let mut coord = if align {
            g.add(&c(1.0)?)?.mul(&c((lf - 1.0) / 2.0)?)?
        } else {
            g.add(&c(1.0)?)?
                .mul(&c(lf)?)?
                .sub(&c(1.0)?)?
                .div(&c(2.0)?)?
        };
        if mode == 0 {
            coord = coord.round()?;
        }
        let (lo, hi) = if align {
            (0.0, lf - 1.0)
        } else {
            (-0.5, lf - 0.5)
        };
        coord = match padding {
            Padding::Zeros => coord,
            Padding::Border => {
                let out = coord.lt(&c(lo)?)?.logical_or(&coord.gt(&c(hi)?)?)?;
                out.where_(&coord.clip(Some(0.0), Some(lf - 1.0))?, &coord)?
            }
            Padding::Reflection => reflect(&coord, lo, hi)?,
        };
        let base = coord.floor()?;
        let t = coord.sub(&base)?;
        let taps: Vec<(f64, Tensor)> = match mode {
            0 => vec![(0.0, c(1.0)?)],
            1 => vec![(0.0, c(1.0)?.sub(&t)?), (1.0, t.clone())],
            _ => {
                let [w0, w1, w2, w3] = cubic_weights(&t)?;
                vec![(-1.0, w0), (0.0, w1), (1.0, w2), (2.0, w3)]
            }
        };
        let start = if mode == 0 { coord.clone() } else { base };
        let mut list = Vec::new();
        for (off, w) in taps {
            let idx = start.add(&c(off)?)?;
            let (index, weight) = match padding {
                Padding::Zeros => {
                    let inside = idx.ge(&c(0.0)?)?.logical_and(&idx.le(&c(lf - 1.0)?)?)?;
                    (
                        idx.clip(Some(0.0), Some(lf - 1.0))?,
                        inside.where_(&w, &c(0.0)?)?,
                    )
                }
                Padding::Border => (idx.clip(Some(0.0), Some(lf - 1.0))?, w),
                Padding::Reflection => (
                    reflect(&idx, lo, hi)?
                        .trunc()?
                        .clip(Some(0.0), Some(lf - 1.0))?,
                    w,
                ),
            };
            list.push(Tap { index, weight });
        }
        taps_per_dim.push(list);
    }
    let total: i64 = xs[2..].iter().product();
    let flat_x = x.cast(dt)?.reshape(&[n, ch, total])?;
    let mut strides = vec![1i64; d];
    for k in (0..d.saturating_sub(1)).rev() {
        strides[k] = strides[k + 1] * xs[3 + k];
    }
    let mut acc: Option<Tensor> = None;
    let mut choice = vec![0usize; d];
    loop {
        let mut flat = c(0.0)?;
        let mut weight = c(1.0)?;
        for k in 0..d {
            let tap = &taps_per_dim[k][choice[k]];
            flat = flat.add(&tap.index.mul(&c(strides[k] as f64)?)?)?;
            weight = weight.mul(&tap.weight)?;
        }
        let idx = flat
            .cast(DType::I64)?
            .reshape(&[n, 1, points])?
            .expand(&[n, ch, points])?;
        let vals = flat_x
            .gather(2, &idx)?
            .mul(&weight.reshape(&[n, 1, points])?)?;
        acc = Some(match acc {
            Some(a) => a.add(&vals)?,
            None => vals,
        });
        // next combination of taps
        let mut k = d;
        loop {
            if k == 0 {
                let mut out_shape = vec![n, ch];
                out_shape.extend(&gs[1..=d]);
                let y = acc
                    .ok_or_else(|| invalid!("no taps"))?
                    .reshape(&out_shape)?
                    .cast(xv.elem().storage())?;
                return Ok(vec![Value::Tensor(TensorValue::from_tensor_as(
                    y,
                    xv.elem(),
                )?)]);
            }
            k -= 1;
            choice[k] += 1;
            if choice[k] < taps_per_dim[k].len() {
                break;
            }
            choice[k] = 0;
        }
    }
}

fn affine_grid(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let tv = i.tensor(0)?;
    let size = i.tensor(1)?.ints()?;
    let d = size.len().saturating_sub(2);
    let theta = ctx.t(tv)?;
    let ts = theta.shape().to_vec();
    if !(d == 2 || d == 3) || ts != [size[0], d as i64, d as i64 + 1] {
        return Err(invalid!(
            "theta {ts:?} does not fit size {size:?}: (n, {d}, {})",
            d + 1
        ));
    }
    let align = ctx.int("align_corners", 0)? != 0;
    let dt = theta.dtype();
    let spatial = &size[2..];
    // per dim the normalized coordinates of its positions
    let coords: Vec<Vec<f64>> = spatial
        .iter()
        .map(|&len| {
            (0..len)
                .map(|p| {
                    let (p, l) = (p as f64, len as f64);
                    if align {
                        if len == 1 {
                            0.0
                        } else {
                            -1.0 + 2.0 * p / (l - 1.0)
                        }
                    } else {
                        (2.0 * p + 1.0) / l - 1.0
                    }
                })
                .collect()
        })
        .collect();
    // (points, d+1) rows (x, y[, z], 1): innermost dim first
    let points: i64 = spatial
        .iter()
        .try_fold(1i64, |a, &b| a.checked_mul(b))
        .unwrap_or(-1);
    host_budget(points.saturating_mul(d as i64 + 1), "the affine grid")?;
    let mut rows = Vec::with_capacity(points as usize * (d + 1));
    let mut pos = vec![0usize; d];
    for _ in 0..points {
        for k in (0..d).rev() {
            rows.push(coords[k][pos[k]]);
        }
        rows.push(1.0);
        for k in (0..d).rev() {
            pos[k] += 1;
            if pos[k] < spatial[k] as usize {
                break;
            }
            pos[k] = 0;
        }
    }
    let base = Tensor::from_slice(&rows, &[1, points, d as i64 + 1])?.cast(dt)?;
    let grid = base.matmul(&theta.transpose(1, 2)?)?;
    let mut shape = vec![size[0]];
    shape.extend(spatial);
    shape.push(d as i64);
    Ok(vec![Value::Tensor(TensorValue::from_tensor_as(
        grid.reshape(&shape)?,
        tv.elem(),
    )?)])
}
