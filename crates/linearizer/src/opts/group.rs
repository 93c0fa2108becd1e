//! The GROUP and GROUPTOP opts, for targets with workgroups (`Target::has_workgroups`,
//! a GPU), and their lowering.
//!
//! - GROUP splits a reduction's range `r` across `a` threads: `r = r' * a + g` (GROUPTOP:
//!   `r = g * (n / a) + r'`, a contiguous part each), with `g` a range of kind GroupReduce.
//!   Later opts (UPCAST, UNROLL, ...) see an ordinary reduction over `r'` and `g`. After
//!   all opts, `lower_groups` makes each `g` an `lidx` (the first dimensions, LOCAL's
//!   `lidx` moving after them): every thread reduces its part,
//!   writes the partial result into scratch shared by the workgroup, waits at a BARRIER,
//!   and then reduces the partials of its group itself. Stores whose address does not
//!   depend on `g` (every thread of the group would write the same value there) are gated
//!   to `g == 0`. When output loops run around the reduction, a second BARRIER after each
//!   store keeps the next trip from overwriting partials that others still read.
//!
//! GROUP refuses a reduction nested inside another (the outer one would run its trips
//! around a barrier), and a workgroup over the target's limits; `lower_groups` refuses
//! scratch over the target's limit.

use std::collections::HashMap;

use uop_ir::{Arg, AxisType, DType, Op, UOp, substitute, toposort};

use super::workgroup::{check_workgroup, divisible, group_ranges, lidx, size, workgroup};
use crate::ranges::{next_axis, next_local, output_ranges};
use crate::{LinearizeError, Target};

/// GROUP or GROUPTOP (`top`), see the module doc; `Ok(None)` when `amount` does not
/// divide the extent or no reduction is over `r`.
pub fn group(
    ast: &UOp,
    r: &UOp,
    amount: i64,
    top: bool,
    target: &Target,
) -> Result<Option<UOp>, String> {
    group_at(ast, r, amount, top, target, None)
}

/// GROUP with the workgroup range numbered `axis` (a fresh one when `None`). Reductions
/// grouped with the same axis and amount share one GroupReduce range, so one dimension of
/// threads splits them all (softmax's row max and row sum).
pub fn group_at(
    ast: &UOp,
    r: &UOp,
    amount: i64,
    top: bool,
    target: &Target,
    axis_of_group: Option<u32>,
) -> Result<Option<UOp>, String> {
    if crate::ranges::has_copies(ast) {
        return Err("the kernel copies into scratch, which a workgroup would share".into());
    }
    let (Some(n), Arg::Range { axis, .. }) = (divisible(r, amount), r.arg()) else {
        return Ok(None);
    };
    let nodes = toposort(ast);
    let reduces: Vec<&UOp> = nodes
        .iter()
        .filter(|u| u.op() == Op::Reduce && u.src()[1..].contains(r))
        .collect();
    if reduces.is_empty() {
        return Ok(None);
    }
    // an inner reduction that runs once per trip of an outer one; one that only feeds a
    // later reduction (softmax's max feeds its sum) runs before it, outside its loop
    let nested = nodes.iter().any(|outer| {
        outer.op() == Op::Reduce
            && toposort(&outer.src()[0]).iter().any(|inner| {
                reduces.contains(&inner)
                    && toposort(inner).iter().any(|x| outer.src()[1..].contains(x))
            })
    });
    if nested {
        return Err("the reduction is nested inside another".into());
    }
    let g_axis = axis_of_group.unwrap_or_else(|| next_axis(&nodes));
    let g = UOp::range_of(UOp::int(amount), g_axis, AxisType::GroupReduce);
    if !group_ranges(ast).contains(&g) {
        check_workgroup(ast, amount, target)?;
    }
    let rest = (n > amount).then(|| UOp::range_of(UOp::int(n / amount), *axis, AxisType::Reduce));
    let split = match &rest {
        None => g.clone(),
        Some(rest) if top => &g * (n / amount) + rest,
        Some(rest) => rest * amount + &g,
    };
    let mut replace = HashMap::new();
    for red in reduces {
        let value = substitute(&red.src()[0], &HashMap::from([(r.clone(), split.clone())]));
        let mut src = vec![value];
        src.extend(red.src()[1..].iter().filter(|x| *x != r).cloned());
        src.extend(rest.clone());
        src.push(g.clone());
        replace.insert(red.clone(), red.with_src(src));
    }
    Ok(Some(substitute(ast, &replace)))
}

/// The flat id of a workgroup thread (the last `lidx` varies fastest), with the values in
/// `swap` standing for some of them.
fn thread_id(wg: &[UOp], swap: &HashMap<UOp, UOp>) -> UOp {
    wg.iter().fold(UOp::int(0), |acc, l| {
        acc * size(l) + swap.get(l).unwrap_or(l)
    })
}

/// Lowers every GroupReduce range to an `lidx` and every reduction over one to partials
/// in scratch, a BARRIER and a reduction of the partials (see the module doc); an error
/// naming GROUP when the scratch is over the target's, or a workgroup dimension over its
/// limit.
pub fn lower_groups(ast: &UOp, target: &Target) -> Result<UOp, LinearizeError> {
    let refuse = |why: String| LinearizeError::Opt {
        opt: "GROUP".into(),
        why,
    };
    let groups = group_ranges(ast);
    if groups.is_empty() {
        return Ok(ast.clone());
    }
    // the group dimensions come first (on a GPU the first one is the warp's: a warp's
    // threads then read neighbouring elements of one reduction), LOCAL's after them
    let mut wg: Vec<UOp> = Vec::new();
    let to_lidx: HashMap<UOp, UOp> = groups
        .iter()
        .map(|r| {
            let l = lidx(wg.len(), size(r));
            wg.push(l.clone());
            (r.clone(), l)
        })
        .collect();
    let renumber: HashMap<UOp, UOp> = workgroup(ast)
        .iter()
        .map(|l| {
            let moved = lidx(wg.len(), size(l));
            wg.push(moved.clone());
            (l.clone(), moved)
        })
        .collect();
    for (d, l) in wg.iter().enumerate() {
        let limit = target.max_local_dims.get(d).copied().unwrap_or(0);
        if size(l) > i64::from(limit) {
            return Err(refuse(format!(
                "{} threads in workgroup dimension {d} is over the target's {limit}",
                size(l)
            )));
        }
    }
    let threads: i64 = wg.iter().map(size).product();
    let nodes = toposort(ast);
    let mut next_axis = next_axis(&nodes);
    let mut next_local = next_local(&nodes);
    let mut bytes: usize = nodes
        .iter()
        .filter(|u| u.op() == Op::DefineLocal)
        .map(|u| size(u) as usize * u.dtype().itemsize())
        .sum();
    // reductions lowered so far (inner ones first: `nodes` is in topological order), so
    // that one feeding another (softmax's max feeding its sum) is the lowered one there
    let mut replace: HashMap<UOp, UOp> = HashMap::new();
    for red in nodes.iter().filter(|u| u.op() == Op::Reduce) {
        let own: Vec<&UOp> = red.src()[1..]
            .iter()
            .filter(|x| groups.contains(x))
            .collect();
        if own.is_empty() {
            continue;
        }
        let lanes = red.lanes() as i64;
        let mut lowered = to_lidx.clone();
        lowered.extend(renumber.iter().map(|(k, v)| (k.clone(), v.clone())));
        lowered.extend(replace.iter().map(|(k, v)| (k.clone(), v.clone())));
        let value = substitute(&red.src()[0], &lowered);
        let others: Vec<UOp> = red.src()[1..]
            .iter()
            .filter(|x| !groups.contains(x))
            .cloned()
            .collect();
        let partial = if others.is_empty() {
            value
        } else {
            let mut src = vec![value.clone()];
            src.extend(others);
            red.with_src(src)
        };
        let local = UOp::new(
            Op::DefineLocal,
            red.dtype(),
            [UOp::int(threads * lanes)],
            Arg::Param { slot: next_local },
        );
        next_local += 1;
        bytes += (threads * lanes) as usize * red.dtype().itemsize();
        let index =
            |buf: UOp, at: UOp| UOp::new(Op::Index, red.dtype(), [buf, at * lanes], Arg::None);
        let write = UOp::new(
            Op::Store,
            DType::Void,
            [
                index(local.clone(), thread_id(&wg, &HashMap::new())),
                partial,
            ],
            Arg::None,
        );
        let barrier = UOp::new(Op::Barrier, DType::Void, [write], Arg::None);
        // the partials of this thread's group: its own id with each group lidx looping
        let mut loops = HashMap::new();
        let mut over = Vec::new();
        for r in own {
            let o = UOp::range_of(r.src()[0].clone(), next_axis, AxisType::Reduce);
            next_axis += 1;
            loops.insert(to_lidx[r].clone(), o.clone());
            over.push(o);
        }
        let shared = UOp::new(Op::After, red.dtype(), [local, barrier], Arg::None);
        let read = UOp::new_vec(
            Op::Load,
            red.dtype(),
            red.lanes(),
            [index(shared, thread_id(&wg, &loops))],
            Arg::None,
        );
        let mut src = vec![read];
        src.extend(over);
        replace.insert(red.clone(), red.with_src(src));
    }
    if bytes > target.scratch_bytes {
        return Err(refuse(format!(
            "it needs {bytes} bytes of scratch, over the limit of {}",
            target.scratch_bytes
        )));
    }
    let mut all = replace;
    all.extend(to_lidx.clone());
    all.extend(renumber);
    let ast = substitute(ast, &all);
    let first = to_lidx
        .values()
        .map(|l| UOp::alu(Op::CmpEq, [l.clone(), UOp::int(0)]))
        .reduce(|a, b| UOp::alu(Op::And, [a, b]))
        .unwrap_or_else(|| UOp::bool(true));
    let lidxs: Vec<UOp> = to_lidx.values().cloned().collect();
    let loops = !output_ranges(&ast).is_empty();
    let stores: Vec<UOp> = ast
        .src()
        .iter()
        .map(|s| {
            let gated = gate_stores(s, &lidxs, &first);
            if loops {
                UOp::new(Op::Barrier, DType::Void, [gated], Arg::None)
            } else {
                gated
            }
        })
        .collect();
    Ok(ast.with_src(stores))
}

/// `stmt` (a STORE, or a GROUP of them) with `gate` added to every store whose address
/// depends on none of `lidxs`.
fn gate_stores(stmt: &UOp, lidxs: &[UOp], gate: &UOp) -> UOp {
    match stmt.op() {
        Op::Group => stmt.with_src(
            stmt.src()
                .iter()
                .map(|s| gate_stores(s, lidxs, gate))
                .collect::<Vec<_>>(),
        ),
        Op::Store if !toposort(&stmt.src()[0]).iter().any(|u| lidxs.contains(u)) => {
            let both = match stmt.src().get(2) {
                Some(old) => UOp::alu(Op::And, [old.clone(), gate.clone()]),
                None => gate.clone(),
            };
            stmt.with_src([stmt.src()[0].clone(), stmt.src()[1].clone(), both])
        }
        _ => stmt.clone(),
    }
}
