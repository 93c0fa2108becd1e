//! Kernel normal form, so that equal work has an equal AST key (the engine's compile cache
//! is keyed by it). Two kernels that compute the same thing over different buffers differ
//! only in how their loops and arguments are numbered; this pass fixes both numberings:
//!
//! - RANGE axes become `0..n`, keeping the order of the axes they had (loop nesting is
//!   unchanged; only gaps left by size-1 dims or by ranges the simplifier folded away go).
//! - PARAM slots are numbered by first use while lowering (a depth-first walk of the tensor
//!   graph from the stored value; the output is slot 0), and buffers the simplified AST no
//!   longer reads are dropped, the others keeping their order: slots become `0..n`.
//!
//! Both renumberings keep relative order, and the order is not taken from the simplified
//! AST: the simplifier sorts commutative operands by node key, and keys change with slot
//! numbers, so "first use in the simplified AST" could flip at every round. Renumbering
//! changes keys, so a renumbered AST is simplified again; that cannot open new gaps, and
//! the loop stops after at most `MAX_ROUNDS` (the result is correct either way).

use std::sync::LazyLock;

use uop_ir::{Arg, Mode, Op, PatternMatcher, UOp, UOpMap, UPat, graph_rewrite, toposort};

use crate::RangeifyError;

/// The new RANGE or PARAM for each old one.
#[derive(Debug)]
pub struct Renumber(UOpMap<UOp>);

/// Rule set "renumber ranges": loops and arguments numbered `0..n` in their old order.
pub fn pm_renumber() -> PatternMatcher<Renumber> {
    PatternMatcher::new()
        // RANGE(n, axis a) -> RANGE(n, axis new(a))
        .rule_ctx(
            "RANGE(a) -> RANGE(new a)",
            UPat::op(Op::Range).named("r"),
            |c: &mut Renumber, b| c.0.get(&b["r"]).cloned(),
        )
        // PARAM(slot s) -> PARAM(slot new(s))
        .rule_ctx(
            "PARAM(s) -> PARAM(new s)",
            UPat::op(Op::Param).named("p"),
            |c: &mut Renumber, b| c.0.get(&b["p"]).cloned(),
        )
}

static PM_RENUMBER: LazyLock<PatternMatcher<Renumber>> = LazyLock::new(pm_renumber);

/// How many renumber + simplify rounds are tried before the AST is taken as it is.
pub const MAX_ROUNDS: usize = 4;

/// `ast` (over `params`, in slot order) in normal form, with its arguments in new slot order.
pub fn normalize(ast: UOp, params: Vec<UOp>) -> Result<(UOp, Vec<UOp>), RangeifyError> {
    let (ast, slots) = normal_form(ast, params.len())?;
    let mut out = Vec::with_capacity(slots.len());
    for old in slots {
        let buffer = params.get(old as usize).ok_or_else(|| {
            RangeifyError::Malformed(format!(
                "kernel reads PARAM slot {old} but has {} buffers",
                params.len()
            ))
        })?;
        out.push(buffer.clone());
    }
    Ok((ast, out))
}

/// `ast` (over `n` arguments) in normal form, and for each new slot the old slot it was.
pub fn normal_form(mut ast: UOp, n: usize) -> Result<(UOp, Vec<u32>), RangeifyError> {
    let mut params: Vec<u32> = (0..n as u32).collect();
    for _ in 0..MAX_ROUNDS {
        let order = toposort(&ast);
        let mut ranges: Vec<(u32, UOp)> = Vec::new();
        let mut slots: Vec<(u32, UOp)> = Vec::new();
        for n in &order {
            match n.arg() {
                Arg::Range { axis, .. } if n.op() == Op::Range => ranges.push((*axis, n.clone())),
                Arg::Param { slot }
                    if n.op() == Op::Param && !slots.iter().any(|(s, _)| s == slot) =>
                {
                    slots.push((*slot, n.clone()));
                }
                _ => {}
            }
        }
        ranges.sort_by_key(|(axis, _)| *axis);
        slots.sort_by_key(|(slot, _)| *slot);
        let mut map: UOpMap<UOp> = Default::default();
        for (new, (old, r)) in ranges.iter().enumerate() {
            if new as u32 != *old {
                let Arg::Range { kind, .. } = r.arg() else {
                    continue;
                };
                map.insert(
                    r.clone(),
                    UOp::range_of(r.src()[0].clone(), new as u32, *kind),
                );
            }
        }
        for (new, (old, p)) in slots.iter().enumerate() {
            if new as u32 != *old {
                map.insert(
                    p.clone(),
                    UOp::new(Op::Param, p.dtype(), [], Arg::Param { slot: new as u32 }),
                );
            }
        }
        let dropped = slots.len() != params.len();
        if map.is_empty() && !dropped {
            return Ok((ast, params));
        }
        let mut reordered = Vec::with_capacity(slots.len());
        for (old, _) in &slots {
            let first = params.get(*old as usize).ok_or_else(|| {
                RangeifyError::Malformed(format!(
                    "kernel reads PARAM slot {old} but has {} buffers",
                    params.len()
                ))
            })?;
            reordered.push(*first);
        }
        params = reordered;
        if map.is_empty() {
            return Ok((ast, params));
        }
        ast = graph_rewrite(&ast, &PM_RENUMBER, &mut Renumber(map), Mode::Walk)?;
        ast = symbolic::simplify(&ast)?;
    }
    Ok((ast, params))
}

#[cfg(test)]
mod tests {
    use super::*;
    use uop_ir::{AxisType, DType};

    fn param(slot: u32) -> UOp {
        UOp::new(Op::Param, DType::F32, [], Arg::Param { slot })
    }

    fn kernel(out: u32, inp: u32, axis: u32) -> UOp {
        let r = UOp::range_of(UOp::int(8), axis, AxisType::Loop);
        let load = UOp::new(
            Op::Load,
            DType::F32,
            [UOp::new(
                Op::Index,
                DType::F32,
                [param(inp), r.clone()],
                Arg::None,
            )],
            Arg::None,
        );
        let index = UOp::new(Op::Index, DType::F32, [param(out), r], Arg::None);
        let store = UOp::new(Op::Store, DType::Void, [index, load], Arg::None);
        UOp::new(Op::Sink, DType::Void, [store], Arg::None)
    }

    #[test]
    fn gaps_in_axes_and_slots_close() -> Result<(), RangeifyError> {
        let bufs: Vec<UOp> = (0..3)
            .map(|_| UOp::new_buffer(DType::F32, 8, "CPU"))
            .collect();
        // slot 1 is unused, the loop is axis 3
        let (ast, params) = normalize(kernel(0, 2, 3), bufs.clone())?;
        assert_eq!(ast, kernel(0, 1, 0));
        assert_eq!(params, vec![bufs[0].clone(), bufs[2].clone()]);
        Ok(())
    }

    #[test]
    fn normal_form_is_kept() -> Result<(), RangeifyError> {
        let bufs: Vec<UOp> = (0..2)
            .map(|_| UOp::new_buffer(DType::F32, 8, "CPU"))
            .collect();
        let (ast, params) = normalize(kernel(0, 1, 0), bufs.clone())?;
        assert_eq!((ast, params), (kernel(0, 1, 0), bufs));
        Ok(())
    }

    #[test]
    fn slots_keep_their_order() -> Result<(), RangeifyError> {
        let bufs: Vec<UOp> = (0..4)
            .map(|_| UOp::new_buffer(DType::F32, 8, "CPU"))
            .collect();
        // reads slots 3 and 1 (in that order in the AST); slot 2 is unused
        let r = UOp::range_of(UOp::int(8), 0, AxisType::Loop);
        let load = |slot| {
            let index = UOp::new(Op::Index, DType::F32, [param(slot), r.clone()], Arg::None);
            UOp::new(Op::Load, DType::F32, [index], Arg::None)
        };
        let sink = |a: u32, b: u32| {
            let value = UOp::new(Op::Sub, DType::F32, [load(a), load(b)], Arg::None);
            let index = UOp::new(Op::Index, DType::F32, [param(0), r.clone()], Arg::None);
            let store = UOp::new(Op::Store, DType::Void, [index, value], Arg::None);
            UOp::new(Op::Sink, DType::Void, [store], Arg::None)
        };
        let (ast, params) = normalize(sink(3, 1), bufs.clone())?;
        assert_eq!(ast, symbolic::simplify(&sink(2, 1))?);
        assert_eq!(
            params,
            vec![bufs[0].clone(), bufs[1].clone(), bufs[3].clone()]
        );
        Ok(())
    }
}
