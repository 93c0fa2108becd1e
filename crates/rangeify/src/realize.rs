//! Which tensor-graph nodes get a buffer. Always: the tensors asked for (SINK sources),
//! CONTIGUOUS and ASSIGN, and the nodes the caller forces (reductions that lowering found
//! could not be shared by their broadcast). Then, by the cost function (`cost.rs`):
//! shared nodes worth storing. The decisions feed back (a stored node ends the subgraphs
//! of its users, and splits kernels), so they are iterated to a fixed point.

use uop_ir::{Op, UOp, UOpMap, UOpSet, toposort};

use crate::cost::{MAX_RECOMPUTE_BUFFERS, Subgraph, store_shared};

/// A node that is storage already, or a value with no storage of its own.
pub fn is_leaf(u: &UOp) -> bool {
    matches!(u.op(), Op::Buffer | Op::Const | Op::DefineVar)
}

/// Whether an EXPAND grows some dim (a real broadcast).
fn broadcasts(expand: &UOp, shapes: &UOpMap<Vec<i64>>) -> bool {
    let (Some(out), Some(inp)) = (shapes.get(expand), shapes.get(&expand.src()[0])) else {
        return false;
    };
    out.iter().zip(inp).any(|(o, i)| o != i)
}

/// Distinct buffers a fused subgraph reads, by node position, counted up to `CAP` (beyond
/// `MAX_RECOMPUTE_BUFFERS` the number changes no decision).
#[derive(Clone, Default)]
struct Reads(Vec<usize>);

const CAP: usize = MAX_RECOMPUTE_BUFFERS + 1;

impl Reads {
    fn add(&mut self, i: usize) {
        if self.0.len() < CAP && !self.0.contains(&i) {
            self.0.push(i);
        }
    }
}

/// The set of nodes to realize, for the graph under `sink`.
pub fn realize_set(sink: &UOp, shapes: &UOpMap<Vec<i64>>) -> UOpSet {
    realize_set_in(&toposort(sink), sink, shapes, &UOpSet::default())
}

/// `realize_set` with the graph's `toposort` order given, and `forced` nodes realized.
pub fn realize_set_in(
    order: &[UOp],
    sink: &UOp,
    shapes: &UOpMap<Vec<i64>>,
    forced: &UOpSet,
) -> UOpSet {
    let pos: UOpMap<usize> = order.iter().cloned().zip(0..).collect();
    let srcs: Vec<Vec<usize>> = order
        .iter()
        .map(|n| n.src().iter().map(|s| pos[s]).collect())
        .collect();
    let mut users: Vec<Vec<usize>> = vec![Vec::new(); order.len()];
    for (i, s) in srcs.iter().enumerate() {
        for &src in s {
            users[src].push(i);
        }
    }
    let mut realized = vec![false; order.len()];
    for (i, n) in order.iter().enumerate() {
        realized[i] = matches!(n.op(), Op::Contiguous | Op::Assign) || forced.contains(n);
    }
    for s in sink.src().iter().filter(|s| !is_leaf(s)) {
        realized[pos[s]] = true;
    }
    let mut sub = vec![Subgraph::default(); order.len()];
    let mut reads = vec![Reads::default(); order.len()];
    loop {
        let mut added = false;
        let roots = kernel_roots(order, &users, &realized);
        let in_reduce = inside_reduction(order, &users, &realized);
        for (i, n) in order.iter().enumerate() {
            if n.op() == Op::Sink {
                continue;
            }
            // a reduction broadcast into another reduction's loop runs on every trip of
            // that loop unless that loop is over the broadcast dims: it is stored then
            // (lowering finds the other cases it could not share)
            if n.op() == Op::Expand && broadcasts(n, shapes) {
                let src = srcs[i][0];
                let shared = match &in_reduce[i] {
                    Enclosing::None => true,
                    Enclosing::Axes(axes) => axes.iter().all(|&a| broadcast_dim(n, a, shapes)),
                    Enclosing::Unknown => false,
                };
                if !shared && !is_leaf(&order[src]) && !realized[src] && sub[src].has_reduce {
                    realized[src] = true;
                    added = true;
                }
            }
            let mut s = Subgraph {
                has_reduce: n.op() == Op::Reduce,
                reduce_per_element: n.op() == Op::Reduce,
                buffers_read: 0,
            };
            let mut r = Reads::default();
            if n.op() == Op::Buffer {
                r.add(i);
            }
            for &src in &srcs[i] {
                if realized[src] || order[src].op() == Op::Buffer {
                    r.add(src);
                } else {
                    s.has_reduce |= sub[src].has_reduce;
                    s.reduce_per_element |= sub[src].reduce_per_element;
                    for &b in &reads[src].0 {
                        r.add(b);
                    }
                }
            }
            // behind a broadcast, a reduction runs once per kept index, not per element
            if n.op() == Op::Expand && broadcasts(n, shapes) {
                s.reduce_per_element = false;
            }
            s.buffers_read = r.0.len();
            let same_kernel = roots[i].is_some();
            if !is_leaf(n) && !realized[i] && store_shared(&s, users[i].len(), same_kernel) {
                realized[i] = true;
                added = true;
            }
            sub[i] = s;
            reads[i] = r;
        }
        if !added {
            return order
                .iter()
                .zip(realized)
                .filter(|(_, r)| *r)
                .map(|(n, _)| n.clone())
                .collect();
        }
    }
}

/// For each node, the realized node whose kernel computes it, when there is one: itself
/// if realized, else the root its users share (`None` when they are in different kernels).
fn kernel_roots(order: &[UOp], users: &[Vec<usize>], realized: &[bool]) -> Vec<Option<usize>> {
    let mut root: Vec<Option<usize>> = vec![None; order.len()];
    for i in (0..order.len()).rev() {
        root[i] = if realized[i] {
            Some(i)
        } else {
            let mut shared = users[i].iter().map(|&u| root[u]);
            match shared.next() {
                Some(Some(first)) if shared.all(|r| r == Some(first)) => Some(first),
                _ => None,
            }
        };
    }
    root
}

/// The reduction a node's value flows into within its kernel.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Enclosing {
    /// None: its kernel stores it without reducing it.
    None,
    /// A reduction over these axes, reached through elementwise ops (same shape).
    Axes(Vec<usize>),
    /// A reduction reached through movement ops, or several different ones.
    Unknown,
}

/// For each node, the reduction (if any) its value flows into in the kernel that computes
/// it (through nodes that are not stored).
fn inside_reduction(order: &[UOp], users: &[Vec<usize>], realized: &[bool]) -> Vec<Enclosing> {
    let mut inside = vec![Enclosing::None; order.len()];
    for i in (0..order.len()).rev() {
        let mut e = Enclosing::None;
        for &u in &users[i] {
            if realized[u] {
                continue;
            }
            let via = match (order[u].op(), order[u].arg()) {
                (Op::Reduce, uop_ir::Arg::Reduce { axes, .. }) => Enclosing::Axes(axes.to_vec()),
                (op, _) if op.is_elementwise() => inside[u].clone(),
                _ if inside[u] == Enclosing::None => Enclosing::None,
                _ => Enclosing::Unknown,
            };
            e = match (e, via) {
                (Enclosing::None, v) | (v, Enclosing::None) => v,
                (a, b) if a == b => a,
                _ => Enclosing::Unknown,
            };
        }
        inside[i] = e;
    }
    inside
}

/// Whether dim `axis` of EXPAND `n` is grown by it.
fn broadcast_dim(n: &UOp, axis: usize, shapes: &UOpMap<Vec<i64>>) -> bool {
    let (Some(out), Some(inp)) = (shapes.get(n), shapes.get(&n.src()[0])) else {
        return false;
    };
    matches!((out.get(axis), inp.get(axis)), (Some(o), Some(i)) if o != i)
}
