//! Ordering a kernel into a linear program. A depth-first walk from the SINK emits each
//! node after its sources; sources that need fewer open loops go first (so work that a
//! loop does not depend on is emitted before the loop opens); when a RANGE is first
//! needed, the ranges of its group (the kernel's output ranges, or one reduction's)
//! open together in axis order, so ENDs always close the innermost loop. Ties follow
//! source order, which is deterministic.

use std::collections::{BTreeSet, HashMap, HashSet};

use uop_ir::{Op, UOp};

use crate::reduce::RangeKey;

pub fn order(sink: &UOp, open: &HashMap<UOp, BTreeSet<RangeKey>>, groups: &[Vec<UOp>]) -> Vec<UOp> {
    let mut out: Vec<UOp> = Vec::new();
    let mut done: HashSet<UOp> = HashSet::new();
    let mut stack: Vec<(UOp, bool)> = vec![(sink.clone(), false)];
    while let Some((n, expanded)) = stack.pop() {
        if done.contains(&n) {
            continue;
        }
        if expanded {
            if n.op() == Op::Range {
                // open the whole group, in axis order
                let group = groups
                    .iter()
                    .find(|g| g.contains(&n))
                    .cloned()
                    .unwrap_or_else(|| vec![n.clone()]);
                for r in group {
                    if done.insert(r.clone()) {
                        for s in r.src() {
                            if done.insert(s.clone()) {
                                out.push(s.clone());
                            }
                        }
                        out.push(r);
                    }
                }
                continue;
            }
            done.insert(n.clone());
            out.push(n);
            continue;
        }
        stack.push((n.clone(), true));
        // what a loop's body needs but does not depend on the loop for (its accumulators,
        // loop-invariant math) is emitted before the loop opens
        let regs = if n.op() == Op::End {
            invariants_of(&n, open)
        } else {
            Vec::new()
        };
        let mut srcs: Vec<(usize, UOp)> = n
            .src()
            .iter()
            .filter(|s| !done.contains(*s))
            .cloned()
            .enumerate()
            .collect();
        // fewest open loops first; the stack pops the last pushed first
        srcs.sort_by_key(|(i, s)| (open.get(s).map_or(0, BTreeSet::len), *i));
        for (_, s) in srcs.into_iter().rev() {
            stack.push((s, false));
        }
        for r in regs.into_iter().rev().filter(|r| !done.contains(r)) {
            stack.push((r, false));
        }
    }
    out
}

/// The nodes in the body of `END(stmt, r)` that need only the loops around the END (not
/// `r`), sources first: loop-invariant values, and the RANGEs of those loops themselves,
/// so that they open before `r` does.
fn invariants_of(end: &UOp, open: &HashMap<UOp, BTreeSet<RangeKey>>) -> Vec<UOp> {
    let Some(outside) = open.get(end) else {
        return Vec::new();
    };
    uop_ir::toposort(&end.src()[0])
        .into_iter()
        .filter(|u| open.get(u).is_some_and(|o| o.is_subset(outside)))
        .collect()
}
