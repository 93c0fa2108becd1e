//! `HostMemory`: a queue's memory in host RAM, for tests and for checking what a queue
//! writes without a GPU. The ring is atomic words (so release stores are real), and every
//! access is also recorded in order (`Access`), so tests can check the publication order
//! and the doorbell values; the read pointer is set by the test, standing in for the
//! command processor.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use parking_lot::Mutex;

use super::QueueMemory;

/// One access to a queue's memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access {
    /// Bytes copied into the ring: offset and length.
    Write {
        offset: usize,
        len: usize,
    },
    /// A release store into the ring: offset and value.
    Release {
        offset: usize,
        value: u32,
    },
    WritePointer(u64),
    Doorbell(u64),
}

/// A queue's memory in host RAM (see the module doc).
#[derive(Debug)]
pub struct HostMemory {
    ring: Vec<AtomicU32>,
    write_pointer: AtomicU64,
    read_pointer: AtomicU64,
    log: Mutex<Vec<Access>>,
}

impl HostMemory {
    /// A zeroed ring of `bytes` (rounded up to whole dwords).
    pub fn new(bytes: usize) -> HostMemory {
        HostMemory {
            ring: (0..bytes.div_ceil(4)).map(|_| AtomicU32::new(0)).collect(),
            write_pointer: AtomicU64::new(0),
            read_pointer: AtomicU64::new(0),
            log: Mutex::new(Vec::new()),
        }
    }

    /// The ring's bytes now.
    pub fn ring(&self) -> Vec<u8> {
        self.ring
            .iter()
            .flat_map(|w| w.load(Ordering::Acquire).to_le_bytes())
            .collect()
    }

    /// The ring's dwords now.
    pub fn dwords(&self) -> Vec<u32> {
        self.ring
            .iter()
            .map(|w| w.load(Ordering::Acquire))
            .collect()
    }

    /// Takes the accesses recorded so far.
    pub fn take_log(&self) -> Vec<Access> {
        std::mem::take(&mut *self.log.lock())
    }

    /// Sets the read pointer, as the command processor would.
    pub fn set_read_pointer(&self, value: u64) {
        self.read_pointer.store(value, Ordering::Release);
    }

    /// The write pointer last stored.
    pub fn write_pointer(&self) -> u64 {
        self.write_pointer.load(Ordering::Acquire)
    }
}

impl QueueMemory for HostMemory {
    fn ring_bytes(&self) -> usize {
        self.ring.len() * 4
    }

    fn write_ring(&self, offset: usize, bytes: &[u8]) {
        for (k, b) in bytes.iter().enumerate() {
            let at = offset + k;
            if let Some(word) = self.ring.get(at / 4) {
                let shift = 8 * (at % 4);
                let old = word.load(Ordering::Relaxed);
                let new = (old & !(0xFF << shift)) | u32::from(*b) << shift;
                word.store(new, Ordering::Relaxed);
            }
        }
        self.log.lock().push(Access::Write {
            offset,
            len: bytes.len(),
        });
    }

    fn store_ring_release(&self, offset: usize, value: u32) {
        if let Some(word) = self.ring.get(offset / 4) {
            word.store(value, Ordering::Release);
        }
        self.log.lock().push(Access::Release { offset, value });
    }

    fn store_write_pointer(&self, value: u64) {
        self.write_pointer.store(value, Ordering::Release);
        self.log.lock().push(Access::WritePointer(value));
    }

    fn load_read_pointer(&self) -> u64 {
        self.read_pointer.load(Ordering::Acquire)
    }

    fn ring_doorbell(&self, value: u64) {
        self.log.lock().push(Access::Doorbell(value));
    }
}
