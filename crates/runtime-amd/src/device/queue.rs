//! `HwQueue`: the GPU's compute queue as the device drives it. It owns the queue's memory
//! (ring, pointer structure, EOP and CWSR buffers, doorbell page), a signal page, an area
//! for kernel arguments and one for indirect buffers (AQL mode), and submits recordings
//! (`compute::ComputeQueue`): PM4 dwords to a PM4 ring, or AQL packets with their PM4 in
//! indirect buffers. Completion is a signal value in host-visible memory that each
//! submission raises; waiting polls it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::aql::AmdQueue;
use crate::compute::{ComputeQueue, QueueMode};
use crate::device::memory::{Driver, GpuMemory, Kind};
use crate::kfd::ioctl::{CREATE_QUEUE, CreateQueue, QUEUE_TYPE_COMPUTE, QUEUE_TYPE_COMPUTE_AQL};
use crate::kfd::sizes::QueueSizes;
use crate::kfd::sys::Mapping;
use crate::kfd::topology::GpuNode;
use crate::ring::{QueueMemory, Ring, RingKind};
use crate::{AmdError, Result};

const RING_BYTES: usize = 1 << 20;
const ARGS_BYTES: usize = 16 << 20;
const IB_BYTES: usize = 16 << 20;
/// Signal slot: value at +0, start timestamp at +8, end timestamp at +16.
pub const SIGNAL_START: u64 = 8;
pub const SIGNAL_END: u64 = 16;
/// How long a wait may take before it is an error.
const TIMEOUT: Duration = Duration::from_secs(60);
/// GPU timestamp ticks per microsecond (the 100 MHz reference clock).
const TICKS_PER_US: u64 = 100;

/// The device's queue (see the module doc).
#[derive(Debug)]
pub struct HwQueue {
    pub mode: QueueMode,
    ring: Ring<DeviceMemory>,
    signal: GpuMemory,
    args: GpuMemory,
    args_used: usize,
    ib: GpuMemory,
    ib_used: usize,
    /// The value the last submission raises the signal to.
    pub last: u32,
    _eop: GpuMemory,
    _cwsr: Option<GpuMemory>,
}

impl HwQueue {
    /// Creates the queue of GPU `node`: AQL on multi-XCC parts, PM4 otherwise.
    pub fn new(driver: &Arc<Driver>, node: &GpuNode) -> Result<HwQueue> {
        let aql = node.num_xcc > 1;
        let ring = GpuMemory::new(driver, RING_BYTES, Kind::Uncached)?;
        let pointers = GpuMemory::new(driver, 4096, Kind::Uncached)?;
        if aql {
            let desc = AmdQueue::new(node.cu_count(), node.waves_per_cu());
            pointers.mapping().copy_in(0, &desc.bytes())?;
        }
        let eop = GpuMemory::new(driver, 4096, Kind::Vram)?;
        let sizes = QueueSizes::of(node);
        let cwsr = GpuMemory::new(driver, sizes.buffer as usize, Kind::Vram)?;
        let (write_offset, read_offset) = (56usize, 128usize);
        let mut args = CreateQueue {
            ring_base_address: ring.addr(),
            write_pointer_address: pointers.addr() + write_offset as u64,
            read_pointer_address: pointers.addr() + read_offset as u64,
            ring_size: RING_BYTES as u32,
            gpu_id: driver.gpu_id,
            queue_type: if aql {
                QUEUE_TYPE_COMPUTE_AQL
            } else {
                QUEUE_TYPE_COMPUTE
            },
            queue_percentage: 100,
            queue_priority: 7,
            eop_buffer_address: eop.addr(),
            eop_buffer_size: eop.size() as u64,
            ctx_save_restore_address: cwsr.addr(),
            ctx_save_restore_size: sizes.ctx_save_restore as u32,
            ctl_stack_size: sizes.ctl_stack as u32,
            ..CreateQueue::default()
        };
        driver.kfd.ioctl(CREATE_QUEUE, &mut args)?;
        let page = args.doorbell_offset & !0x1FFF;
        let doorbells = driver.kfd.map(0x2000, page)?;
        let memory = DeviceMemory {
            ring,
            pointers,
            write_offset,
            read_offset,
            doorbells,
            doorbell_offset: (args.doorbell_offset - page) as usize,
        };
        let kind = if aql { RingKind::Aql } else { RingKind::Pm4 };
        Ok(HwQueue {
            mode: if aql { QueueMode::Aql } else { QueueMode::Pm4 },
            ring: Ring::new(kind, memory)?,
            signal: GpuMemory::new(driver, 4096, Kind::Uncached)?,
            args: GpuMemory::new(driver, ARGS_BYTES, Kind::Uncached)?,
            args_used: 0,
            ib: GpuMemory::new(driver, IB_BYTES, Kind::Uncached)?,
            ib_used: 0,
            last: 0,
            _eop: eop,
            _cwsr: Some(cwsr).filter(|_| sizes.buffer > 0),
        })
    }

    /// The signal's address.
    pub fn signal_addr(&self) -> u64 {
        self.signal.addr()
    }

    /// Writes `args` into the kernarg area and returns their address (waiting for the
    /// queue to drain when the area is full).
    pub fn kernargs(&mut self, args: &[u8]) -> Result<u64> {
        let len = args.len().div_ceil(64) * 64;
        if self.args_used + len > ARGS_BYTES {
            self.wait(self.last)?;
            self.args_used = 0;
        }
        let at = self.args_used;
        self.args.mapping().copy_in(at, args)?;
        self.args_used += len.max(64);
        Ok(self.args.addr() + at as u64)
    }

    /// Submits a recording that ends by raising the signal to `value`.
    pub fn submit(&mut self, recording: &ComputeQueue, value: u32) -> Result<()> {
        match self.mode {
            QueueMode::Pm4 => self.ring.submit_dwords(recording.pm4_stream()?.dwords())?,
            QueueMode::Aql => {
                let (_, probe) = recording.aql_packets(0)?;
                let bytes = probe.len() * 4;
                if self.ib_used + bytes > IB_BYTES {
                    self.wait(self.last)?;
                    self.ib_used = 0;
                }
                let base = self.ib.addr() + self.ib_used as u64;
                let (slots, ib) = recording.aql_packets(base)?;
                let ib_bytes: Vec<u8> = ib.iter().flat_map(|d| d.to_le_bytes()).collect();
                self.ib.mapping().copy_in(self.ib_used, &ib_bytes)?;
                self.ib_used += bytes.div_ceil(64) * 64;
                self.ring.submit_packets(&slots)?;
            }
        }
        self.last = value;
        Ok(())
    }

    /// Waits until the signal reaches `value`.
    pub fn wait(&self, value: u32) -> Result<()> {
        let start = Instant::now();
        loop {
            let now = self.signal.mapping().load_u64(0) as u32;
            if now.wrapping_sub(value) as i32 >= 0 {
                return Ok(());
            }
            if start.elapsed() > TIMEOUT {
                return Err(AmdError::Queue(format!(
                    "the GPU did not reach signal value {value} in {TIMEOUT:?} (it is at {now})"
                )));
            }
            std::hint::spin_loop();
        }
    }

    /// The time between the start and end timestamps of the last timed submission.
    pub fn elapsed(&self) -> Duration {
        let m = self.signal.mapping();
        let (a, b) = (
            m.load_u64(SIGNAL_START as usize),
            m.load_u64(SIGNAL_END as usize),
        );
        Duration::from_nanos(b.saturating_sub(a) * 1000 / TICKS_PER_US)
    }
}

/// The queue's memory on the GPU: the ring, the page holding the write and read
/// pointers (`amd_queue_t` in AQL mode), and the doorbell page.
#[derive(Debug)]
struct DeviceMemory {
    ring: GpuMemory,
    pointers: GpuMemory,
    write_offset: usize,
    read_offset: usize,
    doorbells: Mapping,
    doorbell_offset: usize,
}

impl QueueMemory for DeviceMemory {
    fn ring_bytes(&self) -> usize {
        RING_BYTES
    }

    fn write_ring(&self, offset: usize, bytes: &[u8]) {
        let _ = self.ring.mapping().copy_in(offset, bytes);
    }

    fn store_ring_release(&self, offset: usize, value: u32) {
        self.ring.mapping().store_u32(offset, value);
    }

    fn store_write_pointer(&self, value: u64) {
        self.pointers.mapping().store_u64(self.write_offset, value);
    }

    fn load_read_pointer(&self) -> u64 {
        self.pointers.mapping().load_u64(self.read_offset)
    }

    fn ring_doorbell(&self, value: u64) {
        std::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst);
        self.doorbells.store_u64(self.doorbell_offset, value);
    }
}
