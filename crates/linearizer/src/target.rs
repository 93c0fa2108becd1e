//! `Target`: what a device offers the kernels made for it, as the linearizer and its opts
//! see it. A renderer owns one (`renderer::Renderer::target`) and the engine passes it
//! to `linearize` by reference. A CPU renderer fills it from the host (cores, vector
//! width, FMA), a GPU renderer from the device's properties, read when the device opens.
//!
//! Every limit is an upper bound that opts check before they apply: THREAD splits at most
//! `max_threads` ways, LOCAL and GROUP build workgroups within `max_local_size` and
//! `max_local_dims`, PACK and GROUP use at most `scratch_bytes` of scratch, the vector opt
//! emits only the vectors `vector` lists, and a sum of products fuses into MULACC only
//! where `has_fma` says so.

use uop_ir::{DType, Op};

/// The vectors a target has: what the vector opt may emit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VectorTarget {
    /// The vector register size in bytes (32 for AVX2, 16 for a GPU's `float4`):
    /// lanes = bytes / itemsize.
    pub bytes: usize,
    /// Element dtypes that vectors (loads, stores, registers, ALU) may hold.
    pub dtypes: Vec<DType>,
    /// ALU ops the target has on vectors of a dtype; the rest are devectorized.
    pub alu: Vec<(Op, DType)>,
    /// Whether a vector load or store must start at an element offset that is a multiple
    /// of its lanes (a GPU's 16-byte accesses); where that cannot be shown, the access
    /// stays one per lane. False where any offset is allowed (the CPU's unaligned loads).
    pub aligned: bool,
}

impl VectorTarget {
    /// The lanes of a full vector of `dtype`, or `None` when it has no vectors.
    pub fn lanes(&self, dtype: DType) -> Option<u8> {
        if !self.dtypes.contains(&dtype) || dtype.itemsize() == 0 {
            return None;
        }
        u8::try_from(self.bytes / dtype.itemsize())
            .ok()
            .filter(|l| *l > 1)
    }
}

/// A matrix-multiply unit: one instruction multiplies an `m x k` tile by a `k x n` tile
/// of `dtype_in` and adds the product into an `m x n` tile of `dtype_acc`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TensorCore {
    pub dtype_in: DType,
    pub dtype_acc: DType,
    pub m: usize,
    pub n: usize,
    pub k: usize,
}

/// A device as the linearizer sees it (see the module doc).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// Short name, e.g. `"C"`; error messages name the target with it.
    pub name: &'static str,
    /// The vectors the renderer emits; `None` keeps kernels scalar.
    pub vector: Option<VectorTarget>,
    /// The most host threads (`core_id` values) one kernel may be split across (the CPU's
    /// cores); 1 where kernels do not run on host threads.
    pub max_threads: usize,
    /// The most threads of one workgroup (`lidx` dimensions together); 0 when the target
    /// has no workgroups, which refuses LOCAL and GROUP.
    pub max_local_size: usize,
    /// The most threads of a workgroup in each dimension (`lidx0`, `lidx1`, `lidx2`).
    pub max_local_dims: [u32; 3],
    /// The most workgroups of a launch in each dimension (`gidx0`, `gidx1`, `gidx2`).
    pub max_global_dims: [u32; 3],
    /// Scratch memory (DEFINE_LOCAL) in bytes: shared by a workgroup on a GPU, one per
    /// invocation on a CPU; 0 turns PACK off.
    pub scratch_bytes: usize,
    /// Whether the target has fused multiply-add on f32 and f64 (one rounding): a sum of
    /// products in a reduction then accumulates with MULACC.
    pub has_fma: bool,
    /// Threads that run in lockstep (a GPU's warp or wavefront); 1 on a CPU.
    pub warp_size: usize,
    /// The matrix-multiply units; empty where there are none (a CPU).
    pub tensor_cores: Vec<TensorCore>,
}

impl Default for Target {
    /// A target with nothing but scalar code on one thread: the kernels every other
    /// target must compute the same results as.
    fn default() -> Target {
        Target {
            name: "scalar",
            vector: None,
            max_threads: 1,
            max_local_size: 0,
            max_local_dims: [0; 3],
            max_global_dims: [1; 3],
            scratch_bytes: 0,
            has_fma: false,
            warp_size: 1,
            tensor_cores: Vec::new(),
        }
    }
}

impl Target {
    /// Whether kernels may run as workgroups of threads that share scratch.
    pub fn has_workgroups(&self) -> bool {
        self.max_local_size > 0
    }

    /// Whether a sum of products of `dtype` accumulates with one fused multiply-add.
    pub fn fuses_multiply_add(&self, dtype: DType) -> bool {
        self.has_fma && matches!(dtype, DType::F32 | DType::F64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vector_lanes_follow_the_register_size() {
        let v = VectorTarget {
            bytes: 32,
            dtypes: vec![DType::F32, DType::F64],
            alu: Vec::new(),
            aligned: false,
        };
        assert_eq!(v.lanes(DType::F32), Some(8));
        assert_eq!(v.lanes(DType::F64), Some(4));
        assert_eq!(v.lanes(DType::I32), None);
    }

    #[test]
    fn the_default_target_is_scalar_and_single_threaded() {
        let t = Target::default();
        assert!(t.vector.is_none() && !t.has_workgroups());
        assert_eq!((t.max_threads, t.scratch_bytes), (1, 0));
        assert!(!t.fuses_multiply_add(DType::F32));
        let fma = Target {
            has_fma: true,
            ..Target::default()
        };
        assert!(fma.fuses_multiply_add(DType::F64));
        assert!(!fma.fuses_multiply_add(DType::F16));
    }
}
