//! The PADTO opt: a loop of extent `n` runs to the next multiple of `amount`. Trips past
//! `n` read nothing (their loads are gated to 0) and write nothing (their stores are
//! gated); a reduction over a padded range folds in its identity there (the value it
//! reduces is gated to the identity: a gated load takes it as its alternative). It
//! refuses kernels that divide integers by a computed value, since a padded trip could
//! divide by a 0 that it loaded.

use std::collections::HashMap;

use uop_ir::{Arg, ConstValue, Op, UOp, substitute, toposort};

use crate::LinearizeError;
use crate::reduce::identity;

/// PADTO of `r` by `amount`; `None` when the loop already has a multiple of `amount`
/// trips or the kernel divides integers by a computed value.
pub fn padto(ast: &UOp, r: &UOp, amount: i64) -> Result<Option<UOp>, LinearizeError> {
    let (Some(n), Arg::Range { axis, kind }) = (r.src()[0].const_int(), r.arg()) else {
        return Ok(None);
    };
    let amount = amount as i128;
    if amount < 2 || n % amount == 0 {
        return Ok(None);
    }
    if crate::ranges::pinned(ast).contains(r) {
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
                let id = identity(*op, u.dtype());
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
