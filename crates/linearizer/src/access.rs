//! Memory accesses as the heuristics see them: the address of a load or store, how it
//! moves along a range (`stride`, `contiguous_in_blocks`), how often it runs, and how
//! well vectors along a range would serve it (`access_score`).

use std::collections::HashMap;

use uop_ir::{Arg, Op, UOp, substitute, toposort};

use crate::target::VectorTarget;

/// The address of a LOAD or STORE target, without a validity gate.
pub(crate) fn address(idx: &UOp) -> Option<&UOp> {
    if idx.op() != Op::Index {
        return None;
    }
    let off = idx.src().get(1)?;
    if off.op() == Op::Where && off.src()[2].is_invalid() {
        return Some(&off.src()[1]);
    }
    Some(off)
}

/// `off(r + 1) - off(r)` when it simplifies to a constant.
pub(crate) fn stride(off: &UOp, r: &UOp) -> Option<i128> {
    let next = substitute(off, &HashMap::from([(r.clone(), r + 1)]));
    symbolic::simplify(&(next - off)).ok()?.const_int()
}

/// Whether `off` is contiguous within blocks of `lanes` along `r`: with
/// `r = r' * lanes + k`, lane `k` reads `off(k = 0) + k`. This is the test the vector opt
/// makes; it holds for addresses that are not linear in `r` (floor division and modulo
/// by a multiple of `lanes`), where `stride` has no constant answer.
pub(crate) fn contiguous_in_blocks(off: &UOp, r: &UOp, lanes: u8) -> bool {
    let (Some(n), Arg::Range { axis, kind }) = (r.src()[0].const_int(), r.arg()) else {
        return false;
    };
    let outer = UOp::range_of(UOp::int((n / lanes as i128) as i64), *axis, *kind);
    let at = |k: i64| {
        let split = &outer * lanes as i64 + k;
        substitute(off, &HashMap::from([(r.clone(), split)]))
    };
    let base = at(0);
    (1..lanes as i64).all(|k| {
        symbolic::simplify(&(at(k) - &base))
            .ok()
            .and_then(|d| d.const_int())
            == Some(k as i128)
    })
}

/// How an access with address `off` scores for vectors of `lanes` along `r`: its `trips`
/// when contiguous, 0 when it does not move, minus its `trips` when it would be gathered.
pub(crate) fn access_score(off: &UOp, r: &UOp, lanes: u8, trips: i64) -> i64 {
    match stride(off, r) {
        Some(1) => trips,
        Some(0) => 0,
        Some(_) => -trips,
        None if contiguous_in_blocks(off, r, lanes) => trips,
        None => -trips,
    }
}

/// How often an access with address `off` runs: the product of the extents of the
/// ranges it depends on.
pub(crate) fn trips(off: &UOp) -> i64 {
    toposort(off)
        .iter()
        .filter(|u| u.op() == Op::Range)
        .filter_map(|r| r.src()[0].const_int())
        .fold(1i64, |a, e| a.saturating_mul(e as i64))
}

/// The addresses of the loads and stores of `nodes` that vectors of `target` could serve,
/// each with how often it runs.
pub(crate) fn vector_accesses<'a>(nodes: &'a [UOp], target: &VectorTarget) -> Vec<(&'a UOp, i64)> {
    nodes
        .iter()
        .filter_map(|u| match u.op() {
            Op::Load | Op::Store => u.src().first(),
            _ => None,
        })
        .filter(|idx| target.lanes(idx.dtype()).is_some())
        .filter_map(address)
        .map(|off| (off, trips(off)))
        .collect()
}

/// The lanes of a full vector of the narrowest vector dtype that `ast` reads or writes;
/// `None` when it accesses no dtype that `target` has vectors of.
pub(crate) fn full_lanes(ast: &UOp, target: &VectorTarget) -> Option<u8> {
    toposort(ast)
        .iter()
        .filter(|u| u.op() == Op::Index)
        .filter_map(|idx| target.lanes(idx.dtype()))
        .min()
}
