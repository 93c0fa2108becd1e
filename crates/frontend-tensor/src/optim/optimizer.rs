//! The `Optimizer` trait, and `Step`: what every optimizer's step shares.
//!
//! A step builds each parameter's update as a lazy graph inside `no_grad`, writes the
//! parameters and the optimizer's state in place with `Tensor::assign`, then realizes
//! everything in one `Tensor::realize_all`: the updates and what the caller adds (a
//! model's buffers) are one schedule, reading the gradients `backward` computed.
//!
//! Every value that changes from step to step is device state, never a constant or a
//! host value baked into the step's graph: the learning rate is a tensor that `set_lr`
//! overwrites (`rate.rs`), and Adam counts its steps in a tensor and computes its bias
//! corrections from it. So every step runs the same kernels (compiled once), and a step
//! captured by `Jit` and replayed updates exactly as the step would have.

use crate::autograd::NoGradGuard;
use crate::error::Result;
use crate::tensor::Tensor;

/// Updates parameters from their gradients, as `torch.optim` optimizers do.
pub trait Optimizer {
    /// The parameters, in the order given to the constructor.
    fn params(&self) -> &[Tensor];

    /// The learning rate of the next step.
    fn lr(&self) -> f64;

    /// Sets the learning rate of the next steps (schedules call this); the device copies of
    /// the rate are written at once.
    fn set_lr(&mut self, lr: f64) -> Result<()>;

    /// One update of every parameter that has a gradient (the others are skipped), with
    /// `also` realized in the same schedule: pass the model's buffers (batch norm's
    /// running statistics) to write them with the update. A lazy tensor in `also` that
    /// reads the parameters sees their values before the update.
    fn step_with(&mut self, also: &[&Tensor]) -> Result<()>;

    /// One update, realizing nothing else.
    fn step(&mut self) -> Result<()> {
        self.step_with(&[])
    }

    /// Clears every parameter's gradient (PyTorch's `zero_grad(set_to_none=True)`).
    fn zero_grad(&self) -> Result<()> {
        for p in self.params() {
            p.set_grad(None)?;
        }
        Ok(())
    }
}

/// One step in the making: the tensors written so far. Gradients are off while it lives.
pub(crate) struct Step {
    written: Vec<Tensor>,
    _no_grad: NoGradGuard,
}

impl Step {
    pub(crate) fn new() -> Step {
        Step {
            written: Vec::new(),
            _no_grad: NoGradGuard::enter(),
        }
    }

    /// The gradient of `p`, remembered to be realized with the step; None when `p` has
    /// none (then `p` is skipped).
    pub(crate) fn grad(&mut self, p: &Tensor) -> Option<Tensor> {
        let g = p.grad()?;
        self.written.push(g.clone());
        Some(g)
    }

    /// Writes `value` into `target` (a parameter, or state that exists).
    pub(crate) fn write(&mut self, target: &Tensor, value: &Tensor) -> Result<()> {
        target.assign(value)?;
        self.written.push(target.clone());
        Ok(())
    }

    /// Writes `value` into the state in `slot`, or makes it the state when the slot is
    /// empty (the first step); returns the state, which now reads as `value`.
    pub(crate) fn write_state(
        &mut self,
        slot: &mut Option<Tensor>,
        value: &Tensor,
    ) -> Result<Tensor> {
        match slot {
            Some(state) => {
                self.write(state, value)?;
                Ok(state.clone())
            }
            None => {
                let state = value.contiguous();
                self.written.push(state.clone());
                *slot = Some(state.clone());
                Ok(state)
            }
        }
    }

    /// Realizes every write of the step, and `also`, in one schedule.
    pub(crate) fn finish(self, also: &[&Tensor]) -> Result<()> {
        let mut all: Vec<&Tensor> = self.written.iter().collect();
        all.extend(also.iter().copied());
        Tensor::realize_all(&all)
    }
}

/// Torch's `lerp(start, end, weight)`: `start + weight * (end - start)` for weights below
/// one half, `end - (end - start) * (1 - weight)` otherwise. An absent start is zeros.
pub(crate) fn lerp(start: Option<&Tensor>, end: &Tensor, weight: f64) -> Result<Tensor> {
    match start {
        Some(s) if weight < 0.5 => s.add(&end.sub(s)?.mul_scalar(weight)?),
        Some(s) => end.sub(&end.sub(s)?.mul_scalar(1.0 - weight)?),
        None if weight < 0.5 => end.mul_scalar(weight),
        None => end.sub(&end.mul_scalar(1.0 - weight)?),
    }
}

/// Checks that each named hyperparameter value is within its range.
pub(crate) fn check_ranges(optimizer: &'static str, checks: &[(&str, f64, bool)]) -> Result<()> {
    match checks.iter().find(|(_, _, ok)| !ok) {
        Some((name, value, _)) => Err(crate::TensorError::Optimizer {
            optimizer,
            why: format!("invalid {name}: {value}"),
        }),
        None => Ok(()),
    }
}
