//! Graphs seen before, node for node: a realize of the very graph realized before (the
//! same roots, by content key, so the same ops over the same buffers) finds its template
//! and its buffers here without walking the graph. An eager loop that computes the same
//! expression over the same tensors (`(a * b + 1).realize()` each call) takes this path;
//! a graph over new buffers takes the structure walk (`structure.rs`). Graphs with an
//! ASSIGN never come here (a written ASSIGN changes what they compute).
//!
//! Entries hold the template and weak handles of the graph's buffers, keyed by the roots'
//! content keys and the device; at most [`KNOWN_GRAPHS`], forgotten all at once when full.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, LazyLock};

use parking_lot::Mutex;
use uop_ir::{Key, UOp, WeakUOp};

use crate::fast_hash::{FastBuild, FastHasher};
use crate::schedule_cache::{self, Scheduled, Template};

/// How many graphs are remembered.
pub const KNOWN_GRAPHS: usize = 256;

struct Known {
    template: Arc<Template>,
    buffers: Vec<WeakUOp>,
}

static KNOWN: LazyLock<Mutex<HashMap<Key, Known, FastBuild>>> =
    LazyLock::new(|| Mutex::new(HashMap::default()));

fn key_of(roots: &[UOp], device: &str) -> Key {
    let mut h = FastHasher::default();
    for r in roots {
        let k = r.key();
        h.write_u64(k.0[0]);
        h.write_u64(k.0[1]);
    }
    h.write_usize(roots.len());
    device.hash(&mut h);
    h.key()
}

/// The schedule of the graph of `roots` on `device` and the graph's buffers by position,
/// if this very graph was realized before.
pub(crate) fn find(roots: &[UOp], device: &str) -> Option<(Scheduled, Vec<UOp>)> {
    if !schedule_cache::enabled() {
        return None;
    }
    let key = key_of(roots, device);
    let (template, buffers) = {
        let known = KNOWN.lock();
        let k = known.get(&key)?;
        let buffers = k
            .buffers
            .iter()
            .map(WeakUOp::upgrade)
            .collect::<Option<Vec<_>>>()?;
        (k.template.clone(), buffers)
    };
    schedule_cache::count_hit();
    Some((Scheduled::known(template), buffers))
}

/// Remembers that the graph of `roots` on `device` has `template` and `buffers`.
pub(crate) fn remember(roots: &[UOp], device: &str, template: &Arc<Template>, buffers: &[UOp]) {
    if !schedule_cache::enabled() {
        return;
    }
    let key = key_of(roots, device);
    let mut known = KNOWN.lock();
    if known.len() >= KNOWN_GRAPHS {
        known.clear();
    }
    known.insert(
        key,
        Known {
            template: template.clone(),
            buffers: buffers.iter().map(UOp::downgrade).collect(),
        },
    );
}

/// Forgets every graph.
pub(crate) fn clear() {
    KNOWN.lock().clear();
}
