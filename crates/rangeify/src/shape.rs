//! Shapes of a tensor graph for scheduling. Every tensor-graph node knows its shape
//! (`UOp::shape`, inferred by uop-ir when the node is made); this gathers them and turns a
//! node without one into the error that says why.

use uop_ir::{Movement, ShapeInferError, UOp, UOpMap, infer_shape, toposort};

use crate::RangeifyError;

/// The movement op a node performs, with its argument (`rank` is its input's rank).
pub fn movement_of(u: &UOp, rank: usize) -> Option<Movement> {
    Movement::of(u, rank)
}

/// The shape of every node reachable from `root`.
pub fn shapes(root: &UOp) -> Result<UOpMap<Vec<i64>>, RangeifyError> {
    shapes_in(&toposort(root))
}

/// The shape of every node of `order` (sources before users, as `toposort` gives them).
pub fn shapes_in(order: &[UOp]) -> Result<UOpMap<Vec<i64>>, RangeifyError> {
    let mut out: UOpMap<Vec<i64>> = Default::default();
    out.reserve(order.len());
    for n in order {
        let shape = match n.shape() {
            Some(s) => s.to_vec(),
            None => return Err(why_no_shape(n)),
        };
        out.insert(n.clone(), shape);
    }
    Ok(out)
}

/// The error of a node that has no shape.
fn why_no_shape(n: &UOp) -> RangeifyError {
    let src: Vec<Option<&[i64]>> = n.src().iter().map(UOp::shape).collect();
    match infer_shape(n.op(), &src, n.arg()) {
        Err(ShapeInferError::Movement { op, error }) => RangeifyError::Shape { op, error },
        Err(ShapeInferError::Mismatch { op, a, b }) => RangeifyError::ShapeMismatch { op, a, b },
        Err(ShapeInferError::BadAxis { axis, rank }) => RangeifyError::BadAxis { axis, rank },
        Err(ShapeInferError::NotTensor(op)) => RangeifyError::Unsupported(op),
        Err(e) => RangeifyError::Malformed(format!("{e}: {n:?}")),
        Ok(_) => RangeifyError::Malformed(format!("{} has no shape", n.op())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uop_ir::{Arg, DType, Op};

    #[test]
    fn a_bad_node_names_its_error() {
        let b = UOp::new_buffer(DType::F32, 6, "CPU");
        let r = UOp::new(Op::Reshape, DType::F32, [b], Arg::Shape(vec![4].into()));
        assert!(matches!(
            shapes(&r),
            Err(RangeifyError::Shape {
                op: Op::Reshape,
                ..
            })
        ));
    }
}
