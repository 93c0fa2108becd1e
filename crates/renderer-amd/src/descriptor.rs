//! The 64-byte kernel descriptor of code objects v3 and later (LLVM's
//! `AMDHSAKernelDescriptor.h`): what the command processor reads to run a kernel (or
//! what a PM4 dispatch copies into registers). `KernelDescriptor::parse` reads one and
//! checks its reserved bytes are zero; `bytes` writes it back; the accessors decode the
//! fields a runtime and the tests need.
//!
//! | offset | bytes | field |
//! |---|---|---|
//! | 0 | 4 | `group_segment_fixed_size` (LDS bytes) |
//! | 4 | 4 | `private_segment_fixed_size` (scratch bytes per work-item) |
//! | 8 | 4 | `kernarg_size` |
//! | 12 | 4 | reserved |
//! | 16 | 8 | `kernel_code_entry_byte_offset` (entry − descriptor address) |
//! | 24 | 20 | reserved |
//! | 44 | 4 | `compute_pgm_rsrc3` |
//! | 48 | 4 | `compute_pgm_rsrc1` |
//! | 52 | 4 | `compute_pgm_rsrc2` |
//! | 56 | 2 | `kernel_code_properties` |
//! | 58 | 2 | `kernarg_preload` |
//! | 60 | 4 | reserved |

use crate::AmdRenderError;
use crate::arch::Arch;

/// Bytes of a kernel descriptor.
pub const DESCRIPTOR_BYTES: usize = 64;

/// A kernel descriptor (see the module doc).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KernelDescriptor {
    pub group_segment_fixed_size: u32,
    pub private_segment_fixed_size: u32,
    pub kernarg_size: u32,
    pub kernel_code_entry_byte_offset: i64,
    pub compute_pgm_rsrc3: u32,
    pub compute_pgm_rsrc1: u32,
    pub compute_pgm_rsrc2: u32,
    pub kernel_code_properties: u16,
    pub kernarg_preload: u16,
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// `kernel_code_properties` bits.
pub mod properties {
    pub const PRIVATE_SEGMENT_BUFFER: u16 = 1 << 0;
    pub const DISPATCH_PTR: u16 = 1 << 1;
    pub const QUEUE_PTR: u16 = 1 << 2;
    pub const KERNARG_SEGMENT_PTR: u16 = 1 << 3;
    pub const DISPATCH_ID: u16 = 1 << 4;
    pub const FLAT_SCRATCH_INIT: u16 = 1 << 5;
    pub const PRIVATE_SEGMENT_SIZE: u16 = 1 << 6;
    pub const WAVEFRONT_SIZE32: u16 = 1 << 10;
    pub const USES_DYNAMIC_STACK: u16 = 1 << 11;
}

impl KernelDescriptor {
    /// The descriptor in `bytes` (exactly 64), its reserved bytes zero.
    pub fn parse(bytes: &[u8]) -> Result<KernelDescriptor, AmdRenderError> {
        if bytes.len() != DESCRIPTOR_BYTES {
            return Err(AmdRenderError::CodeObject(format!(
                "a kernel descriptor is 64 bytes, not {}",
                bytes.len()
            )));
        }
        let reserved = bytes[12..16]
            .iter()
            .chain(&bytes[24..44])
            .chain(&bytes[60..64])
            .any(|&b| b != 0);
        if reserved {
            return Err(AmdRenderError::CodeObject(
                "the kernel descriptor's reserved bytes are not zero".into(),
            ));
        }
        let mut entry = [0u8; 8];
        entry.copy_from_slice(&bytes[16..24]);
        Ok(KernelDescriptor {
            group_segment_fixed_size: u32_at(bytes, 0),
            private_segment_fixed_size: u32_at(bytes, 4),
            kernarg_size: u32_at(bytes, 8),
            kernel_code_entry_byte_offset: i64::from_le_bytes(entry),
            compute_pgm_rsrc3: u32_at(bytes, 44),
            compute_pgm_rsrc1: u32_at(bytes, 48),
            compute_pgm_rsrc2: u32_at(bytes, 52),
            kernel_code_properties: u16::from_le_bytes([bytes[56], bytes[57]]),
            kernarg_preload: u16::from_le_bytes([bytes[58], bytes[59]]),
        })
    }

    /// The 64 bytes.
    pub fn bytes(&self) -> [u8; DESCRIPTOR_BYTES] {
        let mut b = [0u8; DESCRIPTOR_BYTES];
        b[0..4].copy_from_slice(&self.group_segment_fixed_size.to_le_bytes());
        b[4..8].copy_from_slice(&self.private_segment_fixed_size.to_le_bytes());
        b[8..12].copy_from_slice(&self.kernarg_size.to_le_bytes());
        b[16..24].copy_from_slice(&self.kernel_code_entry_byte_offset.to_le_bytes());
        b[44..48].copy_from_slice(&self.compute_pgm_rsrc3.to_le_bytes());
        b[48..52].copy_from_slice(&self.compute_pgm_rsrc1.to_le_bytes());
        b[52..56].copy_from_slice(&self.compute_pgm_rsrc2.to_le_bytes());
        b[56..58].copy_from_slice(&self.kernel_code_properties.to_le_bytes());
        b[58..60].copy_from_slice(&self.kernarg_preload.to_le_bytes());
        b
    }

    /// The 16 dwords, as the spec of the golden vectors prints them.
    pub fn dwords(&self) -> [u32; 16] {
        let b = self.bytes();
        std::array::from_fn(|k| u32_at(&b, 4 * k))
    }

    /// Whether the kernel runs as wave32 (`ENABLE_WAVEFRONT_SIZE32`).
    pub fn wave32(&self) -> bool {
        self.kernel_code_properties & properties::WAVEFRONT_SIZE32 != 0
    }

    /// VGPRs each work-item is given: `GRANULATED_WORKITEM_VGPR_COUNT` (rsrc1 bits 5:0)
    /// plus one, in granules of 8 on gfx90a-class parts (VGPRs and AGPRs together) and on
    /// wave32 gfx10+ code, else 4.
    pub fn vgprs(&self, arch: Arch) -> u32 {
        let granule = if arch.is_gfx9() || self.wave32() {
            8
        } else {
            4
        };
        ((self.compute_pgm_rsrc1 & 0x3F) + 1) * granule
    }

    /// SGPRs each wave is given on gfx9: `GRANULATED_WAVEFRONT_SGPR_COUNT` (rsrc1 bits
    /// 9:6) plus one, in granules of 16. gfx10+ ignores the field (every wave gets the
    /// same SGPRs): `None`.
    pub fn sgprs(&self, arch: Arch) -> Option<u32> {
        arch.is_gfx9()
            .then(|| (((self.compute_pgm_rsrc1 >> 6) & 0xF) + 1) * 16)
    }

    /// `USER_SGPR_COUNT` (rsrc2 bits 5:1).
    pub fn user_sgprs(&self) -> u32 {
        (self.compute_pgm_rsrc2 >> 1) & 0x1F
    }

    /// Whether the kernel's waves get workgroup id `d` (rsrc2 bits 7..9).
    pub fn workgroup_id(&self, d: usize) -> bool {
        d < 3 && self.compute_pgm_rsrc2 >> (7 + d) & 1 == 1
    }

    /// Work-item ids set up: 0 only x, 1 x and y, 2 all three (rsrc2 bits 12:11).
    pub fn workitem_ids(&self) -> u32 {
        (self.compute_pgm_rsrc2 >> 11) & 0b11
    }

    /// The user SGPRs the enabled `kernel_code_properties` take, in their order.
    pub fn property_sgprs(&self) -> u32 {
        let p = self.kernel_code_properties;
        [
            (properties::PRIVATE_SEGMENT_BUFFER, 4),
            (properties::DISPATCH_PTR, 2),
            (properties::QUEUE_PTR, 2),
            (properties::KERNARG_SEGMENT_PTR, 2),
            (properties::DISPATCH_ID, 2),
            (properties::FLAT_SCRATCH_INIT, 2),
            (properties::PRIVATE_SEGMENT_SIZE, 1),
        ]
        .iter()
        .filter(|(bit, _)| p & bit != 0)
        .map(|(_, n)| n)
        .sum()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The gfx942 `add1` descriptor of docs/amd.md.
    const ADD1_GFX942: [u32; 16] = [
        0,
        0,
        0x10,
        0,
        0x1040,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0x00AF_0040,
        0x84,
        0x8,
        0,
    ];

    fn from_dwords(d: &[u32; 16]) -> KernelDescriptor {
        let bytes: Vec<u8> = d.iter().flat_map(|x| x.to_le_bytes()).collect();
        KernelDescriptor::parse(&bytes).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_golden_descriptor_decodes() {
        let kd = from_dwords(&ADD1_GFX942);
        assert_eq!(kd.kernarg_size, 16);
        assert_eq!(kd.kernel_code_entry_byte_offset, 0x1040);
        assert_eq!(kd.vgprs(Arch::Gfx942), 8);
        assert_eq!(kd.sgprs(Arch::Gfx942), Some(32));
        assert_eq!(kd.user_sgprs(), 2);
        assert_eq!(kd.property_sgprs(), 2);
        assert!(kd.workgroup_id(0) && !kd.workgroup_id(1));
        assert_eq!(kd.workitem_ids(), 0);
        assert!(!kd.wave32());
        assert_eq!(kd.dwords(), ADD1_GFX942);
        // gfx1100: wave32, and LLVM pads the user SGPR count to 15
        let gfx1100 = from_dwords(&[
            0,
            0,
            0x10,
            0,
            0x1040,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0x60AF_0080,
            0x9E,
            0x408,
            0,
        ]);
        assert!(gfx1100.wave32());
        assert_eq!(
            (gfx1100.user_sgprs(), gfx1100.sgprs(Arch::Gfx1100)),
            (15, None)
        );
    }

    #[test]
    fn reserved_bytes_and_sizes_are_checked() {
        let mut bytes = [0u8; 64];
        bytes[30] = 1;
        assert!(KernelDescriptor::parse(&bytes).is_err());
        assert!(KernelDescriptor::parse(&[0u8; 63]).is_err());
    }

    proptest! {
        #[test]
        fn bytes_round_trip(
            sizes in any::<[u32; 3]>(), entry in any::<i64>(), rsrc in any::<[u32; 3]>(),
            props in any::<u16>(), preload in any::<u16>()
        ) {
            let kd = KernelDescriptor {
                group_segment_fixed_size: sizes[0],
                private_segment_fixed_size: sizes[1],
                kernarg_size: sizes[2],
                kernel_code_entry_byte_offset: entry,
                compute_pgm_rsrc3: rsrc[0],
                compute_pgm_rsrc1: rsrc[1],
                compute_pgm_rsrc2: rsrc[2],
                kernel_code_properties: props,
                kernarg_preload: preload,
            };
            prop_assert_eq!(KernelDescriptor::parse(&kd.bytes()).ok(), Some(kd));
        }
    }
}
