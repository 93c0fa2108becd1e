//! Compute register dword addresses (the same for GC 9.4.3, 11.0 and 12.0 but
//! `COMPUTE_PGM_RSRC3`, see `Generation::compute_pgm_rsrc3`) and the encodings of the register
//! values a dispatch writes: `COMPUTE_DISPATCH_INITIATOR`, `COMPUTE_TMPRING_SIZE` and
//! `GRBM_GFX_INDEX`.

use crate::Generation;

/// `COMPUTE_DISPATCH_INITIATOR`.
pub const COMPUTE_DISPATCH_INITIATOR: u32 = 0x2E00;
/// `COMPUTE_START_X` (then Y, Z, then `COMPUTE_NUM_THREAD_X/Y/Z`).
pub const COMPUTE_START_X: u32 = 0x2E04;
/// `COMPUTE_NUM_THREAD_X`: threads of a workgroup in x (then Y, Z).
pub const COMPUTE_NUM_THREAD_X: u32 = 0x2E07;
/// `COMPUTE_PGM_LO` (then `_HI`): the code address >> 8.
pub const COMPUTE_PGM_LO: u32 = 0x2E0C;
/// `COMPUTE_DISPATCH_SCRATCH_BASE_LO` (then `_HI`).
pub const COMPUTE_DISPATCH_SCRATCH_BASE_LO: u32 = 0x2E10;
/// `COMPUTE_PGM_RSRC1` (then `RSRC2`).
pub const COMPUTE_PGM_RSRC1: u32 = 0x2E12;
/// `COMPUTE_RESOURCE_LIMITS`.
pub const COMPUTE_RESOURCE_LIMITS: u32 = 0x2E15;
/// `COMPUTE_TMPRING_SIZE`.
pub const COMPUTE_TMPRING_SIZE: u32 = 0x2E18;
/// `COMPUTE_RESTART_X` (then Y, Z).
pub const COMPUTE_RESTART_X: u32 = 0x2E1B;
/// `COMPUTE_USER_DATA_0` (to 15): the kernel's user SGPRs.
pub const COMPUTE_USER_DATA_0: u32 = 0x2E40;
/// `GRBM_GFX_INDEX`, a UCONFIG register: which SE/SH/instance later register writes go
/// to.
pub const GRBM_GFX_INDEX: u32 = 0xC200;

/// `COMPUTE_DISPATCH_INITIATOR` of a compute dispatch: `COMPUTE_SHADER_EN` and
/// `FORCE_START_AT_000`, plus `CS_W32_EN` (bit 15, gfx10+) for wave32 code.
pub fn dispatch_initiator(generation: Generation, wave32: bool) -> u32 {
    let mut v = 1 | 1 << 2;
    if wave32 && generation.has_gcr() {
        v |= 1 << 15;
    }
    v
}

/// `COMPUTE_TMPRING_SIZE`: `waves` waves of scratch (12 bits), each of `wave_bytes`
/// bytes in units of 1 KiB (gfx9) or 256 bytes (gfx10+), rounded up; the `WAVESIZE`
/// field is 13 bits on gfx9, 15 on gfx10 and gfx11, 18 on gfx12. `None` when a field
/// overflows.
pub fn tmpring_size(generation: Generation, waves: u32, wave_bytes: u64) -> Option<u32> {
    let (unit, bits) = match generation {
        Generation::Gfx9 => (1024, 13),
        Generation::Gfx10 | Generation::Gfx11 => (256, 15),
        Generation::Gfx12 => (256, 18),
    };
    let size = u32::try_from(wave_bytes.div_ceil(unit)).ok()?;
    (waves < 1 << 12 && size < 1 << bits).then_some(waves | size << 12)
}

/// `GRBM_GFX_INDEX` selecting one shader engine, shader array and instance, each
/// broadcast to all when `None`.
pub fn grbm_gfx_index(se: Option<u8>, sh: Option<u8>, instance: Option<u8>) -> u32 {
    let field = |v: Option<u8>, shift: u32, broadcast: u32| match v {
        Some(i) => u32::from(i) << shift,
        None => 1 << broadcast,
    };
    field(instance, 0, 30) | field(sh, 8, 29) | field(se, 16, 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initiators_set_wave32_on_gfx10_and_later_only() {
        assert_eq!(dispatch_initiator(Generation::Gfx9, false), 0x5);
        assert_eq!(dispatch_initiator(Generation::Gfx9, true), 0x5);
        assert_eq!(dispatch_initiator(Generation::Gfx11, true), 0x8005);
        assert_eq!(dispatch_initiator(Generation::Gfx12, false), 0x5);
    }

    #[test]
    fn tmpring_units_and_widths_follow_the_generation() {
        assert_eq!(tmpring_size(Generation::Gfx9, 32, 4096), Some(32 | 4 << 12));
        assert_eq!(
            tmpring_size(Generation::Gfx11, 32, 4096),
            Some(32 | 16 << 12)
        );
        assert_eq!(tmpring_size(Generation::Gfx9, 1, 1), Some(1 | 1 << 12));
        assert_eq!(tmpring_size(Generation::Gfx9, 4096, 0), None);
        assert_eq!(tmpring_size(Generation::Gfx9, 1, 8192 << 10), None);
        assert!(tmpring_size(Generation::Gfx12, 1, 8192 << 10).is_some());
    }

    #[test]
    fn grbm_index_broadcasts_what_is_not_selected() {
        assert_eq!(grbm_gfx_index(None, None, None), 0xE000_0000);
        assert_eq!(grbm_gfx_index(Some(1), Some(0), None), 0x4001_0000);
        assert_eq!(grbm_gfx_index(Some(2), Some(1), Some(3)), 0x0002_0103);
    }

    #[test]
    fn addresses_are_the_dword_register_numbers() {
        // Mesa names registers by byte address: R_00B830_COMPUTE_PGM_LO = 0xB830 / 4
        assert_eq!(COMPUTE_PGM_LO, 0xB830 / 4);
        assert_eq!(COMPUTE_USER_DATA_0 - 0x2C00, 0x240);
        assert_eq!(COMPUTE_PGM_RSRC1 - 0x2C00, 0x212);
    }
}
