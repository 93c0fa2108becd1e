//! `Conv2d`: 2-D convolution of NCHW input as `torch.nn.Conv2d` (weight
//! `(out_channels, in_channels / groups, kh, kw)`, bias `(out_channels)`, both uniform in
//! `[-1/sqrt(fan_in), 1/sqrt(fan_in))` with `fan_in = in_channels / groups * kh * kw`).

use super::Module;
use super::init;
use crate::error::{Result, TensorError};
use crate::ops::Conv2dOpts;
use crate::tensor::Tensor;

#[derive(Debug)]
pub struct Conv2d {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
    opts: Conv2dOpts,
}

impl Conv2d {
    /// A square `kernel x kernel` convolution with stride 1, no padding, one group, and a
    /// bias.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
    /// use frontend_tensor::nn::*;
    /// let conv = Conv2d::new(1, 2, 3)?;
    /// let y = conv.forward(&Tensor::ones(&[1, 1, 5, 5], DType::F32)?)?;
    /// assert_eq!(y.shape(), &[1, 2, 3, 3]);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn new(in_channels: i64, out_channels: i64, kernel: i64) -> Result<Conv2d> {
        Conv2d::with_options(
            in_channels,
            out_channels,
            (kernel, kernel),
            Conv2dOpts::default(),
            true,
        )
    }

    /// PyTorch's `Conv2d(in, out, kernel_size, stride, padding, dilation, groups, bias)`.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
    /// use frontend_tensor::nn::*;
    /// let opts = Conv2dOpts { padding: (1, 1), ..Conv2dOpts::default() };
    /// let conv = Conv2d::with_options(1, 2, (3, 3), opts, false)?;
    /// let y = conv.forward(&Tensor::ones(&[1, 1, 5, 5], DType::F32)?)?;
    /// assert_eq!(y.shape(), &[1, 2, 5, 5]);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn with_options(
        in_channels: i64,
        out_channels: i64,
        kernel: (i64, i64),
        opts: Conv2dOpts,
        bias: bool,
    ) -> Result<Conv2d> {
        let g = opts.groups;
        if g < 1
            || in_channels < 1
            || out_channels < 1
            || in_channels % g != 0
            || out_channels % g != 0
            || kernel.0 < 1
            || kernel.1 < 1
        {
            return Err(TensorError::Module {
                module: "Conv2d",
                why: format!(
                    "in_channels {in_channels} and out_channels {out_channels} must be positive \
                     multiples of groups {g}, and kernel {kernel:?} positive"
                ),
            });
        }
        let fan_in = in_channels / g * kernel.0 * kernel.1;
        let bound = init::fan_in_bound(fan_in);
        let weight = init::uniform(&[out_channels, in_channels / g, kernel.0, kernel.1], bound)?;
        let bias = bias
            .then(|| init::uniform(&[out_channels], bound))
            .transpose()?;
        Ok(Conv2d { weight, bias, opts })
    }

    /// The stride, padding, dilation and groups.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
    /// use frontend_tensor::nn::*;
    /// let conv = Conv2d::new(1, 2, 3)?;
    /// assert_eq!(conv.opts(), &Conv2dOpts::default());
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn opts(&self) -> &Conv2dOpts {
        &self.opts
    }
}

impl Module for Conv2d {
    /// `(n, c, h, w)` (or one image `(c, h, w)`) to `(n, out_channels, oh, ow)`.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.conv2d(&self.weight, self.bias.as_ref(), &self.opts)
    }

    fn own_parameters(&self) -> Vec<(String, Tensor)> {
        let mut out = vec![("weight".to_string(), self.weight.clone())];
        if let Some(b) = &self.bias {
            out.push(("bias".to_string(), b.clone()));
        }
        out
    }
}
