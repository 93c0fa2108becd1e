//! `CpuBuffer`: host memory aligned to 64 bytes (a cache line, and the widest vector load),
//! zero-initialised. Its `addr()` is the host pointer that kernels receive.

use std::alloc::{self, Layout};
use std::ptr::NonNull;

use device::{DeviceError, RawBuffer, Result};
use parking_lot::RwLock;

/// The alignment of every buffer, in bytes.
pub const ALIGN: usize = 64;

/// Zeroed host memory, freed on drop.
#[derive(Debug)]
pub struct CpuBuffer {
    ptr: NonNull<u8>,
    size: usize,
    /// Orders `copy_in` against other copies, so that safe code cannot race on the bytes.
    /// Kernels do not take it: `Program::launch` is unsafe and its caller promises that no
    /// other code uses the buffer meanwhile (the engine never runs a kernel concurrently
    /// with a copy of the same buffer).
    lock: RwLock<()>,
}

// SAFETY: the buffer owns its allocation outright (no aliasing handle exists outside it);
// copies through `&self` are serialised by `lock`, and kernel access is excluded from
// overlapping with them by the contract of `Program::launch`.
unsafe impl Send for CpuBuffer {}
// SAFETY: as above.
unsafe impl Sync for CpuBuffer {}

impl CpuBuffer {
    /// `bytes` zeroed bytes on device `device` (named in errors); 0 bytes allocate nothing.
    pub fn new(device: &str, bytes: usize) -> Result<CpuBuffer> {
        let oom = |why: String| DeviceError::OutOfMemory {
            device: device.to_string(),
            bytes,
            why,
        };
        let lock = RwLock::new(());
        if bytes == 0 {
            let ptr = NonNull::new(std::ptr::without_provenance_mut(ALIGN))
                .ok_or_else(|| oom("no aligned dangling pointer".into()))?;
            return Ok(CpuBuffer { ptr, size: 0, lock });
        }
        let layout = Layout::from_size_align(bytes, ALIGN).map_err(|e| oom(e.to_string()))?;
        // SAFETY: `layout` has a non-zero size.
        let ptr = unsafe { alloc::alloc_zeroed(layout) };
        let ptr = NonNull::new(ptr).ok_or_else(|| oom("the allocator returned null".into()))?;
        Ok(CpuBuffer {
            ptr,
            size: bytes,
            lock,
        })
    }

    /// The `len` bytes at `offset`, if they lie inside the buffer.
    fn check(&self, offset: usize, len: usize) -> Result<()> {
        match offset.checked_add(len) {
            Some(end) if end <= self.size => Ok(()),
            _ => Err(DeviceError::CopyOutOfBounds {
                offset,
                len,
                size: self.size,
            }),
        }
    }
}

impl Drop for CpuBuffer {
    fn drop(&mut self) {
        if self.size > 0 {
            // SAFETY: allocated in `new` with exactly this layout (size and ALIGN were valid).
            unsafe {
                alloc::dealloc(
                    self.ptr.as_ptr(),
                    Layout::from_size_align_unchecked(self.size, ALIGN),
                );
            }
        }
    }
}

impl RawBuffer for CpuBuffer {
    fn size(&self) -> usize {
        self.size
    }

    fn addr(&self) -> u64 {
        self.ptr.as_ptr().expose_provenance() as u64
    }

    fn copy_in(&self, offset: usize, data: &[u8]) -> Result<()> {
        self.check(offset, data.len())?;
        let _guard = self.lock.write();
        // SAFETY: in bounds (checked), `data` cannot overlap memory we own exclusively, and
        // the write lock excludes other copies.
        unsafe {
            std::ptr::copy_nonoverlapping(data.as_ptr(), self.ptr.as_ptr().add(offset), data.len());
        }
        Ok(())
    }

    fn copy_out(&self, offset: usize, out: &mut [u8]) -> Result<()> {
        self.check(offset, out.len())?;
        let _guard = self.lock.read();
        // SAFETY: in bounds (checked); the read lock excludes concurrent `copy_in`.
        unsafe {
            std::ptr::copy_nonoverlapping(
                self.ptr.as_ptr().add(offset),
                out.as_mut_ptr(),
                out.len(),
            );
        }
        Ok(())
    }
}
