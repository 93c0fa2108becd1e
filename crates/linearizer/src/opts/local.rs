//! The LOCAL opt, for targets with workgroups (`Target::has_workgroups`, a GPU): an
//! output loop `r` of extent `n` split by `a` as `r -> r' * a + lidx`, so that `a`
//! threads of a workgroup take neighbouring outputs. It refuses a workgroup over the
//! target's limits (`workgroup::check_workgroup`).

use std::collections::HashMap;

use uop_ir::{Arg, UOp, substitute};

use super::workgroup::{check_workgroup, divisible, lidx, workgroup};
use crate::Target;

/// LOCAL of `r` by `amount`; `Ok(None)` when `amount` does not divide the extent.
pub fn local(ast: &UOp, r: &UOp, amount: i64, target: &Target) -> Result<Option<UOp>, String> {
    if crate::ranges::has_copies(ast) {
        return Err("the kernel copies into scratch, which a workgroup would share".into());
    }
    let (Some(n), Arg::Range { axis, kind }) = (divisible(r, amount), r.arg()) else {
        return Ok(None);
    };
    check_workgroup(ast, amount, target)?;
    let l = lidx(workgroup(ast).len(), amount);
    let split = if n == amount {
        l
    } else {
        UOp::range_of(UOp::int(n / amount), *axis, *kind) * amount + &l
    };
    Ok(Some(substitute(ast, &HashMap::from([(r.clone(), split)]))))
}
