//! The THREAD opt: the outermost output loop `r` of extent `n` is split across `t`
//! threads: `r -> core_id*(n/t) + r'`, with `r'` looping over `n/t`. The heuristic
//! (`split_threads`) takes the largest divisor of `n` within the limit, and keeps kernels
//! with little work (all loop trips together) on one thread.

use std::collections::HashMap;

use uop_ir::{Arg, AxisType, Op, UOp, substitute, toposort};

use crate::opts::output_ranges;
use crate::{LinearizeError, Opts};

/// `ast` with its outer loop split, and the thread count (1 when not split).
pub fn split_threads(ast: &UOp, opts: &Opts) -> Result<(UOp, usize), LinearizeError> {
    // the work of one run: the trip count of every loop, reductions included
    let elements: i64 = toposort(ast)
        .into_iter()
        .filter(|u| u.op() == Op::Range)
        .filter_map(|r| r.src()[0].const_int())
        .map(|e| e as i64)
        .fold(1i64, |a, e| a.saturating_mul(e));
    let Some(n) = output_ranges(ast)
        .first()
        .and_then(|r| r.src()[0].const_int())
    else {
        return Ok((ast.clone(), 1));
    };
    if opts.max_threads < 2 || elements < opts.thread_min_elements {
        return Ok((ast.clone(), 1));
    }
    let t = (2..=opts.max_threads as i128)
        .rev()
        .find(|t| n % t == 0)
        .unwrap_or(1);
    match thread_split(ast, t as i64)? {
        Some(split) => Ok((split, t as usize)),
        None => Ok((ast.clone(), 1)),
    }
}

/// THREAD by `t`: the outermost output loop split across `t` threads; `None` when the
/// kernel has no output loop, or `t` is below 2 or does not divide its extent.
pub fn thread_split(ast: &UOp, t: i64) -> Result<Option<UOp>, LinearizeError> {
    let Some(first) = output_ranges(ast).first().cloned() else {
        return Ok(None);
    };
    let (Some(n), Arg::Range { axis, .. }) = (first.src()[0].const_int(), first.arg()) else {
        return Ok(None);
    };
    if t < 2 || n % t as i128 != 0 {
        return Ok(None);
    }
    let per = (n / t as i128) as i64;
    let core = UOp::new(
        Op::Special,
        uop_ir::DType::Index,
        [UOp::int(t)],
        Arg::Name("core_id".into()),
    );
    let inner = UOp::range_of(UOp::int(per), *axis, AxisType::Loop);
    let replaced = &core * per + &inner;
    let new = substitute(ast, &HashMap::from([(first, replaced)]));
    Ok(Some(symbolic::simplify(&new)?))
}
