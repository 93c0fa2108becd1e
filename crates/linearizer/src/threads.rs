//! The THREAD opt: the outermost output loop `r` of extent `n` is split across `t`
//! threads (`t` the largest divisor of `n` within the limit): `r -> core_id*(n/t) + r'`,
//! with `r'` looping over `n/t`. Kernels with little work (all loop trips together) stay
//! on one thread.

use std::collections::HashMap;

use uop_ir::{Arg, AxisType, Op, UOp, substitute, toposort};

use crate::reduce::RangeKey;
use crate::{LinearizeError, Opts};

/// `ast` with its outer loop split, and the thread count (1 when not split).
pub fn split_threads(ast: &UOp, opts: &Opts) -> Result<(UOp, usize), LinearizeError> {
    let mut outer: Vec<UOp> = toposort(ast)
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
    outer.sort_by_key(RangeKey::of);
    // the work of one run: the trip count of every loop, reductions included
    let elements: i64 = toposort(ast)
        .into_iter()
        .filter(|u| u.op() == Op::Range)
        .filter_map(|r| r.src()[0].const_int())
        .map(|e| e as i64)
        .fold(1i64, |a, e| a.saturating_mul(e));
    let Some(first) = outer.first() else {
        return Ok((ast.clone(), 1));
    };
    let Some(n) = first.src()[0].const_int() else {
        return Ok((ast.clone(), 1));
    };
    if opts.max_threads < 2 || elements < opts.thread_min_elements {
        return Ok((ast.clone(), 1));
    }
    let t = (2..=opts.max_threads as i128)
        .rev()
        .find(|t| n % t == 0)
        .unwrap_or(1);
    if t < 2 {
        return Ok((ast.clone(), 1));
    }
    let Arg::Range { axis, .. } = first.arg() else {
        return Ok((ast.clone(), 1));
    };
    let core = UOp::new(
        Op::Special,
        uop_ir::DType::Index,
        [UOp::int(t as i64)],
        Arg::Name("core_id".into()),
    );
    let inner = UOp::range_of(UOp::int((n / t) as i64), *axis, AxisType::Loop);
    let replaced = &core * ((n / t) as i64) + &inner;
    let new = substitute(ast, &HashMap::from([(first.clone(), replaced)]));
    Ok((symbolic::simplify(&new)?, t as usize))
}
