//! Which tensor-graph nodes get a buffer. Always: the tensors asked for (SINK sources),
//! CONTIGUOUS and ASSIGN. Then, by the cost function (`cost.rs`): shared nodes worth storing, and
//! reductions that a consumer broadcasts. The decisions feed back (a stored node ends the
//! subgraphs of its users), so they are iterated to a fixed point.

use std::collections::{HashMap, HashSet};

use uop_ir::{Op, UOp, toposort};

use crate::cost::{Subgraph, store_before_broadcast, store_shared};

/// A node that is storage already, or a value with no storage of its own.
pub fn is_leaf(u: &UOp) -> bool {
    matches!(u.op(), Op::Buffer | Op::Const | Op::DefineVar)
}

/// Whether an EXPAND grows some dim (a real broadcast).
fn broadcasts(expand: &UOp, shapes: &HashMap<UOp, Vec<i64>>) -> bool {
    let (Some(out), Some(inp)) = (shapes.get(expand), shapes.get(&expand.src()[0])) else {
        return false;
    };
    out.iter().zip(inp).any(|(o, i)| o != i)
}

/// The set of nodes to realize, for the graph under `sink`.
pub fn realize_set(sink: &UOp, shapes: &HashMap<UOp, Vec<i64>>) -> HashSet<UOp> {
    let order = toposort(sink);
    let mut consumers: HashMap<UOp, usize> = HashMap::new();
    for n in &order {
        for s in n.src() {
            *consumers.entry(s.clone()).or_default() += 1;
        }
    }
    let mut realized: HashSet<UOp> = sink.src().iter().filter(|s| !is_leaf(s)).cloned().collect();
    realized.extend(
        order
            .iter()
            .filter(|n| matches!(n.op(), Op::Contiguous | Op::Assign))
            .cloned(),
    );
    loop {
        let mut sub: HashMap<UOp, Subgraph> = HashMap::new();
        let mut reads: HashMap<UOp, HashSet<UOp>> = HashMap::new();
        let mut added = false;
        for n in &order {
            if n.op() == Op::Sink {
                continue;
            }
            // a reduction that this node broadcasts is stored first: it ends here
            if n.op() == Op::Expand && broadcasts(n, shapes) {
                let src = &n.src()[0];
                if !is_leaf(src)
                    && !realized.contains(src)
                    && sub.get(src).is_some_and(store_before_broadcast)
                {
                    added |= realized.insert(src.clone());
                }
            }
            let mut s = Subgraph {
                has_reduce: n.op() == Op::Reduce,
                buffers_read: 0,
            };
            let mut r: HashSet<UOp> = HashSet::new();
            if n.op() == Op::Buffer {
                r.insert(n.clone());
            }
            for src in n.src() {
                if realized.contains(src) || src.op() == Op::Buffer {
                    r.insert(src.clone());
                } else if let (Some(ss), Some(sr)) = (sub.get(src), reads.get(src)) {
                    s.has_reduce |= ss.has_reduce;
                    r.extend(sr.iter().cloned());
                }
            }
            s.buffers_read = r.len();
            if !is_leaf(n)
                && !realized.contains(n)
                && store_shared(&s, consumers.get(n).copied().unwrap_or(0))
            {
                added |= realized.insert(n.clone());
            }
            sub.insert(n.clone(), s);
            reads.insert(n.clone(), r);
        }
        if !added {
            return realized;
        }
    }
}
