//! The C renderer: a `LinearProgram` becomes one self-contained C11 file that defines
//! `void NAME(void* const* bufs, int core_id)`, to be built with
//! `cc -O2 -march=native -shared -fPIC -ffp-contract=off` (gcc, clang or tcc).
//!
//! - `dtypes`: C types of every dtype, and the conversion helpers of the narrow floats
//!   (f16, bf16, fp8), which are stored as raw bits and computed on as `float`.
//! - `helpers`: the C text of those helpers and of floor division.
//! - `consts`: exact literals.
//! - `alu`: ALU, CAST and BITCAST expressions.
//! - `vector`: vector types and vector ALU expressions (GCC/clang vector extensions).
//! - `emit`: the walk over the program that writes declarations, loops and stores.
//!
//! Malformed programs and ops the target cannot run give a `RenderError`, never a panic.

mod alu;
mod consts;
mod dtypes;
mod emit;
mod helpers;
mod vector;

use renderer::{LinearProgram, RenderError, Renderer, Source, Target, VectorTarget};

/// Renders kernels as C for the CPU; `core_id` is the thread index of a run.
#[derive(Clone, Debug)]
pub struct CRenderer {
    target: Target,
}

impl CRenderer {
    /// A renderer whose kernels may use as many threads as this machine has CPUs.
    pub fn new() -> CRenderer {
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        CRenderer::with_threads(threads)
    }

    /// A renderer whose kernels may use at most `max_threads` threads.
    pub fn with_threads(max_threads: usize) -> CRenderer {
        CRenderer {
            target: Target {
                name: "C",
                has_local: false,
                max_vector_width: 8,
                max_threads: max_threads.max(1),
                vector: Some(VectorTarget {
                    bytes: 32,
                    dtypes: vector::C_VECTOR_DTYPES.to_vec(),
                    alu: vector::c_vector_alu(),
                }),
            },
        }
    }
}

impl Default for CRenderer {
    fn default() -> CRenderer {
        CRenderer::new()
    }
}

impl Renderer for CRenderer {
    fn target(&self) -> &Target {
        &self.target
    }

    fn render(&self, program: &LinearProgram) -> Result<Source, RenderError> {
        Ok(Source {
            function: program.name.clone(),
            code: emit::render(program)?,
        })
    }
}
