//! Batch normalization over every dim but the channels (dim 1), as `torch.nn.BatchNorm1d`
//! and `BatchNorm2d`: in training, each channel is normalized by the batch's mean and
//! biased variance, and the running statistics move towards the batch's mean and
//! *unbiased* variance by `momentum` (`num_batches_tracked` counts the updates); in
//! evaluation, the running statistics normalize. Weight ones, bias zeros.
//!
//! The running statistics are updated lazily with `assign`: they are written when
//! realized, at the latest by the next training `forward` (realize them with the
//! optimizer's step, `step_with(&model.buffers())`, to write them in the step's schedule).

use std::sync::atomic::{AtomicBool, Ordering};

use dtype::DType;

use super::Module;
use super::init;
use crate::autograd::no_grad;
use crate::error::{Result, TensorError};
use crate::tensor::Tensor;

/// The state and the computation both batch norms share.
#[derive(Debug)]
struct BatchNorm {
    name: &'static str,
    /// The input ranks accepted.
    ranks: &'static [usize],
    num_features: i64,
    eps: f64,
    momentum: f64,
    weight: Option<Tensor>,
    bias: Option<Tensor>,
    running_mean: Tensor,
    running_var: Tensor,
    num_batches_tracked: Tensor,
    training: AtomicBool,
}

impl BatchNorm {
    fn new(
        name: &'static str,
        ranks: &'static [usize],
        num_features: i64,
        eps: f64,
        momentum: f64,
        affine: bool,
    ) -> Result<BatchNorm> {
        if num_features < 1 || !(0.0..=1.0).contains(&momentum) || eps < 0.0 {
            return Err(TensorError::Module {
                module: name,
                why: format!(
                    "num_features {num_features} must be positive, momentum {momentum} in [0, 1] \
                     and eps {eps} not negative"
                ),
            });
        }
        let c = [num_features];
        Ok(BatchNorm {
            name,
            ranks,
            num_features,
            eps,
            momentum,
            weight: affine.then(|| init::constant(&c, 1.0)).transpose()?,
            bias: affine.then(|| init::constant(&c, 0.0)).transpose()?,
            running_mean: init::buffer(&c, 0f32)?,
            running_var: init::buffer(&c, 1f32)?,
            num_batches_tracked: init::buffer(&[], 0i64)?,
            training: AtomicBool::new(true),
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let shape = x.shape();
        if !self.ranks.contains(&shape.len()) || shape[1] != self.num_features {
            return Err(TensorError::Module {
                module: self.name,
                why: format!(
                    "the input has shape {shape:?}; want rank {:?} with {} channels in dim 1",
                    self.ranks, self.num_features
                ),
            });
        }
        let axes: Vec<isize> = (0..shape.len() as isize).filter(|&a| a != 1).collect();
        let mut per_channel = vec![1; shape.len()];
        per_channel[1] = self.num_features;
        // narrow floats compute in f32 and round once at the end
        let xf = if x.dtype().is_narrow_float() {
            x.cast(DType::F32)?
        } else {
            x.to_float()?
        };
        let (mean, var) = if self.training.load(Ordering::Relaxed) {
            let count = x.numel() / self.num_features;
            if count < 2 {
                return Err(TensorError::Module {
                    module: self.name,
                    why: format!(
                        "training needs more than 1 value per channel, got input shape {shape:?}"
                    ),
                });
            }
            let mean = xf.mean(&axes, true)?;
            let var = xf.sub(&mean)?.square()?.mean(&axes, true)?;
            self.update_running_stats(&mean, &var, count)?;
            (mean, var)
        } else {
            let stat = |t: &Tensor| t.cast(xf.dtype())?.reshape(&per_channel);
            (stat(&self.running_mean)?, stat(&self.running_var)?)
        };
        let y = xf
            .sub(&mean)?
            .mul(&var.add_scalar(self.eps)?.sqrt()?.recip()?)?;
        let y = match &self.weight {
            Some(w) => y.mul(&w.cast(y.dtype())?.reshape(&per_channel)?)?,
            None => y,
        };
        let y = match &self.bias {
            Some(b) => y.add(&b.cast(y.dtype())?.reshape(&per_channel)?)?,
            None => y,
        };
        if x.dtype().is_float() {
            y.cast(x.dtype())
        } else {
            Ok(y)
        }
    }

    /// `running = (1 - momentum) * running + momentum * batch`, with the unbiased
    /// variance of `count` values per channel.
    fn update_running_stats(&self, mean: &Tensor, var: &Tensor, count: i64) -> Result<()> {
        let m = self.momentum;
        no_grad(|| -> Result<()> {
            let c = [self.num_features];
            let unbiased = var.mul_scalar(count as f64 / (count - 1) as f64)?;
            for (running, batch) in [(&self.running_mean, mean), (&self.running_var, &unbiased)] {
                let batch = batch.reshape(&c)?.cast(running.dtype())?;
                let moved = running.mul_scalar(1.0 - m)?.add(&batch.mul_scalar(m)?)?;
                running.assign(&moved)?;
            }
            let n = &self.num_batches_tracked;
            n.assign(&n.add_scalar(1.0)?)?;
            Ok(())
        })
    }

    fn own_parameters(&self) -> Vec<(String, Tensor)> {
        let mut out = Vec::new();
        if let Some(w) = &self.weight {
            out.push(("weight".to_string(), w.clone()));
        }
        if let Some(b) = &self.bias {
            out.push(("bias".to_string(), b.clone()));
        }
        out
    }

    fn own_buffers(&self) -> Vec<(String, Tensor)> {
        vec![
            ("running_mean".to_string(), self.running_mean.clone()),
            ("running_var".to_string(), self.running_var.clone()),
            (
                "num_batches_tracked".to_string(),
                self.num_batches_tracked.clone(),
            ),
        ]
    }
}

macro_rules! batch_norm {
    ($(#[$doc:meta])* $name:ident, $ranks:expr) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name(BatchNorm);

        impl $name {
            /// `num_features` channels, eps 1e-5, momentum 0.1, with weight and bias.
            ///
            /// ```
            /// # use frontend_tensor::*;
            /// # use frontend_tensor::nn::*;
            /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
            #[doc = concat!(" ", "let bn = ", stringify!($name), "::new(3)?;")]
            /// assert_eq!(bn.running_mean().shape(), &[3]);
            /// assert!(bn.weight().is_some() && bn.bias().is_some());
            /// # Ok::<(), TensorError>(())
            /// ```
            pub fn new(num_features: i64) -> Result<$name> {
                $name::with_options(num_features, 1e-5, 0.1, true)
            }

            /// PyTorch's `(num_features, eps, momentum, affine)`.
            ///
            /// ```
            /// # use frontend_tensor::*;
            /// # use frontend_tensor::nn::*;
            /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
            #[doc = concat!(" ", "let bn = ", stringify!($name), "::with_options(3, 1e-3, 0.01, false)?;")]
            /// assert!(bn.weight().is_none() && bn.bias().is_none());
            /// # Ok::<(), TensorError>(())
            /// ```
            pub fn with_options(
                num_features: i64,
                eps: f64,
                momentum: f64,
                affine: bool,
            ) -> Result<$name> {
                BatchNorm::new(stringify!($name), $ranks, num_features, eps, momentum, affine)
                    .map($name)
            }

            /// The scale of each channel (ones at first), without `affine` none.
            ///
            /// ```
            /// # use frontend_tensor::*;
            /// # use frontend_tensor::nn::*;
            /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
            #[doc = concat!(" ", "let bn = ", stringify!($name), "::new(3)?;")]
            /// assert_eq!(bn.weight().unwrap().to_vec::<f32>()?, [1.0; 3]);
            /// # Ok::<(), TensorError>(())
            /// ```
            pub fn weight(&self) -> Option<&Tensor> {
                self.0.weight.as_ref()
            }

            /// The shift of each channel (zeros at first), without `affine` none.
            ///
            /// ```
            /// # use frontend_tensor::*;
            /// # use frontend_tensor::nn::*;
            /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
            #[doc = concat!(" ", "let bn = ", stringify!($name), "::new(3)?;")]
            /// assert_eq!(bn.bias().unwrap().to_vec::<f32>()?, [0.0; 3]);
            /// # Ok::<(), TensorError>(())
            /// ```
            pub fn bias(&self) -> Option<&Tensor> {
                self.0.bias.as_ref()
            }

            /// The running mean of each channel (zeros at first), used in evaluation.
            ///
            /// ```
            /// # use frontend_tensor::*;
            /// # use frontend_tensor::nn::*;
            /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
            #[doc = concat!(" ", "let bn = ", stringify!($name), "::new(3)?;")]
            /// assert_eq!(bn.running_mean().to_vec::<f32>()?, [0.0; 3]);
            /// # Ok::<(), TensorError>(())
            /// ```
            pub fn running_mean(&self) -> &Tensor {
                &self.0.running_mean
            }

            /// The running variance of each channel (ones at first), used in evaluation.
            ///
            /// ```
            /// # use frontend_tensor::*;
            /// # use frontend_tensor::nn::*;
            /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
            #[doc = concat!(" ", "let bn = ", stringify!($name), "::new(3)?;")]
            /// assert_eq!(bn.running_var().to_vec::<f32>()?, [1.0; 3]);
            /// # Ok::<(), TensorError>(())
            /// ```
            pub fn running_var(&self) -> &Tensor {
                &self.0.running_var
            }

            /// How many training batches updated the running statistics (i64, shape `[]`).
            ///
            /// ```
            /// # use frontend_tensor::*;
            /// # use frontend_tensor::nn::*;
            /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
            #[doc = concat!(" ", "let bn = ", stringify!($name), "::new(3)?;")]
            /// assert_eq!(bn.num_batches_tracked().to_vec::<i64>()?, [0]);
            /// # Ok::<(), TensorError>(())
            /// ```
            pub fn num_batches_tracked(&self) -> &Tensor {
                &self.0.num_batches_tracked
            }

            /// Whether `forward` normalizes by the batch's statistics (training mode) or by the running ones.
            ///
            /// ```
            /// # use frontend_tensor::*;
            /// # use frontend_tensor::nn::*;
            /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
            #[doc = concat!(" ", "let bn = ", stringify!($name), "::new(3)?;")]
            /// assert!(bn.is_training());
            /// bn.eval();
            /// assert!(!bn.is_training());
            /// # Ok::<(), TensorError>(())
            /// ```
            pub fn is_training(&self) -> bool {
                self.0.training.load(Ordering::Relaxed)
            }
        }

        impl Module for $name {
            fn forward(&self, x: &Tensor) -> Result<Tensor> {
                self.0.forward(x)
            }

            fn own_parameters(&self) -> Vec<(String, Tensor)> {
                self.0.own_parameters()
            }

            fn own_buffers(&self) -> Vec<(String, Tensor)> {
                self.0.own_buffers()
            }

            fn set_training(&self, on: bool) {
                self.0.training.store(on, Ordering::Relaxed);
            }
        }
    };
}

batch_norm!(
    /// Batch norm of `(N, C)` or `(N, C, L)` inputs.
    BatchNorm1d,
    &[2, 3]
);
batch_norm!(
    /// Batch norm of `(N, C, H, W)` inputs.
    BatchNorm2d,
    &[4]
);
