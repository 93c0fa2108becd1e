//! N-d windows and convolutions for importers: the sliding windows of the last dims with
//! any kernel, stride and dilation (what N-d pooling reduces), and convolutions whose
//! spatial rank comes from the input (1, 2 or 3 dims) rather than from the method name.
//! Padding is the caller's (importers pad asymmetrically, with other values than zero).

use crate::error::{Result, TensorError, named};
use crate::ops::conv::ConvOpts;
use crate::ops::pool::Window;
use crate::tensor::Tensor;

impl Tensor {
    /// The last `kernel.len()` dims `(.., i1, .., id)` as windows
    /// `(.., o1, .., od, k1, .., kd)`, `o = (i - dilation*(k-1) - 1) / stride + 1`.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
    /// let x = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[4])?;
    /// let w = x.sliding_windows(&[2], &[1], &[1])?;
    /// assert_eq!(w.shape(), &[3, 2]);
    /// assert_eq!(w.to_vec::<f32>()?, [1.0, 2.0, 2.0, 3.0, 3.0, 4.0]);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn sliding_windows(
        &self,
        kernel: &[i64],
        stride: &[i64],
        dilation: &[i64],
    ) -> Result<Tensor> {
        let d = kernel.len();
        let ok = stride.len() == d
            && dilation.len() == d
            && d <= self.shape().len()
            && kernel.iter().chain(stride).chain(dilation).all(|&v| v >= 1);
        if !ok {
            return Err(TensorError::Invalid {
                op: "sliding_windows",
                why: format!(
                    "kernel {kernel:?}, stride {stride:?}, dilation {dilation:?} for shape {:?}: one positive value per windowed dim",
                    self.shape()
                ),
            });
        }
        let win: Vec<Window> = (0..d)
            .map(|j| Window {
                kernel: kernel[j],
                stride: stride[j],
                dilation: dilation[j],
            })
            .collect();
        named("sliding_windows", || self.windows_nd(&win))
    }

    /// `conv1d`, `conv2d` or `conv3d` by the input's rank `(n, c, spatial..)`.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
    /// let x = Tensor::ones(&[1, 1, 3], DType::F32)?; // rank 3: conv1d
    /// let w = Tensor::ones(&[1, 1, 2], DType::F32)?;
    /// let y = x.conv(&w, None, &ConvOpts::padded(1, 0))?;
    /// assert_eq!(y.to_vec::<f32>()?, [2.0, 2.0]);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn conv(&self, weight: &Tensor, bias: Option<&Tensor>, opts: &ConvOpts) -> Result<Tensor> {
        match self.shape().len() {
            3 => self.conv1d(weight, bias, opts),
            4 => self.conv2d(weight, bias, &conv2d_opts(opts)?),
            5 => self.conv3d(weight, bias, opts),
            r => Err(TensorError::Invalid {
                op: "conv",
                why: format!("input of rank {r}: (n, c, spatial..) with 1 to 3 spatial dims"),
            }),
        }
    }

    /// The full transposed convolution (no padding cut, no output padding) of
    /// `(n, c, spatial..)` with `(c, o / groups, kernel..)` weights, any spatial rank:
    /// each spatial dim `(i - 1) * stride + dilation * (k - 1) + 1`.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
    /// let x = Tensor::ones(&[1, 1, 2], DType::F32)?;
    /// let w = Tensor::ones(&[1, 1, 2], DType::F32)?;
    /// let y = x.conv_transpose_full(&w, &[1], &[1], 1)?;
    /// assert_eq!(y.to_vec::<f32>()?, [1.0, 2.0, 1.0]);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn conv_transpose_full(
        &self,
        weight: &Tensor,
        stride: &[i64],
        dilation: &[i64],
        groups: i64,
    ) -> Result<Tensor> {
        let dims = stride.len();
        let (x, w) = (self.shape().to_vec(), weight.shape().to_vec());
        let fits = x.len() == dims + 2
            && w.len() == dims + 2
            && dilation.len() == dims
            && groups >= 1
            && w[0] == x[1]
            && x[1] % groups == 0
            && stride.iter().chain(dilation).all(|&v| v >= 1);
        if !fits {
            return Err(TensorError::Conv {
                input: x,
                weight: w,
                why: "conv_transpose: input must be (n, c, spatial..), weight (c, o/groups, kernel..), stride and dilation positive".into(),
            });
        }
        named("conv_transpose", || {
            let spread = self.spread_by_stride(stride)?;
            // pad by dilation*(k-1) on both sides: every partial overlap is an output
            let mut pads = vec![(0, 0), (0, 0)];
            for d in 0..dims {
                let k = dilation[d] * (w[2 + d] - 1);
                pads.push((k, k));
            }
            let spread = spread.pad(&pads)?;
            // weight (c, og, k..) -> per group (og, c/g, k..), flipped in every kernel dim
            let (c, og, g) = (x[1], w[1], groups);
            let mut gshape = vec![g, c / g, og];
            gshape.extend(&w[2..]);
            let mut order = vec![0, 2, 1];
            order.extend(3..3 + dims);
            let mut oshape = vec![g * og, c / g];
            oshape.extend(&w[2..]);
            let flipped: Vec<usize> = (2..2 + dims).collect();
            let k = weight
                .reshape(&gshape)?
                .permute(&order)?
                .reshape(&oshape)?
                .flip(&flipped)?;
            let opts = ConvOpts {
                stride: vec![1; dims],
                padding: vec![0; dims],
                dilation: dilation.to_vec(),
                groups: g,
            };
            spread.conv(&k, None, &opts)
        })
    }
}

fn conv2d_opts(o: &ConvOpts) -> Result<crate::ops::conv::Conv2dOpts> {
    let pair = |v: &[i64]| -> Result<(i64, i64)> {
        match v {
            [a, b] => Ok((*a, *b)),
            _ => Err(TensorError::Invalid {
                op: "conv",
                why: format!("2 spatial dims need 2 values per option, got {v:?}"),
            }),
        }
    };
    Ok(crate::ops::conv::Conv2dOpts {
        stride: pair(&o.stride)?,
        padding: pair(&o.padding)?,
        dilation: pair(&o.dilation)?,
        groups: o.groups,
    })
}

impl Tensor {
    /// The input of a transposed convolution spread by `stride` over the spatial dims
    /// (from dim 2): `s - 1` zeros between neighbouring elements of a dim.
    pub(crate) fn spread_by_stride(&self, stride: &[i64]) -> Result<Tensor> {
        let mut spread = self.clone();
        for (d, &s) in stride.iter().enumerate() {
            if s == 1 {
                continue;
            }
            let axis = 2 + d;
            let len = spread.shape()[axis];
            let t = spread.unsqueeze(axis + 1)?;
            let mut pads = vec![(0, 0); t.shape().len()];
            pads[axis + 1] = (0, s - 1);
            let mut merged = spread.shape().to_vec();
            merged[axis] = len * s;
            let mut keep: Vec<(i64, i64)> = merged.iter().map(|&m| (0, m)).collect();
            keep[axis] = (0, (len - 1) * s + 1);
            spread = t.pad(&pads)?.reshape(&merged)?.shrink(&keep)?;
        }
        Ok(spread)
    }
}
