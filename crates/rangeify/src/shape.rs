//! Shape errors. Every tensor-graph node knows its shape (`UOp::shape`, inferred once by
//! uop-ir when the node is made); scheduling checks that each node has one, and turns a
//! node without one into the error that says why.

use uop_ir::{ShapeInferError, UOp, infer_shape};

use crate::RangeifyError;

/// An error for the first node of `order` that has no shape.
pub fn check_shapes(order: &[UOp]) -> Result<(), RangeifyError> {
    match order.iter().find(|n| n.shape().is_none()) {
        Some(n) => Err(why_no_shape(n)),
        None => Ok(()),
    }
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
        let r = UOp::new(
            Op::Reshape,
            DType::F32,
            [b.clone()],
            Arg::Shape(vec![4].into()),
        );
        assert!(matches!(
            check_shapes(&[b, r]),
            Err(RangeifyError::Shape {
                op: Op::Reshape,
                ..
            })
        ));
    }
}
