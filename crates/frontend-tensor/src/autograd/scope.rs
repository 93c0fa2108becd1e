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
pub fn no_grad<T>(f: impl FnOnce() -> T) -> T {
    let _guard = NoGradGuard::enter();
    f()
}

/// Gradients are off on this thread while a guard lives (for code that cannot be put in
/// a closure).
#[derive(Debug)]
pub struct NoGradGuard(());

impl NoGradGuard {
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
