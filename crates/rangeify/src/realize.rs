//! Which tensor-graph nodes get a buffer. Always: the tensors asked for (SINK sources),
//! CONTIGUOUS and ASSIGN. Then, by the cost function (`cost.rs`): shared nodes worth storing, and
//! reductions that a consumer broadcasts. The decisions feed back (a stored node ends the
//! subgraphs of its users), so they are iterated to a fixed point.

use uop_ir::{Op, UOp, UOpMap, UOpSet, toposort};

use crate::cost::{MAX_RECOMPUTE_BUFFERS, Subgraph, store_before_broadcast, store_shared};

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
    realize_set_in(&toposort(sink), sink, shapes)
}

/// `realize_set` with the graph's `toposort` order given.
pub fn realize_set_in(order: &[UOp], sink: &UOp, shapes: &UOpMap<Vec<i64>>) -> UOpSet {
    let pos: UOpMap<usize> = order.iter().cloned().zip(0..).collect();
    let srcs: Vec<Vec<usize>> = order
        .iter()
        .map(|n| n.src().iter().map(|s| pos[s]).collect())
        .collect();
    let mut consumers = vec![0usize; order.len()];
    for s in srcs.iter().flatten() {
        consumers[*s] += 1;
    }
    let mut realized = vec![false; order.len()];
    for (i, n) in order.iter().enumerate() {
        realized[i] = matches!(n.op(), Op::Contiguous | Op::Assign);
    }
    for s in sink.src().iter().filter(|s| !is_leaf(s)) {
        realized[pos[s]] = true;
    }
    let mut sub = vec![Subgraph::default(); order.len()];
    let mut reads = vec![Reads::default(); order.len()];
    loop {
        let mut added = false;
        for (i, n) in order.iter().enumerate() {
            if n.op() == Op::Sink {
                continue;
            }
            // a reduction that this node broadcasts is stored first: it ends here
            if n.op() == Op::Expand && broadcasts(n, shapes) {
                let src = srcs[i][0];
                if !is_leaf(&order[src]) && !realized[src] && store_before_broadcast(&sub[src]) {
                    realized[src] = true;
                    added = true;
                }
            }
            let mut s = Subgraph {
                has_reduce: n.op() == Op::Reduce,
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
                    for &b in &reads[src].0 {
                        r.add(b);
                    }
                }
            }
            s.buffers_read = r.0.len();
            if !is_leaf(n) && !realized[i] && store_shared(&s, consumers[i]) {
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
