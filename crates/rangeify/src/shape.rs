//! Shapes of tensor-graph nodes. A BUFFER is flat (`[size]`), a CONST is a scalar (`[]`,
//! which broadcasts), movement ops and REDUCE (which keeps reduced dims as size 1) compute
//! theirs, elementwise ops take the common shape of their operands.

use uop_ir::{Arg, Movement, Op, UOp, UOpMap, toposort};

use crate::RangeifyError;

/// The movement op a node performs, with its argument (`rank` is its input's rank).
pub fn movement_of(u: &UOp, rank: usize) -> Option<Movement> {
    Some(match (u.op(), u.arg()) {
        (Op::Reshape, Arg::Shape(s)) => Movement::Reshape(s.to_vec()),
        (Op::Expand, Arg::Shape(s)) => Movement::Expand(s.to_vec()),
        (Op::Permute, Arg::Axes(p)) => Movement::Permute(p.to_vec()),
        (Op::Pad, Arg::Pairs(p)) => Movement::Pad(p.to_vec()),
        (Op::Shrink, Arg::Pairs(p)) => Movement::Shrink(p.to_vec()),
        (Op::Flip, Arg::Axes(axes)) => {
            Movement::Flip((0..rank).map(|a| axes.contains(&a)).collect())
        }
        _ => return None,
    })
}

/// The shape of every node reachable from `root`.
pub fn shapes(root: &UOp) -> Result<UOpMap<Vec<i64>>, RangeifyError> {
    shapes_in(&toposort(root))
}

/// The shape of every node of `order` (sources before users, as `toposort` gives them).
pub fn shapes_in(order: &[UOp]) -> Result<UOpMap<Vec<i64>>, RangeifyError> {
    let mut out: UOpMap<Vec<i64>> = Default::default();
    out.reserve(order.len());
    for n in order.iter().cloned() {
        let src_shape = |i: usize| out.get(&n.src()[i]).cloned().unwrap_or_default();
        let shape = match n.op() {
            Op::Buffer => match n.arg() {
                Arg::Buffer { size, .. } => vec![*size as i64],
                _ => {
                    return Err(RangeifyError::Malformed(format!(
                        "BUFFER without a buffer arg: {n:?}"
                    )));
                }
            },
            Op::Const | Op::DefineVar => Vec::new(),
            Op::Sink => Vec::new(),
            op if op.is_movement() => {
                let m = movement_of(&n, src_shape(0).len()).ok_or_else(|| {
                    RangeifyError::Malformed(format!("{op} without its argument"))
                })?;
                m.output_shape(&src_shape(0))
                    .map_err(|e| RangeifyError::Shape { op, error: e })?
            }
            Op::Reduce => {
                let Arg::Reduce { axes, .. } = n.arg() else {
                    return Err(RangeifyError::Malformed("REDUCE without axes".into()));
                };
                let mut s = src_shape(0);
                for &a in axes.iter() {
                    let rank = s.len();
                    *s.get_mut(a)
                        .ok_or(RangeifyError::BadAxis { axis: a, rank })? = 1;
                }
                s
            }
            _ => {
                // elementwise (and CONTIGUOUS, COPY, CAST...): operands agree, scalars broadcast
                let mut shape: &[i64] = &[];
                for s in n.src() {
                    let ss = out.get(s).map_or(&[][..], Vec::as_slice);
                    if ss.is_empty() {
                        continue;
                    }
                    if shape.is_empty() {
                        shape = ss;
                    } else if shape != ss {
                        return Err(RangeifyError::ShapeMismatch {
                            op: n.op(),
                            a: shape.to_vec(),
                            b: ss.to_vec(),
                        });
                    }
                }
                shape.to_vec()
            }
        };
        out.insert(n, shape);
    }
    Ok(out)
}
