//! The one unsafe layer of the AMD runtime: the KFD and DRM file descriptors, `ioctl`,
//! `mmap`, and the queue memory the GPU shares (ring, pointers, doorbell) as raw
//! pointers. Everything above it (packets, rings, topology) is safe code.
//!
//! `Kfd::ioctl` takes only the argument structs of `ioctl.rs` (sealed `IoctlArgs`), each
//! with the number built from its own size, so a call can never pass the kernel a
//! struct of the wrong size. Mappings unmap themselves on drop.

use std::ffi::{CString, c_void};
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use super::ioctl::*;
use crate::{AmdError, Result};

const PROT_READ: i32 = 1;
const PROT_WRITE: i32 = 2;
const MAP_SHARED: i32 = 0x01;
const MAP_PRIVATE: i32 = 0x02;
const MAP_FIXED: i32 = 0x10;
const MAP_ANONYMOUS: i32 = 0x20;
const MAP_NORESERVE: i32 = 0x4000;
const O_RDWR: i32 = 2;
const O_CLOEXEC: i32 = 0o2_000_000;

unsafe extern "C" {
    fn ioctl(fd: i32, request: std::ffi::c_ulong, ...) -> i32;
    fn mmap(addr: *mut c_void, len: usize, prot: i32, flags: i32, fd: i32, off: i64)
    -> *mut c_void;
    fn munmap(addr: *mut c_void, len: usize) -> i32;
    fn open(path: *const std::ffi::c_char, flags: i32, ...) -> i32;
}

mod sealed {
    pub trait Sealed {}
}

/// An ioctl argument struct of `ioctl.rs`, with its number.
pub trait IoctlArgs: sealed::Sealed {
    const NAME: &'static str;
}

macro_rules! ioctl_args {
    ($($ty:ty => $name:literal),* $(,)?) => {
        $(impl sealed::Sealed for $ty {}
          impl IoctlArgs for $ty { const NAME: &'static str = $name; })*
    };
}

ioctl_args! {
    GetVersion => "AMDKFD_IOC_GET_VERSION",
    CreateQueue => "AMDKFD_IOC_CREATE_QUEUE",
    DestroyQueue => "AMDKFD_IOC_DESTROY_QUEUE",
    GetClockCounters => "AMDKFD_IOC_GET_CLOCK_COUNTERS",
    CreateEvent => "AMDKFD_IOC_CREATE_EVENT",
    EventId => "AMDKFD_IOC_*_EVENT",
    WaitEvents => "AMDKFD_IOC_WAIT_EVENTS",
    AcquireVm => "AMDKFD_IOC_ACQUIRE_VM",
    AllocMemory => "AMDKFD_IOC_ALLOC_MEMORY_OF_GPU",
    FreeMemory => "AMDKFD_IOC_FREE_MEMORY_OF_GPU",
    MapMemory => "AMDKFD_IOC_(UN)MAP_MEMORY_(TO|FROM)_GPU",
    GetProcessAperturesNew => "AMDKFD_IOC_GET_PROCESS_APERTURES_NEW",
    RuntimeEnable => "AMDKFD_IOC_RUNTIME_ENABLE",
    AvailableMemory => "AMDKFD_IOC_AVAILABLE_MEMORY",
}

/// An open device file (`/dev/kfd` or a DRM render node).
#[derive(Debug)]
pub struct DeviceFile {
    file: File,
    path: String,
}

impl DeviceFile {
    /// Opens `path` read-write; a missing file is `AmdError::NoGpu`.
    pub fn open(path: &Path) -> Result<DeviceFile> {
        let name = path.display().to_string();
        let c = CString::new(name.clone()).map_err(|_| AmdError::Kfd {
            call: "open",
            why: format!("{name:?} has a NUL byte"),
        })?;
        // SAFETY: a valid C string; `open` touches no memory of ours.
        let fd = unsafe { open(c.as_ptr(), O_RDWR | O_CLOEXEC) };
        if fd < 0 {
            let err = std::io::Error::last_os_error();
            return Err(if err.kind() == std::io::ErrorKind::NotFound {
                AmdError::NoGpu(format!(
                    "there is no {name}: no AMD GPU driver (amdgpu/KFD) here"
                ))
            } else {
                AmdError::Kfd {
                    call: "open",
                    why: format!("{name}: {err}"),
                }
            });
        }
        // SAFETY: `fd` was just opened and is owned by nothing else.
        let file = unsafe { <File as std::os::fd::FromRawFd>::from_raw_fd(fd) };
        Ok(DeviceFile { file, path: name })
    }

    pub fn raw_fd(&self) -> i32 {
        self.file.as_raw_fd()
    }

    /// Runs the ioctl of `T` with `args`.
    pub fn ioctl<T: IoctlArgs>(&self, number: u32, args: &mut T) -> Result<()> {
        // SAFETY: `args` is a live `#[repr(C)]` struct of the size `number` encodes (both
        // come from `ioctl.rs`); the kernel reads and writes only within it.
        let r = unsafe {
            ioctl(
                self.raw_fd(),
                std::ffi::c_ulong::from(number),
                args as *mut T,
            )
        };
        if r < 0 {
            return Err(AmdError::Kfd {
                call: T::NAME,
                why: format!("{} on {}", std::io::Error::last_os_error(), self.path),
            });
        }
        Ok(())
    }

    /// Maps `len` bytes of this file at `offset`, shared and read-write, where the
    /// kernel chooses.
    pub fn map(&self, len: usize, offset: u64) -> Result<Mapping> {
        // SAFETY: the kernel picks the address; nothing of ours is replaced.
        let p = unsafe {
            mmap(
                std::ptr::null_mut(),
                len,
                PROT_READ | PROT_WRITE,
                MAP_SHARED,
                self.raw_fd(),
                offset as i64,
            )
        };
        mapping(p, len, "mmap of a device file")
    }

    /// Maps all of `range` (a reservation of ours) to this file at `offset`, shared and
    /// read-write; the mapping takes the range over (it unmaps it when dropped).
    pub fn map_over(&self, range: Reservation, offset: u64) -> Result<Mapping> {
        let (addr, len) = (range.ptr.as_ptr(), range.len);
        // SAFETY: MAP_FIXED replaces only the pages of `range`, which this process
        // reserved for exactly this mapping and nothing else uses.
        let p = unsafe {
            mmap(
                addr.cast(),
                len,
                PROT_READ | PROT_WRITE,
                MAP_SHARED | MAP_FIXED,
                self.raw_fd(),
                offset as i64,
            )
        };
        let m = mapping(p, len, "mmap of a device file over a reservation")?;
        // the range now belongs to the mapping: the reservation must not unmap it too
        std::mem::forget(range);
        Ok(m)
    }
}

fn mapping(p: *mut c_void, len: usize, what: &str) -> Result<Mapping> {
    if p as isize == -1 {
        return Err(AmdError::Kfd {
            call: "mmap",
            why: format!("{what} of {len} bytes: {}", std::io::Error::last_os_error()),
        });
    }
    let ptr = NonNull::new(p.cast::<u8>()).ok_or_else(|| AmdError::Kfd {
        call: "mmap",
        why: "null mapping".into(),
    })?;
    Ok(Mapping { ptr, len })
}

/// A range of this process's address space reserved (not backed) for a GPU buffer, so
/// that the buffer has the same address on the CPU and the GPU.
#[derive(Debug)]
pub struct Reservation {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: a reservation is an address range with no access; the handle only unmaps it.
unsafe impl Send for Reservation {}
// SAFETY: as above: no method touches the range.
unsafe impl Sync for Reservation {}

impl Reservation {
    pub fn new(len: usize) -> Result<Reservation> {
        // SAFETY: a new private mapping with no access touches nothing existing.
        let p = unsafe {
            mmap(
                std::ptr::null_mut(),
                len,
                0,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                -1,
                0,
            )
        };
        let m = mapping(p, len, "reservation")?;
        let r = Reservation { ptr: m.ptr, len };
        std::mem::forget(m);
        Ok(r)
    }

    pub fn addr(&self) -> u64 {
        self.ptr.as_ptr() as u64
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        // SAFETY: the range is ours.
        unsafe { munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

/// Mapped memory, unmapped on drop.
#[derive(Debug)]
pub struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is plain shared memory; access goes through `copy_in`/`copy_out`
// and atomics, whose callers order them (a buffer in use by a kernel is not touched).
unsafe impl Send for Mapping {}
// SAFETY: as above.
unsafe impl Sync for Mapping {}

impl Mapping {
    pub fn addr(&self) -> u64 {
        self.ptr.as_ptr() as u64
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn check(&self, offset: usize, len: usize) -> Result<()> {
        if offset.checked_add(len).is_some_and(|end| end <= self.len) {
            Ok(())
        } else {
            Err(AmdError::Kfd {
                call: "copy",
                why: format!(
                    "{len} bytes at {offset} do not fit a mapping of {}",
                    self.len
                ),
            })
        }
    }

    /// Copies `data` in at `offset`.
    pub fn copy_in(&self, offset: usize, data: &[u8]) -> Result<()> {
        self.check(offset, data.len())?;
        // SAFETY: in bounds (checked); the caller does not let the GPU use these bytes now.
        unsafe {
            std::ptr::copy_nonoverlapping(data.as_ptr(), self.ptr.as_ptr().add(offset), data.len())
        };
        Ok(())
    }

    /// Copies out from `offset`.
    pub fn copy_out(&self, offset: usize, out: &mut [u8]) -> Result<()> {
        self.check(offset, out.len())?;
        // SAFETY: as in `copy_in`.
        unsafe {
            std::ptr::copy_nonoverlapping(
                self.ptr.as_ptr().add(offset),
                out.as_mut_ptr(),
                out.len(),
            )
        };
        Ok(())
    }

    /// The u32 at `offset` (4-byte aligned, in bounds) as an atomic.
    fn atomic_u32(&self, offset: usize) -> Option<&AtomicU32> {
        (offset.is_multiple_of(4) && self.check(offset, 4).is_ok())
            // SAFETY: aligned and in bounds; the memory lives as long as `self`.
            .then(|| unsafe { AtomicU32::from_ptr(self.ptr.as_ptr().add(offset).cast()) })
    }

    /// The u64 at `offset` (8-byte aligned, in bounds) as an atomic.
    fn atomic_u64(&self, offset: usize) -> Option<&AtomicU64> {
        (offset.is_multiple_of(8) && self.check(offset, 8).is_ok())
            // SAFETY: as in `atomic_u32`.
            .then(|| unsafe { AtomicU64::from_ptr(self.ptr.as_ptr().add(offset).cast()) })
    }

    /// Loads the u64 at `offset` (acquire); 0 when out of bounds.
    pub fn load_u64(&self, offset: usize) -> u64 {
        self.atomic_u64(offset)
            .map_or(0, |a| a.load(Ordering::Acquire))
    }

    /// Stores the u32 at `offset` (release); nothing when out of bounds.
    pub fn store_u32(&self, offset: usize, value: u32) {
        if let Some(a) = self.atomic_u32(offset) {
            a.store(value, Ordering::Release);
        }
    }

    /// Stores the u64 at `offset` (release); nothing when out of bounds.
    pub fn store_u64(&self, offset: usize, value: u64) {
        if let Some(a) = self.atomic_u64(offset) {
            a.store(value, Ordering::Release);
        }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: the mapping is ours and no longer used.
        unsafe { munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_machine_without_kfd_says_so() {
        let path = Path::new("/dev/kfd");
        match DeviceFile::open(path) {
            Ok(kfd) => {
                // an AMD machine: the version ioctl must answer
                let mut v = GetVersion::default();
                kfd.ioctl(GET_VERSION, &mut v)
                    .unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(v.major_version, 1);
            }
            Err(e) => {
                println!("no /dev/kfd here: {e}");
                assert!(
                    matches!(e, AmdError::NoGpu(_) | AmdError::Kfd { .. }),
                    "{e}"
                );
            }
        }
        let missing = DeviceFile::open(Path::new("/dev/kfd-that-does-not-exist"));
        assert!(matches!(missing, Err(AmdError::NoGpu(_))));
    }

    #[test]
    fn mappings_check_their_bounds() {
        let r = Reservation::new(4096).unwrap_or_else(|e| panic!("{e}"));
        let at = r.addr();
        assert!(at != 0);
        let dev_zero = DeviceFile::open(Path::new("/dev/zero")).unwrap_or_else(|e| panic!("{e}"));
        let m = dev_zero.map_over(r, 0).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.addr(), at, "the mapping takes the reserved range over");
        let other = dev_zero.map(4096, 0).unwrap_or_else(|e| panic!("{e}"));
        assert!(other.addr() != at);
        m.copy_in(4092, &[1, 2, 3, 4])
            .unwrap_or_else(|e| panic!("{e}"));
        let mut out = [0u8; 4];
        m.copy_out(4092, &mut out).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out, [1, 2, 3, 4]);
        assert!(m.copy_in(4093, &[0; 4]).is_err());
        m.store_u64(8, 42);
        assert_eq!(m.load_u64(8), 42);
        assert_eq!(m.load_u64(4), 0, "misaligned loads read nothing");
    }
}
