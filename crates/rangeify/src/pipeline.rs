//! The stages of `schedule`, in order. A reader sees the whole pipeline here; each stage
//! lives in its own file.
//!
//! | stage | file | kind | what it does |
//! |---|---|---|---|
//! | split reductions | `split_reduce.rs`, `block_reduce.rs` | rule set `pm_split_reduce` | a reduction of many elements into few outputs becomes partials then their reduction; a long float sum folds at most `SUM_BLOCK` terms per level |
//! | ranges | `ranges.rs`, `cost.rs` | walk | every node gets the indices it is evaluated at, consumer to producer, and is placed once by the cost function: fused, stored, staged in scratch, or split by `contiguous_axes` |
//! | assign buffers | `pipeline.rs` | walk | each stored node gets a BUFFER (an ASSIGN the buffer it writes) |
//! | lower | `lower.rs`, `alike.rs` | rule sets `pm_buffers`, `pm_movement`, `pm_compute` | each kernel's root evaluation pushed to the leaves: loads of buffers and scratch, index math for movement ops, values for the rest; kernels alike (a model's layers) lowered once |
//! | partial contiguous | `partial.rs` | hand-written | the listed-axes pieces of a `contiguous_axes` get kernels, the rest a template |
//! | simplify | `symbolic` | rule sets | index math simplified |
//! | renumber ranges | `normalize.rs` | rule set `pm_renumber` | loops and arguments numbered from 0, so identical kernels share one AST |
//! | order kernels | `assign.rs` | hand-written | dependency order, with reads of an assigned buffer's old contents first (or from a copy) |
//!
//! The ranges walk and the kernel ordering are hand-written: both are dataflows over the
//! whole graph (a node is placed only after all its consumers; a kernel waits for every
//! kernel it reads), which a rule seeing one node and its sources cannot express. The
//! partial-contiguous split picks the largest subexpressions of a simplified kernel that
//! depend only on the listed loops, a search over the expression, not a local rewrite.

use std::collections::HashMap;
use std::sync::Arc;

use uop_ir::{Arg, DType, Key, Op, UOp, UOpMap, UOpSet, checked_numel, linearize, toposort};

use crate::alike::{self, Class};
use crate::assign::{self, Built};
use crate::lower::{LowerCtx, lower};
use crate::partial::{self, Partial};
use crate::ranges::{self, Place, Ranges, StageLimits, eval_node};
use crate::shape::check_shapes;
use crate::split_reduce::{any_split, split_reductions};
use crate::{Kernel, RangeifyError, Schedule, normalize};

/// The stages of `schedule`, in the order they run.
pub const STAGES: [&str; 8] = [
    "split reductions",
    "ranges",
    "assign buffers",
    "lower",
    "partial contiguous",
    "simplify",
    "renumber ranges",
    "order kernels",
];

/// Schedules the tensors under `sink` (a SINK of tensor-graph nodes) on `device`, a CPU
/// (see `schedule_with`).
pub fn schedule(sink: &UOp, device: &str) -> Result<Schedule, RangeifyError> {
    schedule_with(sink, device, StageLimits::CPU)
}

/// Schedules the tensors under `sink` on `device`, whose kernels may stage values in as
/// much scratch memory as `limits` allow.
pub fn schedule_with(
    sink: &UOp,
    device: &str,
    limits: StageLimits,
) -> Result<Schedule, RangeifyError> {
    // split reductions (most graphs have none to split: their order is kept)
    let order = toposort(sink);
    let (split, replaced, order) = if any_split(&order)? {
        let (split, replaced) = split_reductions(sink)?;
        let order = toposort(&split);
        (split, replaced, order)
    } else {
        (sink.clone(), Default::default(), order)
    };
    // ranges
    check_shapes(&order)?;
    let ranges = Arc::new(ranges::ranges(&split, &order, limits)?);
    // assign buffers
    let pos: UOpMap<usize> = order.iter().cloned().zip(0..).collect();
    let mut kernels: Vec<usize> = (0..ranges.kernels.len()).collect();
    kernels.sort_by_key(|&k| pos.get(&ranges.kernels[k].root).copied().unwrap_or(0));
    let mut out = Schedule::default();
    let mut assigned: UOpMap<UOp> = Default::default();
    for &k in &kernels {
        let n = &ranges.kernels[k].root;
        if !matches!(ranges.place.get(n), Some(Place::Global(_))) {
            continue;
        }
        let shape = n.shape().unwrap_or(&[]);
        let buffer = if n.op() == Op::Assign {
            let buffer = assign::target_buffer(n, shape)?;
            if assigned.insert(buffer.clone(), n.clone()).is_some() {
                return Err(RangeifyError::AssignTarget(format!(
                    "buffer {} is assigned twice in one schedule",
                    buffer.arg()
                )));
            }
            buffer
        } else {
            let numel =
                checked_numel(shape).map_err(|error| RangeifyError::Shape { op: n.op(), error })?;
            UOp::new_buffer(n.dtype(), numel as usize, device)
        };
        out.buffers.insert(n.clone(), buffer);
    }
    let buffers = Arc::new(out.buffers.clone());
    // lower (and partial contiguous, simplify, renumber ranges per kernel)
    let mut b = Builder {
        ranges,
        buffers,
        partials: Arc::default(),
        cache: Default::default(),
        classes: (assigned.is_empty()).then(Default::default),
    };
    let none: Arc<UOpMap<(UOp, UOp)>> = Arc::default();
    let mut built = Vec::with_capacity(kernels.len());
    // kernels storing pieces of partial CONTIGUOUS nodes (never rebuilt below)
    let mut pieces: UOpSet = Default::default();
    for &k in &kernels {
        let n = b.ranges.kernels[k].root.clone();
        match b.ranges.place.get(&n) {
            Some(Place::Partial(_)) => {
                let mut ctx = b.ctx(k, &n, &none);
                let kernel_ranges = b.ranges.kernels[k].ranges.clone();
                let (p, made) = partial::build(&n, &kernel_ranges, &mut ctx, device)?;
                for (buffer, piece) in made {
                    pieces.insert(piece.node.clone());
                    out.buffers.insert(piece.node.clone(), buffer);
                    built.push(piece);
                }
                Arc::make_mut(&mut b.partials).insert(n, p);
            }
            Some(Place::Global(_)) if !n.shape().unwrap_or(&[]).contains(&0) => {
                built.push(b.kernel(k, &none)?);
            }
            _ => {}
        }
    }
    // the tensors asked for, and the split reductions, are held by their rewritten forms
    let roots = sink.src().iter().cloned().zip(split.src().iter().cloned());
    for (old, new) in replaced.into_iter().chain(roots) {
        if let Some(buffer) = out.buffers.get(&new).cloned() {
            out.buffers.insert(old, buffer);
        }
    }
    // order kernels
    if assigned.is_empty() {
        out.kernels = built.into_iter().map(|b| b.kernel).collect();
        return Ok(out);
    }
    out.kernels = b.order_assigns(built, &pieces, &assigned, &mut out.buffers, device)?;
    Ok(out)
}

/// Raw kernel ASTs and their normal form (with the old slot of each new one).
type KernelCache = UOpMap<(UOp, Vec<u32>)>;

/// What building kernels shares.
struct Builder {
    ranges: Arc<Ranges>,
    buffers: Arc<UOpMap<UOp>>,
    partials: Arc<UOpMap<Partial>>,
    /// Kernels built alike (layers of a model) simplify once.
    cache: KernelCache,
    /// Kernels alike lower once (`alike.rs`); `None` when the schedule assigns buffers
    /// (an assigned buffer is both read and written, which signatures do not tell).
    classes: Option<HashMap<Key, Class>>,
}

impl Builder {
    /// The lowering context of kernel `k` storing `root`.
    fn ctx(&self, k: usize, root: &UOp, redirect: &Arc<UOpMap<(UOp, UOp)>>) -> LowerCtx {
        let output = self
            .buffers
            .get(root)
            .cloned()
            .unwrap_or_else(|| root.clone());
        LowerCtx {
            ranges: self.ranges.clone(),
            kernel: k,
            root: root.clone(),
            buffers: self.buffers.clone(),
            params: vec![output],
            reads: Vec::new(),
            redirect: redirect.clone(),
            partials: self.partials.clone(),
            next_axis: self.ranges.kernels[k].next_axis,
        }
    }

    /// Kernel `k`: its root's value stored at its ranges, simplified and renumbered,
    /// reading `redirect`ed buffers from their copies.
    fn kernel(
        &mut self,
        k: usize,
        redirect: &Arc<UOpMap<(UOp, UOp)>>,
    ) -> Result<Built, RangeifyError> {
        let sig = match &self.classes {
            Some(_) if redirect.is_empty() => alike::signature(&self.ranges, k),
            _ => None,
        };
        let Some(sig) = sig else {
            return self.lower_kernel(k, redirect);
        };
        let root = &self.ranges.kernels[k].root;
        let alike = self
            .classes
            .as_ref()
            .and_then(|classes| classes.get(&sig.key))
            .and_then(|c| c.instantiate(root, &sig, &self.buffers));
        if let Some(built) = alike {
            if cfg!(debug_assertions) {
                let lowered = self.lower_kernel(k, redirect)?;
                assert_eq!(
                    (&built.kernel, &built.reads),
                    (&lowered.kernel, &lowered.reads),
                    "a kernel alike another must lower alike"
                );
            }
            return Ok(built);
        }
        let built = self.lower_kernel(k, redirect)?;
        if let Some(class) = Class::of(&built, &sig, &self.buffers)
            && let Some(classes) = &mut self.classes
        {
            classes.insert(sig.key, class);
        }
        Ok(built)
    }

    /// Kernel `k`, lowered (see `kernel`).
    fn lower_kernel(
        &mut self,
        k: usize,
        redirect: &Arc<UOpMap<(UOp, UOp)>>,
    ) -> Result<Built, RangeifyError> {
        let kl = &self.ranges.kernels[k];
        let n = kl.root.clone();
        let kernel_ranges = kl.ranges.clone();
        let shape = n.shape().unwrap_or(&[]).to_vec();
        let mut ctx = self.ctx(k, &n, redirect);
        let value = lower(&eval_node(&n, &kernel_ranges, None), &mut ctx)?;
        let param = ctx.param(&ctx.params[0].clone());
        let index = UOp::new(
            Op::Index,
            param.dtype(),
            [param, linearize(&kernel_ranges, &shape)],
            Arg::None,
        );
        let store = UOp::new(Op::Store, DType::Void, [index, value], Arg::None);
        // the AST names no buffer: kernels built alike simplify once
        let raw = UOp::new(Op::Sink, DType::Void, [store], Arg::None);
        let (ast, slots) = match self.cache.get(&raw) {
            Some(done) => done.clone(),
            None => {
                let done = normalize::normal_form(symbolic::simplify(&raw)?, ctx.params.len())?;
                self.cache.insert(raw, done.clone());
                done
            }
        };
        let buffers = slots
            .iter()
            .map(|s| ctx.params[*s as usize].clone())
            .collect();
        Ok(Built {
            kernel: Kernel { ast, buffers },
            node: n,
            reads: ctx.reads,
        })
    }

    /// `built` in an order that is safe for the assigned buffers (`assign.rs`): kernels
    /// that must read an assigned buffer's old contents after it is written read a copy,
    /// made by a kernel added here.
    fn order_assigns(
        &mut self,
        mut built: Vec<Built>,
        pieces: &UOpSet,
        assigned: &UOpMap<UOp>,
        buffers: &mut UOpMap<UOp>,
        device: &str,
    ) -> Result<Vec<Kernel>, RangeifyError> {
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
                let Some(k) = self.ranges.kernels.iter().position(|k| k.root == *n) else {
                    continue;
                };
                built[i] = self.kernel(k, &Arc::new(redirect))?;
            }
        }
        for (buffer, (key, copy)) in copies {
            buffers.insert(key.clone(), copy.clone());
            built.push(copy_kernel(&key, &buffer, &copy)?);
        }
        assign::order(built, assigned)
    }
}

/// A kernel copying `buffer` into `copy` (filed under `key`).
fn copy_kernel(key: &UOp, buffer: &UOp, copy: &UOp) -> Result<Built, RangeifyError> {
    let size = match buffer.arg() {
        Arg::Buffer { size, .. } => *size as i64,
        _ => 0,
    };
    let r = UOp::range_of(UOp::int(size), 0, uop_ir::AxisType::Loop);
    let param = |slot: u32| UOp::new(Op::Param, buffer.dtype(), [], Arg::Param { slot });
    let index = |slot: u32| {
        UOp::new(
            Op::Index,
            buffer.dtype(),
            [param(slot), r.clone()],
            Arg::None,
        )
    };
    let load = UOp::new(Op::Load, buffer.dtype(), [index(1)], Arg::None);
    let store = UOp::new(Op::Store, DType::Void, [index(0), load], Arg::None);
    let ast = symbolic::simplify(&UOp::new(Op::Sink, DType::Void, [store], Arg::None))?;
    Ok(Built {
        kernel: Kernel {
            ast,
            buffers: vec![copy.clone(), buffer.clone()],
        },
        node: key.clone(),
        reads: vec![buffer.clone()],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stages_read_in_order() {
        assert_eq!(
            STAGES,
            [
                "split reductions",
                "ranges",
                "assign buffers",
                "lower",
                "partial contiguous",
                "simplify",
                "renumber ranges",
                "order kernels",
            ]
        );
    }
}
