//! Which device memory holds each tensor-graph BUFFER, a cache of freed memory, and the
//! allocator statistics.
//!
//! Entries live as long as their BUFFER node; when it dies (uop-ir tells the store each
//! freed BUFFER's id, `on_buffer_freed`: nothing is scanned) its memory goes to a free list
//! (per device and size, bounded by `FREE_LIST_BYTES`) and the next allocation of that
//! size takes it: no fresh pages to fault in and zero (tinygrad's LRU allocator does the
//! same). Reused memory is not zeroed: kernels write every element of their outputs.
//!
//! Every byte is counted where it is handed out (`alloc`) and where it comes back
//! (`release`, or the death of its BUFFER node): `in_use` is what tensors, schedule
//! temporaries and captured launches (`capture`) hold now, `peak` the most it has been
//! since `reset_peak_memory`, `cached` what the free list keeps. Memory that comes back
//! while something else still holds it (a captured launch list) stays in use until that
//! holder lets it go; it is never handed out twice.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Weak};

use device::{Buffer, Device, RawBuffer};
use parking_lot::Mutex;
use uop_ir::{Arg, UOp};

use crate::EngineError;
use crate::fast_hash::FastBuild;

/// At most this many bytes of freed memory are kept for reuse.
pub const FREE_LIST_BYTES: usize = 1 << 30;

/// The allocator statistics, of all devices together or of one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemoryStats {
    /// Bytes held now by tensors, schedule temporaries and captured launch lists.
    pub in_use: usize,
    /// The most `in_use` has been since `reset_peak_memory` (or since the start).
    pub peak: usize,
    /// Bytes of freed memory kept for reuse.
    pub cached: usize,
    /// Allocations handed out since the start, from the free list or new.
    pub allocations: u64,
}

impl MemoryStats {
    fn take(&mut self, bytes: usize) {
        self.in_use += bytes;
        self.peak = self.peak.max(self.in_use);
        self.allocations += 1;
    }

    fn give_back(&mut self, bytes: usize) {
        self.in_use = self.in_use.saturating_sub(bytes);
    }
}

/// Memory that came back while another holder kept it: in use until that holder drops it.
struct Lingering {
    device: String,
    memory: Weak<dyn RawBuffer>,
    bytes: usize,
}

#[derive(Default)]
struct Store {
    /// The memory of each BUFFER node (by id) that has some, and its device.
    live: HashMap<u64, (String, Buffer), FastBuild>,
    /// Freed memory by device, then size.
    free: HashMap<String, HashMap<usize, Vec<Buffer>, FastBuild>, FastBuild>,
    lingering: Vec<Lingering>,
    total: MemoryStats,
    per_device: Vec<(String, MemoryStats)>,
}

impl Store {
    fn stats_of(&mut self, device: &str) -> &mut MemoryStats {
        let at = match self.per_device.iter().position(|(d, _)| d == device) {
            Some(at) => at,
            None => {
                self.per_device
                    .push((device.to_string(), MemoryStats::default()));
                self.per_device.len() - 1
            }
        };
        &mut self.per_device[at].1
    }

    fn take(&mut self, device: &str, bytes: usize) {
        self.total.take(bytes);
        self.stats_of(device).take(bytes);
    }

    fn give_back(&mut self, device: &str, bytes: usize) {
        self.total.give_back(bytes);
        self.stats_of(device).give_back(bytes);
    }

    fn set_cached(&mut self, device: &str, delta: isize) {
        let apply = |s: &mut MemoryStats| s.cached = s.cached.saturating_add_signed(delta);
        apply(&mut self.total);
        apply(self.stats_of(device));
    }

    /// Moves the memory of dead BUFFER nodes to the free list, and stops counting
    /// lingering memory whose last holder has dropped it.
    fn sweep(&mut self) {
        let dead = std::mem::take(&mut *FREED.lock());
        for id in dead {
            if let Some((device, memory)) = self.live.remove(&id) {
                self.release(device, memory);
            }
        }
        if self.lingering.is_empty() {
            return;
        }
        let mut gone: Vec<(String, usize)> = Vec::new();
        self.lingering.retain(|l| {
            let held = l.memory.strong_count() > 0;
            if !held {
                gone.push((l.device.clone(), l.bytes));
            }
            held
        });
        for (device, bytes) in gone {
            self.give_back(&device, bytes);
        }
    }

    fn release(&mut self, device: String, memory: Buffer) {
        let size = memory.size();
        if Arc::strong_count(&memory) > 1 {
            // someone else (a captured launch list) still uses it: never hand it out again
            self.lingering.push(Lingering {
                device,
                memory: Arc::downgrade(&memory),
                bytes: size,
            });
            return;
        }
        self.give_back(&device, size);
        if self.total.cached + size <= FREE_LIST_BYTES {
            self.set_cached(&device, size as isize);
            let by_size = self.free.entry(device).or_default();
            by_size.entry(size).or_default().push(memory);
        }
    }

    fn alloc(&mut self, dev: &Arc<dyn Device>, bytes: usize) -> device::Result<Buffer> {
        let name = dev.name();
        let reused = self
            .free
            .get_mut(name)
            .and_then(|by_size| by_size.get_mut(&bytes))
            .and_then(Vec::pop);
        let memory = match reused {
            Some(memory) => {
                self.set_cached(name, -(bytes as isize));
                memory
            }
            None => dev.alloc(bytes)?,
        };
        self.take(name, bytes);
        Ok(memory)
    }
}

/// Ids of BUFFER nodes freed since the last sweep (told by uop-ir as each is freed).
static FREED: Mutex<Vec<u64>> = Mutex::new(Vec::new());

fn buffer_freed(id: u64) {
    FREED.lock().push(id);
}

static STORE: LazyLock<Mutex<Store>> = LazyLock::new(|| {
    // every node with memory is inserted through the store, so this runs before any dies
    uop_ir::on_buffer_freed(buffer_freed);
    Mutex::new(Store::default())
});

fn id_of(buffer: &UOp) -> Option<u64> {
    match buffer.arg() {
        Arg::Buffer { id, .. } => Some(*id),
        _ => None,
    }
}

/// Memory of `bytes` on `dev`: freed memory of that size if there is some, else new.
/// It counts as in use until it comes back through [`release`] or, once [`insert`]ed,
/// with its BUFFER node.
pub fn alloc(dev: &Arc<dyn Device>, bytes: usize) -> device::Result<Buffer> {
    let mut store = STORE.lock();
    store.sweep();
    store.alloc(dev, bytes)
}

/// [`alloc`] of several sizes at once (one sweep); on failure nothing stays allocated.
pub fn alloc_all(dev: &Arc<dyn Device>, sizes: &[usize]) -> device::Result<Vec<Buffer>> {
    let mut store = STORE.lock();
    store.sweep();
    let mut out = Vec::with_capacity(sizes.len());
    for &bytes in sizes {
        match store.alloc(dev, bytes) {
            Ok(memory) => out.push(memory),
            Err(e) => {
                for memory in out {
                    store.release(dev.name().to_string(), memory);
                }
                return Err(e);
            }
        }
    }
    Ok(out)
}

/// The memory of a schedule, under one lock: for each output (a BUFFER node and its
/// bytes) memory recorded as the node's, and the temporaries' allocations. On failure
/// nothing stays allocated.
pub fn alloc_schedule(
    dev: &Arc<dyn Device>,
    outputs: &[(&UOp, usize)],
    temporaries: &[usize],
) -> device::Result<(Vec<Buffer>, Vec<Buffer>)> {
    let mut store = STORE.lock();
    store.sweep();
    let mut arena = Vec::with_capacity(temporaries.len());
    let mut outs = Vec::with_capacity(outputs.len());
    let sizes = temporaries
        .iter()
        .copied()
        .chain(outputs.iter().map(|(_, bytes)| *bytes));
    for bytes in sizes {
        match store.alloc(dev, bytes) {
            Ok(memory) if arena.len() < temporaries.len() => arena.push(memory),
            Ok(memory) => outs.push(memory),
            Err(e) => {
                for memory in arena.into_iter().chain(outs) {
                    store.release(dev.name().to_string(), memory);
                }
                return Err(e);
            }
        }
    }
    for ((node, _), memory) in outputs.iter().zip(&outs) {
        store.insert(node, dev.name(), memory.clone());
    }
    Ok((outs, arena))
}

/// Memory of `bytes` on `dev` for the BUFFER node `buffer`, recorded as its memory: it
/// comes back when the node dies.
pub fn alloc_for(buffer: &UOp, dev: &Arc<dyn Device>, bytes: usize) -> device::Result<Buffer> {
    let mut store = STORE.lock();
    store.sweep();
    let memory = store.alloc(dev, bytes)?;
    store.insert(buffer, dev.name(), memory.clone());
    Ok(memory)
}

/// Returns memory from [`alloc`] that is no longer needed (a schedule's temporaries).
pub fn release(dev: &Arc<dyn Device>, memory: Buffer) {
    STORE.lock().release(dev.name().to_string(), memory);
}

impl Store {
    fn insert(&mut self, buffer: &UOp, device: &str, memory: Buffer) {
        let Some(id) = id_of(buffer) else {
            self.release(device.to_string(), memory);
            return;
        };
        let old = self.live.insert(id, (device.to_string(), memory));
        if let Some((device, memory)) = old {
            self.release(device, memory);
        }
    }
}

/// Records that `memory` (from [`alloc`], on the device named `device`) holds the BUFFER
/// node `buffer`; it comes back when the node dies.
pub fn insert(buffer: &UOp, device: &str, memory: Buffer) {
    let mut store = STORE.lock();
    store.sweep();
    store.insert(buffer, device, memory);
}

/// The memory of a BUFFER node, if it has any.
pub fn get(buffer: &UOp) -> Option<Buffer> {
    let id = id_of(buffer)?;
    STORE.lock().live.get(&id).map(|(_, b)| b.clone())
}

/// The memory of each BUFFER node (`None` where it has none), under one lock.
pub fn get_all<'a>(buffers: impl IntoIterator<Item = &'a UOp>) -> Vec<Option<Buffer>> {
    let store = STORE.lock();
    buffers
        .into_iter()
        .map(|b| {
            let id = id_of(b)?;
            store.live.get(&id).map(|(_, m)| m.clone())
        })
        .collect()
}

/// `get_all`, with an error naming the first buffer whose memory lives on another device
/// than `device` (its address means nothing there).
pub fn get_all_on<'a>(
    buffers: impl IntoIterator<Item = &'a UOp>,
    device: &str,
) -> Result<Vec<Option<Buffer>>, EngineError> {
    let store = STORE.lock();
    buffers
        .into_iter()
        .map(|b| {
            let Some(id) = id_of(b) else { return Ok(None) };
            match store.live.get(&id) {
                None => Ok(None),
                Some((on, _)) if !on.eq_ignore_ascii_case(device) => {
                    Err(EngineError::WrongDevice {
                        buffer: b.arg().to_string(),
                        on: on.clone(),
                        run: device.to_string(),
                    })
                }
                Some((_, m)) => Ok(Some(m.clone())),
            }
        })
        .collect()
}

/// How many buffers are held by live BUFFER nodes.
pub fn len() -> usize {
    let mut store = STORE.lock();
    store.sweep();
    store.live.len()
}

/// Takes back the memory of BUFFER nodes that died since the last allocation.
pub fn sweep() {
    STORE.lock().sweep();
}

/// The allocator statistics of all devices together (memory of dead BUFFER nodes taken
/// back first).
pub fn memory_stats() -> MemoryStats {
    let mut store = STORE.lock();
    store.sweep();
    store.total
}

/// The allocator statistics of the device named `device` (as the registry names it, e.g.
/// `"CPU"`); zero for a device that never allocated.
pub fn device_memory_stats(device: &str) -> MemoryStats {
    let mut store = STORE.lock();
    store.sweep();
    store
        .per_device
        .iter()
        .find(|(d, _)| d == device)
        .map(|(_, s)| *s)
        .unwrap_or_default()
}

/// Starts a new peak: from now on `peak` is the most in use since this call.
pub fn reset_peak_memory() {
    let mut store = STORE.lock();
    store.sweep();
    store.total.peak = store.total.in_use;
    for (_, s) in &mut store.per_device {
        s.peak = s.in_use;
    }
}

/// Empties the free list, giving its memory back to the devices.
pub fn clear_free_list() {
    let mut store = STORE.lock();
    let free = std::mem::take(&mut store.free);
    for (device, by_size) in free {
        let bytes: usize = by_size.iter().map(|(size, m)| size * m.len()).sum();
        store.set_cached(&device, -(bytes as isize));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::HostDevice;
    use uop_ir::DType;

    #[test]
    fn bytes_are_counted_out_and_back_and_the_peak_holds() {
        let dev = HostDevice::open("STORE-COUNTS");
        let stats = || device_memory_stats("STORE-COUNTS");
        let a = alloc(&dev, 1000).expect("alloc");
        let b = alloc(&dev, 24).expect("alloc");
        assert_eq!(
            stats(),
            MemoryStats {
                in_use: 1024,
                peak: 1024,
                cached: 0,
                allocations: 2
            }
        );
        release(&dev, a);
        assert_eq!(
            (stats().in_use, stats().peak, stats().cached),
            (24, 1024, 1000)
        );
        // the freed 1000 bytes are handed out again, not allocated anew
        let c = alloc(&dev, 1000).expect("alloc");
        assert_eq!(
            (stats().in_use, stats().cached, stats().allocations),
            (1024, 0, 3)
        );
        release(&dev, c);
        release(&dev, b);
        assert_eq!((stats().in_use, stats().peak), (0, 1024));
        reset_peak_memory();
        assert_eq!(stats().peak, 0);
        let d = alloc(&dev, 8).expect("alloc");
        assert_eq!(stats().peak, 8);
        release(&dev, d);
    }

    #[test]
    fn memory_of_a_buffer_node_comes_back_when_the_node_dies() {
        let dev = HostDevice::open("STORE-NODES");
        let stats = || device_memory_stats("STORE-NODES");
        let node = UOp::new_buffer(DType::F32, 16, "STORE-NODES");
        alloc_for(&node, &dev, 64).expect("alloc");
        assert!(get(&node).is_some());
        assert_eq!(stats().in_use, 64);
        drop(node);
        assert_eq!((stats().in_use, stats().cached), (0, 64));
    }

    #[test]
    fn memory_held_elsewhere_stays_in_use_and_is_not_handed_out_again() {
        let dev = HostDevice::open("STORE-HELD");
        let stats = || device_memory_stats("STORE-HELD");
        let a = alloc(&dev, 32).expect("alloc");
        let held = a.clone();
        release(&dev, a);
        assert_eq!((stats().in_use, stats().cached), (32, 0));
        let b = alloc(&dev, 32).expect("alloc");
        assert!(!Arc::ptr_eq(&b, &held), "memory still held was handed out");
        assert_eq!(stats().in_use, 64);
        drop(held);
        assert_eq!((stats().in_use, stats().cached), (32, 0));
        release(&dev, b);
        assert_eq!((stats().in_use, stats().cached), (0, 32));
    }
}
