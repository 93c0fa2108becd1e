//! What a CUDA device is, read off the device when it opens: its name, compute
//! capability, multiprocessors, limits of blocks and grids, shared memory, L2, clocks
//! and memory bus. The renderer builds its `Target` from these, and the roofline comes
//! from the clocks and the bus.

use cudarc::driver::{result, sys};

use crate::{NvError, Result};

/// The properties of one CUDA device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceProps {
    pub ordinal: usize,
    pub name: String,
    /// Compute capability `(major, minor)`: `(9, 0)` for Hopper.
    pub compute_capability: (i32, i32),
    pub multiprocessors: u32,
    pub warp_size: u32,
    pub max_threads_per_block: u32,
    pub max_block_dims: [u32; 3],
    pub max_grid_dims: [u32; 3],
    /// Shared memory a block gets without asking, and the most it may ask for.
    pub shared_per_block: u32,
    pub shared_per_block_optin: u32,
    pub l2_bytes: u32,
    pub total_memory: usize,
    /// Peak clocks in kHz, and the memory bus width in bits.
    pub clock_khz: u32,
    pub memory_clock_khz: u32,
    pub memory_bus_bits: u32,
}

impl DeviceProps {
    /// Reads the properties of `device` (the context must be current).
    pub(crate) fn read(device: sys::CUdevice, ordinal: usize) -> Result<DeviceProps> {
        use sys::CUdevice_attribute as A;
        let attr = |a: A| -> Result<u32> {
            // SAFETY: `device` is a valid handle and `a` a defined attribute.
            let v = unsafe { result::device::get_attribute(device, a) }
                .map_err(|e| NvError::driver("cuDeviceGetAttribute", e))?;
            Ok(u32::try_from(v).unwrap_or(0))
        };
        let name =
            result::device::get_name(device).map_err(|e| NvError::driver("cuDeviceGetName", e))?;
        // SAFETY: as above.
        let total_memory = unsafe { result::device::total_mem(device) }
            .map_err(|e| NvError::driver("cuDeviceTotalMem", e))?;
        Ok(DeviceProps {
            ordinal,
            name,
            compute_capability: (
                attr(A::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)? as i32,
                attr(A::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR)? as i32,
            ),
            multiprocessors: attr(A::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT)?,
            warp_size: attr(A::CU_DEVICE_ATTRIBUTE_WARP_SIZE)?,
            max_threads_per_block: attr(A::CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK)?,
            max_block_dims: [
                attr(A::CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X)?,
                attr(A::CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y)?,
                attr(A::CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z)?,
            ],
            max_grid_dims: [
                attr(A::CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X)?,
                attr(A::CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y)?,
                attr(A::CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z)?,
            ],
            shared_per_block: attr(A::CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK)?,
            shared_per_block_optin: attr(A::CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN)?,
            l2_bytes: attr(A::CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE)?,
            total_memory,
            clock_khz: attr(A::CU_DEVICE_ATTRIBUTE_CLOCK_RATE)?,
            memory_clock_khz: attr(A::CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE)?,
            memory_bus_bits: attr(A::CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH)?,
        })
    }

    /// Peak memory bandwidth in GB/s (double data rate) from the memory clock and bus.
    pub fn peak_gbs(&self) -> f64 {
        2.0 * f64::from(self.memory_clock_khz) * 1e3 * f64::from(self.memory_bus_bits) / 8.0 / 1e9
    }

    /// Peak f32 GFLOP/s of the CUDA cores: 128 FMA lanes per multiprocessor (Ampere and
    /// later), two flops each.
    pub fn peak_gflops(&self) -> f64 {
        f64::from(self.multiprocessors) * 128.0 * 2.0 * f64::from(self.clock_khz) * 1e3 / 1e9
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h100() -> DeviceProps {
        DeviceProps {
            ordinal: 0,
            name: "NVIDIA H100 80GB HBM3".into(),
            compute_capability: (9, 0),
            multiprocessors: 132,
            warp_size: 32,
            max_threads_per_block: 1024,
            max_block_dims: [1024, 1024, 64],
            max_grid_dims: [2147483647, 65535, 65535],
            shared_per_block: 49152,
            shared_per_block_optin: 232448,
            l2_bytes: 52428800,
            total_memory: 85 << 30,
            clock_khz: 1980000,
            memory_clock_khz: 2619000,
            memory_bus_bits: 5120,
        }
    }

    #[test]
    fn peaks_follow_the_clocks() {
        let p = h100();
        assert!((p.peak_gbs() - 3352.3).abs() < 1.0, "{}", p.peak_gbs());
        assert!(
            (p.peak_gflops() - 66908.2).abs() < 1.0,
            "{}",
            p.peak_gflops()
        );
    }
}
