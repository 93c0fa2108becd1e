//! `CudaBuffer`: device memory from the caching allocator, with copies to and from the
//! host through the device's staging buffers. Dropping it returns the memory to the
//! allocator's free list.

use std::sync::Arc;

use device::{DeviceError, RawBuffer};

use crate::alloc::Allocator;
use crate::staging::Staging;

/// Memory on a CUDA device.
#[derive(Debug)]
pub struct CudaBuffer {
    ptr: u64,
    size: usize,
    rounded: usize,
    allocator: Arc<Allocator>,
    staging: Arc<Staging>,
    device: String,
}

impl CudaBuffer {
    pub(crate) fn new(
        device: &str,
        bytes: usize,
        allocator: Arc<Allocator>,
        staging: Arc<Staging>,
    ) -> crate::Result<CudaBuffer> {
        let (ptr, rounded) = allocator.alloc(bytes)?;
        Ok(CudaBuffer {
            ptr,
            size: bytes,
            rounded,
            allocator,
            staging,
            device: device.to_string(),
        })
    }

    fn check(&self, offset: usize, len: usize) -> device::Result<()> {
        if offset.checked_add(len).is_none_or(|end| end > self.size) {
            return Err(DeviceError::CopyOutOfBounds {
                offset,
                len,
                size: self.size,
            });
        }
        Ok(())
    }

    /// The device this buffer lives on.
    pub fn device(&self) -> &str {
        &self.device
    }
}

impl RawBuffer for CudaBuffer {
    fn size(&self) -> usize {
        self.size
    }

    fn addr(&self) -> u64 {
        self.ptr
    }

    fn copy_in(&self, offset: usize, data: &[u8]) -> device::Result<()> {
        self.check(offset, data.len())?;
        if data.is_empty() {
            return Ok(());
        }
        Ok(self
            .staging
            .host_to_device(self.ptr + offset as u64, data)?)
    }

    fn copy_out(&self, offset: usize, out: &mut [u8]) -> device::Result<()> {
        self.check(offset, out.len())?;
        if out.is_empty() {
            return Ok(());
        }
        Ok(self.staging.device_to_host(self.ptr + offset as u64, out)?)
    }
}

impl Drop for CudaBuffer {
    fn drop(&mut self) {
        self.allocator.release(self.ptr, self.rounded);
    }
}
