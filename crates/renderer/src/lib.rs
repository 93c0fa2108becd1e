//! The `Renderer` trait: turns a `LinearProgram` into source code for one target, and
//! says what the target can do (`Target`). One crate per target implements it
//! (`renderer-c`, ...). A renderer runs nothing.

use thiserror::Error;
use uop_ir::Op;

pub use linearizer::{LinearProgram, ParamInfo, VectorTarget};

/// What a target supports; the linearizer and the optimizer ask these.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// Short name, e.g. `"C"`.
    pub name: &'static str,
    /// The most threads of one workgroup (kernels with `lidx` dimensions that share
    /// scratch); 0 when the target has no workgroups.
    pub max_local_size: usize,
    /// The widest vector of f32 the target handles natively.
    pub max_vector_width: usize,
    /// The most threads one kernel may use (`core_id` values).
    pub max_threads: usize,
    /// The vectors the renderer emits; `None` keeps kernels scalar.
    pub vector: Option<VectorTarget>,
    /// Scratch memory (DEFINE_LOCAL) one kernel invocation may use, in bytes.
    pub scratch_bytes: usize,
}

/// Generated source of one kernel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// The symbol to call.
    pub function: String,
    pub code: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RenderError {
    #[error("{target} cannot render {op} in kernel {kernel}: {why}")]
    Unsupported {
        target: &'static str,
        kernel: String,
        op: Op,
        why: String,
    },
    #[error("kernel {kernel} is malformed: {why}")]
    Malformed { kernel: String, why: String },
}

/// A code generator for one target.
pub trait Renderer: Send + Sync + std::fmt::Debug {
    fn target(&self) -> &Target;
    fn render(&self, program: &LinearProgram) -> Result<Source, RenderError>;
}
