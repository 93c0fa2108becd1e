//! `JitProgram`: a kernel linked into executable memory by the JIT, launched through the
//! CPU runtime's thread pool exactly as a C kernel is: one call per `core_id`, no
//! workgroups, no scalar arguments, and the pool's clock as the kernel's time when a
//! launch waits.

use std::sync::Arc;
use std::time::Duration;

use device::{Buffer, DeviceError, LaunchDims, Program, Result};
use runtime_cpu::{KernelFn, ThreadPool, launch_on_pool};

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
    /// finished, with the time the pool measured when `wait` asks for it (as a C kernel:
    /// `runtime_cpu::launch_on_pool`). Other dims and any `vals` are errors.
    unsafe fn launch(
        &self,
        buffers: &[&Buffer],
        dims: &LaunchDims,
        vals: &[i64],
        wait: bool,
    ) -> Result<Option<Duration>> {
        // SAFETY: the caller's contract; `kernel` has the kernel signature (`new`).
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
