//! Shapes of tensor-graph nodes, inferred once when a node is interned (`UOp::shape`). A
//! BUFFER is flat (`[size]`), a CONST or DEFINE_VAR is a scalar (`[]`, which broadcasts),
//! movement ops compute theirs (`Movement::output_shape`), REDUCE keeps reduced dims as
//! size 1, and elementwise ops (and CONTIGUOUS, COPY, DETACH, ASSIGN...) take the common
//! shape of their operands. Kernel-AST nodes (RANGE, INDEX, LOAD...) have no shape.

use std::sync::Arc;

use thiserror::Error;

use crate::arg::Arg;
use crate::movement::{Movement, ShapeError};
use crate::op::Op;
use crate::uop::UOp;

/// Why a node has no shape.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ShapeInferError {
    #[error("{op}: {error}")]
    Movement { op: Op, error: ShapeError },
    #[error("{op} of shapes {a:?} and {b:?}: shapes must match (broadcast explicitly)")]
    Mismatch { op: Op, a: Vec<i64>, b: Vec<i64> },
    #[error("REDUCE over axis {axis} of a tensor of rank {rank}")]
    BadAxis { axis: usize, rank: usize },
    #[error("{op} has no argument of its kind: {arg}")]
    BadArg { op: Op, arg: String },
    #[error("{0} is not a tensor-graph node (it has no shape)")]
    NotTensor(Op),
    #[error("a source of {0} has no shape")]
    SourceWithoutShape(Op),
}

impl Movement {
    /// The movement op `u` performs (`rank`: its input's rank), if it is one.
    pub fn of(u: &UOp, rank: usize) -> Option<Movement> {
        movement_of(u.op(), u.arg(), rank)
    }
}

fn movement_of(op: Op, arg: &Arg, rank: usize) -> Option<Movement> {
    Some(match (op, arg) {
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

/// The shape of a node of `op` with `arg` whose sources have `src` shapes (`None`: a
/// source without one).
pub fn infer_shape(op: Op, src: &[Option<&[i64]>], arg: &Arg) -> Result<Vec<i64>, ShapeInferError> {
    let first = || {
        src.first()
            .copied()
            .flatten()
            .ok_or(ShapeInferError::SourceWithoutShape(op))
    };
    Ok(match op {
        Op::Buffer => match arg {
            Arg::Buffer { size, .. } => vec![*size as i64],
            _ => return Err(bad_arg(op, arg)),
        },
        Op::Const | Op::DefineVar | Op::Sink => Vec::new(),
        op if op.is_movement() => {
            let input = first()?;
            let m = movement_of(op, arg, input.len()).ok_or_else(|| bad_arg(op, arg))?;
            m.output_shape(input)
                .map_err(|error| ShapeInferError::Movement { op, error })?
        }
        Op::Reduce => {
            let Arg::Reduce { axes, .. } = arg else {
                return Err(bad_arg(op, arg));
            };
            let mut s = first()?.to_vec();
            for &axis in axes.iter() {
                let rank = s.len();
                *s.get_mut(axis)
                    .ok_or(ShapeInferError::BadAxis { axis, rank })? = 1;
            }
            s
        }
        op if op.is_elementwise()
            || matches!(op, Op::Contiguous | Op::Copy | Op::Detach | Op::Assign) =>
        {
            // operands agree; scalars broadcast
            let mut shape: &[i64] = &[];
            for s in src {
                let s = s.ok_or(ShapeInferError::SourceWithoutShape(op))?;
                if s.is_empty() {
                    continue;
                }
                if shape.is_empty() {
                    shape = s;
                } else if shape != s {
                    return Err(ShapeInferError::Mismatch {
                        op,
                        a: shape.to_vec(),
                        b: s.to_vec(),
                    });
                }
            }
            shape.to_vec()
        }
        _ => return Err(ShapeInferError::NotTensor(op)),
    })
}

fn bad_arg(op: Op, arg: &Arg) -> ShapeInferError {
    ShapeInferError::BadArg {
        op,
        arg: arg.to_string(),
    }
}

/// The shape a new node gets (`None` when it has none), sharing the empty scalar shape.
pub(crate) fn node_shape(op: Op, src: &[UOp], arg: &Arg) -> Option<Arc<[i64]>> {
    static SCALAR: std::sync::LazyLock<Arc<[i64]>> = std::sync::LazyLock::new(|| Arc::from([]));
    if !(op.is_elementwise()
        || op.is_movement()
        || matches!(
            op,
            Op::Buffer
                | Op::Sink
                | Op::Const
                | Op::DefineVar
                | Op::Reduce
                | Op::Contiguous
                | Op::Copy
                | Op::Detach
                | Op::Assign
        ))
    {
        return None;
    }
    let shapes: Vec<Option<&[i64]>> = src.iter().map(UOp::shape).collect();
    let shape = infer_shape(op, &shapes, arg).ok()?;
    if shape.is_empty() {
        return Some(SCALAR.clone());
    }
    // an elementwise node of the same shape as a source shares its allocation
    if let Some(s) = src
        .iter()
        .find_map(|s| s.shape_arc().filter(|a| a[..] == shape[..]))
    {
        return Some(s.clone());
    }
    Some(shape.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use dtype::DType;

    #[test]
    fn tensor_nodes_know_their_shape() {
        let b = UOp::new_buffer(DType::F32, 12, "CPU");
        assert_eq!(b.shape(), Some(&[12][..]));
        let r = UOp::new(Op::Reshape, DType::F32, [b], Arg::Shape(vec![3, 4].into()));
        assert_eq!(r.shape(), Some(&[3, 4][..]));
        let p = UOp::new(
            Op::Permute,
            DType::F32,
            [r.clone()],
            Arg::Axes(vec![1, 0].into()),
        );
        assert_eq!(p.shape(), Some(&[4, 3][..]));
        let s = UOp::new(
            Op::Reduce,
            DType::F32,
            [r.clone()],
            Arg::Reduce {
                op: Op::Add,
                axes: vec![1].into(),
            },
        );
        assert_eq!(s.shape(), Some(&[3, 1][..]));
        let two = UOp::const_of(DType::F32, crate::ConstValue::Float(2.0));
        let m = UOp::alu(Op::Mul, [r.clone(), two]);
        assert_eq!(m.shape(), Some(&[3, 4][..]));
    }

    #[test]
    fn malformed_and_kernel_nodes_have_none() {
        let b = UOp::new_buffer(DType::F32, 12, "CPU");
        let bad = UOp::new(
            Op::Reshape,
            DType::F32,
            [b.clone()],
            Arg::Shape(vec![5].into()),
        );
        assert_eq!(bad.shape(), None);
        assert_eq!(UOp::range(4, 0).shape(), None);
        let r = UOp::new(Op::Reshape, DType::F32, [b], Arg::Shape(vec![3, 4].into()));
        let t = UOp::new(
            Op::Permute,
            DType::F32,
            [r.clone()],
            Arg::Axes(vec![1, 0].into()),
        );
        assert_eq!(UOp::alu(Op::Add, [r.clone(), t.clone()]).shape(), None);
        let shapes = [r.shape(), t.shape()];
        assert!(matches!(
            infer_shape(Op::Add, &shapes, &Arg::None),
            Err(ShapeInferError::Mismatch { .. })
        ));
    }
}
