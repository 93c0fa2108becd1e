//! The UPCAST opt: an output loop `r` split by `u` as `r -> r'*u + k` for `k in 0..u`,
//! every store copied per `k`. In a reduction kernel this computes `u` outputs per loop
//! trip with `u` independent accumulators, and makes loads along that axis contiguous
//! (matmul reads a row of B as a vector). Values stay exact.

use std::collections::HashMap;

use uop_ir::{AxisType, UOp, substitute};

use crate::ranges::split_range;

/// UPCAST: every store of `ast` copied for each lane of `r` split by `u`.
pub fn upcast(ast: &UOp, r: &UOp, u: i64) -> Option<UOp> {
    if crate::ranges::pinned(ast).contains(r) {
        return None;
    }
    let (_, lanes) = split_range(r, u, AxisType::Loop)?;
    let mut stores = Vec::new();
    for s in ast.src() {
        for lane in &lanes {
            stores.push(substitute(s, &HashMap::from([(r.clone(), lane.clone())])));
        }
    }
    Some(ast.with_src(stores))
}
