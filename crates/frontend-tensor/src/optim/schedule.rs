//! Learning-rate schedules, as `torch.optim.lr_scheduler` has them, in closed form: a
//! schedule gives the learning rate after `n` calls of `step` (`lr_at(n)`); `step` moves
//! to the next one and sets it on the optimizer. Creating a schedule sets `lr_at(0)`.

use std::f64::consts::PI;

use super::Optimizer;
use crate::error::{Result, TensorError};

/// A learning rate that depends on how many times `step` was called.
pub trait LrScheduler {
    /// The learning rate after `n` steps of the schedule.
    fn lr_at(&self, n: u64) -> Result<f64>;

    /// How many steps were taken.
    fn steps_taken(&self) -> u64;

    /// Records one more step (used by `step`).
    fn count_step(&mut self);

    /// The current learning rate (PyTorch's `get_last_lr`).
    fn last_lr(&self) -> Result<f64> {
        self.lr_at(self.steps_taken())
    }

    /// Advances the schedule and sets the optimizer's learning rate.
    fn step(&mut self, optimizer: &mut dyn Optimizer) -> Result<()> {
        let lr = self.lr_at(self.steps_taken() + 1)?;
        self.count_step();
        optimizer.set_lr(lr)
    }
}

fn invalid(schedule: &'static str, why: String) -> TensorError {
    TensorError::Optimizer {
        optimizer: schedule,
        why,
    }
}

/// Multiplies the learning rate by `gamma` every `step_size` steps.
#[derive(Debug, Clone)]
pub struct StepLR {
    base_lr: f64,
    step_size: u64,
    gamma: f64,
    steps: u64,
}

impl StepLR {
    /// A schedule of `optimizer`'s learning rate: times `gamma` every `step_size` steps.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// use frontend_tensor::optim::*;
    /// let mut opt = SGD::new(Vec::new(), 0.1)?;
    /// let mut schedule = StepLR::new(&mut opt, 2, 0.5)?;
    /// schedule.step(&mut opt)?;
    /// schedule.step(&mut opt)?;
    /// assert_eq!(opt.lr(), 0.05);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn new(optimizer: &mut dyn Optimizer, step_size: u64, gamma: f64) -> Result<StepLR> {
        if step_size == 0 {
            return Err(invalid("StepLR", "step_size must be positive".into()));
        }
        Ok(StepLR {
            base_lr: optimizer.lr(),
            step_size,
            gamma,
            steps: 0,
        })
    }
}

impl LrScheduler for StepLR {
    fn lr_at(&self, n: u64) -> Result<f64> {
        Ok(self.base_lr * self.gamma.powf((n / self.step_size) as f64))
    }

    fn steps_taken(&self) -> u64 {
        self.steps
    }

    fn count_step(&mut self) {
        self.steps += 1;
    }
}

/// Half a cosine from the base rate down to `eta_min` over `t_max` steps (PyTorch's
/// closed form, which goes on as a cosine past `t_max`).
#[derive(Debug, Clone)]
pub struct CosineAnnealingLR {
    base_lr: f64,
    t_max: u64,
    eta_min: f64,
    steps: u64,
}

impl CosineAnnealingLR {
    /// A schedule of `optimizer`'s learning rate, from its rate now down to `eta_min` over `t_max` steps.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// use frontend_tensor::optim::*;
    /// let mut opt = SGD::new(Vec::new(), 0.1)?;
    /// let mut schedule = CosineAnnealingLR::new(&mut opt, 10, 0.0)?;
    /// for _ in 0..5 {
    ///     schedule.step(&mut opt)?;
    /// }
    /// assert!((opt.lr() - 0.05).abs() < 1e-12);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn new(
        optimizer: &mut dyn Optimizer,
        t_max: u64,
        eta_min: f64,
    ) -> Result<CosineAnnealingLR> {
        if t_max == 0 {
            return Err(invalid(
                "CosineAnnealingLR",
                "t_max must be positive".into(),
            ));
        }
        Ok(CosineAnnealingLR {
            base_lr: optimizer.lr(),
            t_max,
            eta_min,
            steps: 0,
        })
    }
}

impl LrScheduler for CosineAnnealingLR {
    fn lr_at(&self, n: u64) -> Result<f64> {
        let cos = (PI * n as f64 / self.t_max as f64).cos();
        Ok(self.eta_min + (self.base_lr - self.eta_min) * (1.0 + cos) / 2.0)
    }

    fn steps_taken(&self) -> u64 {
        self.steps
    }

    fn count_step(&mut self) {
        self.steps += 1;
    }
}

/// Linear warmup (PyTorch's `LinearLR`): the base rate times a factor going linearly
/// from `start_factor` to `end_factor` over `total_iters` steps, then constant.
#[derive(Debug, Clone)]
pub struct LinearLR {
    base_lr: f64,
    start_factor: f64,
    end_factor: f64,
    total_iters: u64,
    steps: u64,
}

impl LinearLR {
    /// A schedule of `optimizer`'s learning rate; sets it to the first rate of the warmup now.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// use frontend_tensor::optim::*;
    /// let mut opt = SGD::new(Vec::new(), 0.1)?;
    /// let mut schedule = LinearLR::new(&mut opt, 0.5, 1.0, 4)?;
    /// assert_eq!(opt.lr(), 0.05);
    /// schedule.step(&mut opt)?;
    /// assert!((opt.lr() - 0.0625).abs() < 1e-12);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn new(
        optimizer: &mut dyn Optimizer,
        start_factor: f64,
        end_factor: f64,
        total_iters: u64,
    ) -> Result<LinearLR> {
        let in_range = |f: f64| f > 0.0 && f <= 1.0;
        if !in_range(start_factor) || !(0.0..=1.0).contains(&end_factor) {
            return Err(invalid(
                "LinearLR",
                format!(
                    "start_factor {start_factor} must be in (0, 1] and end_factor {end_factor} in [0, 1]"
                ),
            ));
        }
        let schedule = LinearLR {
            base_lr: optimizer.lr(),
            start_factor,
            end_factor,
            total_iters,
            steps: 0,
        };
        optimizer.set_lr(schedule.lr_at(0)?)?;
        Ok(schedule)
    }
}

impl LrScheduler for LinearLR {
    fn lr_at(&self, n: u64) -> Result<f64> {
        let done = if self.total_iters == 0 {
            1.0
        } else {
            n.min(self.total_iters) as f64 / self.total_iters as f64
        };
        let factor = self.start_factor + (self.end_factor - self.start_factor) * done;
        Ok(self.base_lr * factor)
    }

    fn steps_taken(&self) -> u64 {
        self.steps
    }

    fn count_step(&mut self) {
        self.steps += 1;
    }
}

/// How `OneCycleLR` moves between two rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anneal {
    Cos,
    Linear,
}

impl Anneal {
    fn between(self, start: f64, end: f64, pct: f64) -> f64 {
        match self {
            Anneal::Cos => end + (start - end) / 2.0 * ((PI * pct).cos() + 1.0),
            Anneal::Linear => (end - start) * pct + start,
        }
    }
}

/// The 1cycle policy (PyTorch's `OneCycleLR`, two phases, learning rate only, as with
/// `cycle_momentum=False`): from `max_lr / div_factor` up to `max_lr` over the first
/// `pct_start` of `total_steps`, then down to `max_lr / div_factor / final_div_factor`.
#[derive(Debug, Clone)]
pub struct OneCycleLR {
    initial_lr: f64,
    max_lr: f64,
    min_lr: f64,
    /// The last step of the warmup phase (PyTorch's `pct_start * total_steps - 1`).
    warmup_end: f64,
    total_steps: u64,
    anneal: Anneal,
    steps: u64,
}

impl OneCycleLR {
    /// PyTorch's defaults: `pct_start` 0.3, cosine, `div_factor` 25, `final_div_factor` 1e4.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// use frontend_tensor::optim::*;
    /// let mut opt = SGD::new(Vec::new(), 0.1)?;
    /// let schedule = OneCycleLR::new(&mut opt, 1.0, 10)?;
    /// assert!((opt.lr() - 0.04).abs() < 1e-12); // max_lr / 25
    /// assert!((schedule.last_lr()? - 0.04).abs() < 1e-12);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn new(optimizer: &mut dyn Optimizer, max_lr: f64, total_steps: u64) -> Result<OneCycleLR> {
        OneCycleLR::with_options(optimizer, max_lr, total_steps, 0.3, Anneal::Cos, 25.0, 1e4)
    }

    /// With `pct_start`, the annealing, `div_factor` and `final_div_factor` given.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// use frontend_tensor::optim::*;
    /// let mut opt = SGD::new(Vec::new(), 0.1)?;
    /// let mut schedule = OneCycleLR::with_options(&mut opt, 1.0, 10, 0.5, Anneal::Linear, 10.0, 1e4)?;
    /// assert!((opt.lr() - 0.1).abs() < 1e-12); // max_lr / div_factor
    /// schedule.step(&mut opt)?;
    /// assert!(opt.lr() > 0.1);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn with_options(
        optimizer: &mut dyn Optimizer,
        max_lr: f64,
        total_steps: u64,
        pct_start: f64,
        anneal: Anneal,
        div_factor: f64,
        final_div_factor: f64,
    ) -> Result<OneCycleLR> {
        if total_steps == 0 || !(0.0..=1.0).contains(&pct_start) {
            return Err(invalid(
                "OneCycleLR",
                format!(
                    "total_steps {total_steps} must be positive and pct_start {pct_start} in [0, 1]"
                ),
            ));
        }
        let initial_lr = max_lr / div_factor;
        let schedule = OneCycleLR {
            initial_lr,
            max_lr,
            min_lr: initial_lr / final_div_factor,
            warmup_end: pct_start * total_steps as f64 - 1.0,
            total_steps,
            anneal,
            steps: 0,
        };
        optimizer.set_lr(schedule.lr_at(0)?)?;
        Ok(schedule)
    }
}

impl LrScheduler for OneCycleLR {
    fn lr_at(&self, n: u64) -> Result<f64> {
        if n >= self.total_steps {
            return Err(invalid(
                "OneCycleLR",
                format!(
                    "step {} is past the {} total steps of the schedule",
                    n + 1,
                    self.total_steps
                ),
            ));
        }
        let n = n as f64;
        let last = (self.total_steps - 1) as f64;
        Ok(if n <= self.warmup_end {
            let pct = n / self.warmup_end;
            self.anneal.between(self.initial_lr, self.max_lr, pct)
        } else {
            let pct = (n - self.warmup_end) / (last - self.warmup_end);
            self.anneal.between(self.max_lr, self.min_lr, pct)
        })
    }

    fn steps_taken(&self) -> u64 {
        self.steps
    }

    fn count_step(&mut self) {
        self.steps += 1;
    }
}
