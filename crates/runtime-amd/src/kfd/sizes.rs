//! The sizes of a compute queue's buffers that the KFD checks against the GPU: the
//! context save/restore (CWSR) area where the firmware saves preempted waves, its control
//! stack, and the debugger's area, as `kfd_queue.c` computes them (per CU: VGPRs, SGPRs,
//! LDS and hardware registers; per wave: control-stack entries), for every XCC.

use super::topology::GpuNode;

const PAGE: u64 = 4096;

fn round_up(x: u64, to: u64) -> u64 {
    x.div_ceil(to) * to
}

/// A queue's CWSR sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueSizes {
    /// `ctl_stack_size` of CREATE_QUEUE.
    pub ctl_stack: u64,
    /// `ctx_save_restore_size` of CREATE_QUEUE: the workgroup data and the control stack.
    pub ctx_save_restore: u64,
    /// The debugger's area after each XCC's save area.
    pub debug: u64,
    /// The whole buffer to allocate: (save area + debug area) per XCC, page-rounded.
    pub buffer: u64,
}

impl QueueSizes {
    pub fn of(node: &GpuNode) -> QueueSizes {
        let v = node.gfx_target_version;
        let (major, minor) = (v / 10000, (v / 100) % 100);
        let xccs = u64::from(node.num_xcc.max(1));
        let cus = u64::from(node.cu_count()) / xccs;
        let se = u64::from(node.array_count / node.simd_arrays_per_engine.max(1)) / xccs;
        let waves = if major == 9 {
            (cus * 40).min(se * xccs * 512)
        } else {
            cus * u64::from(node.waves_per_cu())
        };
        let vgpr = if [110000, 110001, 110501, 120000, 120001].contains(&v) {
            0x60000
        } else if major == 9 {
            0x80000
        } else {
            0x40000
        };
        let lds = if (major, minor) == (9, 5) {
            u64::from(node.lds_size_in_kb) << 10
        } else {
            0x10000
        };
        let (sgpr, hwreg) = (0x4000, 0x1000);
        let wg_data = round_up((vgpr + sgpr + lds + hwreg) * cus, PAGE);
        let per_wave = if major == 9 { 8 } else { 12 };
        let ctl_stack = round_up(per_wave * waves + 8 + 40, PAGE);
        let ctx_save_restore = wg_data + ctl_stack;
        let debug = round_up(waves * 32, 64);
        QueueSizes {
            ctl_stack,
            ctx_save_restore,
            debug,
            buffer: round_up((ctx_save_restore + debug) * xccs, PAGE),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kfd::topology::{gpu_node, parse_properties};

    #[test]
    fn mi300x_sizes() {
        let props = parse_properties(
            "simd_count 1216\nmax_waves_per_simd 8\nlds_size_in_kb 64\n\
             gfx_target_version 90402\ndrm_render_minor 128\nsimd_arrays_per_engine 1\n\
             cu_per_simd_array 10\narray_count 32\nnum_xcc 8\nsimd_per_cu 4\n",
        );
        let node = gpu_node(1, 7, &props).unwrap_or_else(|e| panic!("{e}"));
        let s = QueueSizes::of(&node);
        // 38 CUs and 1,520 waves per XCC
        assert_eq!(s.ctl_stack, 12288);
        assert_eq!(s.ctx_save_restore, 23_191_552 + 12_288);
        assert_eq!(s.debug, 48_640);
        assert_eq!(s.buffer, 186_019_840);
    }
}
