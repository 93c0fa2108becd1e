//! `no_grad`: a scope (per thread) in which ops record no gradient path. Every op's
//! result is wrapped in DETACH, so a value computed inside it (an optimizer's update, an
//! evaluation) passes no gradient to what it was computed from, wherever it is used
//! later. Rangeify treats DETACH as its source.

use std::cell::Cell;

use uop_ir::{Arg, Op, UOp};

thread_local! {
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// Whether ops record gradient paths here (false inside `no_grad`).
pub(crate) fn grad_enabled() -> bool {
    DEPTH.with(|d| d.get() == 0)
}

/// Runs `f` with gradients off on this thread (scopes nest).
///
/// ```
/// # use frontend_tensor::*;
/// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
/// let w = Tensor::from_slice(&[1.0f32, 2.0], &[2])?.requires_grad_(true)?;
/// let y = no_grad(|| w.mul_scalar(2.0))?;
/// assert!(w.mul_scalar(2.0)?.requires_grad() && !y.requires_grad());
/// # Ok::<(), TensorError>(())
/// ```
pub fn no_grad<T>(f: impl FnOnce() -> T) -> T {
    let _guard = NoGradGuard::enter();
    f()
}

/// Gradients are off on this thread while a guard lives (for code that cannot be put in
/// a closure).
#[derive(Debug)]
pub struct NoGradGuard(());

impl NoGradGuard {
    /// Turns gradients off on this thread until the guard is dropped.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
    /// let w = Tensor::from_slice(&[1.0f32, 2.0], &[2])?.requires_grad_(true)?;
    /// let _guard = NoGradGuard::enter();
    /// assert!(!w.mul_scalar(2.0)?.requires_grad());
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn enter() -> NoGradGuard {
        DEPTH.with(|d| d.set(d.get() + 1));
        NoGradGuard(())
    }
}

impl Drop for NoGradGuard {
    fn drop(&mut self) {
        DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

/// `node` with no gradient path (constants and detached nodes have none already).
pub(crate) fn detached(node: UOp) -> UOp {
    if matches!(node.op(), Op::Detach | Op::Const) {
        node
    } else {
        UOp::new(Op::Detach, node.dtype(), [node], Arg::None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_nest_and_end() {
        assert!(grad_enabled());
        no_grad(|| {
            assert!(!grad_enabled());
            no_grad(|| assert!(!grad_enabled()));
            assert!(!grad_enabled());
        });
        assert!(grad_enabled());
        {
            let _g = NoGradGuard::enter();
            assert!(!grad_enabled());
        }
        assert!(grad_enabled());
    }
}
