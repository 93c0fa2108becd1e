//! 2-D convolution (PyTorch's `conv2d`, NCHW) as windows times weights, summed: the
//! input is padded and cut into windows by movement ops (`pool.rs`), broadcast against
//! the weight per group, and reduced over input channels and the kernel. Rangeify fuses
//! it (with a bias and an activation after it) into one kernel.

use crate::error::{Result, TensorError, named};
use crate::ops::pool::Window;
use crate::tensor::Tensor;

/// Stride, zero padding, dilation (per spatial dim) and groups of a convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dOpts {
    pub stride: (i64, i64),
    pub padding: (i64, i64),
    pub dilation: (i64, i64),
    pub groups: i64,
}

impl Default for Conv2dOpts {
    fn default() -> Self {
        Conv2dOpts {
            stride: (1, 1),
            padding: (0, 0),
            dilation: (1, 1),
            groups: 1,
        }
    }
}

impl Conv2dOpts {
    /// Stride 1, the same zero padding on every side, dilation 1, one group.
    pub fn padded(p: i64) -> Conv2dOpts {
        Conv2dOpts {
            padding: (p, p),
            ..Conv2dOpts::default()
        }
    }
}

impl Tensor {
    /// Convolves `(n, c, h, w)` input with `(o, c / groups, kh, kw)` weights (plus an
    /// `(o,)` bias): `(n, o, oh, ow)`. A 3-D input `(c, h, w)` is one image.
    pub fn conv2d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        opts: &Conv2dOpts,
    ) -> Result<Tensor> {
        if self.shape().len() == 3 {
            let one = self.unsqueeze(0)?.conv2d(weight, bias, opts)?;
            return named("conv2d", || one.squeeze_axes(&[0]));
        }
        let (x, w) = (self.shape(), weight.shape());
        let g = opts.groups;
        let bad = |why: &str| TensorError::Conv {
            input: x.to_vec(),
            weight: w.to_vec(),
            why: why.to_string(),
        };
        if x.len() != 4 || w.len() != 4 {
            return Err(bad(
                "input must be (n, c, h, w) and weight (o, c/groups, kh, kw)",
            ));
        }
        let (n, c, o, kh, kw) = (x[0], x[1], w[0], w[2], w[3]);
        if g < 1 || c % g != 0 || o % g != 0 || w[1] * g != c {
            return Err(bad("channels do not split into the groups"));
        }
        if [
            opts.stride.0,
            opts.stride.1,
            opts.dilation.0,
            opts.dilation.1,
        ]
        .iter()
        .any(|&v| v < 1)
            || opts.padding.0 < 0
            || opts.padding.1 < 0
        {
            return Err(bad("stride and dilation must be >= 1 and padding >= 0"));
        }
        if let Some(b) = bias
            && b.shape() != [o]
        {
            return Err(bad("the bias must have one value per output channel"));
        }
        let win = [
            Window {
                kernel: kh,
                stride: opts.stride.0,
                dilation: opts.dilation.0,
            },
            Window {
                kernel: kw,
                stride: opts.stride.1,
                dilation: opts.dilation.1,
            },
        ];
        let padded = (x[2] + 2 * opts.padding.0, x[3] + 2 * opts.padding.1);
        let (Some(oh), Some(ow)) = (win[0].outputs(padded.0), win[1].outputs(padded.1)) else {
            return Err(bad("the kernel is larger than the padded input"));
        };
        if self.dtype().is_narrow_float() || weight.dtype().is_narrow_float() {
            // products and sums in f32, rounded once (as matmul, and PyTorch)
            let dtype = dtype::least_upper_dtype(&[self.dtype(), weight.dtype()])?;
            let wide = |t: &Tensor| t.cast(dtype::DType::F32);
            let b = bias.map(wide).transpose()?;
            let out = wide(self)?.conv2d(&wide(weight)?, b.as_ref(), opts)?;
            return named("conv2d", || out.cast(dtype));
        }
        named("conv2d", || {
            let (cg, og) = (c / g, o / g);
            // (n, c, oh, ow, kh, kw) -> (n, g, 1, cg, oh, ow, kh, kw)
            let windows = self
                .pad_2d(opts.padding, 0.0)?
                .windows_2d(win)?
                .reshape(&[n, g, 1, cg, oh, ow, kh, kw])?;
            // (o, cg, kh, kw) -> (1, g, og, cg, 1, 1, kh, kw)
            let kernel = weight.reshape(&[1, g, og, cg, 1, 1, kh, kw])?;
            let out = windows
                .mul(&kernel)?
                .sum(&[3, 6, 7], false)?
                .reshape(&[n, o, oh, ow])?;
            match bias {
                Some(b) => out.add(&b.reshape(&[1, o, 1, 1])?),
                None => Ok(out),
            }
        })
    }
}
