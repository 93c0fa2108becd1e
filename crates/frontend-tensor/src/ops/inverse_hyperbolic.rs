//! The inverse hyperbolic functions, each from logs and square roots in the form that
//! keeps its accuracy: `asinh` by odd symmetry (no cancellation for negative x),
//! `acosh` (NaN below 1) and `atanh` (NaN outside [-1, 1], ±inf at ±1). Narrow floats run
//! in f32 and round once.

use crate::error::{Result, named};
use crate::tensor::Tensor;

impl Tensor {
    /// `sign(x) * ln(|x| + sqrt(x^2 + 1))`.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
    /// let x = Tensor::from_slice(&[0.0f32, 1.0], &[2])?;
    /// let y: Vec<f32> = x.asinh()?.to_vec()?;
    /// assert!(y[0] == 0.0 && (y[1] - 0.8813736).abs() < 1e-6);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn asinh(&self) -> Result<Tensor> {
        named("asinh", || {
            self.via_f32(|x| {
                let a = x.abs()?;
                let magnitude = a.add(&a.square()?.add_scalar(1.0)?.sqrt()?)?.log()?;
                x.lt_scalar(0.0)?.where_(&magnitude.neg(), &magnitude)
            })
        })
    }

    /// `ln(x + sqrt(x^2 - 1))` for `x >= 1`.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
    /// let x = Tensor::from_slice(&[1.0f32, 2.0], &[2])?;
    /// let y: Vec<f32> = x.acosh()?.to_vec()?;
    /// assert!(y[0] == 0.0 && (y[1] - 1.3169579).abs() < 1e-6);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn acosh(&self) -> Result<Tensor> {
        named("acosh", || {
            self.via_f32(|x| x.add(&x.square()?.add_scalar(-1.0)?.sqrt()?)?.log())
        })
    }

    /// `ln((1 + x) / (1 - x)) / 2` for `|x| <= 1`.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
    /// let x = Tensor::from_slice(&[0.0f32, 0.5], &[2])?;
    /// let y: Vec<f32> = x.atanh()?.to_vec()?;
    /// assert!(y[0] == 0.0 && (y[1] - 0.54930615).abs() < 1e-6);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn atanh(&self) -> Result<Tensor> {
        named("atanh", || {
            self.via_f32(|x| {
                x.add_scalar(1.0)?
                    .div(&x.neg().add_scalar(1.0)?)?
                    .log()?
                    .mul_scalar(0.5)
            })
        })
    }
}
