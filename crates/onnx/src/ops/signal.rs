//! Signal processing: `DFT` (forward or inverse, real or complex input, `onesided`,
//! a `dft_length` that pads or cuts), `STFT` (windowed frames, each transformed), and
//! the host-computed constants `HannWindow`, `HammingWindow`, `BlackmanWindow` and
//! `MelWeightMatrix`. A transform is two matmuls with cosine and sine matrices built on
//! the host; complex values are a trailing dim of 2 (real, imaginary).

use std::f64::consts::PI;

use frontend_tensor::Tensor;

use super::{Inputs, OpCtx, OpDef, axis, host_budget, onnx, out_host};
use crate::elem::ElemType;
use crate::error::{Result, invalid};
use crate::host::HostTensor;
use crate::value::{TensorValue, Value};

pub(crate) const OPS: &[OpDef] = &[
    onnx("DFT", dft),
    onnx("STFT", stft),
    onnx("HannWindow", hann),
    onnx("HammingWindow", hamming),
    onnx("BlackmanWindow", blackman),
    onnx("MelWeightMatrix", mel_weight_matrix),
];

/// The transform of `(re, im)` (`(.., len)` each, `im` absent for real input) along
/// the last dim with `n` points: `(re, im)` of `(.., bins)`.
fn transform(
    re: &Tensor,
    im: Option<&Tensor>,
    n: i64,
    inverse: bool,
    onesided: bool,
) -> Result<(Tensor, Tensor)> {
    let dt = re.dtype();
    let len = re.shape()[re.shape().len() - 1];
    let fit = |t: &Tensor| -> Result<Tensor> {
        let r = t.shape().len();
        if len < n {
            let mut pads = vec![(0, 0); r];
            pads[r - 1] = (0, n - len);
            Ok(t.pad(&pads)?)
        } else if len > n {
            let mut keep: Vec<(i64, i64)> = t.shape().iter().map(|&d| (0, d)).collect();
            keep[r - 1] = (0, n);
            Ok(t.shrink(&keep)?)
        } else {
            Ok(t.clone())
        }
    };
    let bins = if onesided { n / 2 + 1 } else { n };
    host_budget(n.saturating_mul(bins), "the transform matrices")?;
    let (mut cos, mut sin) = (
        Vec::with_capacity((n * bins) as usize),
        Vec::with_capacity((n * bins) as usize),
    );
    for j in 0..n {
        for k in 0..bins {
            let a = 2.0 * PI * ((j * k) % n) as f64 / n as f64;
            cos.push(a.cos());
            sin.push(a.sin());
        }
    }
    let c = Tensor::from_slice(&cos, &[n, bins])?.cast(dt)?;
    let s = Tensor::from_slice(&sin, &[n, bins])?.cast(dt)?;
    let xr = fit(re)?;
    let (rc, rs) = (xr.matmul(&c)?, xr.matmul(&s)?);
    let (mut yr, mut yi) = if inverse { (rc, rs) } else { (rc, rs.neg()) };
    if let Some(im) = im {
        let xi = fit(im)?;
        let (ic, is) = (xi.matmul(&c)?, xi.matmul(&s)?);
        if inverse {
            yr = yr.sub(&is)?;
            yi = yi.add(&ic)?;
        } else {
            yr = yr.add(&is)?;
            yi = yi.add(&ic)?;
        }
    }
    if inverse {
        let scale = Tensor::full(&[], 1.0 / n as f64, dt)?;
        yr = yr.mul(&scale)?;
        yi = yi.mul(&scale)?;
    }
    Ok((yr, yi))
}

/// The real and imaginary parts of a `(.., 1|2)` tensor.
fn parts(x: &Tensor) -> Result<(Tensor, Option<Tensor>)> {
    let s = x.shape().to_vec();
    let r = s.len();
    let part = |k: i64| -> Result<Tensor> {
        let mut keep: Vec<(i64, i64)> = s.iter().map(|&d| (0, d)).collect();
        keep[r - 1] = (k, k + 1);
        Ok(x.shrink(&keep)?.squeeze_axes(&[r as isize - 1])?)
    };
    match s.last() {
        Some(1) => Ok((part(0)?, None)),
        Some(2) => Ok((part(0)?, Some(part(1)?))),
        _ => Err(invalid!(
            "input {s:?} must end in a dim of 1 (real) or 2 (complex)"
        )),
    }
}

fn dft(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let xv = i.tensor(0)?;
    let x = ctx.t(xv)?;
    let r = x.shape().len();
    if r < 2 {
        return Err(invalid!(
            "input {:?} must have a signal dim and a complex dim",
            x.shape()
        ));
    }
    let a = if ctx.opset >= 20 {
        match i.opt_tensor(2)? {
            Some(t) => t.scalar_i64()?,
            None => -2,
        }
    } else {
        ctx.int("axis", 1)?
    };
    let a = axis(a, r)?;
    if a == r - 1 {
        return Err(invalid!("axis {a} is the complex dim"));
    }
    let n = match i.opt_tensor(1)? {
        Some(t) => t.scalar_i64()?,
        None => x.shape()[a],
    };
    if n < 1 {
        return Err(invalid!("dft_length {n} must be positive"));
    }
    let (re, im) = parts(&x)?;
    // the signal axis last
    let rr = r - 1;
    let mut order: Vec<usize> = (0..rr).filter(|&d| d != a).collect();
    order.push(a);
    let mut back = vec![0; rr];
    for (k, &d) in order.iter().enumerate() {
        back[d] = k;
    }
    let re = re.permute(&order)?;
    let im = im.map(|t| t.permute(&order)).transpose()?;
    let inverse = ctx.int("inverse", 0)? != 0;
    let onesided = ctx.int("onesided", 0)? != 0;
    let (yr, yi) = transform(&re, im.as_ref(), n, inverse, onesided)?;
    let y = Tensor::stack(&[&yr.permute(&back)?, &yi.permute(&back)?], -1)?;
    Ok(vec![Value::Tensor(TensorValue::from_tensor_as(
        y,
        xv.elem(),
    )?)])
}

fn stft(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let xv = i.tensor(0)?;
    let x = ctx.t(xv)?;
    let s = x.shape().to_vec();
    if s.len() != 3 {
        return Err(invalid!("signal {s:?} must be (batch, length, 1|2)"));
    }
    let step = i.tensor(1)?.scalar_i64()?;
    let window = i.opt_tensor(2)?.map(|w| ctx.t(w)).transpose()?;
    let frame = match (i.opt_tensor(3)?, &window) {
        (Some(f), _) => f.scalar_i64()?,
        (None, Some(w)) => w.shape()[0],
        (None, None) => return Err(invalid!("needs a window or a frame_length")),
    };
    if step < 1 || frame < 1 || frame > s[1] {
        return Err(invalid!(
            "frame_step {step} and frame_length {frame} for a signal of {}",
            s[1]
        ));
    }
    let frames = (s[1] - frame) / step + 1;
    let (re, im) = parts(&x)?;
    // (batch, frames, frame) windows of the signal
    let cut = |t: &Tensor| -> Result<Tensor> {
        let w = t.sliding_windows(&[frame], &[step], &[1])?;
        Ok(match &window {
            Some(win) => w.mul(&win.cast(t.dtype())?.reshape(&[1, 1, frame])?)?,
            None => w,
        })
    };
    let re = cut(&re)?;
    let im = im.map(|t| cut(&t)).transpose()?;
    let onesided = ctx.int("onesided", 1)? != 0;
    let (yr, yi) = transform(&re, im.as_ref(), frame, false, onesided)?;
    if yr.shape()[1] != frames {
        return Err(invalid!(
            "{} frames where {frames} were expected",
            yr.shape()[1]
        ));
    }
    let y = Tensor::stack(&[&yr, &yi], -1)?;
    Ok(vec![Value::Tensor(TensorValue::from_tensor_as(
        y,
        xv.elem(),
    )?)])
}

/// A window of `size` from cosine terms `a0 - a1 cos(2πn/N) + a2 cos(4πn/N)`.
fn window(ctx: &OpCtx, i: &Inputs, terms: &[f64]) -> Result<Vec<Value>> {
    let size = i.tensor(0)?.scalar_i64()?;
    if size < 0 {
        return Err(invalid!("size {size} must be non-negative"));
    }
    host_budget(size, "the window")?;
    let periodic = ctx.int("periodic", 1)? != 0;
    let n1 = if periodic { size } else { size - 1 } as f64;
    let vals: Vec<f64> = (0..size)
        .map(|k| {
            let x = 2.0 * PI * k as f64 / n1;
            terms
                .iter()
                .enumerate()
                .map(|(j, &a)| {
                    let sign = if j % 2 == 0 { 1.0 } else { -1.0 };
                    sign * a * (j as f64 * x).cos()
                })
                .sum()
        })
        .collect();
    let elem = ElemType::from_onnx(ctx.int("output_datatype", 1)? as i32)?;
    Ok(vec![out_host(HostTensor::from_f64s(
        elem,
        vec![size],
        &vals,
    )?)])
}

fn hann(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    window(ctx, i, &[0.5, 0.5])
}

fn hamming(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    window(ctx, i, &[25.0 / 46.0, 21.0 / 46.0])
}

fn blackman(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    window(ctx, i, &[0.42, 0.5, 0.08])
}

fn mel_weight_matrix(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let bins = i.tensor(0)?.scalar_i64()?;
    let n_fft = i.tensor(1)?.scalar_i64()?;
    let rate = i.tensor(2)?.scalar_f64()?;
    let (lo, hi) = (i.tensor(3)?.scalar_f64()?, i.tensor(4)?.scalar_f64()?);
    if bins < 1 || n_fft < 1 || rate <= 0.0 {
        return Err(invalid!(
            "num_mel_bins {bins}, dft_length {n_fft}, sample_rate {rate}"
        ));
    }
    let spec = n_fft / 2 + 1;
    let mel = |f: f64| 2595.0 * (1.0 + f / 700.0).log10();
    let (ml, mh) = (mel(lo), mel(hi));
    let step = (mh - ml) / (bins + 2) as f64;
    let points: Vec<i64> = (0..bins + 2)
        .map(|k| {
            let hz = 700.0 * (10f64.powf((k as f64 * step + ml) / 2595.0) - 1.0);
            ((n_fft + 1) as f64 * hz / rate).floor() as i64
        })
        .collect();
    let mut w = vec![0f64; host_budget(spec.saturating_mul(bins), "the mel matrix")?];
    let mut set = |j: i64, b: i64, v: f64| -> Result<()> {
        if !(0..spec).contains(&j) {
            return Err(invalid!("a mel band reaches bin {j} of {spec}"));
        }
        w[(j * bins + b) as usize] = v;
        Ok(())
    };
    for b in 0..bins {
        let (l, c, h) = (
            points[b as usize],
            points[b as usize + 1],
            points[b as usize + 2],
        );
        if c == l {
            set(c, b, 1.0)?;
        } else {
            for j in l..=c {
                set(j, b, (j - l) as f64 / (c - l) as f64)?;
            }
        }
        if h > c {
            for j in c..h {
                set(j, b, (h - j) as f64 / (h - c) as f64)?;
            }
        }
    }
    let elem = ElemType::from_onnx(ctx.int("output_datatype", 1)? as i32)?;
    Ok(vec![out_host(HostTensor::from_f64s(
        elem,
        vec![spec, bins],
        &w,
    )?)])
}
