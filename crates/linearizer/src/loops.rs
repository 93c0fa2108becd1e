//! Closing the output loops, a stage of `linearize`: every store of the kernel is wrapped
//! in ENDs of the loops it is open in, innermost first. Stores open in the same loops
//! share them (one GROUP under one chain of ENDs), so a loop is closed once.

use std::collections::BTreeSet;

use uop_ir::{Arg, DType, Op, UOp};

use crate::ranges::{RangeKey, open_ranges};

/// `ast` (a SINK of stores) with every store's loops closed.
pub fn close_loops(ast: &UOp) -> UOp {
    let open = open_ranges(ast);
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
    ast.with_src(stmts)
}
