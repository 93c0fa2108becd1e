//! `mode`: the most frequent value along an axis, as PyTorch's. Each element's count is
//! a sum of comparisons with its row (`n^2` work per row, parallel and fused, as `sort`
//! is); the mode is the smallest value of the highest count, its index the last position
//! holding it, and the value is gathered from there, so the gradient goes to that one
//! element, as in PyTorch.

use dtype::DType;

use crate::error::{Result, TensorError, named};
use crate::tensor::Tensor;

const OP: &str = "mode";

impl Tensor {
    /// The most frequent value along `axis` and the index of its last occurrence (i64),
    /// as PyTorch's `mode`: of values equally frequent, the smallest. NaNs count as one
    /// value, larger than every number (PyTorch may give another index for a NaN mode).
    /// The gradient reaches the element at the index.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[3.0f32, 1.0, 3.0, 1.0, 2.0], &[5])?;
    /// let (value, index) = x.mode(0, false)?; // 1.0 and 3
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn mode(&self, axis: isize, keepdim: bool) -> Result<(Tensor, Tensor)> {
        let rank = self.shape().len();
        let a = self.axis_of(OP, axis, rank.max(1))?;
        if rank == 0 {
            return Ok((self.clone(), self.scalar_like(0.0).cast(DType::I64)?));
        }
        let n = self.shape()[a];
        if n == 0 {
            return Err(TensorError::Invalid {
                op: OP,
                why: format!(
                    "dim {a} of shape {:?} is empty: it has no mode",
                    self.shape()
                ),
            });
        }
        named(OP, || {
            let x = if self.dtype().is_bool() {
                self.cast(DType::U8)?
            } else {
                self.clone()
            };
            let float = x.dtype().is_float();
            // equal[.., i, j, ..]: x_i == x_j, NaN equal to NaN
            let (xi, xj) = (x.unsqueeze(a + 1)?, x.unsqueeze(a)?);
            let mut equal = xi.eq(&xj)?;
            if float {
                equal = equal.logical_or(&xi.isnan()?.logical_and(&xj.isnan()?)?)?;
            }
            let count = equal.cast(DType::I64)?.sum(&[a as isize + 1], false)?;
            let axes = [a as isize];
            let top = count.eq(&count.max(&axes, true)?)?;
            // the smallest number among the most frequent; NaN if only NaN is
            let number = if float {
                top.logical_and(&x.isnan()?.logical_not()?)?
            } else {
                top
            };
            let smallest = number.where_(&x, &x.extreme_like(true))?.min(&axes, true)?;
            let value = if float {
                let nan = x.scalar_like(f64::NAN);
                number.any(&axes, true)?.where_(&smallest, &nan)?
            } else {
                smallest
            };
            let mut at = x.eq(&value)?;
            if float {
                at = at.logical_or(&x.isnan()?.logical_and(&value.isnan()?)?)?;
            }
            let mut pshape = vec![1; rank];
            pshape[a] = n;
            let pos = Tensor::positions(n, self.device())?.reshape(&pshape)?;
            let index = at.where_(&pos, &pos.scalar_like(-1.0))?.max(&axes, true)?;
            let values = self.gather(a as isize, &index)?;
            if keepdim {
                Ok((values, index))
            } else {
                Ok((values.squeeze_axes(&axes)?, index.squeeze_axes(&axes)?))
            }
        })
    }
}
