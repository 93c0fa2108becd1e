//! The THREAD opt: an output loop `r` of extent `n` is split across `t` host threads:
//! `r -> core_id*(n/t) + r'`, with `r'` looping over `n/t`. Every thread runs the loops
//! around `r` in full and its own slice of `r`, so each output is still written once.
//! The heuristic that picks the loop is `heuristics::split_threads`.

use std::collections::HashMap;

use uop_ir::{Arg, AxisType, Special, UOp, substitute};

use crate::LinearizeError;

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
