//! Rule sets over a linear program: `rewrite_program` applies a `PatternMatcher` to every
//! node of a `LinearProgram` at once (`graph_rewrite` over a SINK of all of them) and
//! puts the result back in execution order.
//!
//! Each node of the program is replaced by its rewrite, in its place, so statements and
//! loops keep their order. Constants and buffers, which emit no statement and are in
//! scope everywhere, move to the front. The other nodes a rewrite made that the program
//! did not have are placed right after the last of their sources, which is the outermost
//! place where all of them are in scope: before the loop a value does not depend on, as
//! the linearizer would have put it. A program the rules do not change is returned as it
//! was.

use std::collections::HashSet;

use renderer::LinearProgram;
use uop_ir::{Arg, DType, Mode, Op, PatternMatcher, RewriteError, UOp, graph_rewrite};

/// `program` with `rules` applied to every node (see the module doc).
pub fn rewrite_program(
    program: &LinearProgram,
    rules: &PatternMatcher,
) -> Result<LinearProgram, RewriteError> {
    let sink = UOp::new(Op::Sink, DType::Void, program.uops.clone(), Arg::None);
    let rewritten = graph_rewrite(&sink, rules, &mut (), Mode::PostOrder)?;
    if rewritten == sink {
        return Ok(program.clone());
    }
    let mut placed: HashSet<UOp> = HashSet::new();
    // constants and buffers first: they emit nothing, and any node may use them
    let mut everywhere: Vec<UOp> = Vec::new();
    let mut uops: Vec<UOp> = Vec::with_capacity(program.uops.len());
    for new in rewritten.src() {
        if placed.contains(new) {
            continue;
        }
        for fresh in unplaced_sources(new, &placed) {
            if in_scope_everywhere(&fresh) {
                everywhere.push(fresh.clone());
            } else {
                let after = uops.iter().rposition(|u| fresh.src().contains(u));
                uops.insert(after.map_or(0, |p| p + 1), fresh.clone());
            }
            placed.insert(fresh);
        }
        placed.insert(new.clone());
        if in_scope_everywhere(new) {
            everywhere.push(new.clone());
        } else {
            uops.push(new.clone());
        }
    }
    everywhere.extend(uops);
    Ok(LinearProgram {
        uops: everywhere,
        ..program.clone()
    })
}

/// Constants and buffers: a renderer can use them anywhere, whatever their position.
fn in_scope_everywhere(u: &UOp) -> bool {
    matches!(u.op(), Op::Const | Op::Param)
}

/// The sources of `root` (not `root` itself) that are not placed yet, sources first,
/// found without walking below placed nodes.
fn unplaced_sources(root: &UOp, placed: &HashSet<UOp>) -> Vec<UOp> {
    let mut out = Vec::new();
    let mut seen: HashSet<UOp> = HashSet::new();
    let mut stack: Vec<(UOp, bool)> = root
        .src()
        .iter()
        .rev()
        .map(|s| (s.clone(), false))
        .collect();
    while let Some((u, expanded)) = stack.pop() {
        if expanded {
            out.push(u);
            continue;
        }
        if placed.contains(&u) || !seen.insert(u.clone()) {
            continue;
        }
        stack.push((u.clone(), true));
        stack.extend(u.src().iter().rev().map(|s| (s.clone(), false)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use renderer::LaunchDims;
    use uop_ir::{AxisType, UPat};

    fn program(uops: Vec<UOp>) -> LinearProgram {
        LinearProgram {
            name: "k".into(),
            uops,
            params: Vec::new(),
            dims: LaunchDims::default(),
            ops: 0,
            bytes: 0,
        }
    }

    #[test]
    fn new_nodes_go_right_after_their_last_source() {
        // for i: for j: out[i] = (i + 1) * j   with  x * j -> (x + x) * j  as the rule
        let out = UOp::new(Op::Param, DType::Index, [], Arg::Param { slot: 0 });
        let i = UOp::range(4, 0);
        let j = UOp::range_of(UOp::int(3), 1, AxisType::Loop);
        let x = &i + 1;
        let v = &x * &j;
        let idx = UOp::new(Op::Index, DType::Index, [out.clone(), i.clone()], Arg::None);
        let st = UOp::new(Op::Store, DType::Void, [idx.clone(), v.clone()], Arg::None);
        let end_j = UOp::new(Op::End, DType::Void, [st.clone(), j.clone()], Arg::None);
        let end_i = UOp::new(Op::End, DType::Void, [end_j.clone(), i.clone()], Arg::None);
        let p = program(vec![
            out.clone(),
            i.clone(),
            x.clone(),
            j.clone(),
            v,
            idx,
            st,
            end_j,
            end_i,
        ]);
        let pm: PatternMatcher = PatternMatcher::new().rule(
            "x*j -> (x+x)*j",
            UPat::op(Op::Mul).src([UPat::var("x"), UPat::op(Op::Range).named("j")]),
            |b| {
                (b["x"].op() != Op::Add || b["x"].src()[0] != b["x"].src()[1])
                    .then(|| (&b["x"] + &b["x"]) * &b["j"])
            },
        );
        let got = rewrite_program(&p, &pm).expect("rewrites");
        // (constants come first)
        let ops: Vec<Op> = got
            .uops
            .iter()
            .map(UOp::op)
            .filter(|op| *op != Op::Const)
            .collect();
        // x + x depends on i only: it goes right after x, before the loop over j opens
        assert_eq!(
            ops,
            [
                Op::Param,
                Op::Range,
                Op::Add,
                Op::Add,
                Op::Range,
                Op::Mul,
                Op::Index,
                Op::Store,
                Op::End,
                Op::End
            ]
        );
        assert_eq!(
            rewrite_program(&got, &PatternMatcher::new()).expect("same"),
            got
        );
    }
}
