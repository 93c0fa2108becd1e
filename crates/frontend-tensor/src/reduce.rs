//! Reductions over axes: sum, max, min, mean. A REDUCE node keeps reduced dims as size 1;
//! without `keepdim` a reshape drops them. Negative axes count from the end; no axes
//! means all of them.

use dtype::{DType, sum_acc_dtype};
use uop_ir::{Arg, Op, UOp};

use crate::error::{Result, TensorError, named};
use crate::tensor::Tensor;

impl Tensor {
    fn normalize_axes(&self, op: &'static str, axes: &[isize]) -> Result<Vec<usize>> {
        let rank = self.shape().len();
        if axes.is_empty() {
            return Ok((0..rank).collect());
        }
        let mut out = Vec::new();
        for &a in axes {
            let n = if a < 0 { a + rank as isize } else { a };
            if n < 0 || n >= rank as isize {
                return Err(TensorError::Axis {
                    op,
                    axis: a,
                    shape: self.shape().to_vec(),
                });
            }
            if !out.contains(&(n as usize)) {
                out.push(n as usize);
            }
        }
        out.sort_unstable();
        Ok(out)
    }

    fn reduce(&self, op: Op, name: &'static str, axes: &[isize], keepdim: bool) -> Result<Tensor> {
        let axes = self.normalize_axes(name, axes)?;
        if self.shape().is_empty() {
            // a scalar reduces as one element
            return named(name, || self.reshape(&[1])?.reduce(op, name, &[0], false));
        }
        let mut kept = self.shape().to_vec();
        axes.iter().for_each(|a| kept[*a] = 1);
        if axes.iter().any(|&a| self.shape()[a] == 0) {
            // a fold of no elements is the op's identity (a max of none is undefined)
            let identity = match op {
                Op::Add => 0.0,
                Op::Mul => 1.0,
                // `any` of nothing is false
                Op::Max if self.dtype().is_bool() => 0.0,
                _ => {
                    return Err(TensorError::Invalid {
                        op: name,
                        why: format!("reduces an empty dim of shape {:?}", self.shape()),
                    });
                }
            };
            let out = Tensor::full(&kept, identity, self.dtype())?;
            let out = Tensor::from_node(out.node(), kept.clone(), self.device());
            return if keepdim {
                Ok(out)
            } else {
                out.reshape(&dropped_dims(&kept, &axes))
            };
        }
        let node = UOp::new(
            Op::Reduce,
            self.dtype(),
            [self.node()],
            Arg::Reduce {
                op,
                axes: axes.clone().into(),
            },
        );
        let out = self.derive(node, kept.clone());
        if keepdim {
            return Ok(out);
        }
        out.reshape(&dropped_dims(&kept, &axes))
    }

    /// Sum over `axes` (all when empty), as PyTorch sums: a float sum has the input's
    /// dtype (f16, bf16 and fp8 accumulate in f32 and round once), bools and integers sum
    /// to i64 (u64 to u64). Long float sums are blocked so that no accumulator adds more
    /// than a block of terms (see rangeify's `block_reduce`).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.sum(&[1], false)?; // over the last dim
    /// let all = x.sum(&[], false)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn sum(&self, axes: &[isize], keepdim: bool) -> Result<Tensor> {
        let (acc, out) = self.accumulation()?;
        self.sum_as(acc, axes, keepdim)?.cast(out)
    }

    /// Sum over `axes` computed and returned in `dtype` (PyTorch's `sum(dtype=...)`).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let s = x.sum_dtype(&[], false, DType::F64)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn sum_dtype(&self, axes: &[isize], keepdim: bool, dtype: DType) -> Result<Tensor> {
        named("sum", || {
            let acc = if dtype.is_narrow_float() {
                DType::F32
            } else {
                dtype
            };
            self.sum_as(acc, axes, keepdim)?.cast(dtype)
        })
    }

    /// The dtype a sum or product of this tensor accumulates in, and the dtype of its
    /// result: floats keep theirs, integers and bools give their accumulator (i64).
    fn accumulation(&self) -> Result<(DType, DType)> {
        let acc = sum_acc_dtype(self.dtype())?;
        let out = if self.dtype().is_float() {
            self.dtype()
        } else {
            acc
        };
        Ok((acc, out))
    }

    fn sum_as(&self, acc: DType, axes: &[isize], keepdim: bool) -> Result<Tensor> {
        self.cast(acc)?.reduce(Op::Add, "sum", axes, keepdim)
    }

    /// Product over `axes` (integers and bools multiply as i64, narrow floats in f32).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.prod(&[1], false)?; // over the last dim
    /// let all = x.prod(&[], false)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn prod(&self, axes: &[isize], keepdim: bool) -> Result<Tensor> {
        let (acc, out) = self.accumulation()?;
        named("prod", || {
            self.cast(acc)?
                .reduce(Op::Mul, "prod", axes, keepdim)?
                .cast(out)
        })
    }

    /// Whether any element along `axes` is nonzero: bool (u8 for a u8 input, as PyTorch).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.any(&[1], false)?; // over the last dim
    /// let all = x.any(&[], false)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn any(&self, axes: &[isize], keepdim: bool) -> Result<Tensor> {
        named("any", || {
            self.cast(DType::Bool)?
                .reduce(Op::Max, "any", axes, keepdim)?
                .cast(self.truth_dtype())
        })
    }

    /// Whether every element along `axes` is nonzero: bool (u8 for a u8 input).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.all(&[1], false)?; // over the last dim
    /// let all = x.all(&[], false)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn all(&self, axes: &[isize], keepdim: bool) -> Result<Tensor> {
        named("all", || {
            self.logical_not()?
                .any(axes, keepdim)?
                .logical_not()?
                .cast(self.truth_dtype())
        })
    }

    /// What `any`/`all` return: u8 for u8 (PyTorch keeps it), bool otherwise.
    fn truth_dtype(&self) -> DType {
        if self.dtype() == DType::U8 {
            DType::U8
        } else {
            DType::Bool
        }
    }

    /// Variance over `axes` dividing by `n - correction` (PyTorch's `var(correction=)`:
    /// 1 is the unbiased estimate, PyTorch's default; `var` is `correction = 0`).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let v = x.var_correction(&[1], 1.0, false)?; // the unbiased variance
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn var_correction(&self, axes: &[isize], correction: f64, keepdim: bool) -> Result<Tensor> {
        let count: i64 = self
            .normalize_axes("var", axes)?
            .iter()
            .map(|a| self.shape()[*a])
            .product();
        named("var", || {
            self.via_f32(|x| {
                let centered = x.sub(&x.mean(axes, true)?)?;
                // no degrees of freedom left: 0 / 0 is NaN, as in PyTorch
                let scale = 1.0 / (count as f64 - correction).max(0.0);
                centered.square()?.sum(axes, keepdim)?.mul_scalar(scale)
            })
        })
    }

    /// Standard deviation over `axes` with `correction` (see `var_correction`).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let s = x.std_correction(&[1], 1.0, false)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn std_correction(&self, axes: &[isize], correction: f64, keepdim: bool) -> Result<Tensor> {
        named("std", || {
            self.var_correction(axes, correction, keepdim)?.sqrt()
        })
    }

    /// Standard deviation over `axes` (all when empty) with PyTorch's default correction
    /// of 1: the square root of the unbiased variance, dividing by `n - 1` (NaN when
    /// `n <= 1`). Floats only, as PyTorch; `std_correction` takes another correction.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let s = x.std(&[1], false)?; // over the last dim
    /// let all = x.std(&[], false)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn std(&self, axes: &[isize], keepdim: bool) -> Result<Tensor> {
        if !self.dtype().is_float() {
            return Err(TensorError::DType {
                op: "std",
                dtype: self.dtype(),
            });
        }
        self.std_correction(axes, 1.0, keepdim)
    }

    /// `max`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.max(&[1], false)?; // over the last dim
    /// let all = x.max(&[], false)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn max(&self, axes: &[isize], keepdim: bool) -> Result<Tensor> {
        self.reduce(Op::Max, "max", axes, keepdim)
    }

    /// `min`: floats as `-max(-x)`; integers and bools as `!max(!x)` (negation would
    /// wrap at an unsigned 0 or a signed minimum; `!` reverses either order exactly).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.min(&[1], false)?; // over the last dim
    /// let all = x.min(&[], false)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn min(&self, axes: &[isize], keepdim: bool) -> Result<Tensor> {
        named("min", || {
            if self.dtype().is_float() {
                Ok(self.neg().max(axes, keepdim)?.neg())
            } else {
                self.bitwise_not()?.max(axes, keepdim)?.bitwise_not()
            }
        })
    }

    /// Mean over `axes`: a float of the input's dtype (integers give f32).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.mean(&[1], false)?; // over the last dim
    /// let all = x.mean(&[], false)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn mean(&self, axes: &[isize], keepdim: bool) -> Result<Tensor> {
        let count: i64 = self
            .normalize_axes("mean", axes)?
            .iter()
            .map(|a| self.shape()[*a])
            .product();
        named("mean", || {
            self.via_f32(|x| x.sum(axes, keepdim)?.mul_scalar(1.0 / count as f64))
        })
    }

    /// Population variance over `axes`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.var(&[1], false)?; // over the last dim
    /// let all = x.var(&[], false)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn var(&self, axes: &[isize], keepdim: bool) -> Result<Tensor> {
        named("var", || {
            self.via_f32(|x| {
                let centered = x.sub(&x.mean(axes, true)?)?;
                centered.square()?.mean(axes, keepdim)
            })
        })
    }
}

/// `shape` without the dims `axes`.
fn dropped_dims(shape: &[i64], axes: &[usize]) -> Vec<i64> {
    shape
        .iter()
        .enumerate()
        .filter(|(i, _)| !axes.contains(i))
        .map(|(_, s)| *s)
        .collect()
}
