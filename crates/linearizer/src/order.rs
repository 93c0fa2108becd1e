//! Ordering a kernel into a linear program, the last stage of `linearize`. A depth-first
//! walk from the SINK emits each node after its sources; sources that need fewer open
//! loops go first (so work that a loop does not depend on is emitted before the loop
//! opens); when a RANGE is first needed, the ranges of its group (`range_groups`: the
//! kernel's output ranges, or one reduction's) open together in axis order, so ENDs
//! always close the innermost loop. Ties follow source order, which is deterministic.

use std::collections::{BTreeSet, HashMap, HashSet};

use uop_ir::{Op, UOp, hoist_depth, toposort};

use crate::ranges::{RangeKey, is_output, open_ranges};

/// The nodes of `sink` (its loops closed by ENDs) in execution order, the SINK left out.
pub fn linear_order(sink: &UOp) -> Vec<UOp> {
    let open = open_ranges(sink);
    let groups = range_groups(sink, &open);
    order(sink, &open, &groups)
        .into_iter()
        .filter(|u| u.op() != Op::Sink)
        .collect()
}

fn order(sink: &UOp, open: &HashMap<UOp, BTreeSet<RangeKey>>, groups: &[Vec<UOp>]) -> Vec<UOp> {
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
    let inner: HashSet<UOp> = order
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
    let axes: Vec<u32> = outer.iter().map(|r| r.axis).collect();
    // the contract with rangeify (`uop_ir::hoist_depth`): such a chain runs once per trip
    // of the output loops it needs when they are the first `k`
    let mut cuts: BTreeSet<usize> = inner_loops
        .iter()
        .filter_map(|c| {
            let needs: Vec<u32> = open[c]
                .iter()
                .filter(|r| is_output(&r.range.0))
                .map(|r| r.axis)
                .collect();
            hoist_depth(&axes, &needs).filter(|k| *k > 0 && *k < outer.len())
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
