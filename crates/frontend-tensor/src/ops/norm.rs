//! Normalizations as functions (the `nn` modules hold their parameters and statistics):
//! `batch_norm`, `group_norm`, `instance_norm`, each with an optional per-channel affine
//! (channels are dim 1). Statistics are in f32 on narrow floats, rounded once.

use crate::error::{Result, TensorError, named};
use crate::tensor::Tensor;

impl Tensor {
    /// `(x - mean) / sqrt(var + eps) * weight + bias` per channel. With `running` the
    /// given statistics are used (evaluation); without, the batch's own (over every dim
    /// but 1, population variance).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::randn(&[4, 3, 2, 2])?;
    /// let y = x.batch_norm(None, None, None, 1e-5)?; // batch statistics
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn batch_norm(
        &self,
        running: Option<(&Tensor, &Tensor)>,
        weight: Option<&Tensor>,
        bias: Option<&Tensor>,
        eps: f64,
    ) -> Result<Tensor> {
        let rank = self.shape().len();
        if rank < 2 {
            return Err(TensorError::Axis {
                op: "batch_norm",
                axis: 1,
                shape: self.shape().to_vec(),
            });
        }
        let c = self.shape()[1];
        let mut cshape = vec![1; rank];
        cshape[1] = c;
        let axes: Vec<isize> = (0..rank as isize).filter(|&a| a != 1).collect();
        named("batch_norm", || {
            self.via_f32(|x| {
                let (mean, var) = match running {
                    Some((m, v)) => (
                        m.reshape(&cshape)?.cast(x.dtype())?,
                        v.reshape(&cshape)?.cast(x.dtype())?,
                    ),
                    None => (x.mean(&axes, true)?, x.var(&axes, true)?),
                };
                let normed = x.sub(&mean)?.mul(&var.add_scalar(eps)?.rsqrt()?)?;
                affine(&normed, weight, bias, &cshape)
            })
        })
    }

    /// Normalizes each group of `groups` channels (and the dims after them) per sample.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::randn(&[2, 6, 4, 4])?;
    /// let y = x.group_norm(3, None, None, 1e-5)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn group_norm(
        &self,
        groups: i64,
        weight: Option<&Tensor>,
        bias: Option<&Tensor>,
        eps: f64,
    ) -> Result<Tensor> {
        let rank = self.shape().len();
        if rank < 2 || groups < 1 || self.shape()[1] % groups != 0 {
            return Err(TensorError::Invalid {
                op: "group_norm",
                why: format!(
                    "{groups} groups for input {:?}: channels (dim 1) must split evenly",
                    self.shape()
                ),
            });
        }
        let (n, c) = (self.shape()[0], self.shape()[1]);
        let mut cshape = vec![1; rank];
        cshape[1] = c;
        named("group_norm", || {
            self.via_f32(|x| {
                let grouped = x.reshape(&[n, groups, -1])?;
                let normed = grouped
                    .sub(&grouped.mean(&[2], true)?)?
                    .mul(&grouped.var(&[2], true)?.add_scalar(eps)?.rsqrt()?)?
                    .reshape(x.shape())?;
                affine(&normed, weight, bias, &cshape)
            })
        })
    }

    /// Normalizes every channel of every sample over its spatial dims.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::randn(&[2, 3, 4, 4])?;
    /// let y = x.instance_norm(None, None, 1e-5)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn instance_norm(
        &self,
        weight: Option<&Tensor>,
        bias: Option<&Tensor>,
        eps: f64,
    ) -> Result<Tensor> {
        let c = self.shape().get(1).copied().unwrap_or(1);
        named("instance_norm", || self.group_norm(c, weight, bias, eps))
    }
}

fn affine(
    x: &Tensor,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    cshape: &[i64],
) -> Result<Tensor> {
    let x = match weight {
        Some(w) => x.mul(&w.reshape(cshape)?.cast(x.dtype())?)?,
        None => x.clone(),
    };
    match bias {
        Some(b) => x.add(&b.reshape(cshape)?.cast(x.dtype())?),
        None => Ok(x),
    }
}
