//! Convolutions (PyTorch's `conv1d`/`conv2d`/`conv3d` and `conv_transpose1d`/`2d`,
//! channels first) as windows times weights, summed: the input is padded and cut into
//! windows by movement ops (`pool.rs`), broadcast against the weight per group, and
//! reduced over input channels and the kernel. Rangeify fuses it (with a bias and an
//! activation after it) into one kernel. A transposed convolution is the convolution of
//! the input spread by the stride (zeros between elements) with the flipped kernel.

use dtype::DType;

use crate::error::{Result, TensorError, named};
use crate::ops::pool::Window;
use crate::tensor::Tensor;

/// Stride, zero padding, dilation (per spatial dim) and groups of a 2-D convolution.
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
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let opts = Conv2dOpts::padded(1);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn padded(p: i64) -> Conv2dOpts {
        Conv2dOpts {
            padding: (p, p),
            ..Conv2dOpts::default()
        }
    }
}

/// A convolution's options for any number of spatial dims (one entry per dim).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvOpts {
    pub stride: Vec<i64>,
    pub padding: Vec<i64>,
    pub dilation: Vec<i64>,
    pub groups: i64,
}

impl ConvOpts {
    /// Stride 1, padding `p`, dilation 1, one group, over `dims` spatial dims.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let opts = ConvOpts::padded(3, 1); // a 3-d convolution padded by 1
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn padded(dims: usize, p: i64) -> ConvOpts {
        ConvOpts {
            stride: vec![1; dims],
            padding: vec![p; dims],
            dilation: vec![1; dims],
            groups: 1,
        }
    }
}

impl From<&Conv2dOpts> for ConvOpts {
    fn from(o: &Conv2dOpts) -> ConvOpts {
        ConvOpts {
            stride: vec![o.stride.0, o.stride.1],
            padding: vec![o.padding.0, o.padding.1],
            dilation: vec![o.dilation.0, o.dilation.1],
            groups: o.groups,
        }
    }
}

impl Tensor {
    /// Convolves `(n, c, h, w)` input with `(o, c / groups, kh, kw)` weights (plus an
    /// `(o,)` bias): `(n, o, oh, ow)`. A 3-D input `(c, h, w)` is one image.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::rand(&[2, 3, 8, 8])?;
    /// let w = Tensor::rand(&[4, 3, 3, 3])?;
    /// let y = x.conv2d(&w, None, &Conv2dOpts::padded(1))?; // (2, 4, 8, 8)
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn conv2d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        opts: &Conv2dOpts,
    ) -> Result<Tensor> {
        self.conv_nd("conv2d", 2, weight, bias, &opts.into())
    }

    /// `(n, c, l)` with `(o, c / groups, k)` weights: `(n, o, ol)`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::rand(&[2, 3, 9])?;
    /// let w = Tensor::rand(&[4, 3, 3])?;
    /// let y = x.conv1d(&w, None, &ConvOpts::padded(1, 1))?; // (2, 4, 9)
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn conv1d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        opts: &ConvOpts,
    ) -> Result<Tensor> {
        self.conv_nd("conv1d", 1, weight, bias, opts)
    }

    /// `(n, c, d, h, w)` with `(o, c / groups, kd, kh, kw)` weights.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::rand(&[1, 2, 4, 4, 4])?;
    /// let w = Tensor::rand(&[3, 2, 3, 3, 3])?;
    /// let y = x.conv3d(&w, None, &ConvOpts::padded(3, 1))?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn conv3d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        opts: &ConvOpts,
    ) -> Result<Tensor> {
        self.conv_nd("conv3d", 3, weight, bias, opts)
    }

    fn conv_nd(
        &self,
        op: &'static str,
        dims: usize,
        weight: &Tensor,
        bias: Option<&Tensor>,
        opts: &ConvOpts,
    ) -> Result<Tensor> {
        if self.shape().len() == dims + 1 {
            // one unbatched input
            let one = self.unsqueeze(0)?.conv_nd(op, dims, weight, bias, opts)?;
            return named(op, || one.squeeze_axes(&[0]));
        }
        let (x, w) = (self.shape(), weight.shape());
        let bad = |why: &str| TensorError::Conv {
            input: x.to_vec(),
            weight: w.to_vec(),
            why: format!("{op}: {why}"),
        };
        if x.len() != dims + 2 || w.len() != dims + 2 {
            return Err(bad(
                "input must be (n, c, spatial..) and weight (o, c/groups, kernel..)",
            ));
        }
        let per_dim = [&opts.stride, &opts.padding, &opts.dilation];
        if per_dim.iter().any(|v| v.len() != dims) {
            return Err(bad(
                "stride, padding and dilation need one entry per spatial dim",
            ));
        }
        let g = opts.groups;
        let (n, c, o) = (x[0], x[1], w[0]);
        if g < 1 || c % g != 0 || o % g != 0 || w[1] * g != c {
            return Err(bad("channels do not split into the groups"));
        }
        let positive = opts.stride.iter().chain(&opts.dilation).all(|&v| v >= 1);
        if !positive || opts.padding.iter().any(|&p| p < 0) {
            return Err(bad("stride and dilation must be >= 1 and padding >= 0"));
        }
        if let Some(b) = bias
            && b.shape() != [o]
        {
            return Err(bad("the bias must have one value per output channel"));
        }
        if self.dtype().is_narrow_float() || weight.dtype().is_narrow_float() {
            // products and sums in f32, rounded once (as matmul, and PyTorch)
            let dtype = dtype::least_upper_dtype(&[self.dtype(), weight.dtype()])?;
            let wide = |t: &Tensor| t.cast(DType::F32);
            let b = bias.map(wide).transpose()?;
            let out = wide(self)?.conv_nd(op, dims, &wide(weight)?, b.as_ref(), opts)?;
            return named(op, || out.cast(dtype));
        }
        let win: Vec<Window> = (0..dims)
            .map(|d| Window {
                kernel: w[2 + d],
                stride: opts.stride[d],
                dilation: opts.dilation[d],
            })
            .collect();
        let mut outs = Vec::with_capacity(dims);
        for d in 0..dims {
            let padded = x[2 + d] + 2 * opts.padding[d];
            outs.push(
                win[d]
                    .outputs(padded)
                    .ok_or_else(|| bad("the kernel is larger than the padded input"))?,
            );
        }
        named(op, || {
            let (cg, og) = (c / g, o / g);
            let kernel: Vec<i64> = w[2..].to_vec();
            // (n, c, outs.., kernel..) -> (n, g, 1, cg, outs.., kernel..)
            let mut pads = vec![(0, 0), (0, 0)];
            pads.extend(opts.padding.iter().map(|&p| (p, p)));
            let mut wshape = vec![n, g, 1, cg];
            wshape.extend(&outs);
            wshape.extend(&kernel);
            let windows = self.pad(&pads)?.windows_nd(&win)?.reshape(&wshape)?;
            // (o, cg, kernel..) -> (1, g, og, cg, 1.., kernel..)
            let mut kshape = vec![1, g, og, cg];
            kshape.extend(std::iter::repeat_n(1, dims));
            kshape.extend(&kernel);
            let k = weight.reshape(&kshape)?;
            let mut reduced = vec![3isize];
            reduced.extend((0..dims).map(|d| (4 + dims + d) as isize));
            let mut oshape = vec![n, o];
            oshape.extend(&outs);
            let out = windows.mul(&k)?.sum(&reduced, false)?.reshape(&oshape)?;
            match bias {
                Some(b) => {
                    let mut bshape = vec![1, o];
                    bshape.extend(std::iter::repeat_n(1, dims));
                    out.add(&b.reshape(&bshape)?)
                }
                None => Ok(out),
            }
        })
    }

    /// The transposed convolution (the gradient of `conv2d` with respect to its input):
    /// `(n, c, h, w)` with `(c, o / groups, kh, kw)` weights; `output_padding` adds to
    /// the far side of the output.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::rand(&[1, 4, 5, 5])?;
    /// let w = Tensor::rand(&[4, 2, 3, 3])?;
    /// let opts = Conv2dOpts { stride: (2, 2), ..Conv2dOpts::default() };
    /// let y = x.conv_transpose2d(&w, None, &opts, (0, 0))?; // (1, 2, 11, 11)
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn conv_transpose2d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        opts: &Conv2dOpts,
        output_padding: (i64, i64),
    ) -> Result<Tensor> {
        self.conv_transpose_nd(
            "conv_transpose2d",
            weight,
            bias,
            &opts.into(),
            &[output_padding.0, output_padding.1],
        )
    }

    /// `(n, c, l)` with `(c, o / groups, k)` weights.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::rand(&[1, 3, 6])?;
    /// let w = Tensor::rand(&[3, 2, 4])?;
    /// let opts = ConvOpts { stride: vec![2], padding: vec![0], dilation: vec![1], groups: 1 };
    /// let y = x.conv_transpose1d(&w, None, &opts, 0)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn conv_transpose1d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        opts: &ConvOpts,
        output_padding: i64,
    ) -> Result<Tensor> {
        self.conv_transpose_nd("conv_transpose1d", weight, bias, opts, &[output_padding])
    }

    fn conv_transpose_nd(
        &self,
        op: &'static str,
        weight: &Tensor,
        bias: Option<&Tensor>,
        opts: &ConvOpts,
        output_padding: &[i64],
    ) -> Result<Tensor> {
        let dims = output_padding.len();
        let (x, w) = (self.shape(), weight.shape());
        let g = opts.groups;
        let bad = |why: &str| TensorError::Conv {
            input: x.to_vec(),
            weight: w.to_vec(),
            why: format!("{op}: {why}"),
        };
        let fits = x.len() == dims + 2
            && w.len() == dims + 2
            && g >= 1
            && w[0] == x[1]
            && x[1] % g == 0
            && [&opts.stride, &opts.padding, &opts.dilation]
                .iter()
                .all(|v| v.len() == dims);
        if !fits {
            return Err(bad(
                "input must be (n, c, spatial..) and weight (c, o/groups, kernel..)",
            ));
        }
        for d in 0..dims {
            let k = opts.dilation[d] * (w[2 + d] - 1);
            if opts.padding[d] > k
                || output_padding[d] < 0
                || output_padding[d] >= opts.stride[d].max(opts.dilation[d])
            {
                return Err(bad(
                    "padding must be at most dilation*(kernel-1), output_padding below the stride",
                ));
            }
        }
        let (c, og) = (x[1], w[1]);
        named(op, || {
            let spread = self.spread_by_stride(&opts.stride[..dims])?;
            // pad by dilation*(k-1) - padding (output_padding more at the far side)
            let mut pads = vec![(0, 0), (0, 0)];
            for d in 0..dims {
                let k = opts.dilation[d] * (w[2 + d] - 1) - opts.padding[d];
                pads.push((k, k + output_padding[d]));
            }
            let spread = spread.pad(&pads)?;
            // weight (c, og, k..) -> per group (og, c/g, k..) flipped in every kernel dim
            let cg = c / g;
            let mut gshape = vec![g, cg, og];
            gshape.extend(&w[2..]);
            let mut order = vec![0, 2, 1];
            order.extend(3..3 + dims);
            let mut oshape = vec![g * og, cg];
            oshape.extend(&w[2..]);
            let flipped: Vec<usize> = (2..2 + dims).collect();
            let k = weight
                .reshape(&gshape)?
                .permute(&order)?
                .reshape(&oshape)?
                .flip(&flipped)?;
            let conv = ConvOpts {
                stride: vec![1; dims],
                padding: vec![0; dims],
                dilation: opts.dilation.clone(),
                groups: g,
            };
            spread.conv_nd(op, dims, &k, bias, &conv)
        })
    }
}
