//! Index-valued ops and lookups: argmax/argmin, one_hot, embedding. There is no gather
//! in the IR: a lookup compares the indices with `arange` (a one-hot mask) and reduces,
//! so its gradient is that of a masked sum.

use dtype::DType;

use crate::error::{Result, TensorError, named};
use crate::tensor::Tensor;

impl Tensor {
    /// The index of the first maximum along `axis` (i64, as PyTorch).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.argmax(1, false)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn argmax(&self, axis: isize, keepdim: bool) -> Result<Tensor> {
        let rank = self.shape().len().max(1);
        let a = self.axis_of("argmax", axis, rank)?;
        named("argmax", || {
            if self.shape().is_empty() {
                return Tensor::full(&[], 0.0, DType::I64);
            }
            let n = self.shape()[a];
            let is_max = self.eq(&self.max(&[a as isize], true)?)?;
            // the first maximum has the largest n - index
            let mut shape = vec![1; self.shape().len()];
            shape[a] = n;
            let countdown = Tensor::positions(n, self.device())?
                .neg()
                .add_scalar(n as f64)?
                .reshape(&shape)?;
            let zero = countdown.mul_scalar(0.0)?;
            let score = is_max.where_(&countdown, &zero)?;
            score
                .max(&[a as isize], keepdim)?
                .neg()
                .add_scalar(n as f64)
        })
    }

    /// The index of the first minimum along `axis` (i64).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.argmin(1, false)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn argmin(&self, axis: isize, keepdim: bool) -> Result<Tensor> {
        named("argmin", || self.neg().argmax(axis, keepdim))
    }

    /// `(.., classes)` bools: true at each index's class (indices are integers in
    /// `0..classes`; others give an all-false row).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let y = Tensor::from_slice(&[2i64, 0], &[2])?;
    /// let h = y.one_hot(3)?; // [[F, F, T], [T, F, F]]
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn one_hot(&self, classes: i64) -> Result<Tensor> {
        if !self.dtype().is_int() || classes < 1 {
            return Err(TensorError::Invalid {
                op: "one_hot",
                why: format!(
                    "needs integer indices and classes >= 1, got {} and {classes}",
                    self.dtype()
                ),
            });
        }
        named("one_hot", || {
            let mut shape = self.shape().to_vec();
            shape.push(1);
            let classes_row = Tensor::positions(classes, self.device())?;
            self.cast(DType::I64)?.reshape(&shape)?.eq(&classes_row)
        })
    }

    /// Rows of `weight` (`(num, dim)`) at these integer indices: `(.., dim)`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let w = Tensor::rand(&[10, 4])?;
    /// let idx = Tensor::from_slice(&[2i64, 7], &[2])?;
    /// let rows = idx.embedding(&w)?; // (2, 4)
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn embedding(&self, weight: &Tensor) -> Result<Tensor> {
        if weight.shape().len() != 2 || !self.dtype().is_int() {
            return Err(TensorError::Invalid {
                op: "embedding",
                why: format!(
                    "needs integer indices and a (num, dim) weight, got {} indices and weight {:?}",
                    self.dtype(),
                    weight.shape()
                ),
            });
        }
        let num = weight.shape()[0];
        named("embedding", || {
            // (.., num, 1) mask times (num, dim) rows, summed over num
            let mask = self.one_hot(num)?.unsqueeze(self.shape().len() + 1)?;
            let rows = mask.cast(weight.dtype())?.mul(weight)?;
            rows.sum(&[-2], false)
        })
    }
}
