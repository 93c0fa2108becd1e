//! Normalizations along an axis: softmax, log_softmax, layernorm. Each runs in f32 on
//! narrow floats and rounds once; softmax and layernorm are one kernel each.

use crate::error::{Result, named};
use crate::tensor::Tensor;

impl Tensor {
    /// `exp(x - max) / sum(exp(x - max))` along `axis`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.softmax(-1)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn softmax(&self, axis: isize) -> Result<Tensor> {
        named("softmax", || {
            self.via_f32(|x| {
                let e = x.sub(&x.max(&[axis], true)?)?.exp()?;
                e.div(&e.sum(&[axis], true)?)
            })
        })
    }

    /// `(x - mean) / sqrt(var + eps)` along `axis` (no affine).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.layernorm(-1, 1e-5)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn layernorm(&self, axis: isize, eps: f64) -> Result<Tensor> {
        named("layernorm", || {
            self.via_f32(|x| {
                let centered = x.sub(&x.mean(&[axis], true)?)?;
                let var = centered.square()?.mean(&[axis], true)?;
                centered.mul(&var.add_scalar(eps)?.sqrt()?.recip()?)
            })
        })
    }

    /// `x - max - log(sum(exp(x - max)))` along `axis`: the log of softmax, without
    /// its underflow.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.log_softmax(-1)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn log_softmax(&self, axis: isize) -> Result<Tensor> {
        named("log_softmax", || {
            self.via_f32(|x| {
                let shifted = x.sub(&x.max(&[axis], true)?)?;
                shifted.sub(&shifted.exp()?.sum(&[axis], true)?.log()?)
            })
        })
    }

    /// `log(sum(exp(x)))` along `axes`, computed stably.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.logsumexp(&[1], false)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn logsumexp(&self, axes: &[isize], keepdim: bool) -> Result<Tensor> {
        named("logsumexp", || {
            self.via_f32(|x| {
                let m = x.max(axes, true)?;
                let s = x.sub(&m)?.exp()?.sum(axes, true)?.log()?.add(&m)?;
                if keepdim { Ok(s) } else { s.squeeze_axes(axes) }
            })
        })
    }
}
