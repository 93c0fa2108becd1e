//! The structure of a tensor graph, the key of the schedule cache: the nodes in a
//! deterministic order (sources first, depth first, sources in order), the BUFFERs in the
//! order the walk meets them, and a 128-bit key over that sequence. Two graphs have the
//! same key exactly when they are the same computation (ops, dtypes, shapes, args and
//! constants) over buffers of the same dtypes, sizes and devices used in the same places:
//! a BUFFER's identity counts only as its position among the graph's buffers. One walk,
//! no rewriting: each node hashes its op, dtype, arg and the positions of its sources
//! (with `FastHasher`: the key lives only as long as the process).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

use uop_ir::{Arg, Key, Op, PassThrough, UOp};

use crate::fast_hash::FastHasher;

/// A tensor graph's nodes, buffers and key.
#[derive(Debug)]
pub struct Structure {
    pub key: Key,
    /// Every node, sources before users.
    pub nodes: Vec<UOp>,
    /// The BUFFER nodes, in the order the walk meets them.
    pub buffers: Vec<UOp>,
    /// The positions of the roots (the tensors asked for).
    pub roots: Vec<u32>,
    /// Whether any node is an ASSIGN.
    pub has_assign: bool,
}

impl Structure {
    /// Walks the graph of the sources of `sink` (a SINK) once.
    pub fn of(sink: &UOp) -> Structure {
        Structure::of_roots(sink.src())
    }

    /// Walks the graph under `roots` (in order) once.
    pub fn of_roots(roots: &[UOp]) -> Structure {
        // positions by node, and the walk, borrow the graph: `root` keeps it alive
        let mut index: HashMap<&UOp, u32, BuildHasherDefault<PassThrough>> =
            HashMap::with_capacity_and_hasher(32, Default::default());
        let mut nodes: Vec<UOp> = Vec::with_capacity(32);
        let mut buffers: Vec<UOp> = Vec::new();
        let mut has_assign = false;
        let mut h = FastHasher::default();
        let mut stack: Vec<(&UOp, bool)> = Vec::with_capacity(32);
        stack.extend(roots.iter().rev().map(|r| (r, false)));
        while let Some((n, expanded)) = stack.pop() {
            if !expanded {
                if index.contains_key(n) {
                    continue;
                }
                stack.push((n, true));
                stack.extend(n.src().iter().rev().map(|s| (s, false)));
                continue;
            }
            if index.contains_key(n) {
                continue;
            }
            n.op().hash(&mut h);
            n.dtype().hash(&mut h);
            h.write_u8(n.lanes());
            match n.arg() {
                Arg::Buffer { size, device, .. } => {
                    h.write_u8(0xb0);
                    h.write_usize(buffers.len());
                    h.write_usize(*size);
                    device.hash(&mut h);
                    buffers.push(n.clone());
                }
                arg => arg.hash(&mut h),
            }
            h.write_usize(n.src().len());
            for s in n.src() {
                h.write_u32(index.get(s).copied().unwrap_or(u32::MAX));
            }
            has_assign |= n.op() == Op::Assign;
            index.insert(n, nodes.len() as u32);
            nodes.push(n.clone());
        }
        let roots: Vec<u32> = roots
            .iter()
            .map(|s| index.get(s).copied().unwrap_or(0))
            .collect();
        h.write_usize(roots.len());
        for r in &roots {
            h.write_u32(*r);
        }
        Structure {
            key: h.key(),
            nodes,
            buffers,
            roots,
            has_assign,
        }
    }

    /// The root nodes, in order.
    pub fn root_nodes(&self) -> impl Iterator<Item = &UOp> {
        self.roots.iter().map(|&r| &self.nodes[r as usize])
    }

    /// A SINK of the roots.
    pub fn sink(&self) -> UOp {
        let roots: Vec<UOp> = self.root_nodes().cloned().collect();
        UOp::new(Op::Sink, uop_ir::DType::Void, roots, Arg::None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uop_ir::{ConstValue, DType};

    fn mul_add(a: &UOp, b: &UOp, c: f64) -> UOp {
        let k = UOp::const_of(DType::F32, ConstValue::Float(c));
        let y = UOp::alu(Op::Add, [UOp::alu(Op::Mul, [a.clone(), b.clone()]), k]);
        UOp::new(Op::Sink, DType::Void, [y], Arg::None)
    }

    fn buffer(size: usize) -> UOp {
        UOp::new_buffer(DType::F32, size, "CPU")
    }

    #[test]
    fn buffers_count_by_position_and_kind() {
        let (a, b) = (buffer(8), buffer(8));
        let first = Structure::of(&mul_add(&a, &b, 1.0));
        assert_eq!(first.buffers, vec![a.clone(), b.clone()]);
        let (c, d) = (buffer(8), buffer(8));
        let same = Structure::of(&mul_add(&c, &d, 1.0));
        assert_eq!(first.key, same.key, "other buffers of the same kind");
        assert_eq!(same.nodes.len(), first.nodes.len());
        let differ = [
            ("a constant", mul_add(&c, &d, 2.0)),
            ("a buffer used twice", mul_add(&c, &c, 1.0)),
            ("a size", mul_add(&c, &buffer(9), 1.0)),
            (
                "a dtype",
                mul_add(&c, &UOp::new_buffer(DType::F16, 8, "CPU"), 1.0),
            ),
            (
                "a device",
                mul_add(&c, &UOp::new_buffer(DType::F32, 8, "CUDA"), 1.0),
            ),
        ];
        for (what, g) in differ {
            assert_ne!(Structure::of(&g).key, first.key, "{what}");
        }
    }
}
