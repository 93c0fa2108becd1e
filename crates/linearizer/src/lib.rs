//! The linearizer: a kernel AST (a SINK of STOREs over RANGEs, with REDUCEs) becomes a
//! `LinearProgram`. Passes, in order: split the outermost loop across threads (the
//! THREAD opt, `threads.rs`), reductions to accumulators (`reduce.rs`), gated loads
//! (`gate.rs`), closing the output loops, and a deterministic order (`order.rs`).

mod gate;
mod interpret;
mod local;
mod opt;
mod opts;
mod order;
mod pack;
mod program;
mod reduce;
mod target;
mod threads;
mod vectorize;

use std::collections::{BTreeSet, HashMap};

use thiserror::Error;
use uop_ir::{Arg, AxisType, DType, Op, UOp, toposort};

pub use gate::lower_gates;
pub use interpret::interpret;
pub use opt::{Opt, apply_opt, candidate_opts, padto};
pub use opts::{
    choose_vector_axis, cpu_heuristics, pack_strided, swap, tile_vector_loop, unroll_reduces,
    upcast,
};
pub use pack::{pack, pack_bytes};
pub use program::{LaunchDims, LinearProgram, ParamInfo};
pub use reduce::{RangeKey, identity, open_ranges};
pub use target::{Target, TensorCore, VectorTarget};
pub use threads::{THREAD_MIN_ELEMENTS, split_threads, thread_split};
pub use vectorize::{lane_of, vectorize};

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LinearizeError {
    #[error("kernel AST is malformed: {0}")]
    Malformed(String),
    #[error("{0}")]
    Rewrite(#[from] uop_ir::RewriteError),
    #[error("{0}")]
    Symbolic(#[from] symbolic::SymbolicError),
    #[error("{opt} does not apply: {why}")]
    Opt { opt: String, why: String },
    #[error("kernel {kernel} cannot run at {at}: {why}")]
    Run {
        kernel: String,
        at: String,
        why: String,
    },
}

/// How to linearize one kernel for its target.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinearizeOptions {
    /// Apply the heuristics (`NOOPT=1` turns them off).
    pub optimize: bool,
    /// Opts to apply in this order instead of the heuristics (`optimize` is then ignored).
    pub opts: Option<Vec<Opt>>,
}

/// Linearizes the kernel `ast` for `target`; `sizes[slot]` is the element count of
/// buffer `slot`.
pub fn linearize(
    ast: &UOp,
    sizes: &[usize],
    target: &Target,
    options: &LinearizeOptions,
) -> Result<LinearProgram, LinearizeError> {
    if ast.op() != Op::Sink {
        return Err(LinearizeError::Malformed(format!(
            "expected a SINK, got {}",
            ast.op()
        )));
    }
    let mut ast = gate::lower_gates(ast)?;
    let name = kernel_name(&ast);
    if let Some(list) = &options.opts {
        for opt in list {
            ast = apply_opt(&ast, opt, target)?;
        }
    } else if options.optimize {
        ast = heuristics(&ast, target)?;
    }
    let ast = local::lower_groups(&ast, target).map_err(|why| LinearizeError::Opt {
        opt: "GROUP".into(),
        why,
    })?;
    let fuse = |d: DType| target.fuses_multiply_add(d);
    let ast = reduce::lower_reduces(&ast, &fuse);
    // close the stores' loops, innermost first; stores over the same loops share them
    let open = open_ranges(&ast);
    let mut by_loops: Vec<(BTreeSet<RangeKey>, Vec<UOp>)> = Vec::new();
    for s in ast.src() {
        match by_loops.iter_mut().find(|(k, _)| *k == open[s]) {
            Some((_, g)) => g.push(s.clone()),
            None => by_loops.push((open[s].clone(), vec![s.clone()])),
        }
    }
    let stmts: Vec<UOp> = by_loops
        .into_iter()
        .map(|(loops, mut g)| {
            let body = if g.len() == 1 {
                g.remove(0)
            } else {
                UOp::new(Op::Group, DType::Void, g, Arg::None)
            };
            loops.iter().rev().fold(body, |st, r| {
                UOp::new(Op::End, DType::Void, [st, r.range.0.clone()], Arg::None)
            })
        })
        .collect();
    let sink = ast.with_src(stmts);
    let open = open_ranges(&sink);
    let groups = range_groups(&sink, &open);
    let uops: Vec<UOp> = order::order(&sink, &open, &groups)
        .into_iter()
        .filter(|u| u.op() != Op::Sink)
        .collect();
    let params = params(&uops, sizes);
    let dims = LaunchDims::of(&uops).map_err(LinearizeError::Malformed)?;
    let (ops, bytes) = estimates(&uops, &params);
    // the loops of one thread: every thread of every workgroup runs them
    let ops = ops
        .saturating_mul(dims.global_size())
        .saturating_mul(dims.local_size());
    Ok(LinearProgram {
        name,
        uops,
        params,
        dims,
        ops,
        bytes,
    })
}

/// The CPU heuristics: PADTO where no lane count divides a loop (`opts::pad_for_vectors`),
/// a vector axis, upcasts or unrolls (`opts::cpu_heuristics`), the
/// vector split, the tiling after it, THREAD (of the loops as tiling left them: in matmul,
/// the strips of B, so that each thread packs only its own), and PACK of strided operands.
fn heuristics(ast: &UOp, target: &Target) -> Result<UOp, LinearizeError> {
    let vector = target.vector.as_ref();
    let ast = match vector {
        Some(t) => opts::pad_for_vectors(ast, t),
        None => ast.clone(),
    };
    let axis = vector.and_then(|t| choose_vector_axis(&ast, t));
    let mut ast = symbolic::simplify(&cpu_heuristics(&ast, axis.as_ref().map(|(r, _)| r)))?;
    if let Some(t) = vector
        && let Some((r, lanes)) = choose_vector_axis(&ast, t)
        && let Some(v) = vectorize(&ast, &r, lanes, t)?
    {
        ast = tile_vector_loop(&v, &r);
    }
    if let Some(t) = vector {
        ast = opts::vectorize_reductions(&ast, t)?;
    }
    let (ast, _) = split_threads(&ast, target)?;
    // PACK's copy is not shared out across a workgroup: CPU targets only
    if target.has_workgroups() {
        return Ok(ast);
    }
    Ok(pack_strided(&ast, target.scratch_bytes))
}

/// Whether `r` is the range of an output loop (not a reduction's or a copy's).
fn is_output(r: &UOp) -> bool {
    !matches!(
        r.arg(),
        Arg::Range {
            kind: AxisType::Reduce | AxisType::Stage,
            ..
        }
    )
}

/// Ranges that open together: each reduction's or copy's ranges, and the output ranges.
/// The output ranges open together too, except that a reduction or a copy (a chain of
/// ENDs over its ranges) that needs only the first few output loops splits them there,
/// so that it runs once per trip of those loops, between them and the rest.
fn range_groups(sink: &UOp, open: &HashMap<UOp, BTreeSet<RangeKey>>) -> Vec<Vec<UOp>> {
    let mut outer: BTreeSet<RangeKey> = BTreeSet::new();
    let mut groups: Vec<Vec<UOp>> = Vec::new();
    let mut inner_loops: Vec<UOp> = Vec::new();
    let order = toposort(sink);
    // an END that closes another END's loop is not the outermost of its chain
    let inner: std::collections::HashSet<UOp> = order
        .iter()
        .filter(|n| n.op() == Op::End && n.src()[0].op() == Op::End)
        .map(|n| n.src()[0].clone())
        .collect();
    for n in order {
        if n.op() == Op::Range && is_output(&n) {
            outer.insert(RangeKey::of(&n));
        }
        if n.op() == Op::End && !inner.contains(&n) {
            // a chain of ENDs from its outermost: collect its ranges
            let mut g = Vec::new();
            let mut e = n.clone();
            while e.op() == Op::End {
                g.push(RangeKey::of(&e.src()[1]));
                e = e.src()[0].clone();
            }
            g.sort();
            let g: Vec<UOp> = g.into_iter().map(|k| k.range.0).collect();
            if g.iter().all(|r| !is_output(r)) {
                inner_loops.push(n.clone());
            }
            groups.push(g);
        }
    }
    groups.retain(|g| g.iter().all(|r| !is_output(r)));
    let outer: Vec<RangeKey> = outer.into_iter().collect();
    let mut cuts: BTreeSet<usize> = inner_loops
        .iter()
        .filter_map(|c| {
            let needs = &open[c];
            let k = outer.iter().take_while(|r| needs.contains(r)).count();
            (k > 0
                && k < outer.len()
                && needs.iter().filter(|r| is_output(&r.range.0)).count() == k)
                .then_some(k)
        })
        .collect();
    cuts.insert(outer.len());
    let mut start = 0;
    for cut in cuts {
        groups.push(
            outer[start..cut]
                .iter()
                .map(|k| k.range.0.clone())
                .collect(),
        );
        start = cut;
    }
    groups
}

/// A name from the loop extents: `E_` for elementwise kernels, `r_` with reductions.
fn kernel_name(ast: &UOp) -> String {
    let mut outer = Vec::new();
    let mut reduce = Vec::new();
    let mut ranges: Vec<UOp> = toposort(ast)
        .into_iter()
        .filter(|u| u.op() == Op::Range)
        .collect();
    ranges.sort_by_key(RangeKey::of);
    for r in ranges {
        let end = r.src()[0]
            .const_int()
            .map_or("n".to_string(), |e| e.to_string());
        match r.arg() {
            Arg::Range {
                kind: AxisType::Reduce,
                ..
            } => reduce.push(end),
            _ => outer.push(end),
        }
    }
    let prefix = if reduce.is_empty() { "E" } else { "r" };
    let mut parts = vec![prefix.to_string()];
    parts.extend(outer);
    parts.extend(reduce);
    if parts.len() == 1 {
        parts.push("1".into());
    }
    parts.join("_")
}

fn params(uops: &[UOp], sizes: &[usize]) -> Vec<ParamInfo> {
    let mut out: Vec<ParamInfo> = Vec::new();
    for u in uops.iter().filter(|u| u.op() == Op::Param) {
        let Arg::Param { slot } = u.arg() else {
            continue;
        };
        let written = uops.iter().any(|s| {
            s.op() == Op::Store && s.src()[0].op() == Op::Index && &s.src()[0].src()[0] == u
        });
        out.push(ParamInfo {
            slot: *slot,
            dtype: u.dtype(),
            size: sizes.get(*slot as usize).copied().unwrap_or(0),
            written,
        });
    }
    out.sort_by_key(|p| p.slot);
    out.dedup_by_key(|p| p.slot);
    out
}

/// Operations per run (ALU nodes times the iterations of their loops) and bytes moved
/// (every buffer once).
fn estimates(uops: &[UOp], params: &[ParamInfo]) -> (u64, u64) {
    let mut trips: Vec<u64> = vec![1];
    let mut ops = 0u64;
    for u in uops {
        match u.op() {
            Op::Range => {
                let extent = u.src()[0].const_int().unwrap_or(1).max(1) as u64;
                let outer = trips.last().copied().unwrap_or(1);
                trips.push(outer.saturating_mul(extent));
            }
            Op::End => {
                trips.pop();
            }
            op if op.is_alu() && !u.dtype().is_int() && u.dtype() != DType::Bool => {
                let lanes = u.lanes() as u64;
                ops = ops.saturating_add(trips.last().copied().unwrap_or(1) * lanes);
            }
            _ => {}
        }
    }
    let bytes = params
        .iter()
        .map(|p| (p.size * p.dtype.itemsize()) as u64)
        .sum();
    (ops, bytes)
}
