//! The THREAD opt: an output loop `r` of extent `n` is split across `t` threads:
//! `r -> core_id*(n/t) + r'`, with `r'` looping over `n/t`. Every thread runs the loops
//! around `r` in full and its own slice of `r`, so each output is still written once.
//! The heuristic (`split_threads`) takes the loop, outermost first, with the largest
//! divisor within the limit, among the loops every reduction depends on, and keeps
//! kernels with little work (all loop trips together) on one thread.

use std::collections::HashMap;

use uop_ir::{Arg, AxisType, Op, Special, UOp, substitute, toposort};

use crate::opts::output_ranges;
use crate::{LinearizeError, Target};

/// Below this many loop trips (all loops together) a kernel stays on one thread.
pub const THREAD_MIN_ELEMENTS: i64 = 1 << 15;

/// `ast` with one output loop split, and the thread count (1 when not split).
pub fn split_threads(ast: &UOp, target: &Target) -> Result<(UOp, usize), LinearizeError> {
    // the work of one run: the trip count of every loop, reductions included
    let elements: i64 = toposort(ast)
        .into_iter()
        .filter(|u| u.op() == Op::Range)
        .filter_map(|r| r.src()[0].const_int())
        .map(|e| e as i64)
        .fold(1i64, |a, e| a.saturating_mul(e));
    if target.max_threads < 2 || elements < THREAD_MIN_ELEMENTS {
        return Ok((ast.clone(), 1));
    }
    let mut best: Option<(i64, UOp)> = None;
    let allowed = crate::opts::reduce_loops(ast);
    for r in output_ranges(ast) {
        if allowed.as_ref().is_some_and(|a| !a.contains(&r)) {
            // every thread would run the reductions outside `r` for all of it
            continue;
        }
        let Some(n) = r.src()[0].const_int() else {
            continue;
        };
        let t = (2..=target.max_threads as i128)
            .rev()
            .find(|t| n % t == 0)
            .unwrap_or(1) as i64;
        if t > 1 && best.as_ref().is_none_or(|(b, _)| t > *b) {
            best = Some((t, r));
        }
    }
    let Some((t, r)) = best else {
        return Ok((ast.clone(), 1));
    };
    match thread_split(ast, &r, t)? {
        Some(split) => Ok((split, t as usize)),
        None => Ok((ast.clone(), 1)),
    }
}

/// THREAD of output loop `r` by `t`; `None` when `t` is below 2 or does not divide its
/// extent.
pub fn thread_split(ast: &UOp, r: &UOp, t: i64) -> Result<Option<UOp>, LinearizeError> {
    let (Some(n), Arg::Range { axis, .. }) = (r.src()[0].const_int(), r.arg()) else {
        return Ok(None);
    };
    if t < 2 || n % t as i128 != 0 {
        return Ok(None);
    }
    let per = (n / t as i128) as i64;
    let core = UOp::special(Special::Core, t);
    let inner = UOp::range_of(UOp::int(per), *axis, AxisType::Loop);
    let replaced = &core * per + &inner;
    let new = substitute(ast, &HashMap::from([(r.clone(), replaced)]));
    Ok(Some(symbolic::simplify(&new)?))
}
