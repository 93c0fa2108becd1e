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
    pub fn new(kernel: i64) -> MaxPool2d {
        MaxPool2d::with_options(Pool2dOpts::square(kernel))
    }

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
    pub fn new(kernel: i64) -> AvgPool2d {
        AvgPool2d::with_options(Pool2dOpts::square(kernel))
    }

    pub fn with_options(opts: Pool2dOpts) -> AvgPool2d {
        AvgPool2d { opts }
    }
}

impl Module for AvgPool2d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.avg_pool2d(&self.opts)
    }
}
