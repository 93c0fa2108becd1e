//! `Adam` and `AdamW`, as `torch.optim.Adam` and `AdamW` (bias correction, eps added
//! to the corrected root, optional AMSGrad); they differ only in weight decay: Adam adds
//! `weight_decay * p` to the gradient (coupled), AdamW shrinks `p` by `lr * weight_decay`
//! before the update (decoupled). For step `t` of a parameter:
//!
//! ```text
//! m = lerp(m, grad, 1 - beta1)                 v = beta2 * v + (1 - beta2) * grad^2
//! v_max = max(v_max, v)  (AMSGrad: used for v below)
//! p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
//! ```
//!
//! `t` is a tensor (f64, shape `[]`) per parameter, counted up by each step on the device,
//! and the bias corrections are computed from it there (in f64, `beta^t` as
//! `exp2(t * log2(beta))`), so that a replayed step corrects as the step would.

use dtype::DType;

use super::optimizer::{Optimizer, Step, check_ranges, lerp};
use super::rate::LearningRate;
use crate::error::Result;
use crate::tensor::Tensor;

/// Adam's hyperparameters besides the learning rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamConfig {
    pub betas: (f64, f64),
    pub eps: f64,
    pub weight_decay: f64,
    pub amsgrad: bool,
}

impl Default for AdamConfig {
    /// PyTorch's `Adam` defaults: betas (0.9, 0.999), eps 1e-8, no weight decay.
    fn default() -> AdamConfig {
        AdamConfig {
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
        }
    }
}

/// The moments of one parameter, and its step count (made by its first step).
#[derive(Debug, Clone, Default)]
struct Moments {
    steps: Option<Tensor>,
    exp_avg: Option<Tensor>,
    exp_avg_sq: Option<Tensor>,
    max_exp_avg_sq: Option<Tensor>,
}

/// Adam with coupled weight decay (`AdamW` is the decoupled one).
#[derive(Debug)]
pub struct Adam {
    params: Vec<Tensor>,
    lr: LearningRate,
    config: AdamConfig,
    decoupled: bool,
    state: Vec<Moments>,
}

impl Adam {
    /// Adam with PyTorch's defaults.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
    /// use frontend_tensor::optim::*;
    /// let w = Tensor::from_slice(&[1.0f32, 2.0], &[2])?.requires_grad_(true)?;
    /// let mut opt = Adam::new(vec![w.clone()], 0.1)?;
    /// w.sum(&[], false)?.backward()?; // gradient: ones
    /// opt.step()?;
    /// assert_eq!(opt.steps(0)?, 1);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn new(params: Vec<Tensor>, lr: f64) -> Result<Adam> {
        Adam::with_config(params, lr, AdamConfig::default())
    }

    /// Adam with other betas, eps, weight decay or AMSGrad.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
    /// use frontend_tensor::optim::*;
    /// let w = Tensor::from_slice(&[1.0f32, 2.0], &[2])?.requires_grad_(true)?;
    /// let config = AdamConfig { amsgrad: true, ..AdamConfig::default() };
    /// let mut opt = Adam::with_config(vec![w.clone()], 0.1, config)?;
    /// w.sum(&[], false)?.backward()?; // gradient: ones
    /// opt.step()?;
    /// assert_eq!(opt.steps(0)?, 1);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn with_config(params: Vec<Tensor>, lr: f64, config: AdamConfig) -> Result<Adam> {
        Adam::build("Adam", params, lr, config, false)
    }

    fn build(
        name: &'static str,
        params: Vec<Tensor>,
        lr: f64,
        config: AdamConfig,
        decoupled: bool,
    ) -> Result<Adam> {
        let (b1, b2) = config.betas;
        check_ranges(
            name,
            &[
                ("learning rate", lr, lr >= 0.0),
                ("epsilon", config.eps, config.eps >= 0.0),
                ("beta1", b1, (0.0..1.0).contains(&b1)),
                ("beta2", b2, (0.0..1.0).contains(&b2)),
                (
                    "weight_decay",
                    config.weight_decay,
                    config.weight_decay >= 0.0,
                ),
            ],
        )?;
        let state = vec![Moments::default(); params.len()];
        Ok(Adam {
            params,
            lr: LearningRate::new(lr),
            config,
            decoupled,
            state,
        })
    }

    /// The first and second moments of parameter `index` (exp_avg, exp_avg_sq), once a
    /// step has made them.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
    /// use frontend_tensor::optim::*;
    /// let w = Tensor::from_slice(&[1.0f32, 2.0], &[2])?.requires_grad_(true)?;
    /// let mut opt = Adam::new(vec![w.clone()], 0.1)?;
    /// assert!(opt.moments(0).is_none());
    /// w.sum(&[], false)?.backward()?; // gradient: ones
    /// opt.step()?;
    /// let (m, _v) = opt.moments(0).unwrap();
    /// let m: Vec<f32> = m.to_vec()?; // (1 - beta1) * grad
    /// assert!((m[0] - 0.1).abs() < 1e-6);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn moments(&self, index: usize) -> Option<(&Tensor, &Tensor)> {
        let m = self.state.get(index)?;
        Some((m.exp_avg.as_ref()?, m.exp_avg_sq.as_ref()?))
    }

    /// How many steps updated parameter `index` (read from the device).
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
    /// use frontend_tensor::optim::*;
    /// let w = Tensor::from_slice(&[1.0f32, 2.0], &[2])?.requires_grad_(true)?;
    /// let mut opt = Adam::new(vec![w.clone()], 0.1)?;
    /// assert_eq!(opt.steps(0)?, 0);
    /// w.sum(&[], false)?.backward()?; // gradient: ones
    /// opt.step()?;
    /// assert_eq!(opt.steps(0)?, 1);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn steps(&self, index: usize) -> Result<u64> {
        match self.state.get(index).and_then(|m| m.steps.as_ref()) {
            Some(t) => Ok(t.to_vec::<f64>()?.first().map_or(0, |&n| n as u64)),
            None => Ok(0),
        }
    }

    fn update(&mut self, also: &[&Tensor]) -> Result<()> {
        let c = self.config;
        let (b1, b2) = c.betas;
        let mut step = Step::new();
        for (p, m) in self.params.iter().zip(&mut self.state) {
            let Some(g) = step.grad(p) else { continue };
            let lr = self.lr.on(p.device())?;
            let t = match &m.steps {
                Some(t) => t.add_scalar(1.0)?,
                None => Tensor::from_bytes(&1f64.to_ne_bytes(), DType::F64, &[], p.device())?,
            };
            let t = step.write_state(&mut m.steps, &t)?;
            // 1 - beta^t, in f64 on the device
            let unbiased = |beta: f64| -> Result<Tensor> {
                t.mul_scalar(beta.log2())?.exp2()?.neg().add_scalar(1.0)
            };
            let mut g = g;
            let mut base = p.clone();
            if c.weight_decay != 0.0 {
                if self.decoupled {
                    let shrink = lr.mul_scalar(-c.weight_decay)?.add_scalar(1.0)?;
                    base = p.mul(&shrink.cast(p.dtype())?)?;
                } else {
                    g = g.add(&p.mul_scalar(c.weight_decay)?)?;
                }
            }
            let avg = lerp(m.exp_avg.as_ref(), &g, 1.0 - b1)?;
            let avg = step.write_state(&mut m.exp_avg, &avg)?;
            let g2 = g.mul(&g)?.mul_scalar(1.0 - b2)?;
            let sq = match &m.exp_avg_sq {
                Some(v) => v.mul_scalar(b2)?.add(&g2)?,
                None => g2,
            };
            let mut sq = step.write_state(&mut m.exp_avg_sq, &sq)?;
            if c.amsgrad {
                let max = match &m.max_exp_avg_sq {
                    Some(v) => v.maximum(&sq)?,
                    None => sq,
                };
                sq = step.write_state(&mut m.max_exp_avg_sq, &max)?;
            }
            let step_size = lr.div(&unbiased(b1)?)?.cast(p.dtype())?;
            let root_correction = unbiased(b2)?.sqrt()?.cast(p.dtype())?;
            let denom = sq.sqrt()?.div(&root_correction)?.add_scalar(c.eps)?;
            let value = base.sub(&step_size.mul(&avg.div(&denom)?)?)?;
            step.write(p, &value)?;
        }
        step.finish(also)
    }
}

impl Optimizer for Adam {
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
        self.update(also)
    }
}

/// Adam with decoupled weight decay (`torch.optim.AdamW`; its default weight decay is
/// 0.01).
#[derive(Debug)]
pub struct AdamW(Adam);

impl AdamW {
    /// AdamW with PyTorch's defaults (weight decay 0.01).
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
    /// use frontend_tensor::optim::*;
    /// let w = Tensor::from_slice(&[1.0f32, 2.0], &[2])?.requires_grad_(true)?;
    /// let mut opt = AdamW::new(vec![w.clone()], 0.1)?;
    /// w.sum(&[], false)?.backward()?; // gradient: ones
    /// opt.step()?;
    /// assert_eq!(opt.steps(0)?, 1);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn new(params: Vec<Tensor>, lr: f64) -> Result<AdamW> {
        let config = AdamConfig {
            weight_decay: 0.01,
            ..AdamConfig::default()
        };
        AdamW::with_config(params, lr, config)
    }

    /// AdamW with other betas, eps, weight decay or AMSGrad.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
    /// use frontend_tensor::optim::*;
    /// let w = Tensor::from_slice(&[1.0f32, 2.0], &[2])?.requires_grad_(true)?;
    /// let config = AdamConfig { amsgrad: true, ..AdamConfig::default() };
    /// let mut opt = AdamW::with_config(vec![w.clone()], 0.1, config)?;
    /// w.sum(&[], false)?.backward()?; // gradient: ones
    /// opt.step()?;
    /// assert_eq!(opt.steps(0)?, 1);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn with_config(params: Vec<Tensor>, lr: f64, config: AdamConfig) -> Result<AdamW> {
        Adam::build("AdamW", params, lr, config, true).map(AdamW)
    }

    /// See [`Adam::moments`].
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
    /// use frontend_tensor::optim::*;
    /// let w = Tensor::from_slice(&[1.0f32, 2.0], &[2])?.requires_grad_(true)?;
    /// let mut opt = AdamW::new(vec![w.clone()], 0.1)?;
    /// assert!(opt.moments(0).is_none());
    /// w.sum(&[], false)?.backward()?; // gradient: ones
    /// opt.step()?;
    /// let (m, _v) = opt.moments(0).unwrap();
    /// let m: Vec<f32> = m.to_vec()?; // (1 - beta1) * grad
    /// assert!((m[0] - 0.1).abs() < 1e-6);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn moments(&self, index: usize) -> Option<(&Tensor, &Tensor)> {
        self.0.moments(index)
    }

    /// See [`Adam::steps`].
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
    /// use frontend_tensor::optim::*;
    /// let w = Tensor::from_slice(&[1.0f32, 2.0], &[2])?.requires_grad_(true)?;
    /// let mut opt = AdamW::new(vec![w.clone()], 0.1)?;
    /// assert_eq!(opt.steps(0)?, 0);
    /// w.sum(&[], false)?.backward()?; // gradient: ones
    /// opt.step()?;
    /// assert_eq!(opt.steps(0)?, 1);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn steps(&self, index: usize) -> Result<u64> {
        self.0.steps(index)
    }
}

impl Optimizer for AdamW {
    fn params(&self) -> &[Tensor] {
        &self.0.params
    }

    fn lr(&self) -> f64 {
        self.0.lr.value()
    }

    fn set_lr(&mut self, lr: f64) -> Result<()> {
        self.0.lr.set(lr)
    }

    fn step_with(&mut self, also: &[&Tensor]) -> Result<()> {
        self.0.update(also)
    }
}
