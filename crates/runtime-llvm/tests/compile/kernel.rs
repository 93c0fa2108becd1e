//! Builds kernels for the shared compile tests with LLVM: rendered by `LlvmRenderer`
//! (this CPU's vectors and FMA), compiled for the host, linked into executable memory,
//! and run once per `core_id` on the calling thread.

use std::ffi::c_void;

use renderer::{LinearProgram, Renderer};
use renderer_llvm::LlvmRenderer;
use renderer_llvm::compile::{Compiler, Machine};
use runtime_cpu::KernelFn;
use runtime_llvm::link::Plan;
use runtime_llvm::memory::{ExecutableMemory, libc_symbol};

use crate::run::Buf;

/// Never skips: LLVM is built into this test (the name is the shared tests').
pub fn skip_without_cc() -> bool {
    false
}

/// A compiled kernel.
pub struct Kernel {
    kernel: KernelFn,
    threads: usize,
    /// Holds the code `kernel` points into.
    _memory: ExecutableMemory,
}

impl Kernel {
    /// Renders, compiles and links `program`.
    pub fn build(program: &LinearProgram) -> Kernel {
        let source = LlvmRenderer::new()
            .render(program)
            .unwrap_or_else(|e| panic!("{e}"));
        let object = Compiler::new(Machine::host())
            .object(&source.function, &source.code)
            .unwrap_or_else(|e| panic!("{e}\n{}", source.code));
        let plan = Plan::of(&object).unwrap_or_else(|e| panic!("{e}"));
        let entry = plan
            .function(&source.function)
            .unwrap_or_else(|e| panic!("{e}"));
        let memory = ExecutableMemory::new(plan.size(), |base| plan.image(base, libc_symbol))
            .unwrap_or_else(|e| panic!("{e}"));
        // SAFETY: the renderer defines the kernel with the kernel signature, and the
        // linker placed it at `entry`; the memory lives in the `Kernel`.
        let kernel = unsafe { memory.kernel(entry) }.unwrap_or_else(|e| panic!("{e}"));
        Kernel {
            kernel,
            threads: program.dims.global[0] as usize,
            _memory: memory,
        }
    }

    /// Runs every thread of the kernel on `bufs` (slot order).
    pub fn run(&self, bufs: &mut [&mut Buf]) {
        let ptrs: Vec<*mut c_void> = bufs.iter_mut().map(|b| b.as_mut_ptr()).collect();
        for core in 0..self.threads {
            // SAFETY: every buffer is as large as the test's program indexes.
            unsafe { (self.kernel)(ptrs.as_ptr(), core as i32) };
        }
    }
}
