//! The PACK opt: the loads of one buffer inside an output loop are copied into scratch
//! memory (a DEFINE_LOCAL) at the start of every trip of that loop, laid out in the order
//! the loops inside it read them, and then read from there.
//!
//! For a load `LOAD(INDEX(buf, off(o.., i..)))`, with `o..` the ranges outside the stage
//! loop (and the loop itself) and `i..` the ranges inside it that the address or gate
//! depends on, PACK builds
//!
//! ```text
//! local = DEFINE_LOCAL(prod(extent(i..)) * lanes)
//! copy  = for s..: `local[flat(s..)]` = LOAD(INDEX(buf, off(o.., s..)))     (Stage ranges s..)
//! LOAD(INDEX(buf, off(o.., i..))) -> LOAD(INDEX(AFTER(local, copy), flat(i..)))
//! ```
//!
//! where `flat` is row-major over the `i..` in axis order (the innermost loop varies
//! fastest) times the lanes of a vector load. A gated load is copied with its gate, so
//! the scratch holds the gated value. The value a trip reads is the one it would have read
//! from `buf`, so PACK is exact; it pays when each copied element is read many times from
//! a layout the cache handles badly (matmul's right-hand operand: a strip of rows 2 KB
//! apart, read again for every row of the left one).
//!
//! It refuses a buffer the kernel writes (the copy would be stale), an address or gate that
//! holds a reduction, a non-constant extent, and scratch over the target's limit.

use std::collections::HashMap;

use uop_ir::{Arg, AxisType, DType, Op, UOp, substitute, toposort};

use crate::LinearizeError;
use crate::ranges::{RangeKey, next_axis, next_local};

/// Whether range `r` loops inside output loop `at`: a later output loop, or any
/// reduction (reductions run inside the output loops).
fn is_inside(r: &UOp, at: &UOp) -> bool {
    match (r.arg(), at.arg()) {
        (Arg::Range { axis, kind }, Arg::Range { axis: a, .. }) => match kind {
            AxisType::Loop => axis > a,
            AxisType::Reduce => true,
            _ => false,
        },
        _ => false,
    }
}

/// The PARAM slot a LOAD reads, if it reads a kernel buffer.
fn load_slot(ld: &UOp) -> Option<u32> {
    let idx = ld.src().first()?;
    let buf = idx.src().first()?;
    match (ld.op(), idx.op(), buf.op(), buf.arg()) {
        (Op::Load, Op::Index, Op::Param, Arg::Param { slot }) => Some(*slot),
        _ => None,
    }
}

/// The ranges inside `at` that load `ld` depends on (address, gate, alternative), in axis
/// order.
fn inner_ranges(ld: &UOp, at: &UOp) -> Vec<UOp> {
    let mut rs: Vec<UOp> = toposort(ld)
        .into_iter()
        .filter(|u| u.op() == Op::Range && is_inside(u, at))
        .collect();
    rs.sort_by_key(RangeKey::of);
    rs
}

/// Scratch bytes the loads of `slot` inside `at` would take (`None` when some extent is
/// not a constant).
pub fn pack_bytes(ast: &UOp, slot: u32, at: &UOp) -> Option<usize> {
    let mut total = 0usize;
    for ld in toposort(ast).iter().filter(|u| load_slot(u) == Some(slot)) {
        let inner = inner_ranges(ld, at);
        if inner.is_empty() {
            continue;
        }
        let mut elems = ld.lanes() as usize;
        for r in &inner {
            elems = elems.checked_mul(usize::try_from(r.src()[0].const_int()?).ok()?)?;
        }
        total = total.checked_add(elems.checked_mul(ld.dtype().itemsize())?)?;
    }
    Some(total)
}

/// PACK of the loads of buffer `slot` inside output loop `at`, using at most `max_bytes`
/// of scratch; `None` when no load of `slot` depends on a range inside `at`.
pub fn pack(
    ast: &UOp,
    slot: u32,
    at: &UOp,
    max_bytes: usize,
) -> Result<Option<UOp>, LinearizeError> {
    let refuse = |why: String| LinearizeError::Opt {
        opt: format!("PACK(buffer {slot})"),
        why,
    };
    let nodes = toposort(ast);
    let written = nodes.iter().any(|u| {
        u.op() == Op::Store
            && u.src()[0].op() == Op::Index
            && matches!(u.src()[0].src()[0].arg(), Arg::Param { slot: s } if *s == slot)
    });
    if written {
        return Err(refuse("the kernel writes that buffer".into()));
    }
    let bytes = pack_bytes(ast, slot, at)
        .ok_or_else(|| refuse("a loop inside it has no constant extent".into()))?;
    if bytes > max_bytes {
        return Err(refuse(format!(
            "it needs {bytes} bytes of scratch, over the limit of {max_bytes}"
        )));
    }
    let mut next_axis = next_axis(&nodes);
    let mut next_local = next_local(&nodes);
    let mut replace: HashMap<UOp, UOp> = HashMap::new();
    for ld in nodes.iter().filter(|u| load_slot(u) == Some(slot)) {
        let inner = inner_ranges(ld, at);
        if inner.is_empty() {
            continue;
        }
        if toposort(ld).iter().any(|u| u.op() == Op::Reduce) {
            return Err(refuse("an address or gate holds a reduction".into()));
        }
        let stage: Vec<UOp> = inner
            .iter()
            .map(|r| {
                let s = UOp::range_of(r.src()[0].clone(), next_axis, AxisType::Stage);
                next_axis += 1;
                s
            })
            .collect();
        let lanes = ld.lanes() as i64;
        let extents: Vec<i64> = inner
            .iter()
            .map(|r| r.src()[0].const_int().map_or(1, |e| e as i64))
            .collect();
        let size = extents.iter().product::<i64>() * lanes;
        let local = UOp::new(
            Op::DefineLocal,
            ld.dtype(),
            [UOp::int(size)],
            Arg::Param { slot: next_local },
        );
        next_local += 1;
        let flat = |rs: &[UOp]| {
            let mut off = UOp::int(0);
            for (r, e) in rs.iter().zip(&extents) {
                off = off * *e + r;
            }
            symbolic::simplify(&(off * lanes))
        };
        let to_stage: HashMap<UOp, UOp> =
            inner.iter().cloned().zip(stage.iter().cloned()).collect();
        let copied = substitute(ld, &to_stage);
        let index = |buf: UOp, off: UOp| UOp::new(Op::Index, ld.dtype(), [buf, off], Arg::None);
        let store = UOp::new(
            Op::Store,
            DType::Void,
            [index(local.clone(), flat(&stage)?), copied],
            Arg::None,
        );
        let copy = stage.iter().rev().fold(store, |st, r| {
            UOp::new(Op::End, DType::Void, [st, r.clone()], Arg::None)
        });
        let after = UOp::new(Op::After, ld.dtype(), [local, copy], Arg::None);
        let read = UOp::new_vec(
            Op::Load,
            ld.dtype(),
            ld.lanes(),
            [index(after, flat(&inner)?)],
            Arg::None,
        );
        replace.insert(ld.clone(), read);
    }
    if replace.is_empty() {
        return Ok(None);
    }
    Ok(Some(substitute(ast, &replace)))
}
