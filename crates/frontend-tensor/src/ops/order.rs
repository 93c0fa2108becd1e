//! Order statistics without a sort primitive: each element's stable rank along an axis is
//! a count of comparisons (`x_j < x_i`, or equal with `j < i`), and the sorted values are
//! picked by comparing ranks with positions. That is `n^2` work per row, parallel and
//! fused, and its gradient is that of a masked sum. NaN sorts after every number, as in
//! PyTorch. Also scans (`cumsum`, `cumprod`, `cummax`, `cummin`) as windows over a padded
//! axis (`n^2` work too).

use dtype::DType;

use crate::error::{Result, TensorError, named};
use crate::tensor::Tensor;

impl Tensor {
    /// The stable rank of each element along `axis` (i64), ascending or descending.
    fn ranks(&self, axis: usize, descending: bool) -> Result<Tensor> {
        let rank = self.shape().len();
        let n = self.shape()[axis];
        // x_i along `axis`, x_j along a new axis after it
        let xi = self.unsqueeze(axis + 1)?;
        let xj = self.unsqueeze(axis)?;
        // NaN is the largest: compare (isnan, value) pairs
        let (ni, nj) = (xi.isnan()?, xj.isnan()?);
        let before = |a: &Tensor, b: &Tensor, na: &Tensor, nb: &Tensor| -> Result<Tensor> {
            // a before b in ascending order
            let num = na
                .logical_not()?
                .logical_and(&nb.logical_not()?)?
                .logical_and(&a.lt(b)?)?;
            num.logical_or(&na.logical_not()?.logical_and(nb)?)
        };
        let j_first = if descending {
            before(&xi, &xj, &ni, &nj)?
        } else {
            before(&xj, &xi, &nj, &ni)?
        };
        let equal = ni.logical_and(&nj)?.logical_or(&xj.eq(&xi)?)?;
        let mut ishape = vec![1; rank + 1];
        ishape[axis] = n;
        let mut jshape = vec![1; rank + 1];
        jshape[axis + 1] = n;
        let i_pos = Tensor::positions(n, self.device())?.reshape(&ishape)?;
        let j_pos = Tensor::positions(n, self.device())?.reshape(&jshape)?;
        let tie_first = equal.logical_and(&j_pos.lt(&i_pos)?)?;
        j_first
            .logical_or(&tie_first)?
            .cast(DType::I64)?
            .sum(&[axis as isize + 1], false)
    }

    /// Values sorted along `axis` (stable), and the indices they came from (i64).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let (values, indices) = x.sort(1, false)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn sort(&self, axis: isize, descending: bool) -> Result<(Tensor, Tensor)> {
        let rank = self.shape().len().max(1);
        let a = self.axis_of("sort", axis, rank)?;
        if self.shape().is_empty() {
            return Ok((self.clone(), Tensor::full(&[], 0.0, DType::I64)?));
        }
        named("sort", || {
            let n = self.shape()[a];
            let r = self.ranks(a, descending)?;
            // picked[.., k, i] = rank_i == k
            let mut kshape = vec![1; self.shape().len() + 1];
            kshape[a] = n;
            let k = Tensor::positions(n, self.device())?.reshape(&kshape)?;
            let picked = r.unsqueeze(a)?.eq(&k)?;
            let src = self.unsqueeze(a)?;
            let zero = src.full_like_value(0.0)?;
            let values = picked.where_(&src, &zero)?.sum(&[a as isize + 1], false)?;
            let mut ishape = vec![1; self.shape().len() + 1];
            ishape[a + 1] = n;
            let idx = Tensor::positions(n, self.device())?.reshape(&ishape)?;
            let indices = picked
                .where_(&idx, &idx.mul_scalar(0.0)?)?
                .sum(&[a as isize + 1], false)?;
            Ok((values.cast(self.dtype())?, indices))
        })
    }

    /// The indices that sort `axis` (stable).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let order = x.argsort(1, true)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn argsort(&self, axis: isize, descending: bool) -> Result<Tensor> {
        Ok(self.sort(axis, descending)?.1)
    }

    /// The `k` largest (or smallest) values along `axis`, in order, and their indices.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let (values, indices) = x.topk(1, 1, true)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn topk(&self, k: i64, axis: isize, largest: bool) -> Result<(Tensor, Tensor)> {
        let rank = self.shape().len().max(1);
        let a = self.axis_of("topk", axis, rank)?;
        let n = self.shape().get(a).copied().unwrap_or(1);
        if k < 0 || k > n {
            return Err(TensorError::Invalid {
                op: "topk",
                why: format!("k = {k} is not in 0..={n} for shape {:?}", self.shape()),
            });
        }
        let (v, i) = self.sort(axis, largest)?;
        let mut keep: Vec<(i64, i64)> = v.shape().iter().map(|&d| (0, d)).collect();
        keep[a] = (0, k);
        named("topk", || Ok((v.shrink(&keep)?, i.shrink(&keep)?)))
    }

    /// The lower median along `axis` (PyTorch's `median`: the element at (n-1)/2 of the
    /// sorted values).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let m = x.median(1, false)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn median(&self, axis: isize, keepdim: bool) -> Result<Tensor> {
        let rank = self.shape().len().max(1);
        let a = self.axis_of("median", axis, rank)?;
        let n = self.shape().get(a).copied().unwrap_or(1);
        if n == 0 {
            return Err(TensorError::Invalid {
                op: "median",
                why: format!("median of an empty dim of shape {:?}", self.shape()),
            });
        }
        named("median", || {
            let (v, _) = self.sort(a as isize, false)?;
            let mut keep: Vec<(i64, i64)> = v.shape().iter().map(|&d| (0, d)).collect();
            keep[a] = ((n - 1) / 2, (n - 1) / 2 + 1);
            let m = v.shrink(&keep)?;
            if keepdim {
                Ok(m)
            } else {
                m.squeeze_axes(&[a as isize])
            }
        })
    }

    /// Windows `(.., n, n)` over `axis` moved last: element `(i, w)` is `x[i - n + 1 + w]`,
    /// `pad` before the start.
    fn prefix_windows(&self, axis: usize, pad: f64) -> Result<Tensor> {
        let rank = self.shape().len();
        let n = self.shape()[axis];
        let x = self.transpose(axis, rank - 1)?;
        let mut pads = vec![(0, 0); rank];
        pads[rank - 1] = (n - 1, 0);
        let padded = if pad == 0.0 {
            x.pad(&pads)?
        } else {
            let inside = Tensor::ones(x.shape(), DType::Bool)?.pad(&pads)?;
            inside.where_(&x.pad(&pads)?, &x.scalar_like(pad).cast(x.dtype())?)?
        };
        padded.window_last_pub(n)
    }

    fn scan(
        &self,
        op: &'static str,
        axis: isize,
        pad: f64,
        fold: impl Fn(&Tensor) -> Result<Tensor>,
    ) -> Result<Tensor> {
        let rank = self.shape().len();
        if rank == 0 {
            return Ok(self.clone());
        }
        let a = self.axis_of(op, axis, rank)?;
        if self.shape()[a] == 0 {
            return Ok(self.clone());
        }
        named(op, || {
            let w = self.prefix_windows(a, pad)?;
            fold(&w)?.transpose(a, rank - 1)
        })
    }

    /// Running sum along `axis` (integers and bools sum to i64, as `sum`).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.cumsum(1)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn cumsum(&self, axis: isize) -> Result<Tensor> {
        self.scan("cumsum", axis, 0.0, |w| w.sum(&[-1], false))
    }

    /// Running product along `axis`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.cumprod(1)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn cumprod(&self, axis: isize) -> Result<Tensor> {
        self.scan("cumprod", axis, 1.0, |w| w.prod(&[-1], false))
    }

    /// Running maximum along `axis` (values).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.cummax(1)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn cummax(&self, axis: isize) -> Result<Tensor> {
        self.scan("cummax", axis, f64::NEG_INFINITY, |w| w.max(&[-1], false))
    }

    /// Running minimum along `axis` (values).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.cummin(1)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn cummin(&self, axis: isize) -> Result<Tensor> {
        self.scan("cummin", axis, f64::INFINITY, |w| w.min(&[-1], false))
    }
}
