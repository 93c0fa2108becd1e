//! The AMD GPU renderer: a `LinearProgram` becomes LLVM IR for `amdgcn-amd-amdhsa` (the
//! LLVM renderer's emitter with `AmdFlavor`), and, with the `llvm` feature, a code
//! object: LLVM 19 compiles it for the processor and `ld.lld -shared` links it.
//!
//! - `arch`: the processors (gfx942 = MI300, gfx950 = MI350, gfx1100, gfx1200/1201,
//!   gfx1250 = MI400 class) and what differs between them;
//! - `flavor`: what AMD IR writes differently (kernel arguments, workgroup and workitem
//!   ids, address spaces, LDS, barriers, native halves, kernel attributes);
//! - `mfma`: WMMA nodes as MFMA matrix instructions;
//! - `gemm`: the TC opt's whole-kernel GEMM as a loop of MFMA instructions per wavefront,
//!   with the lane layout and a software model of it in the tests;
//! - `descriptor`, `metadata`, `code_object`: reading a code object back: its 64-byte
//!   kernel descriptors, its metadata note, and the checks a loader relies on;
//! - `compile` (feature `llvm`): IR to relocatable object to code object.
//!
//! A renderer runs nothing; `runtime-amd` loads and launches the code objects.

pub mod arch;
pub mod code_object;
#[cfg(feature = "llvm")]
pub mod compile;
pub mod descriptor;
pub mod flavor;
pub mod gemm;
pub mod metadata;
pub mod mfma;

use renderer::{LinearProgram, RenderError, Renderer, Source, Target, VectorTarget};
use thiserror::Error;
use uop_ir::{DType, Op};

pub use arch::Arch;
pub use code_object::{CodeObject, KernelEntry};
pub use descriptor::KernelDescriptor;
pub use flavor::AmdFlavor;

/// What went wrong making or reading a code object.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AmdRenderError {
    #[cfg(feature = "llvm")]
    #[error("{0}")]
    Llvm(#[from] renderer_llvm::compile::LlvmError),
    #[error("linking the code object: {0}")]
    Linker(String),
    #[error("code object: {0}")]
    CodeObject(String),
    #[error("{arch}: {why}")]
    Unsupported { arch: &'static str, why: String },
}

/// Renders kernels as LLVM IR for one AMD GPU processor.
#[derive(Clone, Debug)]
pub struct AmdRenderer {
    arch: Arch,
    target: Target,
}

/// ALU ops kernels compute on 4-wide f32 vectors (which become one wide load or store
/// and four lanes of scalar instructions).
const VECTOR_OPS: [Op; 8] = [
    Op::Add,
    Op::Sub,
    Op::Mul,
    Op::FDiv,
    Op::Neg,
    Op::Max,
    Op::MulAcc,
    Op::Where,
];

impl AmdRenderer {
    pub fn new(arch: Arch) -> AmdRenderer {
        AmdRenderer {
            arch,
            target: Target {
                name: "AMD",
                vector: Some(VectorTarget {
                    bytes: 16,
                    dtypes: vec![DType::F32],
                    alu: VECTOR_OPS.iter().map(|&op| (op, DType::F32)).collect(),
                    // vector accesses are emitted with the element's alignment, which
                    // LLVM lowers for any offset
                    aligned: false,
                }),
                max_threads: 1,
                max_local_size: 1024,
                max_local_dims: [1024, 1024, 1024],
                max_global_dims: [u32::MAX, 65535, 65535],
                scratch_bytes: arch.lds_bytes(),
                has_fma: true,
                warp_size: arch.wave_size(),
                tensor_cores: mfma::tensor_cores(arch),
            },
        }
    }

    pub fn arch(&self) -> Arch {
        self.arch
    }
}

impl Renderer for AmdRenderer {
    fn target(&self) -> &Target {
        &self.target
    }

    fn render(&self, program: &LinearProgram) -> Result<Source, RenderError> {
        renderer_llvm::render_with(&AmdFlavor { arch: self.arch }, program, None)
    }
}
