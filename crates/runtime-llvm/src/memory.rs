//! The one unsafe layer of the JIT: executable memory. `ExecutableMemory::new` maps
//! fresh pages read-write, lets safe code compute the image for their address, copies it
//! in, and makes the pages read-execute (never writable and executable at once); they are
//! unmapped when it is dropped. `kernel` turns an offset into a function pointer, which
//! is unsafe: only the linker knows a kernel starts there. `libc_symbol` gives the
//! addresses of the C library functions compiled kernels may call.

use std::ffi::c_void;
use std::ptr::NonNull;

use runtime_cpu::KernelFn;

use crate::link::LinkError;

const PROT_READ: i32 = 1;
const PROT_WRITE: i32 = 2;
const PROT_EXEC: i32 = 4;
const MAP_PRIVATE: i32 = 0x02;
const MAP_ANONYMOUS: i32 = 0x20;

unsafe extern "C" {
    fn mmap(addr: *mut c_void, len: usize, prot: i32, flags: i32, fd: i32, off: i64)
    -> *mut c_void;
    fn mprotect(addr: *mut c_void, len: usize, prot: i32) -> i32;
    fn munmap(addr: *mut c_void, len: usize) -> i32;
}

/// Pages holding one linked image, read-execute once built.
#[derive(Debug)]
pub struct ExecutableMemory {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the pages are immutable after `new` returns (read-execute); sharing or sending
// the handle shares only that read-only memory, and only `drop` unmaps it.
unsafe impl Send for ExecutableMemory {}
// SAFETY: as above: no method mutates the pages.
unsafe impl Sync for ExecutableMemory {}

impl ExecutableMemory {
    /// Maps `len` bytes, fills them with `image(base)` (which must return `len` bytes for
    /// the base address it is given) and makes them executable.
    pub fn new(
        len: usize,
        image: impl FnOnce(u64) -> Result<Vec<u8>, LinkError>,
    ) -> Result<ExecutableMemory, String> {
        let len = len.max(1);
        // SAFETY: an anonymous private mapping at an address the kernel picks touches no
        // existing memory.
        let raw = unsafe {
            mmap(
                std::ptr::null_mut(),
                len,
                PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if raw as isize == -1 || raw.is_null() {
            return Err(format!(
                "mmap of {len} bytes failed: {}",
                std::io::Error::last_os_error()
            ));
        }
        let ptr = NonNull::new(raw.cast::<u8>()).ok_or("mmap returned null")?;
        let memory = ExecutableMemory { ptr, len };
        let bytes = image(memory.base()).map_err(|e| e.to_string())?;
        if bytes.len() != len {
            return Err(format!("the image has {} bytes, not {len}", bytes.len()));
        }
        // SAFETY: the mapping is `len` bytes, writable, and ours alone.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr.as_ptr(), len) };
        // SAFETY: the range is exactly our mapping.
        if unsafe { mprotect(raw, len, PROT_READ | PROT_EXEC) } != 0 {
            return Err(format!(
                "mprotect to read-execute failed: {}",
                std::io::Error::last_os_error()
            ));
        }
        Ok(memory)
    }

    /// The address of the first byte.
    pub fn base(&self) -> u64 {
        self.ptr.as_ptr() as u64
    }

    /// The kernel whose code starts `offset` bytes into the image.
    ///
    /// # Safety
    /// A function with the kernel signature `void(void* const* bufs, int core_id)`
    /// must start at `offset`, and the returned pointer must not be called after `self`
    /// is dropped.
    pub unsafe fn kernel(&self, offset: usize) -> Result<KernelFn, String> {
        if offset >= self.len {
            return Err(format!(
                "offset {offset} is past the image ({} bytes)",
                self.len
            ));
        }
        // SAFETY: in bounds of our mapping (checked above).
        let entry = unsafe { self.ptr.as_ptr().add(offset) };
        // SAFETY: the caller guarantees a function of this type starts there.
        Ok(unsafe { std::mem::transmute::<*mut u8, KernelFn>(entry) })
    }
}

impl Drop for ExecutableMemory {
    fn drop(&mut self) {
        // SAFETY: the mapping is ours and, by `kernel`'s contract, no longer called.
        unsafe { munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

mod libc_fns {
    unsafe extern "C" {
        pub fn sinf(x: f32) -> f32;
        pub fn sin(x: f64) -> f64;
        pub fn log2f(x: f32) -> f32;
        pub fn log2(x: f64) -> f64;
        pub fn exp2f(x: f32) -> f32;
        pub fn exp2(x: f64) -> f64;
        pub fn powf(x: f32, y: f32) -> f32;
        pub fn pow(x: f64, y: f64) -> f64;
        pub fn fmaf(x: f32, y: f32, z: f32) -> f32;
        pub fn fma(x: f64, y: f64, z: f64) -> f64;
        pub fn truncf(x: f32) -> f32;
        pub fn trunc(x: f64) -> f64;
        pub fn floorf(x: f32) -> f32;
        pub fn floor(x: f64) -> f64;
        pub fn sqrtf(x: f32) -> f32;
        pub fn sqrt(x: f64) -> f64;
        pub fn memset(d: *mut u8, c: i32, n: usize) -> *mut u8;
        pub fn memcpy(d: *mut u8, s: *const u8, n: usize) -> *mut u8;
        pub fn memmove(d: *mut u8, s: *const u8, n: usize) -> *mut u8;
    }
}

/// The address of the C library function `name` that compiled kernels may call: the math
/// functions behind LLVM's intrinsics (the same ones the C backend calls) and the memory
/// functions its loop idioms become. `None` for anything else.
pub fn libc_symbol(name: &str) -> Option<u64> {
    use libc_fns::*;
    let addr = match name {
        "sinf" => sinf as *const () as usize,
        "sin" => sin as *const () as usize,
        "log2f" => log2f as *const () as usize,
        "log2" => log2 as *const () as usize,
        "exp2f" => exp2f as *const () as usize,
        "exp2" => exp2 as *const () as usize,
        "powf" => powf as *const () as usize,
        "pow" => pow as *const () as usize,
        "fmaf" => fmaf as *const () as usize,
        "fma" => fma as *const () as usize,
        "truncf" => truncf as *const () as usize,
        "trunc" => trunc as *const () as usize,
        "floorf" => floorf as *const () as usize,
        "floor" => floor as *const () as usize,
        "sqrtf" => sqrtf as *const () as usize,
        "sqrt" => sqrt as *const () as usize,
        "memset" => memset as *const () as usize,
        "memcpy" => memcpy as *const () as usize,
        "memmove" => memmove as *const () as usize,
        _ => return None,
    };
    Some(addr as u64)
}
