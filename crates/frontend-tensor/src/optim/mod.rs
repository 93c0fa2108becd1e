//! Optimizers and learning-rate schedules, as `torch.optim` has them: `SGD` (momentum,
//! dampening, Nesterov, weight decay), `Adam`, `AdamW`, and the schedules `StepLR`,
//! `CosineAnnealingLR`, `LinearLR` (warmup) and `OneCycleLR`. A step is lazy until its
//! end and then one schedule (see `optimizer.rs`), after `backward` computed the gradients. One parameter group per optimizer.

mod adam;
mod optimizer;
mod rate;
mod schedule;
mod sgd;

pub use adam::{Adam, AdamConfig, AdamW};
pub use optimizer::Optimizer;
pub use schedule::{Anneal, CosineAnnealingLR, LinearLR, LrScheduler, OneCycleLR, StepLR};
pub use sgd::{SGD, SgdConfig};
