//! PM4 type-3 packets: a header dword (`TYPE=3`, `COUNT` = body dwords minus one,
//! the opcode, shader type and predicate bits) and a body. `Pm4` is a command stream
//! for one GPU generation; its typed builders (`packets.rs`) check their inputs and
//! write one packet each, so every header's count matches its body. `split` reads a
//! stream back into packets. Register addresses and field encodings are `regs.rs`.

mod packets;
pub mod regs;

pub use packets::{
    AcquireCaches, Compare, CopyDst, CopySrc, IntSel, ReleaseData, ReleaseMem, WriteDst,
};

use crate::{AmdError, Generation, Result};

/// A PM4 opcode (the same numbers on gfx9 and gfx10+).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Opcode {
    Nop = 0x10,
    DispatchDirect = 0x15,
    PredExec = 0x23,
    WriteData = 0x37,
    WaitRegMem = 0x3C,
    IndirectBuffer = 0x3F,
    CopyData = 0x40,
    EventWrite = 0x46,
    ReleaseMem = 0x49,
    AcquireMem = 0x58,
    SetShReg = 0x76,
    SetUconfigReg = 0x79,
    /// gfx10+ headers (nvd.h) and PAL's gfx9 headers; not in soc15d.h.
    WaitRegMem64 = 0x93,
}

impl Opcode {
    /// The packet's name, as errors give it.
    pub fn name(self) -> &'static str {
        match self {
            Opcode::Nop => "NOP",
            Opcode::DispatchDirect => "DISPATCH_DIRECT",
            Opcode::PredExec => "PRED_EXEC",
            Opcode::WriteData => "WRITE_DATA",
            Opcode::WaitRegMem => "WAIT_REG_MEM",
            Opcode::IndirectBuffer => "INDIRECT_BUFFER",
            Opcode::CopyData => "COPY_DATA",
            Opcode::EventWrite => "EVENT_WRITE",
            Opcode::ReleaseMem => "RELEASE_MEM",
            Opcode::AcquireMem => "ACQUIRE_MEM",
            Opcode::SetShReg => "SET_SH_REG",
            Opcode::SetUconfigReg => "SET_UCONFIG_REG",
            Opcode::WaitRegMem64 => "WAIT_REG_MEM64",
        }
    }
}

/// The one-dword NOP (`COUNT` all ones, no body): the ring's padding.
pub const NOP_ONE_DWORD: u32 = 0xFFFF_1000;
/// The most body dwords a packet can have (`COUNT` is 14 bits; all ones is the
/// one-dword NOP).
pub const MAX_BODY: usize = 0x3FFF;

/// The header of a type-3 packet with `body_len` body dwords (1..=`MAX_BODY`).
pub fn header(opcode: Opcode, body_len: usize) -> Result<u32> {
    if body_len == 0 || body_len > MAX_BODY {
        return Err(AmdError::Packet {
            packet: opcode.name(),
            why: format!("a body of {body_len} dwords is outside 1..={MAX_BODY}"),
        });
    }
    Ok(3 << 30 | ((body_len as u32 - 1) & 0x3FFF) << 16 | (opcode as u32) << 8)
}

/// A PM4 command stream for one generation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pm4 {
    generation: Generation,
    dwords: Vec<u32>,
}

impl Pm4 {
    pub fn new(generation: Generation) -> Pm4 {
        Pm4 {
            generation,
            dwords: Vec::new(),
        }
    }

    pub fn generation(&self) -> Generation {
        self.generation
    }

    /// The dwords written so far, in ring order.
    pub fn dwords(&self) -> &[u32] {
        &self.dwords
    }

    pub fn len(&self) -> usize {
        self.dwords.len()
    }

    pub fn is_empty(&self) -> bool {
        self.dwords.is_empty()
    }

    /// The stream as little-endian bytes.
    pub fn bytes(&self) -> Vec<u8> {
        self.dwords.iter().flat_map(|d| d.to_le_bytes()).collect()
    }

    /// Appends the packets of `other` (of the same generation).
    pub fn append(&mut self, other: &Pm4) -> Result<&mut Pm4> {
        if other.generation != self.generation {
            return Err(AmdError::Packet {
                packet: "stream",
                why: format!(
                    "cannot append a {} stream to a {} one",
                    other.generation, self.generation
                ),
            });
        }
        self.dwords.extend_from_slice(&other.dwords);
        Ok(self)
    }

    /// Writes the packet `opcode` with `body`.
    fn emit(&mut self, opcode: Opcode, body: &[u32]) -> Result<&mut Pm4> {
        self.dwords.push(header(opcode, body.len())?);
        self.dwords.extend_from_slice(body);
        Ok(self)
    }
}

/// A packet of a stream, as `split` reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<'a> {
    /// Position of the header in the stream.
    pub at: usize,
    pub opcode: u8,
    /// The header's `COUNT` field (body dwords minus one; 0x3FFF for the one-dword NOP).
    pub count: u32,
    pub body: &'a [u32],
}

/// The packets of a stream of type-3 packets, or where it is not one.
pub fn split(dwords: &[u32]) -> Result<Vec<Packet<'_>>> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at < dwords.len() {
        let h = dwords[at];
        if h >> 30 != 3 {
            return Err(AmdError::Stream {
                at,
                why: format!("{h:#010x} is a type-{} header, not type 3", h >> 30),
            });
        }
        let count = (h >> 16) & 0x3FFF;
        let opcode = ((h >> 8) & 0xFF) as u8;
        if h == NOP_ONE_DWORD {
            out.push(Packet {
                at,
                opcode,
                count,
                body: &[],
            });
            at += 1;
            continue;
        }
        let end = at + 2 + count as usize;
        let body = dwords.get(at + 1..end).ok_or_else(|| AmdError::Stream {
            at,
            why: format!(
                "the packet {opcode:#04x} has {} body dwords but the stream ends after {}",
                count + 1,
                dwords.len() - at - 1
            ),
        })?;
        out.push(Packet {
            at,
            opcode,
            count,
            body,
        });
        at = end;
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
