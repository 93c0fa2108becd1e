//! The tensors marked with `requires_grad_` (leaves, usually parameters), held weakly:
//! a leaf is forgotten when its last handle goes.

use std::sync::{Arc, LazyLock, Weak};

use parking_lot::Mutex;

use crate::tensor::{Inner, Tensor};

static LEAVES: LazyLock<Mutex<Vec<Weak<Inner>>>> = LazyLock::new(Default::default);

/// Remembers `t` as a leaf (once).
pub(crate) fn register(t: &Tensor) {
    let mut leaves = LEAVES.lock();
    leaves.retain(|w| w.strong_count() > 0);
    if !leaves.iter().any(|w| w.as_ptr() == Arc::as_ptr(t.inner())) {
        leaves.push(Arc::downgrade(t.inner()));
    }
}

/// The live leaves that require grad now.
pub(crate) fn live() -> Vec<Tensor> {
    let mut leaves = LEAVES.lock();
    leaves.retain(|w| w.strong_count() > 0);
    leaves
        .iter()
        .filter_map(Weak::upgrade)
        .map(Tensor::from_inner)
        .filter(Tensor::requires_grad_flag)
        .collect()
}
