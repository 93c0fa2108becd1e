//! `Arch`: the AMD GPU processors the renderer knows, and what differs between them for
//! a kernel: the wavefront size, the LDS a workgroup may use, the matrix instructions,
//! the ELF `e_flags` processor number, and whether the LLVM in use can compile for it.
//! LLVM 19 (this build's) has gfx942 (MI300), gfx1100 and gfx1200/1201; gfx950 (MI350)
//! needs LLVM 20 and gfx1250 (the MI400 class) LLVM 22, so those are known here but
//! refused when compiling, with the version they need.

use std::fmt;

/// An AMD GPU processor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Arch {
    /// MI300A/X (CDNA 3).
    Gfx942,
    /// MI350/MI355 (CDNA 3.5).
    Gfx950,
    /// RDNA 3 (Navi 31).
    Gfx1100,
    /// RDNA 4.
    Gfx1200,
    Gfx1201,
    /// GFX 12.5, the MI400 class.
    Gfx1250,
}

impl Arch {
    pub const ALL: [Arch; 6] = [
        Arch::Gfx942,
        Arch::Gfx950,
        Arch::Gfx1100,
        Arch::Gfx1200,
        Arch::Gfx1201,
        Arch::Gfx1250,
    ];

    /// The LLVM processor name (`gfx942`).
    pub fn name(self) -> &'static str {
        match self {
            Arch::Gfx942 => "gfx942",
            Arch::Gfx950 => "gfx950",
            Arch::Gfx1100 => "gfx1100",
            Arch::Gfx1200 => "gfx1200",
            Arch::Gfx1201 => "gfx1201",
            Arch::Gfx1250 => "gfx1250",
        }
    }

    /// The processor named `name`, if known.
    pub fn from_name(name: &str) -> Option<Arch> {
        Arch::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Lanes of a wavefront: 64 on CDNA (gfx9), 32 on RDNA and gfx1250.
    pub fn wave_size(self) -> usize {
        match self {
            Arch::Gfx942 | Arch::Gfx950 => 64,
            _ => 32,
        }
    }

    /// LDS bytes a workgroup may use.
    pub fn lds_bytes(self) -> usize {
        match self {
            Arch::Gfx950 => 160 << 10,
            Arch::Gfx1250 => 320 << 10,
            _ => 64 << 10,
        }
    }

    /// The `EF_AMDGPU_MACH` number in the code object's `e_flags` (bits 7:0).
    pub fn mach(self) -> u32 {
        match self {
            Arch::Gfx942 => 0x4C,
            Arch::Gfx950 => 0x4F,
            Arch::Gfx1100 => 0x41,
            Arch::Gfx1200 => 0x48,
            Arch::Gfx1201 => 0x4E,
            Arch::Gfx1250 => 0x49,
        }
    }

    /// The first LLVM release that compiles for it.
    pub fn llvm_major(self) -> u32 {
        match self {
            Arch::Gfx950 => 20,
            Arch::Gfx1250 => 22,
            _ => 18,
        }
    }

    /// Whether it is a CDNA part with MFMA matrix instructions.
    pub fn has_mfma(self) -> bool {
        matches!(self, Arch::Gfx942 | Arch::Gfx950)
    }

    /// Whether its descriptors use gfx9's register granules (VGPRs in units of 8 with
    /// the accumulation registers, SGPRs in units of 16) rather than gfx10+'s.
    pub fn is_gfx9(self) -> bool {
        matches!(self, Arch::Gfx942 | Arch::Gfx950)
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_facts_hold() {
        for a in Arch::ALL {
            assert_eq!(Arch::from_name(a.name()), Some(a));
        }
        assert_eq!(Arch::from_name("gfx90a"), None);
        assert_eq!(
            (Arch::Gfx942.wave_size(), Arch::Gfx1100.wave_size()),
            (64, 32)
        );
        assert_eq!(Arch::Gfx942.lds_bytes(), 65536);
        assert_eq!(Arch::Gfx950.llvm_major(), 20);
        assert_eq!(Arch::Gfx1250.llvm_major(), 22);
        assert!(Arch::Gfx942.has_mfma() && !Arch::Gfx1100.has_mfma());
    }
}
