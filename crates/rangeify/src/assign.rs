//! ASSIGN: writing into a buffer that already exists, and the order that makes it safe.
//!
//! An ASSIGN's kernel stores into the buffer `B` behind its target instead of a new one.
//! Kernels are then ordered by their dependencies: read-after-write (a kernel runs after
//! the kernels storing what it loads) and write-after-read (every kernel that loads the old
//! contents of `B`, i.e. the BUFFER node itself rather than the ASSIGN, runs before the
//! kernel that overwrites it). Two cases cannot be ordered that way, and read a copy of
//! `B`'s old contents (a kernel `COPY_B`, scheduled before the write) instead of `B`:
//!
//! - the ASSIGN's own kernel loads `B` at positions other than the one it stores
//!   (`a.assign(a.flip(0))`: a later element would read an already written one); a load at
//!   the stored position is safe (`a.assign(a + 1)` is one kernel);
//! - a kernel loads the old `B` and also depends, through the values it loads, on the
//!   ASSIGN (`a2 = a.assign(..); a2 + a_old * 3`).
//!
//! Refuses: two ASSIGNs to one buffer in one schedule, and a target that is not a whole
//! realized buffer (a BUFFER, or a RESHAPE of one to the same element count).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};

use uop_ir::{Arg, Op, UOp, UOpMap, toposort};

use crate::{Kernel, RangeifyError};

/// The BUFFER an ASSIGN node writes.
pub fn target_buffer(assign: &UOp, shape: &[i64]) -> Result<UOp, RangeifyError> {
    let target = &assign.src()[0];
    let buffer = match target.op() {
        Op::Buffer => target.clone(),
        Op::Reshape if target.src()[0].op() == Op::Buffer => target.src()[0].clone(),
        op => {
            return Err(RangeifyError::AssignTarget(format!(
                "a {op} node; it must be a realized buffer"
            )));
        }
    };
    let numel: i64 = shape.iter().product();
    match buffer.arg() {
        Arg::Buffer { size, .. } if *size as i64 == numel => Ok(buffer),
        arg => Err(RangeifyError::AssignTarget(format!(
            "buffer {arg} for a value of shape {shape:?}"
        ))),
    }
}

/// Whether a kernel loads its output buffer (slot 0) anywhere but where it stores.
pub fn reads_output_elsewhere(ast: &UOp) -> bool {
    let is_out = |u: &UOp| u.op() == Op::Param && matches!(u.arg(), Arg::Param { slot: 0 });
    let order = toposort(ast);
    let stored: HashSet<&UOp> = order
        .iter()
        .filter(|n| n.op() == Op::Store)
        .map(|n| &n.src()[0])
        .collect();
    order.iter().any(|n| {
        n.op() == Op::Load
            && n.src()[0].op() == Op::Index
            && is_out(&n.src()[0].src()[0])
            && !stored.contains(&n.src()[0])
    })
}

/// A kernel with the tensor-graph nodes it stores and loads.
pub struct Built {
    pub kernel: Kernel,
    /// The realized node it stores (a `COPY_B` kernel: the key its copy is filed under).
    pub node: UOp,
    pub reads: Vec<UOp>,
}

/// `built` (in a read-after-write order) ordered so that also every kernel loading the old
/// contents of an assigned buffer runs before the kernel writing it. `assigned` maps each
/// assigned BUFFER to the node of its ASSIGN. Ties keep the given order.
pub fn order(built: Vec<Built>, assigned: &UOpMap<UOp>) -> Result<Vec<Kernel>, RangeifyError> {
    let index: HashMap<&UOp, usize> = built
        .iter()
        .enumerate()
        .map(|(i, b)| (&b.node, i))
        .collect();
    let mut after: Vec<Vec<usize>> = vec![Vec::new(); built.len()];
    let mut waits = vec![0usize; built.len()];
    for (i, b) in built.iter().enumerate() {
        for r in &b.reads {
            // read after write: after the kernel storing `r`; write after read: before the
            // kernel overwriting the buffer `r` is
            let edge = match (index.get(r), assigned.get(r).and_then(|a| index.get(a))) {
                (Some(&p), _) => Some((p, i)),
                (None, Some(&w)) => Some((i, w)),
                (None, None) => None,
            };
            if let Some((from, to)) = edge
                && from != to
            {
                after[from].push(to);
                waits[to] += 1;
            }
        }
    }
    let mut ready: BinaryHeap<Reverse<usize>> = (0..built.len())
        .filter(|i| waits[*i] == 0)
        .map(Reverse)
        .collect();
    let mut slots: Vec<Option<Kernel>> = built.into_iter().map(|b| Some(b.kernel)).collect();
    let mut out = Vec::with_capacity(slots.len());
    while let Some(Reverse(i)) = ready.pop() {
        out.extend(slots[i].take());
        for &j in &after[i] {
            waits[j] -= 1;
            if waits[j] == 0 {
                ready.push(Reverse(j));
            }
        }
    }
    if out.len() != slots.len() {
        return Err(RangeifyError::Malformed(
            "kernels reading and overwriting an assigned buffer depend on each other".into(),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use uop_ir::DType;

    fn assign(target: UOp, value: UOp) -> UOp {
        UOp::new(Op::Assign, DType::F32, [target, value], Arg::None)
    }

    #[test]
    fn targets_are_whole_realized_buffers() {
        let b = UOp::new_buffer(DType::F32, 6, "CPU");
        let view = UOp::new(
            Op::Reshape,
            DType::F32,
            [b.clone()],
            Arg::Shape([2, 3].into()),
        );
        let value = UOp::const_of(DType::F32, uop_ir::ConstValue::Float(1.0));
        assert_eq!(
            target_buffer(&assign(view.clone(), value.clone()), &[2, 3]),
            Ok(b)
        );
        let lazy = UOp::new(Op::Add, DType::F32, [view.clone(), view], Arg::None);
        let e = target_buffer(&assign(lazy, value.clone()), &[2, 3]).unwrap_err();
        assert!(e.to_string().contains("ADD"), "{e}");
        let small = UOp::new_buffer(DType::F32, 4, "CPU");
        let e = target_buffer(&assign(small, value), &[2, 3]).unwrap_err();
        assert!(e.to_string().contains("[2, 3]"), "{e}");
    }

    fn kernel_reading(load_idx: UOp) -> UOp {
        let r = UOp::range(8, 0);
        let out = UOp::new(Op::Param, DType::F32, [], Arg::Param { slot: 0 });
        let index = |i: UOp| UOp::new(Op::Index, DType::F32, [out.clone(), i], Arg::None);
        let load = UOp::new(Op::Load, DType::F32, [index(load_idx)], Arg::None);
        let store = UOp::new(Op::Store, DType::Void, [index(r), load], Arg::None);
        UOp::new(Op::Sink, DType::Void, [store], Arg::None)
    }

    #[test]
    fn only_loads_of_other_positions_need_a_copy() {
        let r = UOp::range(8, 0);
        assert!(!reads_output_elsewhere(&kernel_reading(r.clone())));
        let flipped = UOp::int(7) - &r;
        assert!(reads_output_elsewhere(&kernel_reading(flipped)));
    }

    #[test]
    fn readers_of_old_contents_go_before_the_write() -> Result<(), RangeifyError> {
        let b = UOp::new_buffer(DType::F32, 8, "CPU");
        let value = UOp::const_of(DType::F32, uop_ir::ConstValue::Float(1.0));
        let a = assign(b.clone(), value);
        let k = |tag: i64| Kernel {
            ast: UOp::int(tag),
            buffers: Vec::new(),
        };
        let write = Built {
            kernel: k(0),
            node: a.clone(),
            reads: Vec::new(),
        };
        let reader = Built {
            kernel: k(1),
            node: UOp::new(Op::Neg, DType::F32, [b.clone()], Arg::None),
            reads: vec![b.clone()],
        };
        let after = Built {
            kernel: k(2),
            node: UOp::new(Op::Neg, DType::F32, [a.clone()], Arg::None),
            reads: vec![a.clone()],
        };
        let assigned = [(b, a)].into_iter().collect::<UOpMap<UOp>>();
        let tags: Vec<UOp> = order(vec![write, reader, after], &assigned)?
            .into_iter()
            .map(|k| k.ast)
            .collect();
        assert_eq!(tags, vec![UOp::int(1), UOp::int(0), UOp::int(2)]);
        Ok(())
    }

    #[test]
    fn one_buffer_is_assigned_once_per_schedule() {
        let b = UOp::new_buffer(DType::F32, 8, "CPU");
        let one = UOp::const_of(DType::F32, uop_ir::ConstValue::Float(1.0));
        let two = UOp::const_of(DType::F32, uop_ir::ConstValue::Float(2.0));
        let sink = UOp::new(
            Op::Sink,
            DType::Void,
            [assign(b.clone(), one), assign(b, two)],
            Arg::None,
        );
        let e = crate::schedule(&sink, "CPU").unwrap_err();
        assert!(e.to_string().contains("assigned twice"), "{e}");
    }
}
