//! The grid stage, for targets with workgroups (a GPU): the output loops that every
//! reduction runs inside (all output loops when there is none, see
//! `ranges::reduce_loops`) stop being loops and become the workgroup's index in the
//! launch grid. They are flattened into `gidx0`, the innermost varying fastest:
//! `r_i = (gidx0 / s_i) % n_i`, with `s_i` the product of the extents inside `r_i`, so
//! that neighbouring workgroups take neighbouring outputs. Loops are taken innermost
//! first while the product fits the target's grid; the rest stay loops that every
//! workgroup runs. Loops outside that set (softmax's store loop after its row
//! reductions) stay loops too: a workgroup splits them across its threads, if the
//! heuristics said so, or runs them.
//!
//! On targets without workgroups (the CPU) the stage changes nothing.

use std::collections::HashMap;

use uop_ir::{Special, UOp, substitute, toposort};

use crate::ranges::{output_ranges, reduce_loops};
use crate::{LinearizeError, Target};

/// `ast` with its grid loops mapped onto `gidx0` (see the module doc).
pub fn map_to_grid(ast: &UOp, target: &Target) -> Result<UOp, LinearizeError> {
    if !target.has_workgroups() {
        return Ok(ast.clone());
    }
    if toposort(ast)
        .iter()
        .any(|u| matches!(u.special_kind(), Some(Special::Global(_) | Special::Core)))
    {
        return Ok(ast.clone());
    }
    let outs = output_ranges(ast);
    let allowed = reduce_loops(ast).unwrap_or_else(|| outs.clone());
    let limit = i64::from(target.max_global_dims[0]);
    // innermost first, while the grid still fits
    let mut mapped: Vec<(UOp, i64)> = Vec::new();
    let mut size = 1i64;
    for r in outs.iter().rev().filter(|r| allowed.contains(r)) {
        let Some(n) = r.src()[0].const_int().map(|n| n as i64) else {
            break;
        };
        match size.checked_mul(n) {
            Some(s) if s <= limit => {
                size = s;
                mapped.push((r.clone(), n));
            }
            _ => break,
        }
    }
    if mapped.is_empty() {
        return Ok(ast.clone());
    }
    let g = UOp::special(Special::Global(0), size);
    let mut replace = HashMap::new();
    let mut stride = 1i64;
    for (r, n) in &mapped {
        let mut at = if stride == 1 {
            g.clone()
        } else {
            g.floordiv(stride)
        };
        if stride * n < size {
            at = at.floormod(*n);
        }
        replace.insert(r.clone(), at);
        stride *= n;
    }
    Ok(symbolic::simplify(&substitute(ast, &replace))?)
}

#[cfg(test)]
mod tests {
    use uop_ir::{Arg, AxisType, DType, Op};

    use super::*;

    fn store_at(off: UOp) -> UOp {
        let buf = UOp::new(Op::Param, DType::F32, [], Arg::Param { slot: 0 });
        let idx = UOp::new(Op::Index, DType::F32, [buf, off], Arg::None);
        let st = UOp::new(
            Op::Store,
            DType::Void,
            [
                idx,
                UOp::const_of(DType::F32, uop_ir::ConstValue::Float(1.0)),
            ],
            Arg::None,
        );
        UOp::new(Op::Sink, DType::Void, [st], Arg::None)
    }

    fn gpu() -> Target {
        Target {
            max_local_size: 1024,
            max_local_dims: [1024, 1024, 64],
            max_global_dims: [1 << 20, 65535, 65535],
            ..Target::default()
        }
    }

    #[test]
    fn output_loops_flatten_into_gidx0() {
        let (a, b) = (UOp::range(6, 0), UOp::range(5, 1));
        let ast = store_at(&a * 5 + &b);
        let mapped = map_to_grid(&ast, &gpu()).expect("maps");
        let nodes = toposort(&mapped);
        assert!(!nodes.iter().any(|u| u.op() == Op::Range), "{mapped:?}");
        let g = nodes
            .iter()
            .find(|u| u.special_kind() == Some(Special::Global(0)))
            .expect("gidx0");
        assert_eq!(g.src()[0].const_int(), Some(30));
    }

    #[test]
    fn the_cpu_keeps_its_loops() {
        let ast = store_at(UOp::range(6, 0));
        assert_eq!(map_to_grid(&ast, &Target::default()).expect("no-op"), ast);
    }

    #[test]
    fn loops_past_the_grid_limit_stay_loops() {
        let (a, b) = (UOp::range(4, 0), UOp::range(1 << 20, 1));
        let ast = store_at(&a * (1 << 20) + &b);
        let mapped = map_to_grid(&ast, &gpu()).expect("maps");
        let loops: Vec<UOp> = toposort(&mapped)
            .into_iter()
            .filter(|u| u.op() == Op::Range)
            .collect();
        assert_eq!(loops.len(), 1);
        assert!(matches!(
            loops[0].arg(),
            Arg::Range {
                kind: AxisType::Loop,
                ..
            }
        ));
    }
}
