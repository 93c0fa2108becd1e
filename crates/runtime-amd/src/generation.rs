//! `Generation`: the GPU generations whose command formats differ, and how a KFD node's
//! `gfx_target_version` names its processor. gfx9 is the CDNA line (MI300 = gfx942, MI350
//! = gfx950); gfx10, gfx11 and gfx12 are the RDNA lines and the MI400-class gfx1250,
//! which speaks the gfx10+ PM4 dialect (GCR cache control) as its GFX12 family implies.

use std::fmt;

/// A GPU generation, as far as command packets and registers are concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Generation {
    /// gfx9xx: Vega, MI100/200/300/350 (CDNA): `CP_COHER_CNTL` cache control.
    Gfx9,
    /// gfx10xx (RDNA1/2): GCR cache control, wave32.
    Gfx10,
    /// gfx11xx (RDNA3).
    Gfx11,
    /// gfx12xx (RDNA4, and gfx1250 of the MI400 class).
    Gfx12,
}

impl Generation {
    /// The generation of a `gfx_target_version` (`90402` is gfx942), from its major
    /// version; `None` for versions before gfx9 or after gfx12.
    pub fn of_target_version(version: u32) -> Option<Generation> {
        match version / 10000 {
            9 => Some(Generation::Gfx9),
            10 => Some(Generation::Gfx10),
            11 => Some(Generation::Gfx11),
            12 => Some(Generation::Gfx12),
            _ => None,
        }
    }

    /// Whether caches are controlled by GCR fields (gfx10 and later).
    pub fn has_gcr(self) -> bool {
        self >= Generation::Gfx10
    }

    /// The dword address of `COMPUTE_PGM_RSRC3` (gfx9.4.x: 0x2E2D; gfx11 and gfx12:
    /// 0x2E28). gfx10 has it at 0x2E28 as well.
    pub fn compute_pgm_rsrc3(self) -> u32 {
        if self == Generation::Gfx9 {
            0x2E2D
        } else {
            0x2E28
        }
    }
}

impl fmt::Display for Generation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Generation::Gfx9 => "gfx9",
            Generation::Gfx10 => "gfx10",
            Generation::Gfx11 => "gfx11",
            Generation::Gfx12 => "gfx12",
        };
        f.write_str(name)
    }
}

/// The processor name of a `gfx_target_version`: major, minor and stepping, the last two
/// in hexadecimal (`90402` is `gfx942`, `90010` is `gfx90a`, `120500` is `gfx1250`).
pub fn gfx_name(version: u32) -> String {
    let (major, minor, stepping) = (version / 10000, (version / 100) % 100, version % 100);
    format!("gfx{major}{minor:x}{stepping:x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_versions_name_their_processor_and_generation() {
        for (version, name, generation) in [
            (90402, "gfx942", Generation::Gfx9),
            (90500, "gfx950", Generation::Gfx9),
            (90010, "gfx90a", Generation::Gfx9),
            (110000, "gfx1100", Generation::Gfx11),
            (120001, "gfx1201", Generation::Gfx12),
            (120500, "gfx1250", Generation::Gfx12),
            (100300, "gfx1030", Generation::Gfx10),
        ] {
            assert_eq!(gfx_name(version), name);
            assert_eq!(
                Generation::of_target_version(version),
                Some(generation),
                "{name}"
            );
        }
        assert_eq!(Generation::of_target_version(80003), None);
        assert!(Generation::Gfx10.has_gcr() && !Generation::Gfx9.has_gcr());
        assert_eq!(
            (
                Generation::Gfx9.compute_pgm_rsrc3(),
                Generation::Gfx11.compute_pgm_rsrc3()
            ),
            (0x2E2D, 0x2E28)
        );
    }
}
