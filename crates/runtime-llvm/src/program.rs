//! `JitProgram`: a kernel linked into executable memory by the JIT, launched through the
//! CPU runtime's thread pool exactly as a C kernel is: one call per `core_id`, no
//! workgroups, no scalar arguments, and the pool's clock as the kernel's time.

use std::ffi::c_void;
use std::sync::Arc;
use std::time::Duration;

use device::{Buffer, DeviceError, LaunchDims, Program, Result};
use runtime_cpu::{KernelFn, ThreadPool};

use crate::memory::ExecutableMemory;

/// A compiled kernel `void NAME(void* const* bufs, int core_id)` in JIT memory.
#[derive(Debug)]
pub struct JitProgram {
    name: String,
    kernel: KernelFn,
    pool: Arc<ThreadPool>,
    /// Holds the code `kernel` points into; dropped last.
    _memory: ExecutableMemory,
}

impl JitProgram {
    /// The kernel `name` starting `offset` bytes into `memory`.
    ///
    /// # Safety
    /// A function with the kernel signature must start at `offset` of `memory`.
    pub unsafe fn new(
        name: &str,
        memory: ExecutableMemory,
        offset: usize,
        pool: Arc<ThreadPool>,
    ) -> Result<JitProgram> {
        // SAFETY: the caller's contract; `memory` is kept alive in the program.
        let kernel = unsafe { memory.kernel(offset) }.map_err(|log| DeviceError::Compile {
            function: name.to_string(),
            log,
        })?;
        Ok(JitProgram {
            name: name.to_string(),
            kernel,
            pool,
            _memory: memory,
        })
    }
}

impl Program for JitProgram {
    fn name(&self) -> &str {
        &self.name
    }

    /// Runs `dims.global[0]` threads (`core_id` 0..) on the pool and returns when all have
    /// finished, with the time the pool measured. Other dims and any `vals` are errors.
    unsafe fn launch(
        &self,
        buffers: &[&Buffer],
        dims: &LaunchDims,
        vals: &[i64],
        _wait: bool,
    ) -> Result<Option<Duration>> {
        let fail = |why: String| DeviceError::Launch {
            function: self.name.clone(),
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
        let args: Vec<*mut c_void> = buffers
            .iter()
            .map(|b| std::ptr::with_exposed_provenance_mut(b.addr() as usize))
            .collect();
        // SAFETY: the caller guarantees the buffers fit the kernel and are not in use; the
        // kernel's core_ids write disjoint data by construction.
        let took = unsafe { self.pool.run(self.kernel, &args, threads as usize) };
        Ok(Some(took))
    }
}
