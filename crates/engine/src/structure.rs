//! The structure of a tensor graph, the key of the schedule cache: the nodes in a
//! deterministic order (sources first, depth first, sources in order), the BUFFERs in the
//! order the walk meets them, and a 128-bit key over that sequence. Two graphs have the
//! same key exactly when they are the same computation (ops, dtypes, shapes, args and
//! constants) over buffers of the same dtypes, sizes and devices used in the same places:
//! a BUFFER's identity counts only as its position among the graph's buffers. One walk,
//! no rewriting: each node hashes its op, dtype, arg and the positions of its sources.

use std::hash::{Hash, Hasher};

use uop_ir::{Arg, Key, Op, StableHasher, UOp, UOpMap};

/// A tensor graph's nodes, buffers and key.
#[derive(Debug)]
pub struct Structure {
    pub key: Key,
    /// Every node, sources before users; the root last.
    pub nodes: Vec<UOp>,
    /// The BUFFER nodes, in the order the walk meets them.
    pub buffers: Vec<UOp>,
    /// The positions of the root's sources (the tensors asked for, under a SINK).
    pub roots: Vec<u32>,
    /// Whether any node is an ASSIGN.
    pub has_assign: bool,
}

impl Structure {
    /// Walks the graph under `root` once.
    pub fn of(root: &UOp) -> Structure {
        let mut index: UOpMap<u32> = UOpMap::default();
        let mut nodes: Vec<UOp> = Vec::new();
        let mut buffers: Vec<UOp> = Vec::new();
        let mut has_assign = false;
        let mut h = StableHasher::default();
        let mut stack: Vec<(UOp, bool)> = vec![(root.clone(), false)];
        while let Some((n, expanded)) = stack.pop() {
            if index.contains_key(&n) {
                continue;
            }
            if !expanded {
                stack.push((n.clone(), true));
                stack.extend(
                    n.src()
                        .iter()
                        .rev()
                        .filter(|s| !index.contains_key(*s))
                        .map(|s| (s.clone(), false)),
                );
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
                h.write_u32(index[s]);
            }
            has_assign |= n.op() == Op::Assign;
            index.insert(n.clone(), nodes.len() as u32);
            nodes.push(n);
        }
        let roots = root.src().iter().map(|s| index[s]).collect();
        Structure {
            key: h.key(),
            nodes,
            buffers,
            roots,
            has_assign,
        }
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
