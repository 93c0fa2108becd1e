//! `CpuBuffer`: host memory aligned to 64 bytes (a cache line, and the widest vector load),
//! zero-initialised. Its `addr()` is the host pointer that kernels receive.
//!
//! Buffers of `HUGE_MIN` bytes or more are aligned to 2 MiB and, on Linux, advised into
//! transparent huge pages before they are zeroed (numpy does the same): where the kernel
//! grants huge pages only on request (`madvise` mode), a 16 MiB buffer otherwise takes
//! 4,096 small pages, and kernels that sweep it ran up to 2x slower from run to run.

use std::alloc::{self, Layout};
use std::ptr::NonNull;

use device::{DeviceError, RawBuffer, Result};
use parking_lot::RwLock;

/// The alignment of every buffer, in bytes.
pub const ALIGN: usize = 64;

/// Buffers of at least this many bytes are asked for huge pages.
pub const HUGE_MIN: usize = 4 << 20;
/// The size (and alignment) of a huge page.
const HUGE_PAGE: usize = 2 << 20;

/// The alignment of a buffer of `bytes`.
fn align_of(bytes: usize) -> usize {
    if bytes >= HUGE_MIN { HUGE_PAGE } else { ALIGN }
}

/// Asks the kernel to back `len` bytes at `ptr` (2 MiB aligned) with huge pages; advice
/// only, so a refusal changes nothing.
#[cfg(target_os = "linux")]
fn advise_huge_pages(ptr: *mut u8, len: usize) {
    const MADV_HUGEPAGE: i32 = 14;
    unsafe extern "C" {
        fn madvise(addr: *mut std::ffi::c_void, len: usize, advice: i32) -> i32;
    }
    // SAFETY: the range lies inside one allocation of ours; madvise only changes how the
    // kernel backs those pages, not their contents or mapping.
    unsafe { madvise(ptr.cast(), len - len % HUGE_PAGE, MADV_HUGEPAGE) };
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_: *mut u8, _: usize) {}

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
        let layout =
            Layout::from_size_align(bytes, align_of(bytes)).map_err(|e| oom(e.to_string()))?;
        let ptr = if bytes >= HUGE_MIN {
            // SAFETY: `layout` has a non-zero size.
            let ptr = unsafe { alloc::alloc(layout) };
            if !ptr.is_null() {
                advise_huge_pages(ptr, bytes);
                // SAFETY: `ptr` points to `bytes` writable bytes just allocated.
                unsafe { std::ptr::write_bytes(ptr, 0, bytes) };
            }
            ptr
        } else {
            // SAFETY: `layout` has a non-zero size.
            unsafe { alloc::alloc_zeroed(layout) }
        };
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
            // SAFETY: allocated in `new` with exactly this layout (the size and its
            // alignment were valid there).
            unsafe {
                alloc::dealloc(
                    self.ptr.as_ptr(),
                    Layout::from_size_align_unchecked(self.size, align_of(self.size)),
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
