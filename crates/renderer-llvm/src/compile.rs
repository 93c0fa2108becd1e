//! Compiling rendered IR with LLVM 19 through inkwell (feature `llvm`): parse the text,
//! verify the module, optimize it with the new pass manager (`default<O3>` unless told
//! otherwise; SLP vectorization on, the loop vectorizer and unroller off unless
//! `loop_passes`) for a target machine, and emit a relocatable object file. The object
//! is the end of this crate's work: loading it into memory (the CPU JIT) or linking it
//! into a GPU code object belongs to the runtime or to the GPU renderer. Every call
//! builds its own LLVM context (and each thread keeps its own target machine), so kernels
//! compile in parallel.

use std::cell::RefCell;
use std::sync::Once;

use inkwell::OptimizationLevel;
use inkwell::context::Context;
use inkwell::memory_buffer::MemoryBuffer;
use inkwell::module::Module;
use inkwell::passes::PassBuilderOptions;
use inkwell::targets::{
    CodeModel, FileType, InitializationConfig, RelocMode, Target, TargetMachine, TargetTriple,
};
use thiserror::Error;

/// What went wrong compiling a kernel's IR; each names the kernel.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LlvmError {
    #[error("LLVM cannot parse the IR of {kernel}: {log}")]
    Parse { kernel: String, log: String },
    #[error("the IR of {kernel} is invalid: {log}")]
    Verify { kernel: String, log: String },
    #[error("LLVM has no target {triple} (cpu {cpu:?}) for {kernel}: {log}")]
    Target {
        kernel: String,
        triple: String,
        cpu: String,
        log: String,
    },
    #[error("the passes {passes:?} failed on {kernel}: {log}")]
    Passes {
        kernel: String,
        passes: String,
        log: String,
    },
    #[error("LLVM could not emit an object for {kernel}: {log}")]
    Codegen { kernel: String, log: String },
}

/// The machine code is made for: an LLVM triple, a CPU and its feature string.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Machine {
    pub triple: String,
    pub cpu: String,
    pub features: String,
}

impl Machine {
    /// The host: its triple, CPU name and every feature it has (as `-march=native`).
    pub fn host() -> Machine {
        init_targets();
        Machine {
            triple: TargetMachine::get_default_triple()
                .as_str()
                .to_string_lossy()
                .into_owned(),
            cpu: TargetMachine::get_host_cpu_name().to_string(),
            features: TargetMachine::get_host_cpu_features().to_string(),
        }
    }
}

/// Registers the x86 and AMDGPU targets with LLVM, once per process.
fn init_targets() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let config = InitializationConfig::default();
        Target::initialize_x86(&config);
        Target::initialize_amd_gpu(&config);
    });
}

/// Compiles IR for one machine (see the module doc).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compiler {
    pub machine: Machine,
    /// The new pass manager's pipeline, e.g. `default<O3>`.
    pub passes: String,
    /// Whether LLVM's loop vectorizer and loop unroller run. Off by default: kernels
    /// arrive vectorized and unrolled by the linearizer's opts, and re-vectorizing and
    /// unrolling them made compiles slower with no faster kernels (docs/perf.md); the
    /// C backend likewise compiles with `-fno-tree-loop-vectorize`.
    pub loop_passes: bool,
}

impl Compiler {
    /// A compiler for `machine` with the `default<O3>` pipeline, SLP vectorization on,
    /// the loop vectorizer and unroller off.
    pub fn new(machine: Machine) -> Compiler {
        Compiler {
            machine,
            passes: "default<O3>".into(),
            loop_passes: false,
        }
    }

    /// The relocatable object of the IR `ir` of kernel `kernel`, position independent.
    pub fn object(&self, kernel: &str, ir: &str) -> Result<Vec<u8>, LlvmError> {
        self.emit(kernel, ir, FileType::Object)
    }

    /// The IR after the passes, as text (for tests and `DEBUG` output).
    pub fn optimized_ir(&self, kernel: &str, ir: &str) -> Result<String, LlvmError> {
        self.with_machine(kernel, |tm| {
            let context = Context::create();
            let module = self.optimized(&context, tm, kernel, ir)?;
            Ok(module.print_to_string().to_string())
        })
    }

    /// The assembly LLVM writes for the IR.
    pub fn assembly(&self, kernel: &str, ir: &str) -> Result<String, LlvmError> {
        let bytes = self.emit(kernel, ir, FileType::Assembly)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The optimized IR written out as `kind`.
    fn emit(&self, kernel: &str, ir: &str, kind: FileType) -> Result<Vec<u8>, LlvmError> {
        self.with_machine(kernel, |tm| {
            let context = Context::create();
            let module = self.optimized(&context, tm, kernel, ir)?;
            let buffer =
                tm.write_to_memory_buffer(&module, kind)
                    .map_err(|e| LlvmError::Codegen {
                        kernel: kernel.into(),
                        log: e.to_string(),
                    })?;
            Ok(buffer.as_slice().to_vec())
        })
    }

    /// The parsed, verified and optimized module.
    fn optimized<'c>(
        &self,
        context: &'c Context,
        tm: &TargetMachine,
        kernel: &str,
        ir: &str,
    ) -> Result<Module<'c>, LlvmError> {
        let module = parse(context, kernel, ir)?;
        module.set_triple(&tm.get_triple());
        module.set_data_layout(&tm.get_target_data().get_data_layout());
        module.verify().map_err(|e| LlvmError::Verify {
            kernel: kernel.into(),
            log: e.to_string(),
        })?;
        let options = PassBuilderOptions::create();
        options.set_loop_vectorization(self.loop_passes);
        options.set_loop_interleaving(self.loop_passes);
        options.set_loop_unrolling(self.loop_passes);
        options.set_loop_slp_vectorization(true);
        module
            .run_passes(&self.passes, tm, options)
            .map_err(|e| LlvmError::Passes {
                kernel: kernel.into(),
                passes: self.passes.clone(),
                log: e.to_string(),
            })?;
        Ok(module)
    }

    /// Runs `f` with this thread's target machine for `self.machine`, made on first use:
    /// making one (and parsing the host's feature string) costs about a millisecond, so
    /// each compiling thread keeps its own.
    fn with_machine<R>(
        &self,
        kernel: &str,
        f: impl FnOnce(&TargetMachine) -> Result<R, LlvmError>,
    ) -> Result<R, LlvmError> {
        thread_local! {
            static MACHINES: RefCell<Vec<(Machine, TargetMachine)>> = const { RefCell::new(Vec::new()) };
        }
        MACHINES.with(|cell| {
            let mut machines = cell.borrow_mut();
            let at = match machines.iter().position(|(m, _)| *m == self.machine) {
                Some(at) => at,
                None => {
                    machines.push((self.machine.clone(), self.target_machine(kernel)?));
                    machines.len() - 1
                }
            };
            f(&machines[at].1)
        })
    }

    fn target_machine(&self, kernel: &str) -> Result<TargetMachine, LlvmError> {
        init_targets();
        let m = &self.machine;
        let fail = |log: String| LlvmError::Target {
            kernel: kernel.into(),
            triple: m.triple.clone(),
            cpu: m.cpu.clone(),
            log,
        };
        let triple = TargetTriple::create(&m.triple);
        let target = Target::from_triple(&triple).map_err(|e| fail(e.to_string()))?;
        target
            .create_target_machine(
                &triple,
                &m.cpu,
                &m.features,
                OptimizationLevel::Aggressive,
                RelocMode::PIC,
                CodeModel::Small,
            )
            .ok_or_else(|| fail("LLVM made no target machine for it".into()))
    }
}

/// Parses IR text into a module of `context`.
pub fn parse<'c>(context: &'c Context, kernel: &str, ir: &str) -> Result<Module<'c>, LlvmError> {
    let buffer = MemoryBuffer::create_from_memory_range_copy(ir.as_bytes(), kernel);
    context
        .create_module_from_ir(buffer)
        .map_err(|e| LlvmError::Parse {
            kernel: kernel.into(),
            log: e.to_string(),
        })
}

/// Whether the IR text parses and verifies (with no target): the check the renderer's
/// own tests run on every rendered program.
pub fn verify(kernel: &str, ir: &str) -> Result<(), LlvmError> {
    let context = Context::create();
    let module = parse(&context, kernel, ir)?;
    module.verify().map_err(|e| LlvmError::Verify {
        kernel: kernel.into(),
        log: e.to_string(),
    })
}
