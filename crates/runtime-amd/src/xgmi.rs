//! XGMI hives: GPUs linked by XGMI share one physical address map split into equal
//! segments, one per GPU. These are the address computations of an MI300 hive (the GFX
//! hub's `MC_VM_XGMI_LFB_CNTL` and `MC_VM_XGMI_LFB_SIZE`, GC 9.4.3 field layout) and of
//! the MI400 class (GC 12.1.0 reads the same registers from the MM hub, v4.2.0), as pure
//! functions. Through the KFD none of this is done by user space (MAP_MEMORY_TO_GPU with
//! the peers' ids maps a buffer on every peer at the same virtual address); a driver that
//! programs page tables itself needs it.
//!
//! | quantity | from |
//! |---|---|
//! | segment size | `PF_LFB_SIZE << 24` bytes |
//! | this GPU's node id | `PF_LFB_REGION` |
//! | GPUs in the hive | `PF_MAX_REGION + 1` (`PF_MAX_REGION = 0`: no hive) |
//! | local VRAM offset `p` as a hive address | `node_id * segment + p` |
//! | peer `k`'s VRAM offset `p` | `k * segment + p` |
//! | MC address of local VRAM | `fb_base + node_id * segment + p` |
//! | PTE base of VRAM (`vram_base_offset`) | `fb_offset + node_id * segment`, the owner's for a peer's buffer |
//!
//! What public sources leave open on MI400: the MM hub v4.2.0 register field layout (the
//! patches say "the same fields"; this module assumes the GC 9.4.3 bit positions), and
//! any GPU-to-GPU hive beyond the CPU-attached ("A+A") configuration with at most 4
//! nodes that the driver handles; `Hive::mi400` therefore refuses node ids above 3 and
//! does not claim to describe other topologies.

use crate::{AmdError, Result};

/// `PF_LFB_REGION`: bits 3:0 of `MC_VM_XGMI_LFB_CNTL` (GC 9.4.3, MM hub 1.8).
const REGION_MASK: u32 = 0xF;
/// `PF_MAX_REGION`: bits 7:4.
const MAX_REGION_SHIFT: u32 = 4;
/// `PF_LFB_SIZE`: bits 16:0 of `MC_VM_XGMI_LFB_SIZE`, in 16 MiB units.
const SIZE_MASK: u32 = 0x1_FFFF;

/// Which part's registers a hive was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// MI300 (GC 9.4.3, GFX hub 1.2).
    Mi300,
    /// MI400 class (GC 12.1.0, MM hub 4.2.0): at most 4 nodes, CPU-attached.
    Mi400,
}

/// A GPU's place in its XGMI hive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hive {
    pub part: Part,
    /// Bytes of each GPU's segment of the hive's address map.
    pub segment_size: u64,
    /// This GPU's node id (its segment).
    pub node_id: u32,
    /// GPUs in the hive.
    pub nodes: u32,
}

impl Hive {
    /// The hive an MI300 reads from its `MC_VM_XGMI_LFB_CNTL` and `MC_VM_XGMI_LFB_SIZE`.
    pub fn mi300(lfb_cntl: u32, lfb_size: u32) -> Result<Hive> {
        Hive::from_registers(Part::Mi300, lfb_cntl, lfb_size, 16)
    }

    /// The hive an MI400-class part reads from the MM hub's `MMMC_VM_XGMI_LFB_CNTL` and
    /// `MMMC_VM_XGMI_LFB_SIZE` (see the module doc for what is assumed).
    pub fn mi400(lfb_cntl: u32, lfb_size: u32) -> Result<Hive> {
        Hive::from_registers(Part::Mi400, lfb_cntl, lfb_size, 4)
    }

    fn from_registers(part: Part, cntl: u32, size: u32, max_nodes: u32) -> Result<Hive> {
        let node_id = cntl & REGION_MASK;
        let nodes = ((cntl >> MAX_REGION_SHIFT) & 0xF) + 1;
        let hive = Hive {
            part,
            segment_size: u64::from(size & SIZE_MASK) << 24,
            node_id,
            nodes,
        };
        if node_id >= nodes {
            return Err(AmdError::Xgmi(format!(
                "node id {node_id} is not below the hive's {nodes} nodes (LFB_CNTL {cntl:#x})"
            )));
        }
        if node_id >= max_nodes || (hive.is_hive() && nodes > max_nodes) {
            return Err(AmdError::Xgmi(format!(
                "{part:?} hives have at most {max_nodes} nodes; the registers say node {node_id} of {nodes}"
            )));
        }
        Ok(hive)
    }

    /// Whether the GPU is in a hive: a segment size and more than one region. (A single
    /// node may program a segment size with only region 0.)
    pub fn is_hive(&self) -> bool {
        self.segment_size > 0 && self.nodes > 1
    }

    /// The hive ("XGMI physical") address of this GPU's VRAM offset `p`.
    pub fn local(&self, p: u64) -> Result<u64> {
        self.peer(self.node_id, p)
    }

    /// The hive address of peer `node`'s VRAM offset `p`: moving from peer j to peer k
    /// moves the address by `(k - j) * segment`.
    pub fn peer(&self, node: u32, p: u64) -> Result<u64> {
        if node >= self.nodes {
            return Err(AmdError::Xgmi(format!(
                "peer {node} is not one of the hive's {} nodes",
                self.nodes
            )));
        }
        if self.segment_size > 0 && p >= self.segment_size {
            return Err(AmdError::Xgmi(format!(
                "offset {p:#x} is past a segment of {:#x} bytes",
                self.segment_size
            )));
        }
        u64::from(node)
            .checked_mul(self.segment_size)
            .and_then(|base| base.checked_add(p))
            .ok_or_else(|| AmdError::Xgmi("the address overflows 64 bits".into()))
    }

    /// The memory-controller address of local VRAM offset `p`, with the FB aperture at
    /// `fb_base` (`MC_VM_FB_LOCATION_BASE << 24`).
    pub fn mc_address(&self, fb_base: u64, p: u64) -> Result<u64> {
        self.local(p)?
            .checked_add(fb_base)
            .ok_or_else(|| AmdError::Xgmi("the MC address overflows 64 bits".into()))
    }

    /// The PTE base of this GPU's VRAM (`vram_base_offset`), from `MC_VM_FB_OFFSET`'s
    /// value `fb_offset`; a peer's buffer is mapped with its owner's.
    pub fn vram_base_offset(&self, fb_offset: u64) -> Result<u64> {
        u64::from(self.node_id)
            .checked_mul(self.segment_size)
            .and_then(|s| s.checked_add(fb_offset))
            .ok_or_else(|| AmdError::Xgmi("vram_base_offset overflows 64 bits".into()))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Register values of node `id` in a hive of `nodes` with segments of `seg` << 24.
    fn registers(id: u32, nodes: u32, seg: u32) -> (u32, u32) {
        (id | (nodes - 1) << MAX_REGION_SHIFT, seg)
    }

    #[test]
    fn an_eight_gpu_mi300_hive() {
        // 8 nodes of 256 GiB segments (0x4000 << 24), this one node 3
        let (cntl, size) = registers(3, 8, 0x4000);
        let h = Hive::mi300(cntl, size).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((h.segment_size, h.node_id, h.nodes), (256 << 30, 3, 8));
        assert!(h.is_hive());
        assert_eq!(h.local(0x1000).ok(), Some(3 * (256 << 30) + 0x1000));
        assert_eq!(h.peer(5, 0x1000).ok(), Some(5 * (256 << 30) + 0x1000));
        assert_eq!(
            h.mc_address(0x80_0000_0000, 0).ok(),
            Some(0x80_0000_0000 + 3 * (256 << 30))
        );
        assert_eq!(
            h.vram_base_offset(0x1_0000_0000).ok(),
            Some(0x1_0000_0000 + 3 * (256 << 30))
        );
        assert!(h.peer(8, 0).is_err());
        assert!(h.peer(0, 256 << 30).is_err());
    }

    #[test]
    fn one_gpu_is_not_a_hive() {
        let h = Hive::mi300(0, 0x4000).unwrap_or_else(|e| panic!("{e}"));
        assert!(!h.is_hive());
        assert_eq!(h.local(0x2000).ok(), Some(0x2000));
        let off = Hive::mi300(0, 0).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(off.local(123).ok(), Some(123));
    }

    #[test]
    fn mi400_hives_have_at_most_four_nodes() {
        let (cntl, size) = registers(3, 4, 0x2000);
        let h = Hive::mi400(cntl, size).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((h.part, h.node_id, h.nodes), (Part::Mi400, 3, 4));
        let (cntl, size) = registers(4, 8, 0x2000);
        let err = Hive::mi400(cntl, size).expect_err("5 nodes").to_string();
        assert!(err.contains("at most 4 nodes"), "{err}");
        assert!(Hive::mi300(cntl, size).is_ok());
    }

    #[test]
    fn a_node_id_past_the_hive_is_refused() {
        let err = Hive::mi300(5 | 1 << MAX_REGION_SHIFT, 0x100).expect_err("node 5 of 2");
        assert!(err.to_string().contains("not below"), "{err}");
    }

    proptest! {
        #[test]
        fn the_peer_window_moves_with_the_peer_id(
            nodes in 2u32..=8, seg in 1u32..0x1_0000, j in 0u32..8, k in 0u32..8, p in any::<u64>()
        ) {
            let (j, k) = (j % nodes, k % nodes);
            let (cntl, size) = registers(j, nodes, seg);
            let h = Hive::mi300(cntl, size).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let p = p % h.segment_size;
            let (a, b) = (h.peer(j, p).unwrap_or(0), h.peer(k, p).unwrap_or(0));
            prop_assert_eq!(i128::from(b) - i128::from(a), (i128::from(k) - i128::from(j)) * i128::from(h.segment_size));
            prop_assert_eq!(h.local(p).ok(), Some(a));
        }

        #[test]
        fn no_register_values_panic(cntl in any::<u32>(), size in any::<u32>(), node in any::<u32>(), p in any::<u64>()) {
            for h in [Hive::mi300(cntl, size), Hive::mi400(cntl, size)].into_iter().flatten() {
                let _ = h.peer(node, p);
                let _ = h.mc_address(p, p);
                let _ = h.vram_base_offset(p);
            }
        }
    }
}
