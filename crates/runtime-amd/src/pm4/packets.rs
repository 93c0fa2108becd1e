//! One typed builder per PM4 packet, as methods of `Pm4`. Each checks what the hardware
//! requires of its inputs (address alignment, the 48-bit address space, register ranges,
//! field widths) and returns an error naming the packet otherwise, so no input makes one
//! panic or write a malformed packet. Field positions are those of the Linux headers
//! `soc15d.h` (gfx9) and `nvd.h` (gfx10+) and of AMD's PAL packet headers.

use super::{Opcode, Pm4};
use crate::{AmdError, Result};

/// Addresses the GPU's virtual memory can hold (48 bits).
const VA_LIMIT: u64 = 1 << 48;

fn check_address(packet: Opcode, what: &str, addr: u64, align: u64) -> Result<()> {
    let why = if addr >= VA_LIMIT {
        format!("the {what} {addr:#x} is beyond the 48-bit address space")
    } else if !addr.is_multiple_of(align) {
        format!("the {what} {addr:#x} is not {align}-byte aligned")
    } else {
        return Ok(());
    };
    Err(AmdError::Packet {
        packet: packet.name(),
        why,
    })
}

fn lo(x: u64) -> u32 {
    x as u32
}

fn hi(x: u64) -> u32 {
    (x >> 32) as u32
}

/// Which caches ACQUIRE_MEM invalidates (and writes back) before the work after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AcquireCaches {
    /// The shader instruction cache (gfx9 `SH_ICACHE`, gfx10+ `GLI_INV`).
    pub instruction: bool,
    /// The scalar (constant) cache (`SH_KCACHE`, `GLK_WB|GLK_INV`).
    pub scalar: bool,
    /// The vector L1 caches (`TCL1`, `GLV_INV|GL1_INV`).
    pub vector: bool,
    /// L2: invalidated and written back (`TC|TC_WB`, `GL2_INV|GL2_WB`).
    pub l2: bool,
}

impl AcquireCaches {
    /// Every cache: before running code the queue has not run yet.
    pub const ALL: AcquireCaches = AcquireCaches {
        instruction: true,
        scalar: true,
        vector: true,
        l2: true,
    };
    /// The scalar and vector caches only: before each dispatch.
    pub const DISPATCH: AcquireCaches = AcquireCaches {
        instruction: false,
        scalar: true,
        vector: true,
        l2: false,
    };
}

/// A WAIT_REG_MEM comparison: the wait ends when `(value & mask) OP reference`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Compare {
    Always = 0,
    Less = 1,
    LessEqual = 2,
    Equal = 3,
    NotEqual = 4,
    GreaterEqual = 5,
    Greater = 6,
}

/// RELEASE_MEM `INT_SEL`: whether and when it raises an interrupt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum IntSel {
    None = 0,
    /// An interrupt only.
    Interrupt = 1,
    /// An interrupt once the write is confirmed.
    InterruptAfterWrite = 2,
    /// The data write confirmed, no interrupt.
    AfterWriteConfirm = 3,
}

/// What RELEASE_MEM writes at its address (`DATA_SEL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReleaseData {
    None,
    /// The low 32 bits (`DATA_SEL=1`, 4-byte aligned address).
    Low32(u32),
    /// All 64 bits (`DATA_SEL=2`, 8-byte aligned address).
    Full64(u64),
    /// The 64-bit GPU clock counter (`DATA_SEL=3`): a timestamp.
    GpuClock,
}

/// A RELEASE_MEM: at the end of the work before it, flush caches and write `data` to
/// `addr` (and raise an interrupt with `ctxid`, as `int_sel` says).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReleaseMem {
    /// Write back L2 (gfx9 `TC_WB|TC_NC`) or write back and invalidate the caches
    /// (gfx10+ `GLM_WB|GLM_INV|GLV_INV|GL1_INV|GL2_INV|GL2_WB|SEQ`) first, so that the
    /// host sees the work's writes.
    pub flush: bool,
    pub data: ReleaseData,
    pub int_sel: IntSel,
    pub addr: u64,
    /// `INT_CTXID`: the interrupt's context (a KFD event id).
    pub ctxid: u32,
}

/// `CACHE_FLUSH_AND_INV_TS_EVENT`, the end-of-pipe event of RELEASE_MEM.
const EOP_EVENT: u32 = 0x14;
/// `EVENT_INDEX` of end-of-pipe events.
const EOP_INDEX: u32 = 5;

/// Where COPY_DATA reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CopySrc {
    /// A register (dword address, 18 bits).
    Register(u32),
    /// Memory through L2 (`SRC_SEL=2`).
    Memory(u64),
    /// A performance counter register (`SRC_SEL=4`).
    PerfCounter(u32),
    /// The value itself (`SRC_SEL=5`).
    Immediate(u64),
    /// The GPU clock (`SRC_SEL=9`).
    GpuClock,
}

/// Where COPY_DATA writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CopyDst {
    Register(u32),
    /// Memory through L2 (`DST_SEL=2`).
    Memory(u64),
    /// Memory, asynchronously (`DST_SEL=5`).
    MemoryAsync(u64),
}

/// Where WRITE_DATA writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WriteDst {
    Register(u32),
    /// Memory through L2 (`DST_SEL=2`).
    Memory(u64),
    /// Memory, asynchronously (`DST_SEL=5`).
    MemoryAsync(u64),
}

/// Register dword addresses fit 18 bits.
fn check_register(packet: Opcode, reg: u32) -> Result<()> {
    if reg < 1 << 18 {
        Ok(())
    } else {
        Err(AmdError::Packet {
            packet: packet.name(),
            why: format!("register {reg:#x} is beyond the 18-bit register space"),
        })
    }
}

impl Pm4 {
    /// A NOP of `body` ignored dwords; with 0, the one-dword NOP.
    pub fn nop(&mut self, body: usize) -> Result<&mut Pm4> {
        if body == 0 {
            self.dwords.push(super::NOP_ONE_DWORD);
            return Ok(self);
        }
        self.emit(Opcode::Nop, &vec![0; body])
    }

    /// INDIRECT_BUFFER: runs the `size` dwords of PM4 at `addr` (4-byte aligned), then
    /// comes back.
    pub fn indirect_buffer(&mut self, addr: u64, size: u32) -> Result<&mut Pm4> {
        let op = Opcode::IndirectBuffer;
        check_address(op, "buffer address", addr, 4)?;
        if size == 0 || size >= 1 << 20 {
            return Err(AmdError::Packet {
                packet: op.name(),
                why: format!("a size of {size} dwords is outside 1..2^20"),
            });
        }
        const VALID: u32 = 1 << 23;
        self.emit(op, &[lo(addr), hi(addr), size | VALID])
    }

    /// ACQUIRE_MEM over the whole address space, for `caches`. gfx9 has the
    /// `CP_COHER_CNTL` form (7 dwords, poll interval 0xA), gfx10+ the GCR form (8).
    pub fn acquire_mem(&mut self, caches: AcquireCaches) -> Result<&mut Pm4> {
        if self.generation.has_gcr() {
            // GLM_WB | GLM_INV always; GLI_INV = 1 (all); GLK; GLV | GL1; GL2
            let mut gcr = 0b11 << 4;
            if caches.instruction {
                gcr |= 1;
            }
            if caches.scalar {
                gcr |= 0b11 << 6;
            }
            if caches.vector {
                gcr |= 0b11 << 8;
            }
            if caches.l2 {
                gcr |= 0b11 << 14;
            }
            return self.emit(Opcode::AcquireMem, &[0, u32::MAX, u32::MAX, 0, 0, 0, gcr]);
        }
        let mut cntl = 0;
        if caches.instruction {
            cntl |= 1 << 29; // SH_ICACHE_ACTION_ENA
        }
        if caches.scalar {
            cntl |= 1 << 27; // SH_KCACHE_ACTION_ENA
        }
        if caches.vector {
            cntl |= 1 << 22; // TCL1_ACTION_ENA
        }
        if caches.l2 {
            cntl |= 1 << 23 | 1 << 18; // TC_ACTION_ENA | TC_WB_ACTION_ENA
        }
        self.emit(Opcode::AcquireMem, &[cntl, u32::MAX, u32::MAX, 0, 0, 0xA])
    }

    /// RELEASE_MEM at end of pipe (see `ReleaseMem`).
    pub fn release_mem(&mut self, r: ReleaseMem) -> Result<&mut Pm4> {
        let op = Opcode::ReleaseMem;
        let (data_sel, align, data) = match r.data {
            ReleaseData::None => (0, 4, 0),
            ReleaseData::Low32(v) => (1, 4, u64::from(v)),
            ReleaseData::Full64(v) => (2, 8, v),
            ReleaseData::GpuClock => (3, 8, 0),
        };
        check_address(op, "address", r.addr, align)?;
        let mut dw1 = EOP_EVENT | EOP_INDEX << 8;
        if r.flush {
            dw1 |= if self.generation.has_gcr() {
                // GLM_WB, GLM_INV, GLV_INV, GL1_INV, GL2_INV, GL2_WB, GCR_SEQ
                0xF << 12 | 0b111 << 20
            } else {
                1 << 15 | 1 << 19 // TC_WB_ACTION_ENA | TC_NC_ACTION_ENA
            };
        }
        let dw2 = (r.int_sel as u32) << 24 | data_sel << 29;
        self.emit(
            op,
            &[
                dw1,
                dw2,
                lo(r.addr),
                hi(r.addr),
                lo(data),
                hi(data),
                r.ctxid,
            ],
        )
    }

    /// WAIT_REG_MEM on memory: waits until `(*addr & mask) compare reference` (32-bit,
    /// `addr` 4-byte aligned), polling every `poll` clocks.
    pub fn wait_mem(
        &mut self,
        addr: u64,
        compare: Compare,
        reference: u32,
        mask: u32,
        poll: u16,
    ) -> Result<&mut Pm4> {
        check_address(Opcode::WaitRegMem, "address", addr, 4)?;
        let dw1 = compare as u32 | 1 << 4; // MEM_SPACE = memory
        self.emit(
            Opcode::WaitRegMem,
            &[dw1, lo(addr), hi(addr), reference, mask, u32::from(poll)],
        )
    }

    /// WAIT_REG_MEM write-wait-write on registers: writes `request`, then waits until
    /// `(done & mask) compare reference` (the HDP flush idiom).
    pub fn wait_reg_write(
        &mut self,
        request: u32,
        done: u32,
        compare: Compare,
        reference: u32,
        mask: u32,
        poll: u16,
    ) -> Result<&mut Pm4> {
        check_register(Opcode::WaitRegMem, request)?;
        check_register(Opcode::WaitRegMem, done)?;
        let dw1 = compare as u32 | 1 << 6; // OPERATION = write, wait, write
        self.emit(
            Opcode::WaitRegMem,
            &[dw1, request, done, reference, mask, u32::from(poll)],
        )
    }

    /// WAIT_REG_MEM64: the 64-bit form of `wait_mem` (`addr` 8-byte aligned). Not
    /// known to be honoured by every gfx9 firmware.
    pub fn wait_mem64(
        &mut self,
        addr: u64,
        compare: Compare,
        reference: u64,
        mask: u64,
        poll: u16,
    ) -> Result<&mut Pm4> {
        check_address(Opcode::WaitRegMem64, "address", addr, 8)?;
        let dw1 = compare as u32 | 1 << 4;
        self.emit(
            Opcode::WaitRegMem64,
            &[
                dw1,
                lo(addr),
                hi(addr),
                lo(reference),
                hi(reference),
                lo(mask),
                hi(mask),
                u32::from(poll),
            ],
        )
    }

    /// SET_SH_REG: `values` into the consecutive registers from `reg` (dword addresses
    /// in 0x2C00..0x3000).
    pub fn set_sh_reg(&mut self, reg: u32, values: &[u32]) -> Result<&mut Pm4> {
        self.set_reg(Opcode::SetShReg, 0x2C00, 0x3000, reg, values)
    }

    /// SET_UCONFIG_REG: `values` into the consecutive registers from `reg` (dword
    /// addresses from 0xC000).
    pub fn set_uconfig_reg(&mut self, reg: u32, values: &[u32]) -> Result<&mut Pm4> {
        self.set_reg(Opcode::SetUconfigReg, 0xC000, 0xC000 + 0x10000, reg, values)
    }

    fn set_reg(
        &mut self,
        op: Opcode,
        start: u32,
        end: u32,
        reg: u32,
        values: &[u32],
    ) -> Result<&mut Pm4> {
        let fits = u32::try_from(values.len())
            .ok()
            .and_then(|n| reg.checked_add(n))
            .is_some_and(|last| reg >= start && last <= end);
        if values.is_empty() || !fits {
            return Err(AmdError::Packet {
                packet: op.name(),
                why: format!(
                    "{} values from register {reg:#x} do not fit {start:#x}..{end:#x}",
                    values.len()
                ),
            });
        }
        let mut body = Vec::with_capacity(values.len() + 1);
        body.push(reg - start);
        body.extend_from_slice(values);
        self.emit(op, &body)
    }

    /// DISPATCH_DIRECT: `groups` workgroups in each dimension (not threads), with the
    /// `COMPUTE_DISPATCH_INITIATOR` value `initiator`.
    pub fn dispatch_direct(&mut self, groups: [u32; 3], initiator: u32) -> Result<&mut Pm4> {
        if groups.contains(&0) {
            return Err(AmdError::Packet {
                packet: Opcode::DispatchDirect.name(),
                why: format!("a grid of {groups:?} workgroups is empty"),
            });
        }
        self.emit(
            Opcode::DispatchDirect,
            &[groups[0], groups[1], groups[2], initiator],
        )
    }

    /// EVENT_WRITE of a non-timestamp event: `event` (6 bits) with `index` (4 bits).
    pub fn event_write(&mut self, event: u32, index: u32) -> Result<&mut Pm4> {
        if event >= 1 << 6 || index >= 1 << 4 {
            return Err(AmdError::Packet {
                packet: Opcode::EventWrite.name(),
                why: format!("event {event} index {index} do not fit 6 and 4 bits"),
            });
        }
        self.emit(Opcode::EventWrite, &[event | index << 8])
    }

    /// COPY_DATA of 32 bits (or 64 with `wide`) from `src` to `dst`, waiting for the
    /// write's confirmation with `confirm`.
    pub fn copy_data(
        &mut self,
        src: CopySrc,
        dst: CopyDst,
        wide: bool,
        confirm: bool,
    ) -> Result<&mut Pm4> {
        let op = Opcode::CopyData;
        let align = if wide { 8 } else { 4 };
        let (src_sel, s) = match src {
            CopySrc::Register(r) => {
                check_register(op, r)?;
                (0, u64::from(r))
            }
            CopySrc::Memory(a) => {
                check_address(op, "source address", a, align)?;
                (2, a)
            }
            CopySrc::PerfCounter(r) => {
                check_register(op, r)?;
                (4, u64::from(r))
            }
            CopySrc::Immediate(v) => (5, v),
            CopySrc::GpuClock => (9, 0),
        };
        let (dst_sel, d) = match dst {
            CopyDst::Register(r) => {
                check_register(op, r)?;
                (0, u64::from(r))
            }
            CopyDst::Memory(a) => {
                check_address(op, "destination address", a, align)?;
                (2, a)
            }
            CopyDst::MemoryAsync(a) => {
                check_address(op, "destination address", a, align)?;
                (5, a)
            }
        };
        let dw1 = src_sel | dst_sel << 8 | u32::from(wide) << 16 | u32::from(confirm) << 20;
        self.emit(op, &[dw1, lo(s), hi(s), lo(d), hi(d)])
    }

    /// WRITE_DATA of `data` (at least one dword) to `dst`, waiting for the write's
    /// confirmation with `confirm`.
    pub fn write_data(&mut self, dst: WriteDst, data: &[u32], confirm: bool) -> Result<&mut Pm4> {
        let op = Opcode::WriteData;
        if data.is_empty() || data.len() > super::MAX_BODY - 3 {
            return Err(AmdError::Packet {
                packet: op.name(),
                why: format!(
                    "{} data dwords is outside 1..={}",
                    data.len(),
                    super::MAX_BODY - 3
                ),
            });
        }
        let (sel, addr) = match dst {
            WriteDst::Register(r) => {
                check_register(op, r)?;
                (0, u64::from(r))
            }
            WriteDst::Memory(a) => {
                check_address(op, "address", a, 4)?;
                (2, a)
            }
            WriteDst::MemoryAsync(a) => {
                check_address(op, "address", a, 4)?;
                (5, a)
            }
        };
        let mut body = vec![sel << 8 | u32::from(confirm) << 20, lo(addr), hi(addr)];
        body.extend_from_slice(data);
        self.emit(op, &body)
    }

    /// PRED_EXEC: the next `count` dwords run only on the XCCs of `xcc_mask`. It only
    /// works inside an indirect buffer.
    pub fn pred_exec(&mut self, xcc_mask: u8, count: u32) -> Result<&mut Pm4> {
        if count >= 1 << 14 {
            return Err(AmdError::Packet {
                packet: Opcode::PredExec.name(),
                why: format!("{count} predicated dwords do not fit 14 bits"),
            });
        }
        self.emit(Opcode::PredExec, &[count | u32::from(xcc_mask) << 24])
    }
}
