//! `LlvmCpuDevice`: the host CPU with kernels rendered as LLVM IR (`renderer-llvm`),
//! compiled in this process (parse, verify, `default<O3>`, object for the host CPU and
//! all its features) and linked into executable memory by `link`; buffers and the thread
//! pool are the CPU runtime's. No C compiler is needed at run time. Programs are kept in
//! a bounded LRU like the C device's; nothing is cached on disk (compiling is fast).

use std::sync::{Arc, OnceLock};

use device::{Buffer, Device, DeviceError, Lru, Program, Renderer, Result, Roofline, Source};
use parking_lot::Mutex;
use renderer_llvm::LlvmRenderer;
use renderer_llvm::compile::{Compiler, Machine};
use runtime_cpu::{CpuBuffer, Fnv1a128, ThreadPool};

use crate::link::Plan;
use crate::memory::{ExecutableMemory, libc_symbol};
use crate::program::JitProgram;

/// The host CPU through LLVM (see the module doc).
#[derive(Debug)]
pub struct LlvmCpuDevice {
    name: String,
    renderer: LlvmRenderer,
    compiler: Compiler,
    pool: Arc<ThreadPool>,
    programs: Mutex<Lru<u128, Arc<JitProgram>>>,
    roofline: OnceLock<Roofline>,
}

impl LlvmCpuDevice {
    /// The device `name`, rendering for this CPU (its cores, vectors and FMA) and
    /// compiling for it.
    pub fn new(name: &str) -> LlvmCpuDevice {
        LlvmCpuDevice::with_renderer(name, LlvmRenderer::new())
    }

    /// The device `name` rendering with `renderer` (tests fix its vectors).
    pub fn with_renderer(name: &str, renderer: LlvmRenderer) -> LlvmCpuDevice {
        let mut compiler = Compiler::new(Machine::host());
        compiler.loop_passes = std::env::var("FERROGRAD_LLVM_LOOP_PASSES").is_ok_and(|v| v == "1");
        LlvmCpuDevice {
            name: name.to_string(),
            renderer,
            compiler,
            pool: Arc::new(ThreadPool::for_this_machine()),
            programs: Mutex::new(Lru::new(device::program_cache_capacity())),
            roofline: OnceLock::new(),
        }
    }

    /// The compiler kernels go through (its machine and pass pipeline).
    pub fn compiler(&self) -> &Compiler {
        &self.compiler
    }

    /// How many programs the device keeps loaded now.
    pub fn loaded_programs(&self) -> usize {
        self.programs.lock().len()
    }

    /// Compiles, links and loads `source`.
    fn build(&self, source: &Source) -> Result<JitProgram> {
        let function = &source.function;
        let fail = |log: String| DeviceError::Compile {
            function: function.clone(),
            log,
        };
        let object = self
            .compiler
            .object(function, &source.code)
            .map_err(|e| fail(e.to_string()))?;
        let plan = Plan::of(&object).map_err(|e| fail(e.to_string()))?;
        let entry = plan.function(function).map_err(|e| fail(e.to_string()))?;
        let memory = ExecutableMemory::new(plan.size(), |base| plan.image(base, libc_symbol))
            .map_err(fail)?;
        // SAFETY: the linker placed `function`, which the renderer defines with the kernel
        // signature, at `entry`.
        unsafe { JitProgram::new(function, memory, entry, self.pool.clone()) }
    }
}

impl Device for LlvmCpuDevice {
    fn name(&self) -> &str {
        &self.name
    }

    fn renderer(&self) -> &dyn Renderer {
        &self.renderer
    }

    fn alloc(&self, bytes: usize) -> Result<Buffer> {
        Ok(Arc::new(CpuBuffer::new(&self.name, bytes)?))
    }

    fn compile(&self, source: &Source) -> Result<Arc<dyn Program>> {
        let mut hash = Fnv1a128::new();
        hash.write(source.function.as_bytes());
        hash.write(&[0]);
        hash.write(source.code.as_bytes());
        let key = hash.finish();
        let program = device::get_or_build(&self.programs, key, || {
            Ok::<_, DeviceError>(Arc::new(self.build(source)?))
        })?;
        Ok(program)
    }

    fn roofline(&self) -> Roofline {
        *self.roofline.get_or_init(|| {
            let bytes = self
                .renderer
                .target()
                .vector
                .as_ref()
                .map_or(4, |v| v.bytes);
            runtime_cpu::host_roofline(bytes)
        })
    }
}
