//! Rangeify: a tensor graph becomes kernels. Every node gets the indices it is evaluated
//! at (its ranges), consumer to producer, and is placed once by a cost function that sees
//! those loops: fused into its consumers, stored by a kernel of its own, or staged in
//! scratch memory of the one kernel that reads it. Kernels are listed in dependency order.
//! The stages, in order, are in `pipeline.rs`; each is a rule set applied by
//! `graph_rewrite` or, where the module doc says why, a walk.

mod alike;
mod assign;
mod block_reduce;
mod cost;
mod lower;
mod normalize;
mod partial;
mod pipeline;
mod ranges;
mod shape;
mod split_reduce;

use thiserror::Error;
use uop_ir::{Arg, Op, ShapeError, UOp, UOpMap};

pub use block_reduce::{SUM_BLOCK, blocked_reduce};
pub use cost::{MAX_RECOMPUTE_BUFFERS, STAGE_MIN_REPEATS, Subgraph};
pub use lower::{pm_buffers, pm_compute, pm_movement};
pub use normalize::pm_renumber;
pub use pipeline::{STAGES, schedule, schedule_with};
pub use ranges::{LOCAL_KERNEL_MAX_BYTES, LOCAL_MAX_BYTES, StageLimits};
pub use split_reduce::{SPLIT_MAX_OUTPUTS, SPLIT_MIN_REDUCED, pm_split_reduce, split_reductions};

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RangeifyError {
    #[error("{op}: {error}")]
    Shape { op: Op, error: ShapeError },
    #[error("{op} of shapes {a:?} and {b:?}: shapes must match (broadcast explicitly)")]
    ShapeMismatch { op: Op, a: Vec<i64>, b: Vec<i64> },
    #[error("axis {axis} is out of range for a tensor of rank {rank}")]
    BadAxis { axis: usize, rank: usize },
    #[error("assign: the target is {0}")]
    AssignTarget(String),
    #[error("cannot schedule a {0} node")]
    Unsupported(Op),
    #[error("malformed tensor graph: {0}")]
    Malformed(String),
    #[error("{0}")]
    Rewrite(#[from] uop_ir::RewriteError),
    #[error("index simplification failed: {0}")]
    Symbolic(#[from] symbolic::SymbolicError),
}

/// One kernel: its AST (a SINK of a STORE over RANGEs) and the buffers it takes, in
/// PARAM slot order (slot 0 is the output).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kernel {
    pub ast: UOp,
    pub buffers: Vec<UOp>,
}

impl Kernel {
    /// The element count of each buffer, in slot order (0 for a node that is not a BUFFER).
    pub fn buffer_sizes(&self) -> Vec<usize> {
        self.buffers
            .iter()
            .map(|b| match b.arg() {
                Arg::Buffer { size, .. } => *size,
                _ => 0,
            })
            .collect()
    }
}

/// Kernels in dependency order, and the buffer that holds each realized tensor node.
#[derive(Clone, Debug, Default)]
pub struct Schedule {
    pub kernels: Vec<Kernel>,
    pub buffers: UOpMap<UOp>,
}

impl Schedule {
    /// The buffer holding `tensor` after the schedule runs (a BUFFER node is its own).
    pub fn buffer_of(&self, tensor: &UOp) -> Option<UOp> {
        if tensor.op() == Op::Buffer {
            Some(tensor.clone())
        } else {
            self.buffers.get(tensor).cloned()
        }
    }
}
