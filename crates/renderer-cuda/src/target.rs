//! The `Target` of a CUDA device, from what the device says of itself (`CudaArch`):
//! workgroups (blocks) of up to its threads per block, grids as large as it allows,
//! 48 KiB of static shared memory per block, 16-byte vectors of 32-bit elements (loaded
//! and stored whole, aligned; f32 arithmetic on them lane by lane), fused multiply-add,
//! and a warp of 32 threads.

use renderer::{Target, TensorCore, VectorTarget};
use uop_ir::DType;

use crate::language::CUDA_VECTOR_DTYPES;

/// What the renderer needs to know of a CUDA device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CudaArch {
    /// Compute capability `(major, minor)`.
    pub compute_capability: (i32, i32),
    pub multiprocessors: u32,
    pub warp_size: u32,
    pub max_threads_per_block: u32,
    pub max_block_dims: [u32; 3],
    pub max_grid_dims: [u32; 3],
    /// Shared memory a block may declare statically.
    pub shared_per_block: u32,
}

impl CudaArch {
    /// An H100 (SXM): the device the snapshot tests render for.
    pub fn h100() -> CudaArch {
        CudaArch {
            compute_capability: (9, 0),
            multiprocessors: 132,
            warp_size: 32,
            max_threads_per_block: 1024,
            max_block_dims: [1024, 1024, 64],
            max_grid_dims: [2147483647, 65535, 65535],
            shared_per_block: 48 << 10,
        }
    }
}

/// The linearizer's view of a device of `arch`.
pub fn cuda_target(arch: &CudaArch) -> Target {
    Target {
        name: "CUDA",
        vector: Some(VectorTarget {
            bytes: 16,
            dtypes: CUDA_VECTOR_DTYPES.to_vec(),
            alu: crate::vector::cuda_vector_alu(),
            aligned: true,
        }),
        max_threads: 1,
        max_local_size: arch.max_threads_per_block as usize,
        max_local_dims: arch.max_block_dims,
        max_global_dims: arch.max_grid_dims,
        scratch_bytes: arch.shared_per_block as usize,
        has_fma: true,
        warp_size: arch.warp_size as usize,
        tensor_cores: tensor_cores(arch),
    }
}

/// `mma.sync` m16n8k16 with f16 or bf16 in and f32 accumulators, from compute capability
/// 8.0 (Ampere) on.
fn tensor_cores(arch: &CudaArch) -> Vec<TensorCore> {
    if arch.compute_capability.0 < 8 {
        return Vec::new();
    }
    [DType::F16, DType::BF16]
        .into_iter()
        .map(|dtype_in| TensorCore {
            dtype_in,
            dtype_acc: DType::F32,
            m: 16,
            n: 8,
            k: 16,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_follows_the_device() {
        let t = cuda_target(&CudaArch::h100());
        assert!(t.has_workgroups());
        assert_eq!(
            (t.max_local_size, t.warp_size, t.scratch_bytes),
            (1024, 32, 48 << 10)
        );
        assert_eq!(
            t.vector.as_ref().and_then(|v| v.lanes(uop_ir::DType::F32)),
            Some(4)
        );
        assert!(t.vector.as_ref().is_some_and(|v| v.aligned));
    }
}
