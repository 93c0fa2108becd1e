//! A queue's ring: where commands are written, the write and read pointers, and the
//! doorbell that tells the command processor about new work.
//!
//! | | ring unit | write pointer | doorbell value |
//! |---|---|---|---|
//! | AQL | a 64-byte packet slot (slot = index mod capacity) | packets ever written | the index of the last packet written (write pointer − 1) |
//! | PM4 | a dword (index mod capacity) | dwords ever written | the write pointer |
//!
//! Pointers only grow; the ring is full when `write − read ≥ capacity`, and a submission
//! that does not fit is refused (the caller waits for the read pointer). Publication
//! order, per AQL packet: the slot's header is first set to INVALID, then the 60 bytes
//! after the header are written, then the header and setup dword is stored with release
//! ordering, so the packet processor never sees a valid header before its body. After
//! the packets (or the PM4 dwords, which wrap around the ring's end) the write pointer
//! is stored, then the doorbell. The memory itself is a `QueueMemory`: mapped GPU memory
//! on the device, `HostMemory` in tests (which records every access in order).

mod host;

pub use host::{Access, HostMemory};

use crate::aql::{PACKET_BYTES, PacketType, Slot};
use crate::{AmdError, Result};

/// The memory of one queue (see the module doc); shared with the GPU, so every access
/// takes `&self`.
pub trait QueueMemory {
    /// Bytes of the ring.
    fn ring_bytes(&self) -> usize;
    /// Copies `bytes` into the ring at byte `offset` (within the ring).
    fn write_ring(&self, offset: usize, bytes: &[u8]);
    /// Stores `value` at ring byte `offset` (4-byte aligned) after every earlier write
    /// (a release store).
    fn store_ring_release(&self, offset: usize, value: u32);
    /// Stores the write pointer (release).
    fn store_write_pointer(&self, value: u64);
    /// Loads the read pointer the command processor advances (acquire).
    fn load_read_pointer(&self) -> u64;
    /// Rings the doorbell with `value`.
    fn ring_doorbell(&self, value: u64);
}

/// What a ring holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RingKind {
    /// 64-byte AQL packets.
    Aql,
    /// PM4 dwords.
    Pm4,
}

/// A ring over `M` (see the module doc).
#[derive(Debug)]
pub struct Ring<M> {
    kind: RingKind,
    memory: M,
    /// Units written ever (packets or dwords).
    written: u64,
    /// Units the ring holds.
    capacity: u64,
}

impl<M: QueueMemory> Ring<M> {
    /// A ring of `kind` over `memory`, whose size must be a non-zero power of two number
    /// of units. A new AQL ring's slots are all made INVALID.
    pub fn new(kind: RingKind, memory: M) -> Result<Ring<M>> {
        let unit = match kind {
            RingKind::Aql => PACKET_BYTES,
            RingKind::Pm4 => 4,
        };
        let bytes = memory.ring_bytes();
        let capacity = (bytes / unit) as u64;
        if !bytes.is_multiple_of(unit) || !capacity.is_power_of_two() {
            return Err(AmdError::Queue(format!(
                "a ring of {bytes} bytes is not a power of two number of {unit}-byte units"
            )));
        }
        if kind == RingKind::Aql {
            for slot in 0..capacity as usize {
                memory.store_ring_release(slot * PACKET_BYTES, PacketType::Invalid as u32);
            }
        }
        Ok(Ring {
            kind,
            memory,
            written: 0,
            capacity,
        })
    }

    pub fn memory(&self) -> &M {
        &self.memory
    }

    /// Units written ever: the write pointer.
    pub fn write_pointer(&self) -> u64 {
        self.written
    }

    /// Units the ring holds.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Units free now.
    pub fn free(&self) -> u64 {
        let read = self.memory.load_read_pointer().min(self.written);
        self.capacity - (self.written - read)
    }

    /// Refuses `n` more units unless they fit.
    fn reserve(&self, n: u64) -> Result<()> {
        let free = self.free();
        if n > free {
            return Err(AmdError::Queue(format!(
                "{n} units do not fit: {free} of {} free (write {}, read {})",
                self.capacity,
                self.written,
                self.memory.load_read_pointer()
            )));
        }
        Ok(())
    }

    /// Publishes AQL packets (see the module doc) and rings the doorbell.
    pub fn submit_packets(&mut self, slots: &[Slot]) -> Result<()> {
        if self.kind != RingKind::Aql {
            return Err(AmdError::Queue("AQL packets on a PM4 ring".into()));
        }
        if slots.is_empty() {
            return Ok(());
        }
        self.reserve(slots.len() as u64)?;
        for (k, slot) in slots.iter().enumerate() {
            let at = ((self.written + k as u64) % self.capacity) as usize * PACKET_BYTES;
            self.memory
                .store_ring_release(at, PacketType::Invalid as u32);
            self.memory.write_ring(at + 4, &slot.rest);
            self.memory.store_ring_release(at, slot.first);
        }
        self.written += slots.len() as u64;
        self.memory.store_write_pointer(self.written);
        self.memory.ring_doorbell(self.written - 1);
        Ok(())
    }

    /// Writes PM4 dwords (wrapping at the ring's end) and rings the doorbell.
    pub fn submit_dwords(&mut self, dwords: &[u32]) -> Result<()> {
        if self.kind != RingKind::Pm4 {
            return Err(AmdError::Queue("PM4 dwords on an AQL ring".into()));
        }
        if dwords.is_empty() {
            return Ok(());
        }
        self.reserve(dwords.len() as u64)?;
        let start = (self.written % self.capacity) as usize;
        let first = dwords.len().min(self.capacity as usize - start);
        let bytes = |d: &[u32]| d.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        self.memory.write_ring(start * 4, &bytes(&dwords[..first]));
        if first < dwords.len() {
            self.memory.write_ring(0, &bytes(&dwords[first..]));
        }
        self.written += dwords.len() as u64;
        self.memory.store_write_pointer(self.written);
        self.memory.ring_doorbell(self.written);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
