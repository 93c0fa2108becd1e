//! The `Renderer` trait: turns a `LinearProgram` into source code for one target, and
//! says what the target can do (`Target`, defined by the linearizer, which reads it).
//! One crate per target implements it (`renderer-c`, ...). A renderer runs nothing.
//!
//! A renderer is built with its `Target`: from the host for the CPU, and from the
//! device's properties (read when the device opens) for a GPU.

use thiserror::Error;
use uop_ir::Op;

pub use linearizer::{LaunchDims, LinearProgram, ParamInfo, Target, TensorCore, VectorTarget};

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
