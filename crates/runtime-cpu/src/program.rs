//! `CpuProgram`: a kernel in a loaded shared object. It keeps the library open for as long
//! as the program lives, and launches through the device's `ThreadPool`.

use std::ffi::c_void;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use device::{Buffer, DeviceError, LaunchDims, Program, Result};
use libloading::Library;

use crate::pool::{KernelFn, ThreadPool};

/// Launches with at most this many buffers pass their pointers from the stack.
const INLINE_ARGS: usize = 16;

/// A compiled C kernel `void NAME(void* const* bufs, int core_id)`.
#[derive(Debug)]
pub struct CpuProgram {
    name: String,
    kernel: KernelFn,
    pool: Arc<ThreadPool>,
    /// Keeps `kernel` mapped; dropped last.
    _library: Library,
}

/// Whether `name` is a C identifier (and so a symbol we can look up as given).
pub fn is_c_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Opens the shared object at `path`.
///
/// # Safety
/// Opening a library runs its initialisers: `path` must be an object built from trusted
/// source (the renderer's output).
pub unsafe fn open_library(path: &Path, function: &str) -> Result<Library> {
    // SAFETY: the caller's contract.
    unsafe { Library::new(path) }.map_err(|e| DeviceError::Compile {
        function: function.to_string(),
        log: format!("cannot load {}: {e}", path.display()),
    })
}

impl CpuProgram {
    /// Loads `function` from the shared object at `path`.
    ///
    /// # Safety
    /// As for `open_library`; and if the library defines `function`, it must have the
    /// kernel signature `void function(void* const* bufs, int core_id)`.
    pub unsafe fn load(path: &Path, function: &str, pool: Arc<ThreadPool>) -> Result<CpuProgram> {
        // SAFETY: the caller's contract.
        let library = unsafe { open_library(path, function) }?;
        // SAFETY: the caller's contract.
        unsafe { CpuProgram::from_library(library, path, function, pool) }
    }

    /// Looks `function` up in an open `library` (loaded from `path`, named in errors).
    ///
    /// # Safety
    /// If the library defines `function`, it must have the kernel signature.
    pub unsafe fn from_library(
        library: Library,
        path: &Path,
        function: &str,
        pool: Arc<ThreadPool>,
    ) -> Result<CpuProgram> {
        let fail = |log: String| DeviceError::Compile {
            function: function.to_string(),
            log,
        };
        if !is_c_identifier(function) {
            return Err(fail(format!("{function:?} is not a C identifier")));
        }
        // SAFETY: the caller guarantees the type of the symbol.
        let kernel = match unsafe { library.get::<KernelFn>(function) } {
            Ok(symbol) => *symbol,
            Err(e) => {
                return Err(fail(format!(
                    "the compiled source defines no symbol `{function}` ({}): {e}",
                    path.display()
                )));
            }
        };
        Ok(CpuProgram {
            name: function.to_string(),
            kernel,
            pool,
            _library: library,
        })
    }
}

impl Program for CpuProgram {
    fn name(&self) -> &str {
        &self.name
    }

    /// Runs `dims.global[0]` threads (`core_id` 0..) on the pool and returns when all have
    /// finished, with the time the pool measured when `wait` asks for it (one thread runs
    /// on the caller).
    /// C kernels have no workgroups and no scalar arguments: other dims and any `vals`
    /// are an error.
    unsafe fn launch(
        &self,
        buffers: &[&Buffer],
        dims: &LaunchDims,
        vals: &[i64],
        wait: bool,
    ) -> Result<Option<Duration>> {
        // SAFETY: the caller's contract.
        unsafe {
            launch_on_pool(
                &self.name,
                &self.pool,
                self.kernel,
                buffers,
                dims,
                vals,
                wait,
            )
        }
    }
}

/// Launches `kernel` (named `name` in errors) as a CPU program does: `dims.global[0]`
/// threads (`core_id` 0..) on `pool`, returning when all have finished, with the time the
/// pool measured when `wait` asks for it (one thread runs on the caller). Up to
/// `INLINE_ARGS` buffer pointers are passed from the stack. Other dims and any `vals` are
/// an error: CPU kernels have no workgroups and no scalar arguments. Every CPU device
/// (C or LLVM) launches through here.
///
/// # Safety
/// `kernel` must have the kernel signature `void NAME(void* const* bufs, int core_id)`,
/// and `buffers` must fit it and not be in use.
pub unsafe fn launch_on_pool(
    name: &str,
    pool: &ThreadPool,
    kernel: KernelFn,
    buffers: &[&Buffer],
    dims: &LaunchDims,
    vals: &[i64],
    wait: bool,
) -> Result<Option<Duration>> {
    let fail = |why: String| DeviceError::Launch {
        function: name.to_string(),
        why,
    };
    let threads = dims.global[0];
    if threads == 0 || i32::try_from(threads).is_err() {
        return Err(fail(format!(
            "threads must be in 1..={}, not {threads}",
            i32::MAX
        )));
    }
    if dims.global[1..] != [1, 1] || dims.local != [1, 1, 1] {
        return Err(fail(format!(
            "a CPU launch is threads along one dimension with no workgroups, not {dims:?}"
        )));
    }
    if !vals.is_empty() {
        return Err(fail(format!(
            "CPU kernels take no scalar arguments, but {} values were given",
            vals.len()
        )));
    }
    let pointer = |b: &&Buffer| std::ptr::with_exposed_provenance_mut(b.addr() as usize);
    let mut inline = [std::ptr::null_mut::<c_void>(); INLINE_ARGS];
    let spilled: Vec<*mut c_void>;
    let args: &[*mut c_void] = if buffers.len() <= INLINE_ARGS {
        for (slot, b) in inline.iter_mut().zip(buffers) {
            *slot = pointer(b);
        }
        &inline[..buffers.len()]
    } else {
        spilled = buffers.iter().map(pointer).collect();
        &spilled
    };
    // SAFETY: the caller guarantees the buffers fit the kernel and are not in use; the
    // kernel's core_ids write disjoint data by construction.
    unsafe {
        if wait {
            Ok(Some(pool.run(kernel, args, threads as usize)))
        } else {
            pool.run_untimed(kernel, args, threads as usize);
            Ok(None)
        }
    }
}
