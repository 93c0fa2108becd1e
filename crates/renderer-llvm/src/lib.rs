//! The LLVM IR renderer: a `LinearProgram` becomes a textual LLVM IR module, for the host
//! CPU (`LlvmRenderer`, the `CPU:LLVM` device) or any other `Flavor` (the AMD GPU's lives
//! in `renderer-amd`). Textual IR needs no LLVM to write, so rendering and its snapshots
//! work in every build; compiling it (`compile`, feature `llvm`) parses, verifies and
//! optimizes it with LLVM 19's new pass manager and emits an object file.
//!
//! - `types`: IR types and exact constants of dtypes;
//! - `module`: a module's declarations, helper functions and globals;
//! - `flavor`: what differs between targets (entry, address spaces, launch indices,
//!   scratch, barrier, matrix instructions, whole-kernel GEMMs), and `CpuFlavor`;
//! - `emit`: the walk over the program (loops, registers, memory, ALU, casts);
//! - `helpers`: IR functions for narrow-float conversions and the f32 `exp2`.
//!
//! Before the walk the program is rewritten with the C-like renderers' base rules (floor
//! division in truncating division, NaN-propagating MAX of scalar floats, bool
//! arithmetic), so both CPU backends compute the same values; `exp2` of f32 is the C
//! renderer's polynomial, so it gives the same bits too. A renderer runs nothing.

mod emit;
pub mod flavor;
mod helpers;
pub mod module;
pub mod types;

#[cfg(feature = "llvm")]
pub mod compile;

use renderer::{LinearProgram, RenderError, Renderer, Source, Target, VectorTarget};
use renderer_cstyle::rewrite_program;
use uop_ir::{DType, Op, PatternMatcher};

pub use flavor::{
    CpuFlavor, Flavor, KernelBody, KernelOperand, KernelParam, Line, Operand, Scratch, SpecialRead,
    pointer,
};
pub use helpers::exp2::EXP2_POLY;
pub use module::Module;

/// `program` as an IR module of `flavor`: the base rules applied (and `extra` after
/// them), then every node as instructions.
pub fn render_with<F: Flavor + ?Sized>(
    flavor: &F,
    program: &LinearProgram,
    extra: Option<&PatternMatcher>,
) -> Result<Source, RenderError> {
    let rewrite = |p: &LinearProgram, rules: &PatternMatcher| {
        rewrite_program(p, rules).map_err(|e| RenderError::Malformed {
            kernel: program.name.clone(),
            why: format!("the {} rules failed: {e}", flavor.name()),
        })
    };
    let mut program = rewrite(program, renderer_cstyle::rules::base())?;
    if let Some(rules) = extra {
        program = rewrite(&program, rules)?;
    }
    let mut module = Module::default();
    let (functions, attributes) = emit::render(flavor, &program, &mut module)?;
    Ok(Source {
        function: program.name.clone(),
        code: module.render(&flavor.module_header(), &functions, &attributes),
    })
}

/// Scratch (DEFINE_LOCAL) a CPU kernel may declare, in bytes: stack arrays of the thread
/// that runs it, as the C renderer's.
pub const SCRATCH_BYTES: usize = 256 << 10;

/// Element dtypes of CPU vectors: those of the C renderer, so that both CPU backends
/// linearize every kernel alike.
pub const VECTOR_DTYPES: [DType; 2] = [DType::F32, DType::F64];

/// ALU ops on CPU vectors of both vector dtypes (as the C renderer's).
const VECTOR_OPS: [Op; 6] = [Op::Add, Op::Sub, Op::Mul, Op::FDiv, Op::Neg, Op::Max];

/// Every (op, dtype) the CPU flavor emits on vectors: `VECTOR_OPS` and WHERE on both
/// dtypes, EXP2 on f32, and MULACC (fused) where the CPU has FMA.
pub fn vector_alu(fma: bool) -> Vec<(Op, DType)> {
    let mut v: Vec<(Op, DType)> = VECTOR_DTYPES
        .iter()
        .flat_map(|&d| VECTOR_OPS.iter().map(move |&op| (op, d)))
        .collect();
    v.push((Op::Exp2, DType::F32));
    if fma {
        v.extend(VECTOR_DTYPES.iter().map(|&d| (Op::MulAcc, d)));
    }
    v.extend(VECTOR_DTYPES.iter().map(|&d| (Op::Where, d)));
    v
}

/// Renders kernels as LLVM IR for the host CPU; `core_id` is the thread index of a run.
#[derive(Clone, Debug)]
pub struct LlvmRenderer {
    target: Target,
}

impl LlvmRenderer {
    /// A renderer whose kernels may use as many threads as this machine has CPUs, with
    /// this CPU's vectors and FMA.
    pub fn new() -> LlvmRenderer {
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        LlvmRenderer::with_vectors(threads, native_vector_bytes(), native_fma())
    }

    /// A renderer with at most `max_threads` threads and vectors of `vector_bytes` (16,
    /// 32 or 64), with fused multiply-adds when `fma`. Snapshot tests fix all three.
    pub fn with_vectors(max_threads: usize, vector_bytes: usize, fma: bool) -> LlvmRenderer {
        let max_threads = max_threads.max(1);
        LlvmRenderer {
            target: Target {
                name: "LLVM",
                vector: Some(VectorTarget {
                    bytes: vector_bytes,
                    dtypes: VECTOR_DTYPES.to_vec(),
                    alu: vector_alu(fma),
                    aligned: false,
                }),
                max_threads,
                max_local_size: 0,
                max_local_dims: [0; 3],
                max_global_dims: [u32::try_from(max_threads).unwrap_or(u32::MAX), 1, 1],
                scratch_bytes: SCRATCH_BYTES,
                has_fma: fma,
                warp_size: 1,
                tensor_cores: Vec::new(),
            },
        }
    }
}

impl Default for LlvmRenderer {
    fn default() -> LlvmRenderer {
        LlvmRenderer::new()
    }
}

impl Renderer for LlvmRenderer {
    fn target(&self) -> &Target {
        &self.target
    }

    fn render(&self, program: &LinearProgram) -> Result<Source, RenderError> {
        render_with(&CpuFlavor, program, None)
    }
}

/// Whether this CPU has fused multiply-add instructions (x86 FMA3; always on AArch64).
pub fn native_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(target_arch = "aarch64")]
    {
        true
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        false
    }
}

/// The widest vector register of this CPU in bytes: 64 with AVX-512, 32 with AVX, else
/// 16. Kernels are compiled for the host CPU, so LLVM targets the same registers.
pub fn native_vector_bytes() -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            return 64;
        }
        if std::arch::is_x86_feature_detected!("avx") {
            return 32;
        }
    }
    16
}
