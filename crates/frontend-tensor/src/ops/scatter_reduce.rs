//! `scatter_reduce`: PyTorch's `Tensor.scatter_reduce`, built like `scatter_add` from a
//! one-hot mask of the index (see `select.rs`). Every output place along the axis sees
//! its candidates laid out on one more axis: the input's own value (with
//! `include_self`) and, for each src element, that element where its index names the
//! place and the reduction's identity elsewhere. One reduction over that axis gives
//! every place at once, and the gradient is the composition's: the sum's and the mean's
//! are PyTorch's, amax/amin spread theirs evenly over every candidate equal to the
//! result, as PyTorch does (except that without `include_self` the input's value is no
//! candidate, where PyTorch still counts it: docs/pytorch.md).

use dtype::DType;

use crate::error::{Result, TensorError, named};
use crate::tensor::Tensor;

/// How `scatter_reduce` combines the values that land on one place (PyTorch's `reduce`
/// argument: `"sum"`, `"prod"`, `"mean"`, `"amax"`, `"amin"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScatterReduce {
    Sum,
    Prod,
    /// The sum divided by the count of values (integers divide rounding down, as PyTorch).
    Mean,
    Amax,
    Amin,
}

const OP: &str = "scatter_reduce";

impl Tensor {
    /// A copy with the values of `src` combined into it at `index` along `axis` by
    /// `reduce` (PyTorch's `scatter_reduce`): `out[.., index[.., j, ..], ..]` reduces over
    /// every `src[.., j, ..]` sent there, and the input's own value too when
    /// `include_self`; a place nothing is sent to keeps the input's value. `index` is
    /// integers of the input's rank, no larger than `src` in any dim and than the input
    /// outside `axis`; `src` has the input's dtype (an empty `index` changes nothing).
    ///
    /// Out-of-range indices: an index outside `0..n` (negative ones too) sends its value
    /// nowhere, where PyTorch raises; nothing is ever read or written out of bounds.
    /// Bools reduce as logic (sum and amax are `or`, prod and amin `and`; no mean).
    ///
    /// Gradients, with respect to the input and `src` (floats): sum and mean as
    /// PyTorch's; amax/amin spread the gradient evenly over every reduced value equal to
    /// the result, as PyTorch (which, without `include_self`, also counts an input value
    /// equal to the result, then gives it nothing); prod's is `grad * result / value`,
    /// PyTorch's wherever no reduced value is 0 (a value that is 0 gets NaN, as with
    /// `prod`).
    ///
    /// The work is `index.numel() * n` comparisons (a one-hot mask), fused.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[1.0f32, 2.0, 3.0], &[3])?;
    /// let index = Tensor::from_slice(&[0i64, 0, 2], &[3])?;
    /// let src = Tensor::from_slice(&[5.0f32, 7.0, 1.0], &[3])?;
    /// let y = x.scatter_reduce(0, &index, &src, ScatterReduce::Amax, true)?; // [7, 2, 3]
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn scatter_reduce(
        &self,
        axis: isize,
        index: &Tensor,
        src: &Tensor,
        reduce: ScatterReduce,
        include_self: bool,
    ) -> Result<Tensor> {
        let rank = self.shape().len();
        let a = self.axis_of(OP, axis, rank.max(1))?;
        if !index.dtype().is_int() {
            return Err(TensorError::Invalid {
                op: OP,
                why: format!("the index must be integers, got {}", index.dtype()),
            });
        }
        if src.dtype() != self.dtype() {
            return Err(TensorError::Invalid {
                op: OP,
                why: format!(
                    "src is {} but the input is {}: they must have one dtype",
                    src.dtype(),
                    self.dtype()
                ),
            });
        }
        if reduce == ScatterReduce::Mean && self.dtype().is_bool() {
            return Err(TensorError::Invalid {
                op: OP,
                why: "the mean of bool values is not defined".into(),
            });
        }
        if index.numel() == 0 {
            return Ok(self.clone());
        }
        if rank == 0 {
            // a scalar scatters as one element
            return named(OP, || {
                let one = |t: &Tensor| t.reshape(&[t.numel()]);
                self.reshape(&[1])?
                    .scatter_reduce(0, &one(index)?, &one(src)?, reduce, include_self)?
                    .reshape(&[])
            });
        }
        let fits = index.shape().len() == rank
            && src.shape().len() == rank
            && (0..rank).all(|d| {
                index.shape()[d] <= src.shape()[d]
                    && (d == a || index.shape()[d] <= self.shape()[d])
            });
        if !fits {
            return Err(TensorError::Invalid {
                op: OP,
                why: format!(
                    "index {:?}, src {:?}, input {:?} along {a}: the index must have the input's rank and be no larger than src, nor than the input outside dim {a}",
                    index.shape(),
                    src.shape(),
                    self.shape()
                ),
            });
        }
        if self.numel() == 0 {
            return Ok(self.clone());
        }
        named(OP, || {
            self.scatter_reduce_nonempty(a, index, src, reduce, include_self)
        })
    }

    fn scatter_reduce_nonempty(
        &self,
        a: usize,
        index: &Tensor,
        src: &Tensor,
        reduce: ScatterReduce,
        include_self: bool,
    ) -> Result<Tensor> {
        let rank = self.shape().len();
        let n = self.shape()[a];
        // bools reduce as 0/1 bytes: sum and amax are `or`, prod and amin `and`
        let work = if self.dtype().is_bool() {
            DType::U8
        } else {
            self.dtype()
        };
        let x = self.cast(work)?;
        // the layout (.., k, .., n): k candidates along `a`, the n places last; the other
        // dims padded from the index's extent to the input's (padding sends nothing)
        let mut pads: Vec<(i64, i64)> = (0..rank)
            .map(|d| (0, self.shape()[d] - index.shape()[d]))
            .collect();
        pads[a] = (0, 0);
        pads.push((0, 0));
        let hit = Tensor::hits(index, n, self.device())?.pad(&pads)?;
        let sent = src
            .shrink(&index.shape().iter().map(|&d| (0, d)).collect::<Vec<_>>())?
            .cast(work)?
            .unsqueeze(rank)?
            .pad(&pads)?;
        // what a candidate not sent to a place holds: the reduction's identity
        let identity = match reduce {
            ScatterReduce::Sum | ScatterReduce::Mean => sent.scalar_like(0.0),
            ScatterReduce::Prod => sent.scalar_like(1.0),
            ScatterReduce::Amax => sent.extreme_like(false),
            ScatterReduce::Amin => sent.extreme_like(true),
        };
        let mut candidates = hit.where_(&sent, &identity)?;
        if include_self {
            // the input's value at place i is candidate (.., 0, .., i)
            let mut order: Vec<usize> = (0..rank).filter(|&d| d != a).collect();
            order.push(a);
            let own = x.permute(&order)?.unsqueeze(a)?;
            candidates = Tensor::cat(&[&own, &candidates], a as isize)?;
        }
        let axes = [a as isize];
        let reduced = match reduce {
            ScatterReduce::Sum => candidates.sum(&axes, true)?.cast(work)?,
            ScatterReduce::Prod => candidates.prod(&axes, true)?.cast(work)?,
            ScatterReduce::Amax => candidates.max(&axes, true)?,
            ScatterReduce::Amin => candidates.min(&axes, true)?,
            ScatterReduce::Mean => {
                let sent_count = hit.cast(DType::I64)?.sum(&axes, true)?;
                let count = sent_count.add_scalar(if include_self { 1.0 } else { 0.0 })?;
                // a place nothing is sent to keeps the input's value below: no 0 / 0
                let count = count.maximum(&count.scalar_like(1.0))?;
                if work.is_float() {
                    let acc = if work.is_narrow_float() {
                        DType::F32
                    } else {
                        work
                    };
                    candidates
                        .cast(acc)?
                        .sum(&axes, true)?
                        .div(&count.cast(acc)?)?
                        .cast(work)?
                } else {
                    candidates
                        .sum(&axes, true)?
                        .div_mode(&count, crate::Rounding::Floor)?
                        .cast(work)?
                }
            }
        };
        // (.., 1, .., n) -> (.., n, ..)
        let places =
            |t: &Tensor| -> Result<Tensor> { t.transpose(a, rank)?.squeeze_axes(&[rank as isize]) };
        let reduced = places(&reduced)?;
        let out = if include_self {
            reduced
        } else {
            let written = places(&hit.any(&axes, true)?)?;
            written.where_(&reduced, &x)?
        };
        out.cast(self.dtype())
    }
}
