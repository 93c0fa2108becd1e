//! Rangeify: a tensor graph becomes kernels. Every realized tensor (see `realize.rs` and
//! the cost function in `cost.rs`) gets a buffer and a kernel that stores it: fresh
//! RANGEs over its shape, with indices pushed through every fused producer
//! (`lower.rs`) and simplified by `symbolic`. Kernels are listed in dependency order.

mod assign;
mod block_reduce;
mod cost;
mod lower;
mod normalize;
mod partial;
mod realize;
mod shape;
mod split_reduce;

use thiserror::Error;
use uop_ir::{
    Arg, AxisType, Op, ShapeError, UOp, UOpMap, UOpSet, checked_numel, linearize, toposort,
};

pub use block_reduce::{SUM_BLOCK, blocked_reduce};
pub use cost::{MAX_RECOMPUTE_BUFFERS, Subgraph};
pub use lower::reduce_identity;
pub use realize::realize_set;
pub use shape::{movement_of, shapes};
pub use split_reduce::{SPLIT_MAX_OUTPUTS, SPLIT_MIN_REDUCED, split_reductions};

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

/// Schedules the tensors under `sink` (a SINK of tensor-graph nodes) on `device`.
pub fn schedule(sink: &UOp, device: &str) -> Result<Schedule, RangeifyError> {
    let (split, replaced) = split_reductions(sink)?;
    let mut out = schedule_graph(&split, device)?;
    // a split reduction's tensor, and each tensor asked for that reads one, is held by
    // its rewritten form
    let roots = sink.src().iter().cloned().zip(split.src().iter().cloned());
    for (old, new) in replaced.into_iter().chain(roots) {
        if let Some(b) = out.buffers.get(&new).cloned() {
            out.buffers.insert(old, b);
        }
    }
    Ok(out)
}

/// `schedule` after the tensor-graph rules: reductions that a kernel could not share
/// across the loops they are broadcast over (`Lowerer::unshared`) are stored, and the
/// graph scheduled again, until there are none.
fn schedule_graph(sink: &UOp, device: &str) -> Result<Schedule, RangeifyError> {
    let graph = toposort(sink);
    let shapes = shape::shapes_in(&graph)?;
    let mut forced = UOpSet::default();
    // kernels simplify once across attempts too
    let mut cache = KernelCache::default();
    loop {
        match schedule_forced(sink, &graph, &shapes, &forced, device, &mut cache)? {
            Ok(done) => return Ok(done),
            Err(unshared) => forced.extend(unshared),
        }
    }
}

/// One scheduling attempt with `forced` nodes stored: the schedule, or the reductions
/// that must be stored too.
fn schedule_forced(
    sink: &UOp,
    graph: &[UOp],
    shapes: &UOpMap<Vec<i64>>,
    forced: &UOpSet,
    device: &str,
    cache: &mut KernelCache,
) -> Result<Result<Schedule, Vec<UOp>>, RangeifyError> {
    let realized = realize::realize_set_in(graph, sink, shapes, forced);
    let order: Vec<UOp> = graph
        .iter()
        .filter(|n| realized.contains(*n))
        .cloned()
        .collect();
    let mut out = Schedule::default();
    // each assigned BUFFER and the ASSIGN writing it
    let mut assigned: UOpMap<UOp> = Default::default();
    // partial CONTIGUOUS nodes (not themselves asked for) have no buffer of their own
    let is_partial = |n: &UOp| partial::listed_axes(n).is_some() && !sink.src().contains(n);
    for n in order.iter().filter(|n| !is_partial(n)) {
        let shape = shapes.get(n).cloned().unwrap_or_default();
        let buffer = if n.op() == Op::Assign {
            let buffer = assign::target_buffer(n, &shape)?;
            if assigned.insert(buffer.clone(), n.clone()).is_some() {
                return Err(RangeifyError::AssignTarget(format!(
                    "buffer {} is assigned twice in one schedule",
                    buffer.arg()
                )));
            }
            buffer
        } else {
            let numel = checked_numel(&shape)
                .map_err(|error| RangeifyError::Shape { op: n.op(), error })?;
            UOp::new_buffer(n.dtype(), numel as usize, device)
        };
        out.buffers.insert(n.clone(), buffer);
    }
    let none = Default::default();
    let mut partials: UOpMap<partial::Partial> = Default::default();
    let mut built = Vec::with_capacity(order.len());
    // kernels storing pieces of partial CONTIGUOUS nodes (never rebuilt below)
    let mut pieces: UOpSet = Default::default();
    let mut unshared: Vec<UOp> = Vec::new();
    for n in &order {
        let shape = shapes.get(n).cloned().unwrap_or_default();
        if is_partial(n) {
            let mut low = lower::Lowerer::new(shapes, &out.buffers, n.clone(), 0, &none, &partials);
            let (p, kernels) = partial::build(n, &shape, &mut low, device)?;
            for (buffer, b) in kernels {
                pieces.insert(b.node.clone());
                out.buffers.insert(b.node.clone(), buffer);
                built.push(b);
            }
            partials.insert(n.clone(), p);
            continue;
        }
        if shape.contains(&0) {
            // no elements: a buffer of none, no kernel
            continue;
        }
        let (b, more) = build_kernel(n, &shape, shapes, &out.buffers, &none, &partials, cache)?;
        for u in more {
            if !unshared.contains(&u) {
                unshared.push(u);
            }
        }
        built.push(b);
    }
    if !unshared.is_empty() {
        return Ok(Err(unshared));
    }
    if assigned.is_empty() {
        out.kernels = built.into_iter().map(|b| b.kernel).collect();
        return Ok(Ok(out));
    }
    // assigns each kernel depends on (through what it loads), in schedule order
    let nodes: Vec<UOp> = built.iter().map(|b| b.node.clone()).collect();
    let index: UOpMap<usize> = nodes.iter().cloned().zip(0..).collect();
    let mut upstream: Vec<UOpSet> = Vec::with_capacity(built.len());
    for (i, b) in built.iter().enumerate() {
        let mut up: UOpSet = Default::default();
        for r in &b.reads {
            if let Some(&p) = index.get(r).filter(|p| **p < i) {
                up.extend(upstream[p].iter().cloned());
                if nodes[p].op() == Op::Assign {
                    up.insert(nodes[p].clone());
                }
            }
        }
        upstream.push(up);
    }
    // kernels that must read a copy of an assigned buffer's old contents
    let mut copies: Vec<(UOp, (UOp, UOp))> = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        if pieces.contains(n) {
            continue;
        }
        let mut redirect: UOpMap<(UOp, UOp)> = Default::default();
        for r in &built[i].reads {
            let Some(a) = assigned.get(r) else { continue };
            let conflict = if a == n {
                assign::reads_output_elsewhere(&built[i].kernel.ast)
            } else {
                upstream[i].contains(a)
            };
            if !conflict {
                continue;
            }
            let copy = match copies.iter().find(|(b, _)| b == r) {
                Some((_, copy)) => copy.clone(),
                None => {
                    let key = UOp::new(Op::Contiguous, r.dtype(), [r.clone()], Arg::None);
                    let size = match r.arg() {
                        Arg::Buffer { size, .. } => *size,
                        _ => 0,
                    };
                    let copy = (key, UOp::new_buffer(r.dtype(), size, device));
                    copies.push((r.clone(), copy.clone()));
                    copy
                }
            };
            redirect.insert(r.clone(), copy);
        }
        if !redirect.is_empty() {
            let shape = shapes.get(n).cloned().unwrap_or_default();
            built[i] =
                build_kernel(n, &shape, shapes, &out.buffers, &redirect, &partials, cache)?.0;
        }
    }
    for (buffer, (key, copy)) in copies {
        out.buffers.insert(key.clone(), copy);
        let shape = shapes.get(&buffer).cloned().unwrap_or_default();
        built.push(build_kernel(&key, &shape, shapes, &out.buffers, &none, &partials, cache)?.0);
    }
    out.kernels = assign::order(built, &assigned)?;
    Ok(Ok(out))
}

/// Raw kernel ASTs and their normal form (with the old slot of each new one).
type KernelCache = UOpMap<(UOp, Vec<u32>)>;

/// The kernel storing `n` (of `shape`) into its buffer, reading `redirect`ed buffers from
/// their copies, and the reductions it could not share (`Lowerer::unshared`).
fn build_kernel(
    n: &UOp,
    shape: &[i64],
    shapes: &UOpMap<Vec<i64>>,
    buffers: &UOpMap<UOp>,
    redirect: &UOpMap<(UOp, UOp)>,
    partials: &UOpMap<partial::Partial>,
    cache: &mut KernelCache,
) -> Result<(assign::Built, Vec<UOp>), RangeifyError> {
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
    let mut low = lower::Lowerer::new(shapes, buffers, output.clone(), axis, redirect, partials);
    let value = low.lower(n, &ranges, None, true)?;
    let param = low.param(&output);
    let index = UOp::new(
        Op::Index,
        output.dtype(),
        [param, linearize(&ranges, shape)],
        Arg::None,
    );
    let store = UOp::new(Op::Store, uop_ir::DType::Void, [index, value], Arg::None);
    // the AST names no buffer: kernels built alike (layers of a model) simplify once
    let raw = UOp::new(Op::Sink, uop_ir::DType::Void, [store], Arg::None);
    let (ast, slots) = match cache.get(&raw) {
        Some(done) => done.clone(),
        None => {
            let done = normalize::normal_form(symbolic::simplify(&raw)?, low.params.len())?;
            cache.insert(raw, done.clone());
            done
        }
    };
    let buffers = slots
        .iter()
        .map(|s| low.params[*s as usize].clone())
        .collect();
    let unshared = low.unshared().to_vec();
    Ok((
        assign::Built {
            kernel: Kernel { ast, buffers },
            node: n.clone(),
            reads: low.reads,
        },
        unshared,
    ))
}
