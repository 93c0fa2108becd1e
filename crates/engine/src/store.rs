//! Which device memory holds each tensor-graph BUFFER, and a cache of freed memory.
//! Entries live as long as their BUFFER node; when it dies its memory goes to a free list
//! (per device and size, bounded by `FREE_LIST_BYTES`) and the next allocation of that
//! size takes it: no fresh pages to fault in and zero (tinygrad's LRU allocator does the
//! same). Reused memory is not zeroed: kernels write every element of their outputs.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use device::{Buffer, Device};
use parking_lot::Mutex;
use uop_ir::{Arg, UOp, WeakUOp};

/// At most this many bytes of freed memory are kept for reuse.
pub const FREE_LIST_BYTES: usize = 1 << 30;

#[derive(Default)]
struct Store {
    live: HashMap<u64, (WeakUOp, String, Buffer)>,
    free: HashMap<(String, usize), Vec<Buffer>>,
    free_bytes: usize,
}

impl Store {
    /// Moves the memory of dead BUFFER nodes to the free list.
    fn sweep(&mut self) {
        let dead: Vec<u64> = self
            .live
            .iter()
            .filter(|(_, (w, _, _))| !w.is_alive())
            .map(|(id, _)| *id)
            .collect();
        for id in dead {
            let Some((_, device, memory)) = self.live.remove(&id) else {
                continue;
            };
            self.release(device, memory);
        }
    }

    fn release(&mut self, device: String, memory: Buffer) {
        let size = memory.size();
        // only memory nobody else holds can be handed out again
        if Arc::strong_count(&memory) == 1 && self.free_bytes + size <= FREE_LIST_BYTES {
            self.free_bytes += size;
            self.free.entry((device, size)).or_default().push(memory);
        }
    }
}

static STORE: LazyLock<Mutex<Store>> = LazyLock::new(|| Mutex::new(Store::default()));

fn id_of(buffer: &UOp) -> Option<u64> {
    match buffer.arg() {
        Arg::Buffer { id, .. } => Some(*id),
        _ => None,
    }
}

/// Memory of `bytes` on `dev`: freed memory of that size if there is some, else new.
pub fn alloc(dev: &Arc<dyn Device>, bytes: usize) -> device::Result<Buffer> {
    let mut store = STORE.lock();
    store.sweep();
    let key = (dev.name().to_string(), bytes);
    if let Some(memory) = store.free.get_mut(&key).and_then(Vec::pop) {
        store.free_bytes -= bytes;
        return Ok(memory);
    }
    drop(store);
    dev.alloc(bytes)
}

/// Returns memory that is no longer needed (a schedule's temporaries) to the free list.
pub fn release(dev: &Arc<dyn Device>, memory: Buffer) {
    STORE.lock().release(dev.name().to_string(), memory);
}

/// Records that `memory` (on the device named `device`) holds the BUFFER node `buffer`.
pub fn insert(buffer: &UOp, device: &str, memory: Buffer) {
    let Some(id) = id_of(buffer) else { return };
    let mut store = STORE.lock();
    store.sweep();
    store
        .live
        .insert(id, (buffer.downgrade(), device.to_string(), memory));
}

/// The memory of a BUFFER node, if it has any.
pub fn get(buffer: &UOp) -> Option<Buffer> {
    let id = id_of(buffer)?;
    STORE.lock().live.get(&id).map(|(_, _, b)| b.clone())
}

/// The name of the device whose memory holds a BUFFER node, if it has memory.
pub fn device_of(buffer: &UOp) -> Option<String> {
    let id = id_of(buffer)?;
    STORE.lock().live.get(&id).map(|(_, d, _)| d.clone())
}

/// How many buffers are held by live BUFFER nodes.
pub fn len() -> usize {
    let mut store = STORE.lock();
    store.sweep();
    store.live.len()
}
