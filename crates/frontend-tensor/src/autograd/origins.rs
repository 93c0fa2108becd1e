//! Origins: when a tensor whose graph leads to a parameter is realized, its node becomes a
//! view of its new buffer; the graph it was computed from is kept here, keyed by that
//! view, so gradients can still flow through it (`loss.to_vec()` before `backward()`, or
//! an activation realized mid-model). Entries are weak in the view: the graph is dropped
//! when no tensor or graph uses the view any more.

use std::collections::HashMap;
use std::sync::LazyLock;

use parking_lot::Mutex;
use uop_ir::{UOp, WeakUOp};

static ORIGINS: LazyLock<Mutex<HashMap<usize, (WeakUOp, UOp)>>> = LazyLock::new(Default::default);

/// Records that `view` holds the value of the graph `origin`.
pub(crate) fn record_origin(view: &UOp, origin: UOp) {
    let mut origins = ORIGINS.lock();
    origins.retain(|_, (w, _)| w.is_alive());
    origins.insert(view.id(), (view.downgrade(), origin));
}

/// Drops the graphs of views that died: a graph holds the buffers it reads (a
/// micro-batch's inputs), which must not outlive the loss realized from them.
pub(crate) fn forget_dead() {
    ORIGINS.lock().retain(|_, (w, _)| w.is_alive());
}

/// Forgets the graph `view` was realized from: no gradient flows back through it.
pub(crate) fn forget(view: &UOp) {
    ORIGINS.lock().remove(&view.id());
}

/// The graph `u` was realized from, if it was a tracked tensor's.
pub(crate) fn origin_of(u: &UOp) -> Option<UOp> {
    let origins = ORIGINS.lock();
    let (w, origin) = origins.get(&u.id())?;
    (w.upgrade().as_ref() == Some(u)).then(|| origin.clone())
}

/// Whether any origin is recorded (a walk can skip lookups when none is).
pub(crate) fn any() -> bool {
    !ORIGINS.lock().is_empty()
}
