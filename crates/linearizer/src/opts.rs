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

use crate::reduce::{RangeKey, axis_of, range_of_axis, ranges_of_kind};
use crate::target::VectorTarget;
use crate::vectorize::is_loop;

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
    ranges_of_kind(ast, AxisType::Loop)
}

/// The output loops that every reduction of `ast` depends on (`None` without reductions).
/// A reduction that depends only on the outer output loops runs once per trip of those,
/// outside the rest: loops outside this set must stay outside it, and a thread that took
/// a slice of one of them would run such reductions for every trip of the others.
pub fn reduce_loops(ast: &UOp) -> Option<Vec<UOp>> {
    let outs = output_ranges(ast);
    let mut common: Option<Vec<UOp>> = None;
    for red in toposort(ast).iter().filter(|u| u.op() == Op::Reduce) {
        let deps = toposort(&red.src()[0]);
        let mine: Vec<UOp> = outs.iter().filter(|o| deps.contains(o)).cloned().collect();
        common = Some(match common {
            None => mine,
            Some(c) => c.into_iter().filter(|o| mine.contains(o)).collect(),
        });
    }
    common
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

/// SWAP: the loops of `a` and `b` trade places (their axis numbers, which order loops).
pub fn swap(ast: &UOp, a: &UOp, b: &UOp) -> Option<UOp> {
    let (Arg::Range { axis: xa, kind: ka }, Arg::Range { axis: xb, kind: kb }) = (a.arg(), b.arg())
    else {
        return None;
    };
    if a == b {
        return None;
    }
    let a2 = UOp::range_of(a.src()[0].clone(), *xb, *ka);
    let b2 = UOp::range_of(b.src()[0].clone(), *xa, *kb);
    Some(substitute(
        ast,
        &HashMap::from([(a.clone(), a2), (b.clone(), b2)]),
    ))
}

/// UNROLL: each innermost REDUCE over `r` becomes `u` reductions over `r/u` combined,
/// for the heuristics: every reduction over one range of at least `8u` trips.
pub fn unroll_reduces(ast: &UOp, u: i64) -> UOp {
    unroll_where(ast, u, |r| {
        r.src()[0].const_int().unwrap_or(0) >= 8 * u as i128
    })
}

/// UNROLL of the reductions over range `r` only; `None` when none is over `r` alone or
/// `u` does not divide its extent.
pub fn unroll(ast: &UOp, r: &UOp, u: i64) -> Option<UOp> {
    let out = unroll_where(ast, u, |x| x == r);
    (out != *ast).then_some(out)
}

fn unroll_where(ast: &UOp, u: i64, take: impl Fn(&UOp) -> bool) -> UOp {
    let mut replace = HashMap::new();
    for red in toposort(ast).into_iter().filter(|n| n.op() == Op::Reduce) {
        let Arg::Reduce { op, .. } = red.arg() else {
            continue;
        };
        let (value, ranges) = (&red.src()[0], &red.src()[1..]);
        if ranges.len() != 1
            || ranges[0].op() != Op::Range
            || !take(&ranges[0])
            || toposort(value).iter().any(|v| v.op() == Op::Reduce)
        {
            continue;
        }
        let Some((outer, lanes)) = split(&ranges[0], u, AxisType::Reduce) else {
            continue;
        };
        let parts: Vec<UOp> = lanes
            .iter()
            .map(|lane| {
                let v = substitute(value, &HashMap::from([(ranges[0].clone(), lane.clone())]));
                UOp::new_vec(
                    Op::Reduce,
                    red.dtype(),
                    v.lanes(),
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

/// The address of a LOAD or STORE target, without a validity gate.
fn address(idx: &UOp) -> Option<&UOp> {
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
fn stride(off: &UOp, r: &UOp) -> Option<i128> {
    let next = substitute(off, &HashMap::from([(r.clone(), r + 1)]));
    symbolic::simplify(&(next - off)).ok()?.const_int()
}

/// Whether `off` is contiguous within blocks of `lanes` along `r`: with
/// `r = r' * lanes + k`, lane `k` reads `off(k = 0) + k`. This is the test the vector opt
/// makes; it holds for addresses that are not linear in `r` (floor division and modulo
/// by a multiple of `lanes`), where `stride` has no constant answer.
fn contiguous_in_blocks(off: &UOp, r: &UOp, lanes: u8) -> bool {
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
fn access_score(off: &UOp, r: &UOp, lanes: u8, trips: i64) -> i64 {
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
fn trips(off: &UOp) -> i64 {
    toposort(off)
        .iter()
        .filter(|u| u.op() == Op::Range)
        .filter_map(|r| r.src()[0].const_int())
        .fold(1i64, |a, e| a.saturating_mul(e as i64))
}

/// The addresses of the loads and stores of `nodes` that vectors of `target` could serve,
/// each with how often it runs.
fn vector_accesses<'a>(nodes: &'a [UOp], target: &VectorTarget) -> Vec<(&'a UOp, i64)> {
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

/// The axis to split into vectors and the lanes: the range along which the most buffer
/// accesses of vector dtypes are contiguous (stride 1) minus those it scatters (strides
/// other than 0 and 1), each access weighted by how often it runs (`trips`), among
/// constant ranges that the lanes divide. Full vectors are tried first, then half as many
/// lanes, down to 2. Ties go to output
/// loops (no horizontal reduction), then to the later axis. `None` when no range scores
/// above 0.
pub fn choose_vector_axis(ast: &UOp, target: &VectorTarget) -> Option<(UOp, u8)> {
    let nodes = toposort(ast);
    let accesses = vector_accesses(&nodes, target);
    let full = nodes
        .iter()
        .filter(|u| u.op() == Op::Index)
        .filter_map(|idx| target.lanes(idx.dtype()))
        .min()?;
    // full vectors first, then halves down to pairs
    let widths = std::iter::successors(Some(full), |l| Some(l / 2)).take_while(|l| *l >= 2);
    let ranges: Vec<&UOp> = nodes.iter().filter(|u| u.op() == Op::Range).collect();
    for lanes in widths {
        let mut best: Option<((i64, bool, u32), UOp)> = None;
        for r in &ranges {
            let Some(n) = r.src()[0].const_int() else {
                continue;
            };
            let Arg::Range { axis, .. } = r.arg() else {
                continue;
            };
            if n % lanes as i128 != 0 {
                continue;
            }
            let score: i64 = accesses
                .iter()
                .map(|(off, trips)| access_score(off, r, lanes, *trips))
                .fold(0i64, i64::saturating_add);
            let rank = (score, is_loop(r), *axis);
            if score > 0 && best.as_ref().is_none_or(|(b, _)| rank > *b) {
                best = Some((rank, (*r).clone()));
            }
        }
        if let Some((_, r)) = best {
            return Some((r, lanes));
        }
    }
    None
}

/// After the main vector axis: each reduction range along which some load is contiguous
/// (and whose nodes are not vectors already) is split into vectors too, with the widest
/// lanes that divide it. In a kernel that runs reductions outside its output loop
/// (softmax's row max and sum), those reductions run on vectors as well.
pub fn vectorize_reductions(
    ast: &UOp,
    target: &VectorTarget,
) -> Result<UOp, crate::LinearizeError> {
    let mut cur = ast.clone();
    let Some(full) = toposort(ast)
        .iter()
        .filter(|u| u.op() == Op::Index)
        .filter_map(|idx| target.lanes(idx.dtype()))
        .min()
    else {
        return Ok(cur);
    };
    let reduces: Vec<UOp> = toposort(ast)
        .into_iter()
        .filter(|u| u.op() == Op::Range && !is_loop(u))
        .collect();
    for r in reduces {
        let Some(n) = r.src()[0].const_int() else {
            continue;
        };
        let nodes = toposort(&cur);
        let contiguous = nodes.iter().any(|u| {
            u.op() == Op::Load
                && u.lanes() == 1
                && u.src()
                    .first()
                    .and_then(address)
                    .is_some_and(|off| stride(off, &r) == Some(1))
        });
        if !contiguous {
            continue;
        }
        let widths = std::iter::successors(Some(full), |l| Some(l / 2)).take_while(|l| *l >= 2);
        let mut split = false;
        for lanes in widths.filter(|l| n % *l as i128 == 0) {
            if let Some(v) = crate::vectorize::vectorize(&cur, &r, lanes, target)? {
                cur = v;
                split = true;
                break;
            }
        }
        // no lane count divides it: pad it to whole vectors (the extra trips fold in the
        // identity) when it is four vectors long or more
        if !split
            && n >= 4 * full as i128
            && let Ok(Some(padded)) = crate::opt::padto(&cur, &r, 2 * full as i64)
            && let Some(r2) = axis_of(&r).and_then(|a| range_of_axis(&padded, a))
            && let Some(v) = crate::vectorize::vectorize(&padded, &r2, full, target)?
        {
            cur = v;
        }
    }
    Ok(cur)
}

/// When no range can be split into vectors because no lane count divides an extent (999
/// columns), the loop that vectors would serve best (an output loop or a reduction) is
/// padded (PADTO) to a multiple of twice the full lanes: its loads and stores get a gate
/// per lane, which the vector opt turns into masked loads and stores, and only the last
/// vector is partial. Loops shorter than four vectors are left as they are.
pub fn pad_for_vectors(ast: &UOp, target: &VectorTarget) -> UOp {
    if choose_vector_axis(ast, target).is_some() {
        return ast.clone();
    }
    let nodes = toposort(ast);
    let Some(lanes) = nodes
        .iter()
        .filter(|u| u.op() == Op::Index)
        .filter_map(|idx| target.lanes(idx.dtype()))
        .min()
    else {
        return ast.clone();
    };
    let accesses = vector_accesses(&nodes, target);
    let mut best: Option<(i64, UOp)> = None;
    let ranges = nodes.iter().filter(|u| {
        u.op() == Op::Range
            && matches!(
                u.arg(),
                Arg::Range {
                    kind: AxisType::Loop | AxisType::Reduce,
                    ..
                }
            )
    });
    for r in ranges.cloned() {
        if r.src()[0].const_int().is_none_or(|n| n < 4 * lanes as i128) {
            continue;
        }
        let score: i64 = accesses
            .iter()
            .map(|(off, trips)| match stride(off, &r) {
                Some(1) => *trips,
                Some(0) => 0,
                _ => -*trips,
            })
            .fold(0i64, i64::saturating_add);
        if score > 0 && best.as_ref().is_none_or(|(b, _)| score >= *b) {
            best = Some((score, r));
        }
    }
    match best {
        Some((_, r)) => match crate::opt::padto(ast, &r, 2 * lanes as i64) {
            Ok(Some(padded)) => padded,
            _ => ast.clone(),
        },
        None => ast.clone(),
    }
}

/// UPCAST by `u`, padding the loop to a multiple of `u` first when `u` does not divide
/// it (and it has at least `2u` trips).
fn upcast_padded(ast: &UOp, r: &UOp, u: i64) -> Option<UOp> {
    if let Some(next) = upcast(ast, r, u) {
        return Some(next);
    }
    let n = r.src()[0].const_int()?;
    if n < 2 * u as i128 {
        return None;
    }
    let padded = crate::opt::padto(ast, r, u).ok()??;
    upcast(&padded, &range_of_axis(&padded, axis_of(r)?)?, u)
}

/// The CPU heuristics. In reduction kernels: when the kernel will be vectorized along
/// `vector_axis`, upcast the last other output axis by 4 (four vector accumulators);
/// otherwise upcast the last output axis by 8 and the one before it by 4 where they
/// divide, and when no output axis can be upcast, unroll the reductions by 8.
/// Elementwise kernels are left to the vector opt.
pub fn cpu_heuristics(ast: &UOp, vector_axis: Option<&UOp>) -> UOp {
    let has_reduce = toposort(ast).iter().any(|u| u.op() == Op::Reduce);
    if !has_reduce {
        return ast.clone();
    }
    let outs = output_ranges(ast);
    if let Some(v) = vector_axis {
        for r in outs.iter().rev().filter(|r| *r != v) {
            if let Some(next) = upcast_padded(ast, r, 4) {
                return next;
            }
        }
        return ast.clone();
    }
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

/// After the vector opt split axis `r` into vectors, in reduction kernels: when `r` is
/// reduced and there is no output loop, UNROLL the reduction by 4. When `r` is an output
/// axis: UPCAST
/// the remaining loop of that axis by 2 (two vectors per output row: with the upcast of
/// `cpu_heuristics`, a 4x16 register tile in matmul), then SWAP the last two output loops
/// so the loop along the vector axis runs outside the other: the strip of the right-hand
/// operand it reads stays in cache while the rows of the left one stream through.
pub fn tile_vector_loop(ast: &UOp, r: &UOp) -> UOp {
    let Arg::Range { axis, .. } = r.arg() else {
        return ast.clone();
    };
    let Some(shared) = reduce_loops(ast) else {
        return ast.clone();
    };
    if !is_loop(r) {
        // a reduction along the vectors with no output upcast: one accumulator is bound
        // by the latency of its add, so unroll into four
        if output_ranges(ast).is_empty() {
            return unroll_reduces(ast, 4);
        }
        return ast.clone();
    }
    let mut cur = ast.clone();
    let outs = output_ranges(&cur);
    if let Some(next) = outs
        .iter()
        .find(|o| matches!(o.arg(), Arg::Range { axis: a, .. } if a == axis))
        .and_then(|o| upcast(&cur, o, 2))
    {
        cur = next;
    }
    let outs = output_ranges(&cur);
    // a reduction that runs outside a loop (softmax's row max) keeps that loop inside
    let every_reduce_inside = shared.len() == output_ranges(ast).len();
    if let [.., a, b] = &outs[..]
        && every_reduce_inside
        && let Some(next) = swap(&cur, a, b)
    {
        cur = next;
    }
    cur
}

/// The PACK heuristic, for reduction kernels: a load whose address jumps by a cache line
/// or more per trip of the innermost reduction loop it follows (and by more than it
/// reads: a vector load stepping by its width is contiguous), and that the loops inside
/// its innermost output loop read again (an output loop it does not depend on, of at
/// least 4 trips), is packed (`pack`) at that output loop while the scratch lasts
/// (`max_bytes` for the whole kernel). In matmul this copies each strip of B into a
/// contiguous panel once per strip, where every row of A would otherwise read it again
/// through a stride that maps it onto a few cache sets.
pub fn pack_strided(ast: &UOp, max_bytes: usize) -> UOp {
    let nodes = toposort(ast);
    if max_bytes == 0 || !nodes.iter().any(|u| u.op() == Op::Reduce) {
        return ast.clone();
    }
    let outs = output_ranges(ast);
    let mut chosen: Vec<(u32, UOp)> = Vec::new();
    for ld in nodes.iter().filter(|u| u.op() == Op::Load) {
        let Some(idx) = ld.src().first().filter(|i| i.op() == Op::Index) else {
            continue;
        };
        let (Some(buf), Some(off)) = (idx.src().first(), address(idx)) else {
            continue;
        };
        let Arg::Param { slot } = buf.arg() else {
            continue;
        };
        let deps: Vec<UOp> = toposort(off)
            .into_iter()
            .filter(|u| u.op() == Op::Range)
            .collect();
        let innermost_reduce = deps
            .iter()
            .filter(|r| !is_loop(r))
            .max_by_key(|r| RangeKey::of(r));
        // a vector load whose stride is its width reads contiguously: not strided
        let strided = innermost_reduce.is_some_and(|r| {
            stride(off, r).is_some_and(|s| {
                let s = s.unsigned_abs();
                s > ld.lanes() as u128 && s * ld.dtype().itemsize() as u128 >= 64
            })
        });
        let Some(at) = outs
            .iter()
            .filter(|o| deps.contains(o))
            .max_by_key(|o| RangeKey::of(o))
        else {
            continue;
        };
        let reused = outs.iter().any(|o| {
            RangeKey::of(o) > RangeKey::of(at)
                && !deps.contains(o)
                && o.src()[0].const_int().is_some_and(|e| e >= 4)
        });
        if strided && reused && !chosen.iter().any(|(s, _)| s == slot) {
            chosen.push((*slot, at.clone()));
        }
    }
    let mut cur = ast.clone();
    let mut left = max_bytes;
    for (slot, at) in chosen {
        let Some(bytes) = crate::pack::pack_bytes(&cur, slot, &at).filter(|b| *b <= left) else {
            continue;
        };
        if let Ok(Some(next)) = crate::pack::pack(&cur, slot, &at, left) {
            cur = next;
            left -= bytes;
        }
    }
    cur
}
