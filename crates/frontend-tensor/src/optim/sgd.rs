//! `SGD`: stochastic gradient descent as `torch.optim.SGD`, with momentum, dampening,
//! Nesterov momentum and (L2) weight decay:
//!
//! ```text
//! d = grad + weight_decay * p
//! buf = d                                        (first step)
//! buf = momentum * buf + (1 - dampening) * d     (later steps)
//! d = d + momentum * buf  (Nesterov)   or   d = buf   (when momentum != 0)
//! p = p - lr * d
//! ```

use super::optimizer::{Optimizer, Step, check_ranges};
use super::rate::LearningRate;
use crate::error::{Result, TensorError};
use crate::tensor::Tensor;

/// SGD's hyperparameters besides the learning rate (PyTorch's defaults: all zero, no
/// Nesterov).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SgdConfig {
    pub momentum: f64,
    pub dampening: f64,
    pub weight_decay: f64,
    pub nesterov: bool,
}

#[derive(Debug)]
pub struct SGD {
    params: Vec<Tensor>,
    lr: LearningRate,
    config: SgdConfig,
    /// The momentum buffer of each parameter, made at its first step.
    momentum_buffers: Vec<Option<Tensor>>,
}

impl SGD {
    /// Plain SGD: `p = p - lr * grad`.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
    /// use frontend_tensor::optim::*;
    /// let w = Tensor::from_slice(&[1.0f32, 2.0], &[2])?.requires_grad_(true)?;
    /// let mut opt = SGD::new(vec![w.clone()], 0.5)?;
    /// w.sum(&[], false)?.backward()?; // gradient: ones
    /// opt.step()?;
    /// assert_eq!(w.to_vec::<f32>()?, [0.5, 1.5]);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn new(params: Vec<Tensor>, lr: f64) -> Result<SGD> {
        SGD::with_config(params, lr, SgdConfig::default())
    }

    /// SGD with momentum, dampening, Nesterov momentum or weight decay.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
    /// use frontend_tensor::optim::*;
    /// let w = Tensor::from_slice(&[1.0f32, 2.0], &[2])?.requires_grad_(true)?;
    /// let config = SgdConfig { momentum: 0.9, ..SgdConfig::default() };
    /// let mut opt = SGD::with_config(vec![w.clone()], 0.5, config)?;
    /// w.sum(&[], false)?.backward()?; // gradient: ones
    /// opt.step()?;
    /// assert_eq!(w.to_vec::<f32>()?, [0.5, 1.5]);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn with_config(params: Vec<Tensor>, lr: f64, config: SgdConfig) -> Result<SGD> {
        check_ranges(
            "SGD",
            &[
                ("learning rate", lr, lr >= 0.0),
                ("momentum", config.momentum, config.momentum >= 0.0),
                (
                    "weight_decay",
                    config.weight_decay,
                    config.weight_decay >= 0.0,
                ),
            ],
        )?;
        if config.nesterov && (config.momentum <= 0.0 || config.dampening != 0.0) {
            return Err(TensorError::Optimizer {
                optimizer: "SGD",
                why: format!(
                    "Nesterov momentum requires a momentum and zero dampening (momentum {}, dampening {})",
                    config.momentum, config.dampening
                ),
            });
        }
        let momentum_buffers = vec![None; params.len()];
        Ok(SGD {
            params,
            lr: LearningRate::new(lr),
            config,
            momentum_buffers,
        })
    }

    /// The momentum buffer of parameter `index`, once a step has made it.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
    /// use frontend_tensor::optim::*;
    /// let w = Tensor::from_slice(&[1.0f32, 2.0], &[2])?.requires_grad_(true)?;
    /// let config = SgdConfig { momentum: 0.9, ..SgdConfig::default() };
    /// let mut opt = SGD::with_config(vec![w.clone()], 0.5, config)?;
    /// assert!(opt.momentum_buffer(0).is_none());
    /// w.sum(&[], false)?.backward()?; // gradient: ones
    /// opt.step()?;
    /// assert_eq!(opt.momentum_buffer(0).unwrap().to_vec::<f32>()?, [1.0, 1.0]);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn momentum_buffer(&self, index: usize) -> Option<&Tensor> {
        self.momentum_buffers.get(index)?.as_ref()
    }
}

impl Optimizer for SGD {
    fn params(&self) -> &[Tensor] {
        &self.params
    }

    fn lr(&self) -> f64 {
        self.lr.value()
    }

    fn set_lr(&mut self, lr: f64) -> Result<()> {
        self.lr.set(lr)
    }

    fn step_with(&mut self, also: &[&Tensor]) -> Result<()> {
        let c = self.config;
        let mut step = Step::new();
        for (p, buf) in self.params.iter().zip(&mut self.momentum_buffers) {
            let Some(g) = step.grad(p) else { continue };
            let mut d = if c.weight_decay != 0.0 {
                g.add(&p.mul_scalar(c.weight_decay)?)?
            } else {
                g
            };
            if c.momentum != 0.0 {
                let value = match buf.as_ref() {
                    Some(b) => b
                        .mul_scalar(c.momentum)?
                        .add(&d.mul_scalar(1.0 - c.dampening)?)?,
                    None => d.clone(),
                };
                let b = step.write_state(buf, &value)?;
                d = if c.nesterov {
                    d.add(&b.mul_scalar(c.momentum)?)?
                } else {
                    b
                };
            }
            let lr = self.lr.on(p.device())?.cast(p.dtype())?;
            step.write(p, &p.sub(&lr.mul(&d)?)?)?;
        }
        step.finish(also)
    }
}
