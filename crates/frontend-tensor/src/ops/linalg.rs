//! Matrix products (matmul + bias + relu is one kernel), softmax and layernorm.

use dtype::DType;

use crate::error::{Result, TensorError, named};
use crate::tensor::Tensor;

impl Tensor {
    /// `[m, k] @ [k, n] -> [m, n]`, as a broadcast multiply reduced over `k`.
    pub fn matmul(&self, other: &Tensor) -> Result<Tensor> {
        let (a, b) = (self.shape(), other.shape());
        if a.len() != 2 || b.len() != 2 || a[1] != b[0] {
            return Err(TensorError::Matmul {
                a: a.to_vec(),
                b: b.to_vec(),
            });
        }
        let (m, k, n) = (a[0], a[1], b[1]);
        let lhs = self.reshape(&[m, 1, k])?.expand(&[m, n, k])?;
        let rhs = other
            .transpose(0, 1)?
            .reshape(&[1, n, k])?
            .expand(&[m, n, k])?;
        // products and sums of narrow floats in f32, rounded once (as PyTorch)
        let dtype = dtype::least_upper_dtype(&[self.dtype(), other.dtype()])?;
        let wide = if dtype.is_narrow_float() {
            DType::F32
        } else {
            dtype
        };
        lhs.cast(wide)?
            .mul(&rhs.cast(wide)?)?
            .sum(&[2], false)?
            .cast(dtype)
    }

    /// `exp(x - max) / sum(exp(x - max))` along `axis`.
    pub fn softmax(&self, axis: isize) -> Result<Tensor> {
        named("softmax", || {
            self.via_f32(|x| {
                let e = x.sub(&x.max(&[axis], true)?)?.exp()?;
                e.div(&e.sum(&[axis], true)?)
            })
        })
    }

    /// `(x - mean) / sqrt(var + eps)` along `axis` (no affine).
    pub fn layernorm(&self, axis: isize, eps: f64) -> Result<Tensor> {
        named("layernorm", || {
            self.via_f32(|x| {
                let centered = x.sub(&x.mean(&[axis], true)?)?;
                let var = centered.square()?.mean(&[axis], true)?;
                centered.mul(&var.add_scalar(eps)?.sqrt()?.recip()?)
            })
        })
    }
}
