//! The SWAP opt: two loops trade places by trading their axis numbers, which order the
//! loops of a kernel. Nothing else changes, so values stay exact.

use std::collections::HashMap;

use uop_ir::{Arg, UOp, substitute};

/// SWAP: the loops of `a` and `b` trade places (their axis numbers, which order loops).
pub fn swap(ast: &UOp, a: &UOp, b: &UOp) -> Option<UOp> {
    let (Arg::Range { axis: xa, kind: ka }, Arg::Range { axis: xb, kind: kb }) = (a.arg(), b.arg())
    else {
        return None;
    };
    if a == b {
        return None;
    }
    let pinned = crate::ranges::pinned(ast);
    if pinned.contains(a) || pinned.contains(b) {
        return None;
    }
    let a2 = UOp::range_of(a.src()[0].clone(), *xb, *ka);
    let b2 = UOp::range_of(b.src()[0].clone(), *xa, *kb);
    Some(substitute(
        ast,
        &HashMap::from([(a.clone(), a2), (b.clone(), b2)]),
    ))
}
