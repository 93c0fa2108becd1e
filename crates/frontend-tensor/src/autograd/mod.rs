//! Autograd: gradients are one more rule set over the tensor graph. `rules.rs` maps each
//! op to the gradients of its sources given the gradient of its result; `walk.rs` runs
//! them from a root back to the targets; the results are ordinary lazy tensors, so a
//! backward pass is scheduled and fused like any other graph (a training step is one
//! schedule: forward, backward and the optimizer's update).
//!
//! Around the walk:
//! - `leaves.rs`: tensors marked with `requires_grad_` (parameters). `backward` fills
//!   their `grad`.
//! - `origins.rs`: a tensor realized while its graph leads to a parameter keeps that graph
//!   (its origin), so `loss.to_vec()` before `loss.backward()` works as in PyTorch.
//! - `scope.rs`: `no_grad`, inside which every op's result is detached.

mod api;
mod leaves;
mod origins;
mod rules;
mod scope;
mod walk;

pub use scope::{NoGradGuard, no_grad};

pub(crate) use origins::{
    forget as forget_origin, forget_dead as forget_dead_origins, record_origin,
};
pub(crate) use scope::{detached, grad_enabled};
pub(crate) use walk::tracked;
