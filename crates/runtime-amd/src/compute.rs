//! A compute queue's commands: `ComputeQueue` records dispatches, signals, waits,
//! timestamps and barriers for one GPU, then hands them over in the form its queue runs.
//!
//! On a part with one XCC the queue is a PM4 queue, and a dispatch is this stream:
//! ACQUIRE_MEM of the scalar and vector caches; `COMPUTE_PGM_LO/HI` (the code address
//! shifted right by 8); `COMPUTE_PGM_RSRC1/2` (with the LDS size granule in RSRC2) and `RSRC3`;
//! `COMPUTE_START_X..Z` = 0 and `COMPUTE_NUM_THREAD_X..Z` = the workgroup;
//! `COMPUTE_RESOURCE_LIMITS` = 0; `COMPUTE_USER_DATA_*` = the kernel's user SGPRs (the
//! kernarg pointer, and the dispatch packet's address if the kernel asks for it);
//! DISPATCH_DIRECT with the workgroup counts; EVENT_WRITE `CS_PARTIAL_FLUSH`.
//!
//! On a multi-XCC part (MI300X in SPX mode has 8) the queue is an AQL queue, as ROCm and
//! tinygrad run it: a dispatch is an AQL kernel-dispatch packet (the packet processor
//! reads the kernel descriptor and splits the grid over the XCCs), and each run of other
//! commands (signals, waits, timestamps, cache operations) is PM4 in an indirect buffer
//! that a vendor packet runs. A signal there is written by XCC 0 only (PRED_EXEC).

use crate::aql::{Dispatch, KernelDispatchPacket, Pm4IbPacket, Slot};
use crate::pm4::regs::{self, dispatch_initiator};
use crate::pm4::{AcquireCaches, Compare, IntSel, Pm4, ReleaseData, ReleaseMem};
use crate::{AmdError, Generation, Result};

/// `CS_PARTIAL_FLUSH`, the event that waits for earlier dispatches' waves.
const CS_PARTIAL_FLUSH: u32 = 7;
/// `EVENT_INDEX` of partial flushes.
const PARTIAL_FLUSH_INDEX: u32 = 4;
/// Poll interval of waits, in clocks.
const POLL: u16 = 4;

/// What a kernel's descriptor says about how to run it (see renderer-amd's
/// `KernelDescriptor`), and where its descriptor and code are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KernelResources {
    /// GPU address of the 64-byte kernel descriptor.
    pub descriptor: u64,
    /// GPU address of the first instruction (256-byte aligned).
    pub code: u64,
    pub rsrc1: u32,
    pub rsrc2: u32,
    pub rsrc3: u32,
    /// LDS bytes per workgroup.
    pub group_segment: u32,
    /// Scratch bytes per work-item.
    pub private_segment: u32,
    /// `kernel_code_properties`: which user SGPRs the kernel expects.
    pub properties: u16,
}

/// `kernel_code_properties` bits, in user-SGPR order: the SGPRs each one takes.
const USER_SGPRS: [(u16, &str, u32); 7] = [
    (1 << 0, "the private segment buffer", 4),
    (1 << 1, "the dispatch packet pointer", 2),
    (1 << 2, "the queue pointer", 2),
    (1 << 3, "the kernarg pointer", 2),
    (1 << 4, "the dispatch id", 2),
    (1 << 5, "flat scratch init", 2),
    (1 << 6, "the private segment size", 1),
];
/// `ENABLE_WAVEFRONT_SIZE32`.
const WAVE32: u16 = 1 << 10;

/// One launch of a kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Launch {
    pub kernel: KernelResources,
    pub kernargs: u64,
    /// Workgroups in each dimension.
    pub groups: [u32; 3],
    /// Work-items of a workgroup in each dimension.
    pub workgroup: [u32; 3],
    /// Where a copy of the dispatch packet is, for kernels that read it (their
    /// `DISPATCH_PTR` user SGPRs); `None` refuses such kernels.
    pub dispatch_packet: Option<u64>,
}

/// A recorded command.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Command {
    Pm4(Pm4),
    Dispatch(KernelDispatchPacket),
}

/// How the queue runs its commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueMode {
    Pm4,
    Aql,
}

/// Commands for one GPU (see the module doc).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComputeQueue {
    generation: Generation,
    xccs: u32,
    /// Commands before the PM4 being recorded.
    commands: Vec<Command>,
    /// The PM4 being recorded.
    current: Pm4,
}

impl ComputeQueue {
    /// Commands for a GPU of `generation` with `xccs` XCCs (at least one).
    pub fn new(generation: Generation, xccs: u32) -> ComputeQueue {
        ComputeQueue {
            generation,
            xccs: xccs.max(1),
            commands: Vec::new(),
            current: Pm4::new(generation),
        }
    }

    /// AQL on multi-XCC parts, PM4 otherwise.
    pub fn mode(&self) -> QueueMode {
        if self.xccs > 1 {
            QueueMode::Aql
        } else {
            QueueMode::Pm4
        }
    }

    /// Records `build` on the current PM4 stream, keeping nothing if it fails.
    fn record(&mut self, build: impl FnOnce(&mut Pm4) -> Result<&mut Pm4>) -> Result<&mut Self> {
        let mut p = Pm4::new(self.generation);
        build(&mut p)?;
        self.current.append(&p)?;
        Ok(self)
    }

    /// Every command in order, the PM4 being recorded last.
    fn all(&self) -> impl Iterator<Item = Command> + '_ {
        self.commands
            .iter()
            .cloned()
            .chain(std::iter::once(Command::Pm4(self.current.clone())))
    }

    /// Invalidates (and writes back) `caches`.
    pub fn acquire(&mut self, caches: AcquireCaches) -> Result<&mut Self> {
        self.record(|p| p.acquire_mem(caches))
    }

    /// Runs a kernel (see the module doc for what is recorded).
    pub fn dispatch(&mut self, l: &Launch) -> Result<&mut Self> {
        let fail = |why: String| AmdError::Packet {
            packet: "dispatch",
            why,
        };
        let k = &l.kernel;
        if k.private_segment > 0 {
            return Err(fail(format!(
                "the kernel needs {} bytes of scratch per work-item; this queue sets up none",
                k.private_segment
            )));
        }
        if self.mode() == QueueMode::Aql {
            let packet = KernelDispatchPacket::of(&Dispatch {
                workgroup: l.workgroup,
                groups: l.groups,
                private_segment_size: k.private_segment,
                group_segment_size: k.group_segment,
                kernel_object: k.descriptor,
                kernarg_address: l.kernargs,
                completion_signal: 0,
            })?;
            let before = std::mem::replace(&mut self.current, Pm4::new(self.generation));
            self.commands.push(Command::Pm4(before));
            self.commands.push(Command::Dispatch(packet));
            return Ok(self);
        }
        if !k.code.is_multiple_of(256) {
            return Err(fail(format!(
                "the code at {:#x} is not 256-byte aligned",
                k.code
            )));
        }
        let user = user_sgprs(l)?;
        let lds_granules = k.group_segment.div_ceil(512) & 0x1FF;
        let rsrc2 = k.rsrc2 | lds_granules << 15;
        let generation = self.generation;
        let wave32 = k.properties & WAVE32 != 0;
        let [wx, wy, wz] = l.workgroup;
        self.record(|p| {
            p.acquire_mem(AcquireCaches::DISPATCH)?
                .set_sh_reg(
                    regs::COMPUTE_PGM_LO,
                    &[(k.code >> 8) as u32, (k.code >> 40) as u32],
                )?
                .set_sh_reg(regs::COMPUTE_PGM_RSRC1, &[k.rsrc1, rsrc2])?
                .set_sh_reg(generation.compute_pgm_rsrc3(), &[k.rsrc3])?
                .set_sh_reg(regs::COMPUTE_START_X, &[0, 0, 0, wx, wy, wz])?
                .set_sh_reg(regs::COMPUTE_RESOURCE_LIMITS, &[0])?
                .set_sh_reg(regs::COMPUTE_USER_DATA_0, &user)?
                .dispatch_direct(l.groups, dispatch_initiator(generation, wave32))?
                .event_write(CS_PARTIAL_FLUSH, PARTIAL_FLUSH_INDEX)
        })
    }

    /// Writes `value` (low 32 bits) to the signal at `addr` once earlier work is done,
    /// its writes visible; on multi-XCC parts only XCC 0 writes.
    pub fn signal(&mut self, addr: u64, value: u32) -> Result<&mut Self> {
        let release = ReleaseMem {
            flush: true,
            data: ReleaseData::Low32(value),
            int_sel: IntSel::None,
            addr,
            ctxid: 0,
        };
        self.predicated(|p| p.release_mem(release))
    }

    /// Like `signal`, then writes `event_id` to the KFD event mailbox at `mailbox` and
    /// raises an interrupt for it, so that a host waiting on the event wakes up.
    pub fn signal_and_interrupt(
        &mut self,
        addr: u64,
        value: u32,
        mailbox: u64,
        event_id: u32,
    ) -> Result<&mut Self> {
        self.signal(addr, value)?;
        let interrupt = ReleaseMem {
            flush: false,
            data: ReleaseData::Low32(event_id),
            int_sel: IntSel::InterruptAfterWrite,
            addr: mailbox,
            ctxid: event_id,
        };
        self.predicated(|p| p.release_mem(interrupt))
    }

    /// Records `build`, on multi-XCC parts behind a PRED_EXEC for XCC 0.
    fn predicated(&mut self, build: impl Fn(&mut Pm4) -> Result<&mut Pm4>) -> Result<&mut Self> {
        let mut body = Pm4::new(self.generation);
        build(&mut body)?;
        if self.xccs == 1 {
            return self.record(|p| p.append(&body));
        }
        let count = body.len() as u32;
        self.record(|p| p.pred_exec(1, count)?.append(&body))
    }

    /// Waits until the signal at `addr` is at least `value`.
    pub fn wait(&mut self, addr: u64, value: u32) -> Result<&mut Self> {
        self.record(|p| p.wait_mem(addr, Compare::GreaterEqual, value, u32::MAX, POLL))
    }

    /// Writes the GPU clock to `addr` once earlier work is done: a flush with an
    /// interrupt, the clock, then every cache invalidated.
    pub fn timestamp(&mut self, addr: u64) -> Result<&mut Self> {
        let flush = ReleaseMem {
            flush: false,
            data: ReleaseData::None,
            int_sel: IntSel::InterruptAfterWrite,
            addr: 0,
            ctxid: 0,
        };
        let clock = ReleaseMem {
            data: ReleaseData::GpuClock,
            int_sel: IntSel::None,
            addr,
            ..flush
        };
        self.record(|p| {
            p.release_mem(flush)?
                .release_mem(clock)?
                .acquire_mem(AcquireCaches::ALL)
        })
    }

    /// Makes host writes visible: an HDP flush through the NBIO request and done
    /// registers `request`/`done` (write, then wait for all bits), then every cache
    /// invalidated.
    pub fn memory_barrier(&mut self, request: u32, done: u32) -> Result<&mut Self> {
        self.record(|p| {
            p.wait_reg_write(
                request,
                done,
                Compare::GreaterEqual,
                u32::MAX,
                u32::MAX,
                POLL,
            )?
            .acquire_mem(AcquireCaches::ALL)
        })
    }

    /// The whole recording as one PM4 stream (PM4 mode only).
    pub fn pm4_stream(&self) -> Result<Pm4> {
        let mut out = Pm4::new(self.generation);
        for c in self.all() {
            match c {
                Command::Pm4(p) => {
                    out.append(&p)?;
                }
                Command::Dispatch(_) => {
                    return Err(AmdError::Queue(
                        "an AQL dispatch cannot be part of a PM4 stream".into(),
                    ));
                }
            }
        }
        Ok(out)
    }

    /// The recording as AQL packets (AQL mode): each dispatch as it is, each run of PM4
    /// as a vendor packet running it from an indirect buffer. The PM4 dwords are laid
    /// out one run after the other; `ib_base` (4-byte aligned) is where the caller puts
    /// them, which are returned too.
    pub fn aql_packets(&self, ib_base: u64) -> Result<(Vec<Slot>, Vec<u32>)> {
        let mut slots = Vec::new();
        let mut ib: Vec<u32> = Vec::new();
        for c in self.all() {
            match c {
                Command::Dispatch(d) => slots.push(d.slot()),
                Command::Pm4(p) if p.is_empty() => {}
                Command::Pm4(p) => {
                    let at = ib_base + 4 * ib.len() as u64;
                    slots.push(Pm4IbPacket::of(at, p.len() as u32)?.slot());
                    ib.extend_from_slice(p.dwords());
                }
            }
        }
        Ok((slots, ib))
    }
}

/// The user SGPRs of a PM4 dispatch, in the order `kernel_code_properties` lays them out.
fn user_sgprs(l: &Launch) -> Result<Vec<u32>> {
    let props = l.kernel.properties;
    let mut out = Vec::new();
    for (bit, what, count) in USER_SGPRS {
        if props & bit == 0 {
            continue;
        }
        let value = match bit {
            0b1000 => l.kernargs,
            0b10 => l.dispatch_packet.ok_or_else(|| AmdError::Packet {
                packet: "dispatch",
                why: format!("the kernel reads {what}, and no dispatch packet was given"),
            })?,
            _ => {
                return Err(AmdError::Packet {
                    packet: "dispatch",
                    why: format!(
                        "the kernel asks for {what} ({count} user SGPRs), which this queue does not set up"
                    ),
                });
            }
        };
        out.extend([value as u32, (value >> 32) as u32]);
    }
    if out.is_empty() {
        // a kernel with no user SGPRs still gets its kernarg pointer, harmlessly
        out.extend([l.kernargs as u32, (l.kernargs >> 32) as u32]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
