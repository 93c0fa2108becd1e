//! AQL (HSA Architected Queuing Language) packets: 64-byte slots of an AQL queue's ring.
//! The first 16 bits are the header (type, barrier bit, acquire and release fence scopes),
//! the next 16 the packet's setup (a dispatch's dimensions, or the AMD vendor format).
//! Kernel dispatches, barrier-AND/OR and AMD's vendor packet that runs a PM4 indirect
//! buffer are `#[repr(C)]` structs with the layouts of ROCR's `hsa.h` and
//! `amd_hsa_queue.h` (checked by size and offset tests) and explicit little-endian
//! encodings. The header goes last, with a release store (see `ring`), so a packet is
//! built whole here and its header and setup word are kept apart (`Slot`).

mod queue;

pub use queue::{AmdQueue, QUEUE_PROPERTIES_ENABLE_PROFILING, QUEUE_PROPERTIES_IS_PTR64};

use crate::pm4::Pm4;
use crate::{AmdError, Result};

/// Bytes of every AQL packet.
pub const PACKET_BYTES: usize = 64;
/// `AMD_AQL_FORMAT_PM4_IB`: the vendor packet's format that runs a PM4 indirect buffer.
pub const AMD_AQL_FORMAT_PM4_IB: u16 = 1;

/// The packet type (header bits 7:0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum PacketType {
    VendorSpecific = 0,
    /// A slot the packet processor must not run yet: the state of unpublished slots.
    Invalid = 1,
    KernelDispatch = 2,
    BarrierAnd = 3,
    AgentDispatch = 4,
    BarrierOr = 5,
}

/// A memory fence scope (acquire: header bits 10:9, release: 12:11).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum FenceScope {
    None = 0,
    Agent = 1,
    System = 2,
}

/// A packet header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Header {
    pub kind: PacketType,
    /// Wait for every earlier packet to complete before starting.
    pub barrier: bool,
    pub acquire: FenceScope,
    pub release: FenceScope,
}

impl Header {
    /// A barrier-bit header with system-scope fences (tinygrad's `AQL_HDR`), of `kind`.
    pub fn system(kind: PacketType) -> Header {
        Header {
            kind,
            barrier: true,
            acquire: FenceScope::System,
            release: FenceScope::System,
        }
    }

    pub fn bits(self) -> u16 {
        self.kind as u16
            | u16::from(self.barrier) << 8
            | (self.acquire as u16) << 9
            | (self.release as u16) << 11
    }
}

/// A packet ready for a ring slot: its first dword (header | setup << 16), published
/// last, and the 60 bytes after it, written first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slot {
    pub first: u32,
    pub rest: [u8; PACKET_BYTES - 4],
}

impl Slot {
    /// The whole 64 bytes, as the packet processor reads them once published.
    pub fn bytes(&self) -> [u8; PACKET_BYTES] {
        let mut out = [0u8; PACKET_BYTES];
        out[..4].copy_from_slice(&self.first.to_le_bytes());
        out[4..].copy_from_slice(&self.rest);
        out
    }

    /// The 16 dwords, for comparisons with the spec's vectors.
    pub fn dwords(&self) -> [u32; 16] {
        let b = self.bytes();
        std::array::from_fn(|k| {
            u32::from_le_bytes([b[4 * k], b[4 * k + 1], b[4 * k + 2], b[4 * k + 3]])
        })
    }
}

/// `hsa_kernel_dispatch_packet_t`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct KernelDispatchPacket {
    pub header: u16,
    /// Dimensions in bits 1:0.
    pub setup: u16,
    pub workgroup_size_x: u16,
    pub workgroup_size_y: u16,
    pub workgroup_size_z: u16,
    pub reserved0: u16,
    /// Work-items, not workgroups.
    pub grid_size_x: u32,
    pub grid_size_y: u32,
    pub grid_size_z: u32,
    pub private_segment_size: u32,
    pub group_segment_size: u32,
    /// GPU address of the 64-byte kernel descriptor.
    pub kernel_object: u64,
    pub kernarg_address: u64,
    pub reserved2: u64,
    pub completion_signal: u64,
}

/// `hsa_barrier_and_packet_t` (and `_or_`, the same layout).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct BarrierPacket {
    pub header: u16,
    pub reserved0: u16,
    pub reserved1: u32,
    /// Signal handles to wait for; 0 is an unused slot.
    pub dep_signal: [u64; 5],
    pub reserved2: u64,
    pub completion_signal: u64,
}

/// `amd_aql_pm4_ib`: a vendor packet whose body is one PM4 INDIRECT_BUFFER packet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct Pm4IbPacket {
    pub header: u16,
    /// `AMD_AQL_FORMAT_PM4_IB`.
    pub ven_hdr: u16,
    pub ib_jump_cmd: [u32; 4],
    pub dw_cnt_remain: u32,
    pub reserved: [u32; 8],
    pub completion_signal: u64,
}

/// A little-endian writer of a packet's 64 bytes.
struct Bytes {
    out: [u8; PACKET_BYTES],
    at: usize,
}

impl Bytes {
    fn new() -> Bytes {
        Bytes {
            out: [0; PACKET_BYTES],
            at: 0,
        }
    }

    fn put(&mut self, b: &[u8]) -> &mut Bytes {
        self.out[self.at..self.at + b.len()].copy_from_slice(b);
        self.at += b.len();
        self
    }
}

/// A kernel dispatch: `groups` workgroups of `workgroup` work-items in each dimension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dispatch {
    pub workgroup: [u32; 3],
    pub groups: [u32; 3],
    pub private_segment_size: u32,
    pub group_segment_size: u32,
    pub kernel_object: u64,
    pub kernarg_address: u64,
    pub completion_signal: u64,
}

impl KernelDispatchPacket {
    /// The packet of `d`, or why it cannot be one: a workgroup dimension must fit 16 bits
    /// and each grid dimension (work-items) 32 bits; none may be 0.
    pub fn of(d: &Dispatch) -> Result<KernelDispatchPacket> {
        let fail = |why: String| AmdError::Packet {
            packet: "AQL kernel dispatch",
            why,
        };
        if d.workgroup.contains(&0) || d.groups.contains(&0) {
            return Err(fail(format!(
                "{:?} workgroups of {:?} work-items is empty",
                d.groups, d.workgroup
            )));
        }
        let wg = d.workgroup.map(u16::try_from);
        let [Ok(wx), Ok(wy), Ok(wz)] = wg else {
            return Err(fail(format!(
                "workgroup {:?} does not fit 16 bits",
                d.workgroup
            )));
        };
        let mut grid = [0u32; 3];
        for (g, (w, n)) in grid.iter_mut().zip(d.workgroup.iter().zip(&d.groups)) {
            *g = w.checked_mul(*n).ok_or_else(|| {
                fail(format!(
                    "grid {:?} x {:?} does not fit 32 bits",
                    d.groups, d.workgroup
                ))
            })?;
        }
        Ok(KernelDispatchPacket {
            header: Header::system(PacketType::KernelDispatch).bits(),
            setup: 3,
            workgroup_size_x: wx,
            workgroup_size_y: wy,
            workgroup_size_z: wz,
            reserved0: 0,
            grid_size_x: grid[0],
            grid_size_y: grid[1],
            grid_size_z: grid[2],
            private_segment_size: d.private_segment_size,
            group_segment_size: d.group_segment_size,
            kernel_object: d.kernel_object,
            kernarg_address: d.kernarg_address,
            reserved2: 0,
            completion_signal: d.completion_signal,
        })
    }

    pub fn slot(&self) -> Slot {
        let mut b = Bytes::new();
        b.put(&self.header.to_le_bytes())
            .put(&self.setup.to_le_bytes());
        for w in [
            self.workgroup_size_x,
            self.workgroup_size_y,
            self.workgroup_size_z,
            self.reserved0,
        ] {
            b.put(&w.to_le_bytes());
        }
        for g in [
            self.grid_size_x,
            self.grid_size_y,
            self.grid_size_z,
            self.private_segment_size,
            self.group_segment_size,
        ] {
            b.put(&g.to_le_bytes());
        }
        for q in [
            self.kernel_object,
            self.kernarg_address,
            self.reserved2,
            self.completion_signal,
        ] {
            b.put(&q.to_le_bytes());
        }
        slot_of(self.header, self.setup, &b.out)
    }
}

/// A slot from a packet's 64 bytes with its header and setup words.
fn slot_of(header: u16, setup: u16, bytes: &[u8; PACKET_BYTES]) -> Slot {
    let mut rest = [0u8; PACKET_BYTES - 4];
    rest.copy_from_slice(&bytes[4..]);
    Slot {
        first: u32::from(header) | u32::from(setup) << 16,
        rest,
    }
}

impl BarrierPacket {
    /// A barrier that waits for every one of `deps` (AND) or any of them (OR), at most 5
    /// signal handles, then decrements `completion_signal` (0: none).
    pub fn of(and: bool, deps: &[u64], completion_signal: u64) -> Result<BarrierPacket> {
        if deps.len() > 5 {
            return Err(AmdError::Packet {
                packet: "AQL barrier",
                why: format!("{} dependencies, at most 5", deps.len()),
            });
        }
        let mut dep_signal = [0u64; 5];
        dep_signal[..deps.len()].copy_from_slice(deps);
        let kind = if and {
            PacketType::BarrierAnd
        } else {
            PacketType::BarrierOr
        };
        Ok(BarrierPacket {
            header: Header::system(kind).bits(),
            dep_signal,
            completion_signal,
            ..BarrierPacket::default()
        })
    }

    pub fn slot(&self) -> Slot {
        let mut b = Bytes::new();
        b.put(&self.header.to_le_bytes())
            .put(&self.reserved0.to_le_bytes())
            .put(&self.reserved1.to_le_bytes());
        for q in self.dep_signal {
            b.put(&q.to_le_bytes());
        }
        b.put(&self.reserved2.to_le_bytes())
            .put(&self.completion_signal.to_le_bytes());
        slot_of(self.header, self.reserved0, &b.out)
    }
}

impl Pm4IbPacket {
    /// A vendor packet that runs the `size` dwords of PM4 at `ib` (see `Pm4::indirect_buffer`).
    pub fn of(ib: u64, size: u32) -> Result<Pm4IbPacket> {
        let mut jump = Pm4::new(crate::Generation::Gfx9);
        jump.indirect_buffer(ib, size)?;
        let mut ib_jump_cmd = [0u32; 4];
        ib_jump_cmd.copy_from_slice(jump.dwords());
        Ok(Pm4IbPacket {
            header: Header::system(PacketType::VendorSpecific).bits(),
            ven_hdr: AMD_AQL_FORMAT_PM4_IB,
            ib_jump_cmd,
            dw_cnt_remain: 0xA,
            reserved: [0; 8],
            completion_signal: 0,
        })
    }

    pub fn slot(&self) -> Slot {
        let mut b = Bytes::new();
        b.put(&self.header.to_le_bytes())
            .put(&self.ven_hdr.to_le_bytes());
        for d in self
            .ib_jump_cmd
            .iter()
            .chain([&self.dw_cnt_remain])
            .chain(&self.reserved)
        {
            b.put(&d.to_le_bytes());
        }
        b.put(&self.completion_signal.to_le_bytes());
        slot_of(self.header, self.ven_hdr, &b.out)
    }
}

#[cfg(test)]
mod tests;
