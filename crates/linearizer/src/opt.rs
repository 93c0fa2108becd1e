//! Kernel opts as data: `Opt` names one split or reorder of a kernel's ranges by axis
//! number, and `apply_opt` performs it. The CPU heuristics (`opts.rs`) choose opts
//! themselves; a list given in `Opts::opts` replaces them (for search and for tests).
//!
//! PADTO lives here: a loop of extent `n` runs to the next multiple of `amount`. Trips past
//! `n` read nothing (their loads are gated to 0) and write nothing (their stores are
//! gated); a reduction over a padded range folds in its identity there (the value it
//! reduces is gated to the identity: a gated load takes it as its alternative). It
//! refuses kernels that divide integers by a computed value, since a padded trip could
//! divide by a 0 that it loaded.
//!
//! PACK copies the loads of one buffer inside an output loop into scratch memory
//! (`pack.rs`); it needs a target with scratch (`Opts::scratch_bytes`) and goes after
//! every other opt (one that split a loop after it would have the copies of its lanes
//! share one scratch). LOCAL, GROUP and
//! GROUPTOP split loops across the threads of a workgroup (`local.rs`); they need a
//! target with workgroups (`Opts::max_local_size`).

use std::collections::HashMap;
use std::fmt;

use uop_ir::{Arg, AxisType, ConstValue, Op, Special, UOp, substitute, toposort};

use crate::local::{group, local};
use crate::opts::{swap, unroll, upcast};
use crate::pack::pack;
use crate::reduce::range_of_axis;
use crate::threads::thread_split;
use crate::vectorize::vectorize;
use crate::{LinearizeError, Target};

/// One kernel opt. Axes are the `axis` numbers of RANGEs (a split keeps the number for
/// its outer part).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Opt {
    /// UPCAST an output loop: `amount` outputs per trip.
    Upcast { axis: u32, amount: i64 },
    /// UNROLL the reductions over a reduce range into `amount` accumulators.
    Unroll { axis: u32, amount: i64 },
    /// Split a range into vectors of `lanes`.
    Vector { axis: u32, lanes: u8 },
    /// Split an output loop across `amount` threads (`core_id`).
    Thread { axis: u32, amount: i64 },
    /// Two loops trade places.
    Swap { a: u32, b: u32 },
    /// Run an output loop to the next multiple of `amount`, gating the extra trips.
    Padto { axis: u32, amount: i64 },
    /// Copy the loads of buffer `slot` inside output loop `axis` into scratch per trip.
    Pack { slot: u32, axis: u32 },
    /// Split an output loop across `amount` threads of a workgroup.
    Local { axis: u32, amount: i64 },
    /// Split a reduction across `amount` threads of a workgroup, interleaved.
    Group { axis: u32, amount: i64 },
    /// Split a reduction across `amount` threads of a workgroup, a contiguous part each.
    GroupTop { axis: u32, amount: i64 },
}

impl fmt::Display for Opt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Opt::Upcast { axis, amount } => write!(f, "UPCAST(axis {axis}, {amount})"),
            Opt::Unroll { axis, amount } => write!(f, "UNROLL(axis {axis}, {amount})"),
            Opt::Vector { axis, lanes } => write!(f, "VECTOR(axis {axis}, {lanes} lanes)"),
            Opt::Thread { axis, amount } => write!(f, "THREAD(axis {axis}, {amount})"),
            Opt::Swap { a, b } => write!(f, "SWAP(axis {a}, axis {b})"),
            Opt::Padto { axis, amount } => write!(f, "PADTO(axis {axis}, {amount})"),
            Opt::Pack { slot, axis } => write!(f, "PACK(buffer {slot}, axis {axis})"),
            Opt::Local { axis, amount } => write!(f, "LOCAL(axis {axis}, {amount})"),
            Opt::Group { axis, amount } => write!(f, "GROUP(axis {axis}, {amount})"),
            Opt::GroupTop { axis, amount } => write!(f, "GROUPTOP(axis {axis}, {amount})"),
        }
    }
}

fn kind(r: &UOp) -> Option<AxisType> {
    match r.arg() {
        Arg::Range { kind, .. } => Some(*kind),
        _ => None,
    }
}

/// `ast` with `opt` applied for the target that `opts` describes; an error names the opt
/// and why it does not apply.
pub fn apply_opt(ast: &UOp, opt: &Opt, target: &Target) -> Result<UOp, LinearizeError> {
    let fail = |why: &str| LinearizeError::Opt {
        opt: opt.to_string(),
        why: why.to_string(),
    };
    let range = |axis: u32| range_of_axis(ast, axis).ok_or_else(|| fail("no such range"));
    let loop_range = |axis: u32| {
        let r = range(axis)?;
        match kind(&r) {
            Some(AxisType::Loop) => Ok(r),
            _ => Err(fail("not an output loop")),
        }
    };
    let packed = toposort(ast).iter().any(|u| {
        u.op() == Op::Range
            && matches!(
                u.arg(),
                Arg::Range {
                    kind: AxisType::Stage,
                    ..
                }
            )
    });
    if packed {
        // a later split would copy the copy into the same scratch once per new lane
        return Err(fail("it comes after a PACK (PACK goes last)"));
    }
    let applied = match *opt {
        Opt::Upcast { axis, amount } => upcast(ast, &loop_range(axis)?, amount),
        Opt::Unroll { axis, amount } => {
            let r = range(axis)?;
            if kind(&r) != Some(AxisType::Reduce) {
                return Err(fail("not a reduce range"));
            }
            unroll(ast, &r, amount)
        }
        Opt::Vector { axis, lanes } => {
            let vector = target
                .vector
                .as_ref()
                .ok_or_else(|| fail("the target has no vectors"))?;
            let r = range(axis)?;
            if kind(&r) == Some(AxisType::GroupReduce) {
                return Err(fail("the range is split across a workgroup"));
            }
            vectorize(ast, &r, lanes, vector)?
        }
        Opt::Thread { axis, amount } => {
            let split = toposort(ast)
                .iter()
                .any(|u| u.special_kind() == Some(Special::Core));
            if split {
                return Err(fail("the kernel is split across threads already"));
            }
            thread_split(ast, &loop_range(axis)?, amount)?
        }
        Opt::Swap { a, b } => swap(ast, &range(a)?, &range(b)?),
        Opt::Padto { axis, amount } => {
            let r = range(axis)?;
            if !matches!(kind(&r), Some(AxisType::Loop | AxisType::Reduce)) {
                return Err(fail("not an output loop or a reduction"));
            }
            padto(ast, &r, amount)?
        }
        Opt::Pack { slot, axis } => {
            if target.scratch_bytes == 0 {
                return Err(fail("the target has no scratch memory"));
            }
            if target.has_workgroups() {
                return Err(fail("the copy is not shared out across a workgroup yet"));
            }
            pack(ast, slot, &loop_range(axis)?, target.scratch_bytes)?
        }
        Opt::Local { axis, amount } => {
            let split = local(ast, &loop_range(axis)?, amount, target);
            match split.map_err(|why| fail(&why))? {
                Some(split) => Some(symbolic::simplify(&split)?),
                None => None,
            }
        }
        Opt::Group { axis, amount } | Opt::GroupTop { axis, amount } => {
            let r = range(axis)?;
            if kind(&r) != Some(AxisType::Reduce) {
                return Err(fail("not a reduce range"));
            }
            let top = matches!(opt, Opt::GroupTop { .. });
            group(ast, &r, amount, top, target).map_err(|why| fail(&why))?
        }
    };
    applied.ok_or_else(|| {
        fail("the amount does not divide the extent, or the kernel has no such split")
    })
}

/// PADTO (see the module doc); `None` when the loop already has a multiple of `amount`
/// trips or the kernel divides integers by a computed value.
pub fn padto(ast: &UOp, r: &UOp, amount: i64) -> Result<Option<UOp>, LinearizeError> {
    let (Some(n), Arg::Range { axis, kind }) = (r.src()[0].const_int(), r.arg()) else {
        return Ok(None);
    };
    let amount = amount as i128;
    if amount < 2 || n % amount == 0 {
        return Ok(None);
    }
    let computed_divisor = toposort(ast).iter().any(|u| {
        matches!(u.op(), Op::CDiv | Op::CMod | Op::FloorDiv | Op::FloorMod)
            && u.src()[1].op() != Op::Const
    });
    if computed_divisor {
        return Ok(None);
    }
    let m = (n + amount - 1) / amount * amount;
    let padded = UOp::range_of(UOp::int(m as i64), *axis, *kind);
    let valid = UOp::alu(Op::CmpLt, [padded.clone(), UOp::int(n as i64)]);
    let ast = substitute(ast, &HashMap::from([(r.clone(), padded.clone())]));
    let mut done: HashMap<UOp, UOp> = HashMap::new();
    let mut depends: HashMap<UOp, bool> = HashMap::new();
    let and = |g: Option<&UOp>| match g {
        Some(g) => UOp::alu(Op::And, [valid.clone(), g.clone()]),
        None => valid.clone(),
    };
    for u in toposort(&ast) {
        let dep = u == padded || u.src().iter().any(|s| depends[s]);
        // what reads a reduction over the padded range does not depend on it
        let closed = u.op() == Op::Reduce && u.src()[1..].contains(&padded);
        depends.insert(u.clone(), dep && !closed);
        let src: Vec<UOp> = u.src().iter().map(|s| done[s].clone()).collect();
        let new = match u.op() {
            Op::Load if dep && src[0].op() == Op::Index => {
                let alt = UOp::const_of(u.dtype(), ConstValue::Int(0));
                let alt = src.get(2).cloned().unwrap_or(alt);
                u.with_src([src[0].clone(), and(src.get(1)), alt])
            }
            Op::Store if dep && src[0].op() == Op::Index => {
                u.with_src([src[0].clone(), src[1].clone(), and(src.get(2))])
            }
            Op::Reduce if u.src()[1..].contains(&padded) => {
                // the extra trips fold in the identity
                let Arg::Reduce { op, .. } = u.arg() else {
                    return Ok(None);
                };
                let id = crate::reduce::identity(*op, u.dtype());
                let value = &src[0];
                let gated = match value.src() {
                    // a load gated by the padded range alone: its alternative becomes the
                    // identity (a load with a gate of its own keeps its alternative there)
                    [idx, g, _] if value.op() == Op::Load && *g == valid => {
                        value.with_src([idx.clone(), g.clone(), id])
                    }
                    _ => UOp::alu(Op::Where, [valid.clone(), value.clone(), id]),
                };
                let mut rs = src.clone();
                rs[0] = gated;
                u.with_src(rs)
            }
            _ => u.with_src(src),
        };
        done.insert(u, new);
    }
    Ok(Some(done[&ast].clone()))
}

/// Opts that may apply to `ast`, a few amounts of each kind on every range: the moves of a
/// search, and of the tests that check opt lists. Some will not apply (`apply_opt` says
/// why); none is chosen for being good.
pub fn candidate_opts(ast: &UOp) -> Vec<Opt> {
    let mut ranges: Vec<(u32, AxisType)> = toposort(ast)
        .iter()
        .filter_map(|u| match u.arg() {
            Arg::Range { axis, kind } if u.op() == Op::Range => Some((*axis, *kind)),
            _ => None,
        })
        .collect();
    ranges.sort_unstable();
    let slots: Vec<u32> = toposort(ast)
        .iter()
        .filter_map(|u| match u.arg() {
            Arg::Param { slot } if u.op() == Op::Param => Some(*slot),
            _ => None,
        })
        .collect();
    let mut v = Vec::new();
    for &(axis, kind) in &ranges {
        for amount in [2, 3, 4] {
            v.extend([
                Opt::Thread { axis, amount },
                Opt::Upcast { axis, amount },
                Opt::Unroll { axis, amount },
                Opt::Local { axis, amount },
                Opt::Group { axis, amount },
                Opt::GroupTop { axis, amount },
            ]);
        }
        v.extend([
            Opt::Padto { axis, amount: 5 },
            Opt::Padto { axis, amount: 8 },
        ]);
        v.extend([
            Opt::Vector { axis, lanes: 4 },
            Opt::Vector { axis, lanes: 8 },
        ]);
        if kind == AxisType::Loop {
            v.extend(slots.iter().map(|&slot| Opt::Pack { slot, axis }));
        }
        v.extend(ranges.iter().map(|&(b, _)| Opt::Swap { a: axis, b }));
    }
    v
}
