//! Kernel optimizations as splits of a range, chosen by CPU heuristics:
//! - UPCAST an output axis by `u`: `r -> r'*u + k` for `k in 0..u`, every store copied per
//!   `k`. In a reduction kernel this computes `u` outputs per loop trip with `u`
//!   independent accumulators, and makes loads along that axis contiguous (matmul reads a
//!   row of B as a vector).
//! - UNROLL a reduction by `u`: `REDUCE(v, r) -> REDUCE(v[r'*u+0], r') op ... op
//!   REDUCE(v[r'*u+u-1], r')`, independent accumulators that share one loop, so the loop is
//!   not bound by the latency of one add.
//!
//! Both keep values exact for integers; float reductions are reassociated (as numpy's
//! pairwise summation also does).

use std::collections::HashMap;

use uop_ir::{Arg, AxisType, Op, UOp, substitute, toposort};

use crate::reduce::RangeKey;

/// The range split `r -> r'*u + k`: the new range and the expression for each `k`.
fn split(r: &UOp, u: i64, kind: AxisType) -> Option<(UOp, Vec<UOp>)> {
    if r.op() != Op::Range {
        return None;
    }
    let n = r.src().first()?.const_int()? as i64;
    let Arg::Range { axis, .. } = r.arg() else {
        return None;
    };
    if n % u != 0 || n < u {
        return None;
    }
    let outer = UOp::range_of(UOp::int(n / u), *axis, kind);
    let lanes = (0..u)
        .map(|k| if n == u { UOp::int(k) } else { &outer * u + k })
        .collect();
    Some((outer, lanes))
}

/// Output (loop) ranges of the kernel in axis order.
pub fn output_ranges(ast: &UOp) -> Vec<UOp> {
    let mut v: Vec<UOp> = toposort(ast)
        .into_iter()
        .filter(|u| {
            u.op() == Op::Range
                && matches!(
                    u.arg(),
                    Arg::Range {
                        kind: AxisType::Loop,
                        ..
                    }
                )
        })
        .collect();
    v.sort_by_key(RangeKey::of);
    v
}

/// UPCAST: every store of `ast` copied for each lane of `r` split by `u`.
pub fn upcast(ast: &UOp, r: &UOp, u: i64) -> Option<UOp> {
    let (_, lanes) = split(r, u, AxisType::Loop)?;
    let mut stores = Vec::new();
    for s in ast.src() {
        for lane in &lanes {
            stores.push(substitute(s, &HashMap::from([(r.clone(), lane.clone())])));
        }
    }
    Some(ast.with_src(stores))
}

/// UNROLL: each innermost REDUCE over `r` becomes `u` reductions over `r/u` combined.
pub fn unroll_reduces(ast: &UOp, u: i64) -> UOp {
    let mut replace = HashMap::new();
    for red in toposort(ast).into_iter().filter(|n| n.op() == Op::Reduce) {
        let Arg::Reduce { op, .. } = red.arg() else {
            continue;
        };
        let (value, ranges) = (&red.src()[0], &red.src()[1..]);
        if ranges.len() != 1
            || ranges[0].op() != Op::Range
            || toposort(value).iter().any(|v| v.op() == Op::Reduce)
        {
            continue;
        }
        let Some((outer, lanes)) = split(&ranges[0], u, AxisType::Reduce) else {
            continue;
        };
        if ranges[0].src()[0].const_int().unwrap_or(0) < 8 * u as i128 {
            continue;
        }
        let parts: Vec<UOp> = lanes
            .iter()
            .map(|lane| {
                let v = substitute(value, &HashMap::from([(ranges[0].clone(), lane.clone())]));
                UOp::new(
                    Op::Reduce,
                    red.dtype(),
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

/// The CPU heuristics: in reduction kernels, upcast the last output axis by 8 and the
/// one before it by 4 where they divide; when no output axis can be upcast, unroll the
/// reductions by 8.
pub fn cpu_heuristics(ast: &UOp) -> UOp {
    let has_reduce = toposort(ast).iter().any(|u| u.op() == Op::Reduce);
    if !has_reduce {
        return ast.clone();
    }
    let outs = output_ranges(ast);
    let mut cur = ast.clone();
    let mut upcasted = false;
    for (pos, amount) in [(1usize, 8i64), (2, 4)] {
        let Some(r) = outs.len().checked_sub(pos).map(|i| outs[i].clone()) else {
            continue;
        };
        if let Some(next) = upcast(&cur, &r, amount) {
            cur = next;
            upcasted = true;
        }
    }
    if upcasted {
        cur
    } else {
        unroll_reduces(&cur, 8)
    }
}
