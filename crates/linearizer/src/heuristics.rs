//! The heuristics: the opts a kernel gets when no list is given, chosen from the kernel
//! and its `Target`. In order (`heuristics`):
//!
//! 1. PADTO a loop that no lane count divides, so that it vectorizes (`pad_for_vectors`).
//! 2. Choose the vector axis (`choose_vector_axis`), then UPCAST or UNROLL around it
//!    (`cpu_heuristics`).
//! 3. VECTOR on that axis, and tile the loops after it (`tile_vector_loop`).
//! 4. VECTOR on every other reduction that reads contiguously (`vectorize_reductions`).
//! 5. THREAD: split a loop across the host's threads (`split_threads`).
//! 6. PACK strided operands into scratch (`pack_strided`), on targets without workgroups.
//!
//! Every choice is made by applying the opts of `opts/`; the heuristics only pick which.

use uop_ir::{Arg, AxisType, Op, UOp, toposort};

use crate::access::{access_score, address, full_lanes, stride, vector_accesses};
use crate::opts::pack::{pack, pack_bytes};
use crate::opts::padto::padto;
use crate::opts::swap::swap;
use crate::opts::thread::thread_split;
use crate::opts::unroll::unroll_reduces;
use crate::opts::upcast::upcast;
use crate::opts::vector::vectorize;
use crate::ranges::{RangeKey, axis_of, is_loop, output_ranges, range_of_axis, reduce_loops};
use crate::target::VectorTarget;
use crate::{LinearizeError, Target};

/// Below this many loop trips (all loops together) a kernel stays on one thread.
pub const THREAD_MIN_ELEMENTS: i64 = 1 << 15;

/// The heuristics' opts applied to `ast`, in the order of the module doc. THREAD splits
/// the loops as tiling left them (in matmul, the strips of B, so that each thread packs
/// only its own).
pub fn heuristics(ast: &UOp, target: &Target) -> Result<UOp, LinearizeError> {
    let vector = target.vector.as_ref();
    let (unfolded, copies) = unfold_masked_axes(ast);
    let ast = symbolic::simplify(&unfolded)?;
    let ast = match vector {
        Some(t) => pad_for_vectors(&ast, t),
        None => ast.clone(),
    };
    let axis = vector.and_then(|t| choose_vector_axis(&ast, t));
    // an unfolded kernel already does several copies of its work per trip: no more tiling
    let tiled = if copies > 1 {
        ast
    } else {
        cpu_heuristics(&ast, axis.as_ref().map(|(r, _)| r))
    };
    let mut ast = symbolic::simplify(&tiled)?;
    if let Some(t) = vector
        && let Some((r, lanes)) = choose_vector_axis(&ast, t)
        && let Some(v) = vectorize(&ast, &r, lanes, t)?
    {
        ast = tile_vector_loop(&v, &r);
    }
    if let Some(t) = vector {
        ast = vectorize_reductions(&ast, t)?;
    }
    let (ast, _) = split_threads(&ast, target)?;
    // PACK's copy is not shared out across a workgroup: CPU targets only
    if target.has_workgroups() {
        return Ok(ast);
    }
    Ok(pack_strided(&ast, target.scratch_bytes))
}

/// The most trips of a masked axis that `unfold_masked_axes` unfolds, and of all of them.
const MASKED_AXIS_MAX: i128 = 7;
const MASKED_UNFOLD_MAX: i128 = 16;

/// Small axes that gates test (window offsets of a convolution or a pool, the pieces of a
/// `cat`) are unfolded: an output loop is upcast whole, a reduction is written out per
/// value. Each copy's gates then compare constants and fold, so a copy reads only the
/// piece that is really there instead of testing every piece on every trip. Returns the
/// kernel and how many copies of its body it now holds.
pub fn unfold_masked_axes(ast: &UOp) -> (UOp, i128) {
    let nodes = toposort(ast);
    let mut masked: Vec<UOp> = Vec::new();
    for u in &nodes {
        let gate = match u.op() {
            Op::Load if u.src().len() > 1 => &u.src()[1],
            Op::Where => &u.src()[0],
            _ => continue,
        };
        for r in toposort(gate).into_iter().filter(|x| x.op() == Op::Range) {
            let small = r.src()[0]
                .const_int()
                .is_some_and(|n| (2..=MASKED_AXIS_MAX).contains(&n));
            if small && !masked.contains(&r) {
                masked.push(r);
            }
        }
    }
    let mut cur = ast.clone();
    let mut total: i128 = 1;
    for r in masked {
        let n = r.src()[0].const_int().unwrap_or(1);
        if total * n > MASKED_UNFOLD_MAX {
            continue;
        }
        let next = if crate::ranges::is_output(&r) {
            upcast(&cur, &r, n as i64)
        } else {
            crate::opts::unroll::unfold_reduce(&cur, &r)
        };
        if let Some(next) = next {
            cur = next;
            total *= n;
        }
    }
    (cur, total)
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
    let Some(lanes) = full_lanes(ast, target) else {
        return ast.clone();
    };
    let nodes = toposort(ast);
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
        Some((_, r)) => match padto(ast, &r, 2 * lanes as i64) {
            Ok(Some(padded)) => padded,
            _ => ast.clone(),
        },
        None => ast.clone(),
    }
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
    let full = full_lanes(ast, target)?;
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
    let padded = padto(ast, r, u).ok()??;
    upcast(&padded, &range_of_axis(&padded, axis_of(r)?)?, u)
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

/// After the main vector axis: each reduction range along which some load is contiguous
/// (and whose nodes are not vectors already) is split into vectors too, with the widest
/// lanes that divide it. In a kernel that runs reductions outside its output loop
/// (softmax's row max and sum), those reductions run on vectors as well.
pub fn vectorize_reductions(ast: &UOp, target: &VectorTarget) -> Result<UOp, LinearizeError> {
    let mut cur = ast.clone();
    let Some(full) = full_lanes(ast, target) else {
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
            if let Some(v) = vectorize(&cur, &r, lanes, target)? {
                cur = v;
                split = true;
                break;
            }
        }
        // no lane count divides it: pad it to whole vectors (the extra trips fold in the
        // identity) when it is four vectors long or more
        if !split
            && n >= 4 * full as i128
            && let Ok(Some(padded)) = padto(&cur, &r, 2 * full as i64)
            && let Some(r2) = axis_of(&r).and_then(|a| range_of_axis(&padded, a))
            && let Some(v) = vectorize(&padded, &r2, full, target)?
        {
            cur = v;
        }
    }
    Ok(cur)
}

/// `ast` with one output loop split, and the thread count (1 when not split).
pub fn split_threads(ast: &UOp, target: &Target) -> Result<(UOp, usize), LinearizeError> {
    // the work of one run: the trip count of every loop, reductions included, times the
    // loads of one trip (upcast and unfolded kernels do more per trip)
    let nodes = toposort(ast);
    let loads = nodes.iter().filter(|u| u.op() == Op::Load).count().max(1) as i64;
    let elements: i64 = nodes
        .iter()
        .filter(|u| u.op() == Op::Range)
        .filter_map(|r| r.src()[0].const_int())
        .map(|e| e as i64)
        .fold(loads, |a, e| a.saturating_mul(e));
    if target.max_threads < 2 || elements < THREAD_MIN_ELEMENTS {
        return Ok((ast.clone(), 1));
    }
    let mut best: Option<(i64, UOp)> = None;
    let allowed = reduce_loops(ast);
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
        let Some(bytes) = pack_bytes(&cur, slot, &at).filter(|b| *b <= left) else {
            continue;
        };
        if let Ok(Some(next)) = pack(&cur, slot, &at, left) {
            cur = next;
            left -= bytes;
        }
    }
    cur
}
