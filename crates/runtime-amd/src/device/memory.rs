//! GPU memory through the KFD: `Driver` holds the open `/dev/kfd` and render node of one
//! GPU and allocates `GpuMemory` the way ROCm does: reserve the virtual range in this
//! process, ALLOC_MEMORY_OF_GPU at that address, map it there from the render node (so
//! the CPU and the GPU see it at the same address), then MAP_MEMORY_TO_GPU. Dropping it
//! unmaps and frees it. `AmdBuffer` is a tensor buffer in CPU-visible VRAM.

use std::sync::Arc;

use device::{DeviceError, RawBuffer};

use crate::kfd::ioctl::{
    AllocMemory, FREE_MEMORY_OF_GPU, FreeMemory, MAP_MEMORY_TO_GPU, MapMemory,
    UNMAP_MEMORY_FROM_GPU, alloc_flags,
};
use crate::kfd::sys::{DeviceFile, Mapping, Reservation};
use crate::{AmdError, Result};

/// The driver files of one GPU.
#[derive(Debug)]
pub struct Driver {
    pub kfd: DeviceFile,
    pub render: DeviceFile,
    pub gpu_id: u32,
}

/// What memory is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// VRAM the CPU can map (needs a large BAR): tensors, code.
    Vram,
    /// Uncached system memory: rings, signals, kernargs, indirect buffers.
    Uncached,
}

/// Memory of one GPU, mapped at the same address for the CPU.
#[derive(Debug)]
pub struct GpuMemory {
    driver: Arc<Driver>,
    handle: u64,
    mapping: Mapping,
}

impl GpuMemory {
    /// `bytes` (rounded up to pages) of `kind` memory.
    pub fn new(driver: &Arc<Driver>, bytes: usize, kind: Kind) -> Result<GpuMemory> {
        let size = bytes.max(1).div_ceil(4096) * 4096;
        let range = Reservation::new(size)?;
        let base = alloc_flags::WRITABLE | alloc_flags::EXECUTABLE | alloc_flags::NO_SUBSTITUTE;
        let flags = match kind {
            Kind::Vram => base | alloc_flags::VRAM | alloc_flags::PUBLIC,
            Kind::Uncached => {
                base | alloc_flags::GTT | alloc_flags::COHERENT | alloc_flags::UNCACHED
            }
        };
        let mut alloc = AllocMemory {
            va_addr: range.addr(),
            size: size as u64,
            gpu_id: driver.gpu_id,
            flags,
            ..AllocMemory::default()
        };
        driver
            .kfd
            .ioctl(crate::kfd::ioctl::ALLOC_MEMORY_OF_GPU, &mut alloc)?;
        let mapping = match driver.render.map_over(range, alloc.mmap_offset) {
            Ok(m) => m,
            Err(e) => {
                let mut free = FreeMemory {
                    handle: alloc.handle,
                };
                let _ = driver.kfd.ioctl(FREE_MEMORY_OF_GPU, &mut free);
                return Err(e);
            }
        };
        let memory = GpuMemory {
            driver: driver.clone(),
            handle: alloc.handle,
            mapping,
        };
        memory.map_to_gpu(MAP_MEMORY_TO_GPU)?;
        Ok(memory)
    }

    fn map_to_gpu(&self, call: u32) -> Result<()> {
        let ids = [self.driver.gpu_id];
        let mut map = MapMemory {
            handle: self.handle,
            device_ids_array_ptr: ids.as_ptr() as u64,
            n_devices: 1,
            n_success: 0,
        };
        self.driver.kfd.ioctl(call, &mut map)?;
        if map.n_success != 1 {
            return Err(AmdError::Kfd {
                call: "AMDKFD_IOC_MAP_MEMORY_TO_GPU",
                why: format!("mapped on {} of 1 GPUs", map.n_success),
            });
        }
        Ok(())
    }

    /// The GPU (and CPU) address.
    pub fn addr(&self) -> u64 {
        self.mapping.addr()
    }

    pub fn size(&self) -> usize {
        self.mapping.len()
    }

    pub fn mapping(&self) -> &Mapping {
        &self.mapping
    }
}

impl Drop for GpuMemory {
    fn drop(&mut self) {
        let _ = self.map_to_gpu(UNMAP_MEMORY_FROM_GPU);
        let mut free = FreeMemory {
            handle: self.handle,
        };
        let _ = self.driver.kfd.ioctl(FREE_MEMORY_OF_GPU, &mut free);
    }
}

/// A tensor buffer in VRAM, copied in and out through the CPU's mapping.
#[derive(Debug)]
pub struct AmdBuffer {
    pub device: String,
    pub memory: GpuMemory,
    pub size: usize,
}

fn copy_error(e: AmdError) -> DeviceError {
    DeviceError::Launch {
        function: "copy".into(),
        why: e.to_string(),
    }
}

impl RawBuffer for AmdBuffer {
    fn size(&self) -> usize {
        self.size
    }

    fn addr(&self) -> u64 {
        self.memory.addr()
    }

    fn copy_in(&self, offset: usize, data: &[u8]) -> device::Result<()> {
        check(offset, data.len(), self.size)?;
        self.memory
            .mapping()
            .copy_in(offset, data)
            .map_err(copy_error)
    }

    fn copy_out(&self, offset: usize, out: &mut [u8]) -> device::Result<()> {
        check(offset, out.len(), self.size)?;
        self.memory
            .mapping()
            .copy_out(offset, out)
            .map_err(copy_error)
    }
}

fn check(offset: usize, len: usize, size: usize) -> device::Result<()> {
    if offset.checked_add(len).is_some_and(|end| end <= size) {
        Ok(())
    } else {
        Err(DeviceError::CopyOutOfBounds { offset, len, size })
    }
}
