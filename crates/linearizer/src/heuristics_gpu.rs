//! The heuristics of targets with workgroups (a GPU): the opts a kernel gets when no list
//! is given. The CPU's are in `heuristics.rs`; this file never runs for a target without
//! workgroups. In order (`gpu_heuristics`):
//!
//! 0. TC: a matrix product of narrow floats becomes a tensor-core GEMM (`opts/tc.rs`),
//!    and nothing below applies.
//! 1. VECTOR: each range along which loads and stores are contiguous is split into the
//!    target's vectors (16-byte accesses on a GPU), the best one first
//!    (`choose_vector_axis`), then every other (`vectorize_contiguous`).
//! 2. GROUP, when the grid loops (`ranges::reduce_loops`) give too few outputs to fill
//!    the device with one thread each, or when reductions run inside an output loop after
//!    the grid (attention's `p @ v`; decided before step 1): every reduction is split
//!    across one dimension of `g` threads that they all share (`group_at` with one
//!    axis), and each output loop that runs after the reductions (softmax's store loop,
//!    attention's columns of `v`) is split across the same threads (`split_with`); a
//!    reduction inside such a loop stays each thread's own. A blocked float sum (a sum of sums, see rangeify's
//!    `block_reduce`) is merged into one sum over both ranges first (before the
//!    vectors, which would give the two levels different lanes): each thread then
//!    adds only its share of them, so the blocks' purpose, short accumulations, holds.
//! 3. Register tiles, in reduction kernels that are not grouped (matmul): UPCAST the two
//!    innermost grid loops (by 2 and 4), so that each thread computes a tile of outputs
//!    and reuses each load.
//! 4. LOCAL: the grid loops, innermost first, are split across the threads of a workgroup
//!    until it has `THREADS` of them (with GROUP, the rest of the workgroup; with register
//!    tiles, at most `TILE_THREADS` along each loop).
//!
//! The grid stage (`grid.rs`) then maps the grid loops onto `gidx0`.

use std::collections::HashMap;

use uop_ir::{Arg, AxisType, Op, UOp, substitute, toposort};

use crate::access::{address, stride};
use crate::heuristics::choose_vector_axis;
use crate::opts::group::group_at;
use crate::opts::local::local;
use crate::opts::upcast::upcast;
use crate::opts::vector::vectorize;
use crate::ranges::{axis_of, next_axis, output_ranges, range_of_axis, reduce_loops};
use crate::{LinearizeError, Target};

/// Threads of a workgroup the heuristics aim for.
pub const THREADS: i64 = 256;
/// Threads along each grid loop of a register-tiled kernel (a 16 x 16 workgroup).
pub const TILE_THREADS: i64 = 16;
/// Below this many grid outputs per multiprocessor-worth of threads, reductions are split
/// across a workgroup (GROUP).
pub const GROUP_BELOW_OUTPUTS: i64 = 16384;

/// The GPU heuristics' opts applied to `ast` (see the module doc).
pub fn gpu_heuristics(ast: &UOp, target: &Target) -> Result<UOp, LinearizeError> {
    if let Some(gemm) = crate::opts::tc::tc(ast, target) {
        return Ok(gemm);
    }
    let has_reduce = toposort(ast).iter().any(|u| u.op() == Op::Reduce);
    let grouping =
        has_reduce && (grid_outputs(ast) < GROUP_BELOW_OUTPUTS || reduces_after_grid(ast));
    let mut ast = if grouping {
        merge_blocked_sums(ast)
    } else {
        ast.clone()
    };
    if let Some(v) = target.vector.as_ref() {
        if let Some((r, lanes)) = choose_vector_axis(&ast, v)
            && let Some(next) = vectorize(&ast, &r, lanes, v)?
        {
            ast = next;
        }
        ast = vectorize_contiguous(&ast, target)?;
    }
    let mut threads_left = THREADS.min(target.max_local_size as i64);
    if grouping {
        if let Some((grouped, g)) = group_reductions(&ast, target)? {
            ast = grouped;
            threads_left /= g;
        }
        return Ok(local_grid(&ast, threads_left, threads_left, target));
    }
    if has_reduce {
        ast = register_tile(&ast);
        // a square of threads: each reads its rows of one operand and columns of the other
        return Ok(local_grid(&ast, threads_left, TILE_THREADS, target));
    }
    Ok(local_grid(&ast, threads_left, threads_left, target))
}

/// The grid loops: the output loops every reduction runs inside (all of them without
/// reductions), outermost first.
fn grid_loops(ast: &UOp) -> Vec<UOp> {
    let outs = output_ranges(ast);
    match reduce_loops(ast) {
        Some(allowed) => outs.into_iter().filter(|o| allowed.contains(o)).collect(),
        None => outs,
    }
}

fn extent(r: &UOp) -> i64 {
    r.src()[0].const_int().map_or(1, |n| n as i64)
}

/// The output loops that are not grid loops (softmax's store loop, attention's loop over
/// the columns of `v`): GROUP splits them across the group's threads.
fn after_grid(ast: &UOp) -> Vec<UOp> {
    let grid = grid_loops(ast);
    output_ranges(ast)
        .into_iter()
        .filter(|o| !grid.contains(o))
        .collect()
}

/// Whether reduction `red` runs inside one of `loops` (its source depends on it).
fn reduces_inside(red: &UOp, loops: &[UOp]) -> bool {
    let inside = toposort(&red.src()[0]);
    loops.iter().any(|o| inside.contains(o))
}

/// Whether a reduction runs inside an output loop after the grid (attention's `p @ v`):
/// each grid output then holds a whole loop of reductions, which one thread would run
/// alone.
fn reduces_after_grid(ast: &UOp) -> bool {
    let later = after_grid(ast);
    !later.is_empty()
        && toposort(ast)
            .iter()
            .filter(|u| u.op() == Op::Reduce)
            .any(|red| reduces_inside(red, &later))
}

/// Outputs of the grid loops together.
fn grid_outputs(ast: &UOp) -> i64 {
    grid_loops(ast)
        .iter()
        .map(extent)
        .fold(1i64, i64::saturating_mul)
}

/// Every range (output loop or reduction) along which an access is contiguous, split
/// into the widest vectors whose lanes divide it; a range whose nodes are vectors
/// already is left alone (the vector opt refuses it).
fn vectorize_contiguous(ast: &UOp, target: &Target) -> Result<UOp, LinearizeError> {
    let Some(v) = target.vector.as_ref() else {
        return Ok(ast.clone());
    };
    let mut cur = ast.clone();
    let axes: Vec<u32> = toposort(ast)
        .iter()
        .filter(|u| u.op() == Op::Range)
        .filter_map(axis_of)
        .collect();
    for axis in axes {
        let Some(r) = range_of_axis(&cur, axis) else {
            continue;
        };
        if let Some((best, lanes)) = choose_vector_axis_of(&cur, &r, v)
            && let Some(next) = vectorize(&cur, &best, lanes, v)?
        {
            cur = next;
        }
    }
    Ok(cur)
}

/// `r` with the lanes `choose_vector_axis` would give it, when it is the best axis once
/// the others are set aside.
fn choose_vector_axis_of(ast: &UOp, r: &UOp, v: &crate::target::VectorTarget) -> Option<(UOp, u8)> {
    // ask with only `r` open to the choice: the other ranges fixed at 0
    let others: HashMap<UOp, UOp> = toposort(ast)
        .into_iter()
        .filter(|u| u.op() == Op::Range && u != r)
        .map(|u| (u, UOp::int(0)))
        .collect();
    let only = substitute(ast, &others);
    choose_vector_axis(&only, v).filter(|(c, _)| c == r)
}

/// A float sum of sums (`REDUCE(ADD, REDUCE(ADD, x, inner), outer)`) as one sum over both
/// ranges, everywhere in `ast`, where the inner sum is used by the outer one alone (a sum
/// used elsewhere too keeps its own loop: merged, its ranges would close two loop nests).
fn merge_blocked_sums(ast: &UOp) -> UOp {
    let mut cur = ast.clone();
    loop {
        let order = toposort(&cur);
        let users = |u: &UOp| order.iter().filter(|v| v.src().contains(u)).count();
        let found = order.iter().find_map(|outer| {
            let inner = outer.src().first()?;
            let sum = |u: &UOp| {
                u.op() == Op::Reduce && matches!(u.arg(), Arg::Reduce { op: Op::Add, .. })
            };
            (sum(outer) && sum(inner) && inner.lanes() == outer.lanes() && users(inner) == 1).then(
                || {
                    let mut src = vec![inner.src()[0].clone()];
                    src.extend(inner.src()[1..].iter().cloned());
                    src.extend(outer.src()[1..].iter().cloned());
                    (outer.clone(), outer.with_src(src))
                },
            )
        });
        match found {
            Some((old, new)) => cur = substitute(&cur, &HashMap::from([(old, new)])),
            None => return cur,
        }
    }
}

/// GROUP (see the module doc): the reduce ranges split across one shared dimension of
/// `g` threads, the widest of `THREADS` down to the warp that divides all of them and
/// leaves each thread at least `g` elements of the shortest (or a warp), and
/// the output loops after the reductions split across the same threads. `None` when no
/// reduction splits.
fn group_reductions(ast: &UOp, target: &Target) -> Result<Option<(UOp, i64)>, LinearizeError> {
    let nodes = toposort(ast);
    let reduce_ranges: Vec<UOp> = nodes
        .iter()
        .filter(|u| {
            u.op() == Op::Range
                && matches!(
                    u.arg(),
                    Arg::Range {
                        kind: AxisType::Reduce,
                        ..
                    }
                )
        })
        .cloned()
        .collect();
    // the loops after the grid are split across the group's threads below, so a
    // reduction inside one stays each thread's own (grouped, its partials would mix the
    // threads' different outputs)
    let split_later = after_grid(ast);
    // the range of each reduction to split: the one its loads step through most densely
    // (neighbouring threads then read neighbouring elements), the widest among equals
    let mut chosen: Vec<UOp> = Vec::new();
    for red in nodes.iter().filter(|u| u.op() == Op::Reduce) {
        if reduces_inside(red, &split_later) {
            continue;
        }
        let loads: Vec<UOp> = toposort(&red.src()[0])
            .into_iter()
            .filter(|u| u.op() == Op::Load)
            .filter_map(|u| u.src().first().and_then(address).cloned())
            .collect();
        let density = |r: &UOp| {
            loads
                .iter()
                .filter_map(|off| stride(off, r))
                .filter(|s| *s != 0)
                .map(i128::unsigned_abs)
                .min()
                .unwrap_or(u128::MAX)
        };
        let widest = red.src()[1..]
            .iter()
            .filter(|r| reduce_ranges.contains(r))
            .min_by_key(|r| (density(r), -extent(r)));
        if let Some(w) = widest
            && !chosen.contains(w)
        {
            chosen.push(w.clone());
        }
    }
    if chosen.is_empty() {
        return Ok(None);
    }
    let warp = target.warp_size.max(1) as i64;
    let max = THREADS.min(target.max_local_size as i64);
    // each thread should add at least as many elements as it later reads partials
    // (g of them): g*g within the reduction of fewest trips, but never below a warp
    let shortest = nodes
        .iter()
        .filter(|u| u.op() == Op::Reduce)
        .map(|red| {
            red.src()[1..]
                .iter()
                .filter(|r| reduce_ranges.contains(r))
                .map(extent)
                .product::<i64>()
        })
        .min()
        .unwrap_or(1);
    let widths = std::iter::successors(Some(max), |g| Some(g / 2))
        .take_while(|g| *g >= warp.min(max))
        .filter(|g| g * g <= shortest || *g == warp.min(max));
    let g_axis = next_axis(&nodes);
    for g in widths {
        if chosen.iter().any(|r| extent(r) % g != 0 || extent(r) < g) {
            continue;
        }
        let mut cur = ast.clone();
        let mut ok = true;
        for r in &chosen {
            let Some(r) = axis_of(r).and_then(|a| range_of_axis(&cur, a)) else {
                ok = false;
                break;
            };
            match group_at(&cur, &r, g, false, target, Some(g_axis)) {
                Ok(Some(next)) => cur = next,
                _ => {
                    ok = false;
                    break;
                }
            }
        }
        if !ok {
            continue;
        }
        let gr = UOp::range_of(UOp::int(g), g_axis, AxisType::GroupReduce);
        for o in &after_grid(&cur) {
            if let Some(next) = split_with(&cur, o, &gr) {
                cur = next;
            }
        }
        return Ok(Some((cur, g)));
    }
    Ok(None)
}

/// The output loop `r` split across the workgroup threads of `g` (a GroupReduce range):
/// `r -> r' * |g| + g`; `None` when `|g|` does not divide its extent.
fn split_with(ast: &UOp, r: &UOp, g: &UOp) -> Option<UOp> {
    let (n, a) = (extent(r), extent(g));
    let Arg::Range { axis, kind } = r.arg() else {
        return None;
    };
    if n % a != 0 || n < a {
        return None;
    }
    let split = if n == a {
        g.clone()
    } else {
        UOp::range_of(UOp::int(n / a), *axis, *kind) * a + g
    };
    Some(substitute(ast, &HashMap::from([(r.clone(), split)])))
}

/// Register tiles: the innermost grid loop (the vector axis in matmul) UPCAST by 2 and
/// the one outside it by 4, where they are long enough: a thread computes a 4 x 2-vector
/// tile, reusing each loaded element of one operand for every element of the other.
fn register_tile(ast: &UOp) -> UOp {
    let mut cur = ast.clone();
    let loops = grid_loops(ast);
    let axes: Vec<u32> = loops.iter().rev().take(2).filter_map(axis_of).collect();
    for (axis, amount) in axes.into_iter().zip([2, 4]) {
        if let Some(r) = range_of_axis(&cur, axis)
            && extent(&r) >= 4 * amount
            && let Some(next) = upcast(&cur, &r, amount)
        {
            cur = next;
        }
    }
    cur
}

/// LOCAL on the grid loops, innermost first, up to `threads` threads per workgroup and
/// `per_loop` along each loop.
fn local_grid(ast: &UOp, threads: i64, per_loop: i64, target: &Target) -> UOp {
    let mut cur = ast.clone();
    let mut left = threads;
    let axes: Vec<u32> = grid_loops(ast).iter().rev().filter_map(axis_of).collect();
    for axis in axes {
        if left < 2 {
            break;
        }
        let Some(r) = range_of_axis(&cur, axis) else {
            continue;
        };
        let n = extent(&r);
        let amount = (1..=left.min(n).min(per_loop))
            .rev()
            .find(|a| n % a == 0 && (a & (a - 1)) == 0)
            .unwrap_or(1);
        if amount < 2 {
            continue;
        }
        if let Ok(Some(next)) = local(&cur, &r, amount, target)
            && let Ok(next) = symbolic::simplify(&next)
        {
            cur = next;
            left /= amount;
        }
    }
    cur
}
