//! `MaxPool2d` and `AvgPool2d`: pooling over the last two dims, as `torch.nn`'s (stride
//! defaults to the kernel; average pooling counts padding as zeros).

use super::Module;
use crate::error::Result;
use crate::ops::Pool2dOpts;
use crate::tensor::Tensor;

/// The largest value of each window.
#[derive(Debug, Clone, Copy)]
pub struct MaxPool2d {
    opts: Pool2dOpts,
}

impl MaxPool2d {
    /// A `kernel x kernel` pool with stride `kernel`.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
    /// use frontend_tensor::nn::*;
    /// let x = Tensor::ones(&[1, 1, 4, 4], DType::F32)?;
    /// let y = MaxPool2d::new(2).forward(&x)?;
    /// assert_eq!(y.shape(), &[1, 1, 2, 2]);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn new(kernel: i64) -> MaxPool2d {
        MaxPool2d::with_options(Pool2dOpts::square(kernel))
    }

    /// A pool with the kernel, stride, padding and dilation of `opts`.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
    /// use frontend_tensor::nn::*;
    /// let x = Tensor::ones(&[1, 1, 4, 4], DType::F32)?;
    /// let opts = Pool2dOpts { stride: Some((1, 1)), ..Pool2dOpts::square(2) };
    /// let y = MaxPool2d::with_options(opts).forward(&x)?;
    /// assert_eq!(y.shape(), &[1, 1, 3, 3]);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn with_options(opts: Pool2dOpts) -> MaxPool2d {
        MaxPool2d { opts }
    }
}

impl Module for MaxPool2d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.max_pool2d(&self.opts)
    }
}

/// The mean of each window.
#[derive(Debug, Clone, Copy)]
pub struct AvgPool2d {
    opts: Pool2dOpts,
}

impl AvgPool2d {
    /// A `kernel x kernel` pool with stride `kernel`.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
    /// use frontend_tensor::nn::*;
    /// let x = Tensor::ones(&[1, 1, 4, 4], DType::F32)?;
    /// let y = AvgPool2d::new(2).forward(&x)?;
    /// assert_eq!(y.shape(), &[1, 1, 2, 2]);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn new(kernel: i64) -> AvgPool2d {
        AvgPool2d::with_options(Pool2dOpts::square(kernel))
    }

    /// A pool with the kernel, stride, padding and dilation of `opts`.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
    /// use frontend_tensor::nn::*;
    /// let x = Tensor::ones(&[1, 1, 4, 4], DType::F32)?;
    /// let opts = Pool2dOpts { stride: Some((1, 1)), ..Pool2dOpts::square(2) };
    /// let y = AvgPool2d::with_options(opts).forward(&x)?;
    /// assert_eq!(y.shape(), &[1, 1, 3, 3]);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn with_options(opts: Pool2dOpts) -> AvgPool2d {
        AvgPool2d { opts }
    }
}

impl Module for AvgPool2d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.avg_pool2d(&self.opts)
    }
}
