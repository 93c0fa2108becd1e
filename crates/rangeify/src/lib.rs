//! Rangeify: a tensor graph becomes kernels. Every realized tensor (see `realize.rs` and
//! the cost function in `cost.rs`) gets a buffer and a kernel that stores it: fresh
//! RANGEs over its shape, with indices pushed through every fused producer
//! (`lower.rs`) and simplified by `symbolic`. Kernels are listed in dependency order.

mod cost;
mod lower;
mod normalize;
mod realize;
mod shape;

use std::collections::HashMap;

use thiserror::Error;
use uop_ir::{Arg, AxisType, Op, ShapeError, UOp, checked_numel, linearize, toposort};

pub use cost::{MAX_RECOMPUTE_BUFFERS, Subgraph};
pub use lower::reduce_identity;
pub use realize::realize_set;
pub use shape::{movement_of, shapes};

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RangeifyError {
    #[error("{op}: {error}")]
    Shape { op: Op, error: ShapeError },
    #[error("{op} of shapes {a:?} and {b:?}: shapes must match (broadcast explicitly)")]
    ShapeMismatch { op: Op, a: Vec<i64>, b: Vec<i64> },
    #[error("axis {axis} is out of range for a tensor of rank {rank}")]
    BadAxis { axis: usize, rank: usize },
    #[error("cannot schedule a {0} node")]
    Unsupported(Op),
    #[error("malformed tensor graph: {0}")]
    Malformed(String),
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

/// Kernels in dependency order, and the buffer that holds each realized tensor node.
#[derive(Clone, Debug, Default)]
pub struct Schedule {
    pub kernels: Vec<Kernel>,
    pub buffers: HashMap<UOp, UOp>,
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

/// Schedules the tensors under `sink` (a SINK of tensor-graph nodes) on `device`.
pub fn schedule(sink: &UOp, device: &str) -> Result<Schedule, RangeifyError> {
    let shapes = shapes(sink)?;
    let realized = realize_set(sink, &shapes);
    let mut out = Schedule::default();
    for n in toposort(sink).into_iter().filter(|n| realized.contains(n)) {
        let shape = shapes.get(&n).cloned().unwrap_or_default();
        let numel =
            checked_numel(&shape).map_err(|error| RangeifyError::Shape { op: n.op(), error })?;
        let buffer = UOp::new_buffer(n.dtype(), numel as usize, device);
        out.buffers.insert(n.clone(), buffer);
    }
    for n in toposort(sink).into_iter().filter(|n| realized.contains(n)) {
        let kernel = build_kernel(&n, &shapes, &out.buffers)?;
        out.kernels.push(kernel);
    }
    Ok(out)
}

fn build_kernel(
    n: &UOp,
    shapes: &HashMap<UOp, Vec<i64>>,
    buffers: &HashMap<UOp, UOp>,
) -> Result<Kernel, RangeifyError> {
    let shape = shapes.get(n).cloned().unwrap_or_default();
    // size-1 dims open no loop; the others are numbered from 0 in order
    let mut axis = 0u32;
    let ranges: Vec<UOp> = shape
        .iter()
        .map(|s| {
            if *s == 1 {
                UOp::int(0)
            } else {
                axis += 1;
                UOp::range_of(UOp::int(*s), axis - 1, AxisType::Loop)
            }
        })
        .collect();
    let output = buffers
        .get(n)
        .cloned()
        .ok_or_else(|| RangeifyError::Malformed(format!("no buffer for {}", n.op())))?;
    let mut low = lower::Lowerer::new(shapes, buffers, output.clone(), axis);
    let value = low.lower(n, &ranges, None, true)?;
    let param = low.param(&output);
    let index = UOp::new(
        Op::Index,
        output.dtype(),
        [param, linearize(&ranges, &shape)],
        Arg::None,
    );
    let store = UOp::new(Op::Store, uop_ir::DType::Void, [index, value], Arg::None);
    let ast = symbolic::simplify(&UOp::new(Op::Sink, uop_ir::DType::Void, [store], Arg::None))?;
    let (ast, buffers) = normalize::normalize(ast, low.params)?;
    Ok(Kernel { ast, buffers })
}
