//! The UNROLL opt: a reduction over `r` split by `u`, `REDUCE(v, r) -> REDUCE(v[r'*u+0], r')
//! op ... op REDUCE(`v[r'*u+u-1]`, r')`: independent accumulators that share one loop, so
//! the loop is not bound by the latency of one add. Integer results stay exact; float
//! sums are reassociated (as numpy's pairwise summation also does).

use std::collections::HashMap;

use uop_ir::{Arg, AxisType, Op, UOp, substitute, toposort};

use crate::ranges::split_range;

/// UNROLL: each innermost REDUCE over `r` becomes `u` reductions over `r/u` combined,
/// for the heuristics: every reduction over one range of at least `8u` trips.
pub fn unroll_reduces(ast: &UOp, u: i64) -> UOp {
    unroll_where(ast, u, |r| {
        r.src()[0].const_int().unwrap_or(0) >= 8 * u as i128
    })
}

/// UNROLL of the reductions over range `r` only; `None` when none is over `r` alone or
/// `u` does not divide its extent.
pub fn unroll(ast: &UOp, r: &UOp, u: i64) -> Option<UOp> {
    let out = unroll_where(ast, u, |x| x == r);
    (out != *ast).then_some(out)
}

/// Every REDUCE over `r` (alone or with other ranges) written as the combination of its
/// value at each `r = k` (`REDUCE(v, a, r) -> REDUCE(v[r:=0], a) op .. op REDUCE(v[r:=n-1],
/// a)`): the loop over `r` disappears. For small masked axes, whose gates then fold.
pub fn unfold_reduce(ast: &UOp, r: &UOp) -> Option<UOp> {
    let n = r.src().first()?.const_int()?;
    let mut replace = HashMap::new();
    for red in toposort(ast).into_iter().filter(|n| n.op() == Op::Reduce) {
        let Arg::Reduce { op, .. } = red.arg() else {
            continue;
        };
        let (value, ranges) = (&red.src()[0], &red.src()[1..]);
        if !ranges.contains(r) {
            continue;
        }
        let others: Vec<UOp> = ranges.iter().filter(|x| *x != r).cloned().collect();
        let parts = (0..n).map(|k| {
            let v = substitute(value, &HashMap::from([(r.clone(), UOp::int(k as i64))]));
            if others.is_empty() {
                v
            } else {
                let mut src = vec![v.clone()];
                src.extend(others.iter().cloned());
                UOp::new_vec(Op::Reduce, red.dtype(), v.lanes(), src, red.arg().clone())
            }
        });
        let combined = parts.reduce(|a, b| UOp::alu(*op, [a, b]))?;
        replace.insert(red, combined);
    }
    (!replace.is_empty()).then(|| substitute(ast, &replace))
}

fn unroll_where(ast: &UOp, u: i64, take: impl Fn(&UOp) -> bool) -> UOp {
    let mut replace = HashMap::new();
    for red in toposort(ast).into_iter().filter(|n| n.op() == Op::Reduce) {
        let Arg::Reduce { op, .. } = red.arg() else {
            continue;
        };
        let (value, ranges) = (&red.src()[0], &red.src()[1..]);
        if ranges.len() != 1
            || ranges[0].op() != Op::Range
            || !take(&ranges[0])
            || toposort(value).iter().any(|v| v.op() == Op::Reduce)
        {
            continue;
        }
        let Some((outer, lanes)) = split_range(&ranges[0], u, AxisType::Reduce) else {
            continue;
        };
        let parts: Vec<UOp> = lanes
            .iter()
            .map(|lane| {
                let v = substitute(value, &HashMap::from([(ranges[0].clone(), lane.clone())]));
                UOp::new_vec(
                    Op::Reduce,
                    red.dtype(),
                    v.lanes(),
                    [v, outer.clone()],
                    red.arg().clone(),
                )
            })
            .collect();
        let combined = parts.into_iter().reduce(|a, b| UOp::alu(*op, [a, b]));
        if let Some(c) = combined {
            replace.insert(red, c);
        }
    }
    substitute(ast, &replace)
}
