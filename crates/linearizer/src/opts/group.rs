//! The GROUP and GROUPTOP opts, for targets with workgroups (`Target::has_workgroups`,
//! a GPU), and their lowering.
//!
//! - GROUP splits a reduction's range `r` across `a` threads: `r = r' * a + g` (GROUPTOP:
//!   `r = g * (n / a) + r'`, a contiguous part each), with `g` a range of kind GroupReduce.
//!   Later opts (UPCAST, UNROLL, ...) see an ordinary reduction over `r'` and `g`. After
//!   all opts, `lower_groups` makes each `g` an `lidx`: every thread reduces its part,
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
    let nested = nodes.iter().any(|outer| {
        outer.op() == Op::Reduce
            && toposort(&outer.src()[0])
                .iter()
                .any(|inner| reduces.contains(&inner))
    });
    if nested {
        return Err("the reduction is nested inside another".into());
    }
    check_workgroup(ast, amount, target)?;
    let next_axis = next_axis(&nodes);
    let g = UOp::range_of(UOp::int(amount), next_axis, AxisType::GroupReduce);
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
    let mut wg = workgroup(ast);
    let to_lidx: HashMap<UOp, UOp> = groups
        .iter()
        .map(|r| {
            let l = lidx(wg.len(), size(r));
            wg.push(l.clone());
            (r.clone(), l)
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
    let mut replace = HashMap::new();
    for red in nodes.iter().filter(|u| u.op() == Op::Reduce) {
        let own: Vec<&UOp> = red.src()[1..]
            .iter()
            .filter(|x| groups.contains(x))
            .collect();
        if own.is_empty() {
            continue;
        }
        let lanes = red.lanes() as i64;
        let value = substitute(&red.src()[0], &to_lidx);
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
