//! Sliding windows from movement ops alone, and the pools built on them. `windows` turns
//! the last dims `(.., i1, i2)` into `(.., o1, o2, k1, k2)`: output position by window
//! offset, with stride and dilation. No gather exists in the IR: a window axis is made by
//! tiling the input (`expand` + `reshape`), cutting the tiled row into rows of a length
//! that shifts each by the dilation, and keeping every `stride`-th column. The index
//! math this leaves is the kind `symbolic` folds back to `o*s + k*d`.
//!
//! One dim: with `m = i*f + d` (`f` the smallest count that leaves room for `o*s`
//! columns), row `a` of the tiled input cut into rows of `m` starts at `a*m`, which is
//! `a*d` modulo `i`: element `(a, t)` is `x[a*d + t]` for every `t` the windows use.
//! Taking columns `t = b*s` gives `x[b*s + a*d]`.

use crate::error::{Result, TensorError, named};
use crate::tensor::Tensor;

/// Kernel size, stride and dilation of one spatial dim.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Window {
    pub kernel: i64,
    pub stride: i64,
    pub dilation: i64,
}

impl Window {
    /// How many windows fit in `i` elements (`None`: not even one).
    pub(crate) fn outputs(&self, i: i64) -> Option<i64> {
        let span = self.dilation * (self.kernel - 1) + 1;
        (i >= span && self.stride > 0).then(|| (i - span) / self.stride + 1)
    }
}

/// Options of a 2-D pool: kernel, stride (defaults to the kernel), padding, dilation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool2dOpts {
    pub kernel: (i64, i64),
    pub stride: Option<(i64, i64)>,
    pub padding: (i64, i64),
    pub dilation: (i64, i64),
}

impl Pool2dOpts {
    /// A `k x k` pool with stride `k` (PyTorch's default stride), no padding.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::rand(&[1, 1, 4, 4])?;
    /// let y = x.max_pool2d(&Pool2dOpts::square(2))?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn square(k: i64) -> Pool2dOpts {
        Pool2dOpts {
            kernel: (k, k),
            stride: None,
            padding: (0, 0),
            dilation: (1, 1),
        }
    }

    fn windows(&self) -> [Window; 2] {
        let stride = self.stride.unwrap_or(self.kernel);
        [
            Window {
                kernel: self.kernel.0,
                stride: stride.0,
                dilation: self.dilation.0,
            },
            Window {
                kernel: self.kernel.1,
                stride: stride.1,
                dilation: self.dilation.1,
            },
        ]
    }
}

impl Tensor {
    /// The last dim `(.., i)` as windows `(.., o, k)`.
    fn window_last(&self, w: Window) -> Result<Tensor> {
        let rank = self.shape().len();
        let lead = &self.shape()[..rank - 1];
        let i = self.shape()[rank - 1];
        let o = w.outputs(i).ok_or_else(|| self.window_error(w))?;
        let with = |tail: &[i64]| -> Vec<i64> { [lead, tail].concat() };
        if w.kernel <= w.stride && w.dilation == 1 {
            // windows do not overlap: cut into rows of `stride`, keep the first `kernel`
            let len = o * w.stride;
            let mut pads = vec![(0, 0); rank];
            pads[rank - 1] = (0, (len - i).max(0));
            let mut keep: Vec<(i64, i64)> = lead.iter().map(|&d| (0, d)).collect();
            keep.push((0, len));
            let rows = self
                .pad(&pads)?
                .shrink(&keep)?
                .reshape(&with(&[o, w.stride]))?;
            let mut cut: Vec<(i64, i64)> = lead.iter().map(|&d| (0, d)).collect();
            cut.extend([(0, o), (0, w.kernel)]);
            return rows.shrink(&cut);
        }
        let mut f = 1;
        while i * f + w.dilation < o * w.stride {
            f += 1;
        }
        let m = i * f + w.dilation;
        let repeats = (w.kernel * m + i - 1) / i;
        let mut counts = vec![1; rank - 1];
        counts.push(repeats);
        let tiled = self.repeat(&counts)?;
        let mut keep: Vec<(i64, i64)> = lead.iter().map(|&d| (0, d)).collect();
        keep.push((0, w.kernel * m));
        // (.., k, m): row a is x shifted by a*d
        let rows = tiled.shrink(&keep)?.reshape(&with(&[w.kernel, m]))?;
        let mut cols: Vec<(i64, i64)> = lead.iter().map(|&d| (0, d)).collect();
        cols.extend([(0, w.kernel), (0, o * w.stride)]);
        let strided = rows
            .shrink(&cols)?
            .reshape(&with(&[w.kernel, o, w.stride]))?;
        let mut first: Vec<(i64, i64)> = lead.iter().map(|&d| (0, d)).collect();
        first.extend([(0, w.kernel), (0, o), (0, 1)]);
        let windows = strided.shrink(&first)?.reshape(&with(&[w.kernel, o]))?;
        windows.transpose(rank - 1, rank)
    }

    /// The last dim as `(.., o, k)` windows of `kernel` with stride 1 (for scans).
    pub(crate) fn window_last_pub(&self, kernel: i64) -> Result<Tensor> {
        self.window_last(Window {
            kernel,
            stride: 1,
            dilation: 1,
        })
    }

    fn window_error(&self, w: Window) -> TensorError {
        TensorError::Window {
            shape: self.shape().to_vec(),
            kernel: w.kernel,
            stride: w.stride,
            dilation: w.dilation,
        }
    }

    /// The last two dims `(.., h, w)` as windows `(.., oh, ow, kh, kw)`.
    pub(crate) fn windows_2d(&self, win: [Window; 2]) -> Result<Tensor> {
        self.windows_nd(&win)
    }

    /// The last `win.len()` dims `(.., i1, .., id)` as windows `(.., o1, .., od, k1, .., kd)`.
    pub(crate) fn windows_nd(&self, win: &[Window]) -> Result<Tensor> {
        let rank = self.shape().len();
        let d = win.len();
        let lead = rank - d;
        // window each spatial dim in turn, moving it last first: after step j the tensor is
        // (.., spatial dims not yet windowed.., (o, k) pairs of those done)
        let mut x = self.clone();
        for w in win {
            let r = x.shape().len();
            let mut order: Vec<usize> = (0..r).filter(|&a| a != lead).collect();
            order.push(lead);
            x = x.permute(&order)?.window_last(*w)?;
        }
        // now (.., o1, k1, .., od, kd): outputs first, then kernels
        let mut order: Vec<usize> = (0..lead).collect();
        order.extend((0..d).map(|j| lead + 2 * j));
        order.extend((0..d).map(|j| lead + 2 * j + 1));
        x.permute(&order)
    }

    /// Pads the last two dims with `value` (zeros are a plain pad).
    pub(crate) fn pad_2d(&self, padding: (i64, i64), value: f64) -> Result<Tensor> {
        if padding == (0, 0) {
            return Ok(self.clone());
        }
        let rank = self.shape().len();
        let mut pads = vec![(0, 0); rank];
        pads[rank - 2] = (padding.0, padding.0);
        pads[rank - 1] = (padding.1, padding.1);
        let padded = self.pad(&pads)?;
        if value == 0.0 {
            return Ok(padded);
        }
        let inside = Tensor::ones(self.shape(), dtype::DType::Bool)?.pad(&pads)?;
        inside.where_(&padded, &self.scalar_like(value).cast(self.dtype())?)
    }

    fn pool_2d(&self, op: &'static str, opts: &Pool2dOpts, pad_value: f64) -> Result<Tensor> {
        if self.shape().len() < 2 {
            return Err(TensorError::Axis {
                op,
                axis: -2,
                shape: self.shape().to_vec(),
            });
        }
        named(op, || {
            self.pad_2d(opts.padding, pad_value)?
                .windows_2d(opts.windows())
        })
    }

    /// Max over `k x k` windows of the last two dims (NCHW or CHW), padding with -inf.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::rand(&[1, 1, 4, 4])?;
    /// let y = x.max_pool2d(&Pool2dOpts::square(2))?; // (1, 1, 2, 2)
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn max_pool2d(&self, opts: &Pool2dOpts) -> Result<Tensor> {
        let w = self.pool_2d("max_pool2d", opts, f64::NEG_INFINITY)?;
        named("max_pool2d", || w.max(&[-2, -1], false))
    }

    /// Mean over windows of the last two dims; padding counts as zeros in the mean (as
    /// PyTorch's default `count_include_pad=True`).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::rand(&[1, 1, 4, 4])?;
    /// let y = x.avg_pool2d(&Pool2dOpts::square(2))?; // (1, 1, 2, 2)
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn avg_pool2d(&self, opts: &Pool2dOpts) -> Result<Tensor> {
        self.avg_pool2d_count(opts, true)
    }

    /// `avg_pool2d`, dividing by the window's elements that are not padding when
    /// `count_include_pad` is false.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::rand(&[1, 1, 5, 5])?;
    /// let opts = Pool2dOpts { kernel: (3, 3), stride: Some((2, 2)), padding: (1, 1), dilation: (1, 1) };
    /// let y = x.avg_pool2d_count(&opts, false)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn avg_pool2d_count(&self, opts: &Pool2dOpts, count_include_pad: bool) -> Result<Tensor> {
        let w = self.pool_2d("avg_pool2d", opts, 0.0)?;
        if count_include_pad || opts.padding == (0, 0) {
            return named("avg_pool2d", || w.mean(&[-2, -1], false));
        }
        named("avg_pool2d", || {
            let rank = self.shape().len();
            let plane = Tensor::ones(&self.shape()[rank - 2..], self.dtype())?;
            let counts = plane
                .pool_2d("avg_pool2d", opts, 0.0)?
                .sum(&[-2, -1], false)?;
            w.sum(&[-2, -1], false)?.div(&counts)
        })
    }
}
