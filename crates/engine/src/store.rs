//! Which device memory holds each tensor-graph BUFFER. Entries live as long as their
//! BUFFER node: dead ones are swept whenever a buffer is added.

use std::collections::HashMap;
use std::sync::LazyLock;

use device::Buffer;
use parking_lot::Mutex;
use uop_ir::{Arg, UOp, WeakUOp};

static STORE: LazyLock<Mutex<HashMap<u64, (WeakUOp, Buffer)>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn id_of(buffer: &UOp) -> Option<u64> {
    match buffer.arg() {
        Arg::Buffer { id, .. } => Some(*id),
        _ => None,
    }
}

/// Records that `memory` holds the BUFFER node `buffer`.
pub fn insert(buffer: &UOp, memory: Buffer) {
    let Some(id) = id_of(buffer) else { return };
    let mut store = STORE.lock();
    store.retain(|_, (w, _)| w.is_alive());
    store.insert(id, (buffer.downgrade(), memory));
}

/// The memory of a BUFFER node, if it has any.
pub fn get(buffer: &UOp) -> Option<Buffer> {
    let id = id_of(buffer)?;
    STORE.lock().get(&id).map(|(_, b)| b.clone())
}

/// How many buffers are held.
pub fn len() -> usize {
    let mut store = STORE.lock();
    store.retain(|_, (w, _)| w.is_alive());
    store.len()
}
