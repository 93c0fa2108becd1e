//! Kernel opts: each splits or reorders a kernel's ranges, one file per opt. `Opt` names
//! one by axis number as data, `apply_opt` performs it for a `Target` (or says why it does
//! not apply), and `apply_opts` is the stage of `linearize` that applies the given list
//! or, without one, the heuristics' choice (`crate::heuristics`).
//!
//! | opt | file | what it does |
//! |---|---|---|
//! | UPCAST | `upcast.rs` | `u` outputs of a loop per trip |
//! | UNROLL | `unroll.rs` | `u` accumulators of a reduction over one loop |
//! | VECTOR | `vector.rs` | a range split into the lanes of vectors |
//! | THREAD | `thread.rs` | an output loop split across host threads (`core_id`) |
//! | SWAP | `swap.rs` | two loops trade places |
//! | PADTO | `padto.rs` | a loop runs to a multiple of an amount, the extra trips gated |
//! | PACK | `pack.rs` | a strided operand copied into scratch once per trip of a loop |
//! | LOCAL | `local.rs` | an output loop split across the threads of a workgroup (`lidx`) |
//! | GROUP, GROUPTOP | `group.rs` | a reduction split across the threads of a workgroup |
//! | TC | `tc.rs` | a matrix product of narrow floats as a tensor-core GEMM |
//!
//! `workgroup.rs` holds what LOCAL and GROUP share. PACK needs a target with scratch and
//! goes after every other opt (one that split a loop after it would have the copies of
//! its lanes share one scratch); LOCAL and GROUP need a target with workgroups.

pub mod group;
pub mod local;
pub mod pack;
pub mod padto;
pub mod swap;
pub mod tc;
pub mod thread;
pub mod unroll;
pub mod upcast;
pub mod vector;
mod workgroup;

use std::fmt;

use uop_ir::{Arg, AxisType, Op, Special, UOp, toposort};

use self::group::group;
use self::local::local;
use self::pack::pack;
use self::padto::padto;
use self::swap::swap;
use self::thread::thread_split;
use self::unroll::unroll;
use self::upcast::upcast;
use self::vector::vectorize;
use crate::ranges::range_of_axis;
use crate::{LinearizeError, StageContext, Target};

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
    /// Run the kernel, a matrix product, on the target's tensor cores.
    Tc,
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
            Opt::Tc => write!(f, "TC"),
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
        Opt::Tc => self::tc::tc(ast, target),
    };
    applied.ok_or_else(|| {
        fail("the amount does not divide the extent, or the kernel has no such split")
    })
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

/// The opts stage of `linearize`: the options' list of opts in order, or the heuristics'
/// choice when there is no list and `optimize` is on.
pub fn apply_opts(ast: &UOp, ctx: &StageContext) -> Result<UOp, LinearizeError> {
    match &ctx.options.opts {
        Some(list) => list
            .iter()
            .try_fold(ast.clone(), |ast, opt| apply_opt(&ast, opt, ctx.target)),
        None if ctx.options.optimize && ctx.target.has_workgroups() => {
            crate::heuristics_gpu::gpu_heuristics(ast, ctx.target)
        }
        None if ctx.options.optimize => crate::heuristics::heuristics(ast, ctx.target),
        None => Ok(ast.clone()),
    }
}
