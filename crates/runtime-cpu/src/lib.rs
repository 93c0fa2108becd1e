//! The CPU runtime: buffers in host memory (`CpuBuffer`), kernels rendered as C, compiled by
//! the system C compiler into shared objects (`CCompiler`, cached on disk by `cache`),
//! loaded with `libloading` (`CpuProgram`) and run on a persistent `ThreadPool`, one call per
//! `core_id`.
//!
//! `CpuDevice` takes its renderer as a `Box<dyn Renderer>`; the `ferrograd` facade supplies
//! the C renderer and registers the device:
//! `device::register("CPU", |name| Ok(Arc::new(CpuDevice::new(name, Box::new(CRenderer::new())))))`.
//!
//! Loaded programs are kept in a bounded LRU (`FERROGRAD_PROGRAM_CACHE` entries, see
//! [`device::program_cache_capacity`]): an evicted program's library is unloaded once the
//! last `Arc` to it (e.g. one held by a running launch) is dropped, and compiling it again
//! loads it again from the disk cache.
//!
//! Environment: `FERROGRAD_CC`, `FERROGRAD_CFLAGS` (see `compiler`), `FERROGRAD_CACHE`,
//! `DISABLE_COMPILER_CACHE` (see `cache`), `FERROGRAD_PROGRAM_CACHE`,
//! `FERROGRAD_CPU_GFLOPS`, `FERROGRAD_CPU_GBS` (see `roofline.rs`).

mod buffer;
mod cache;
mod compiler;
mod pool;
mod program;
mod roofline;

use std::sync::{Arc, OnceLock};

use device::{Buffer, Device, DeviceError, Lru, Program, Renderer, Result, Roofline, Source};
use parking_lot::Mutex;

pub use buffer::{ALIGN, CpuBuffer};
pub use cache::{DiskCache, Fnv1a128};
pub use compiler::{CCompiler, DEFAULT_CFLAGS, SharedObject};
pub use pool::{KernelFn, ThreadPool};
pub use program::{CpuProgram, is_c_identifier, launch_on_pool};

/// The host CPU as a ferrograd device.
#[derive(Debug)]
pub struct CpuDevice {
    name: String,
    renderer: Box<dyn Renderer>,
    compiler: CCompiler,
    pool: Arc<ThreadPool>,
    /// Programs by (function, code), so that a kernel in use is compiled and loaded once.
    programs: Mutex<Lru<u128, Arc<CpuProgram>>>,
    /// Made on first use (measuring bandwidth takes a few tens of milliseconds).
    roofline: OnceLock<Roofline>,
}

impl CpuDevice {
    /// The device `name` rendering with `renderer`, compiling as the environment says.
    pub fn new(name: &str, renderer: Box<dyn Renderer>) -> CpuDevice {
        CpuDevice::with_compiler(name, renderer, CCompiler::from_env())
    }

    /// The device `name` rendering with `renderer` and compiling with `compiler`, keeping
    /// [`device::program_cache_capacity`] programs loaded.
    pub fn with_compiler(
        name: &str,
        renderer: Box<dyn Renderer>,
        compiler: CCompiler,
    ) -> CpuDevice {
        CpuDevice {
            name: name.to_string(),
            renderer,
            compiler,
            pool: Arc::new(ThreadPool::for_this_machine()),
            programs: Mutex::new(Lru::new(device::program_cache_capacity())),
            roofline: OnceLock::new(),
        }
    }

    /// This device keeping at most `capacity` programs loaded (at least one).
    pub fn with_program_cache(self, capacity: usize) -> CpuDevice {
        CpuDevice {
            programs: Mutex::new(Lru::new(capacity)),
            ..self
        }
    }

    pub fn compiler(&self) -> &CCompiler {
        &self.compiler
    }

    /// How many programs the device keeps loaded now (programs evicted but still held
    /// elsewhere are not counted).
    pub fn loaded_programs(&self) -> usize {
        self.programs.lock().len()
    }

    /// How many programs have been evicted from the device's cache.
    pub fn evicted_programs(&self) -> u64 {
        self.programs.lock().evictions()
    }

    /// Compiles `source` and loads it, rebuilding once if a cached object does not load
    /// (e.g. one built on another machine sharing the cache directory).
    fn build(&self, source: &Source) -> Result<CpuProgram> {
        let function = &source.function;
        if !is_c_identifier(function) {
            return Err(DeviceError::Compile {
                function: function.clone(),
                log: format!("{function:?} is not a C identifier"),
            });
        }
        let mut object = self.compiler.compile(source)?;
        // SAFETY: the code comes from our renderer (or a caller of `Device::compile`, who
        // vouches for it like for any source handed to a compiler); running its
        // initialisers is what compiling and loading it means.
        let library = match unsafe { program::open_library(object.path(), function) } {
            Err(_) if object.is_cached() => {
                self.compiler.evict(&source.code);
                object = self.compiler.compile(source)?;
                // SAFETY: as above.
                unsafe { program::open_library(object.path(), function) }?
            }
            other => other?,
        };
        // SAFETY: kernels are rendered with the `KernelFn` signature.
        unsafe { CpuProgram::from_library(library, object.path(), function, self.pool.clone()) }
    }
}

impl Device for CpuDevice {
    fn name(&self) -> &str {
        &self.name
    }

    fn renderer(&self) -> &dyn Renderer {
        &*self.renderer
    }

    fn alloc(&self, bytes: usize) -> Result<Buffer> {
        Ok(Arc::new(CpuBuffer::new(&self.name, bytes)?))
    }

    fn compile(&self, source: &Source) -> Result<Arc<dyn Program>> {
        let key = cache::key(&[source.function.as_bytes(), source.code.as_bytes()]);
        // built without the lock (kernels compile in parallel), unloaded on eviction
        // unless a launch or a caller still holds it
        let program = device::get_or_build(&self.programs, key, || {
            Ok::<_, DeviceError>(Arc::new(self.build(source)?))
        })?;
        Ok(program)
    }

    /// This CPU's peaks (see `roofline.rs`), computed and measured on the first call.
    fn roofline(&self) -> Roofline {
        *self.roofline.get_or_init(|| {
            let vector_bytes = self
                .renderer
                .target()
                .vector
                .as_ref()
                .map_or(4, |v| v.bytes);
            host_roofline(vector_bytes)
        })
    }
}

/// The peaks of this host for kernels with vectors of `vector_bytes` (see `roofline.rs`),
/// computed and measured on each call: every CPU device (C or LLVM) keeps its own.
pub fn host_roofline(vector_bytes: usize) -> Roofline {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    roofline::roofline_from(
        |k| std::env::var(k).ok(),
        || roofline::peak_gflops(cores, roofline::clock_ghz(), vector_bytes),
        || roofline::measure_gbs(cores),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_identifiers() {
        for ok in ["add1", "_k", "E_4_4n1"] {
            assert!(is_c_identifier(ok), "{ok}");
        }
        for bad in ["", "1add", "a-b", "a b", "a\0b", "ä"] {
            assert!(!is_c_identifier(bad), "{bad:?}");
        }
    }
}
