//! Joining tensors: `cat` pads each piece to the full extent along the axis and adds
//! them (one kernel of gated loads; the gradient of a pad is a shrink), `stack` adds an
//! axis first.

use crate::error::{Result, TensorError, named};
use crate::tensor::Tensor;

impl Tensor {
    /// The tensors joined along `axis`; every other dim must agree. Dtypes promote.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
    /// let b = Tensor::from_slice(&[0.5f32, -1.0], &[2])?;
    /// let c = Tensor::cat(&[&a, &a], 0)?; // (4, 2)
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn cat(tensors: &[&Tensor], axis: isize) -> Result<Tensor> {
        let Some(first) = tensors.first() else {
            return Err(TensorError::Invalid {
                op: "cat",
                why: "no tensors to join".into(),
            });
        };
        let rank = first.shape().len();
        let a = first.axis_of("cat", axis, rank.max(1))?;
        for t in tensors {
            let same = t.shape().len() == rank
                && (0..rank).all(|i| i == a || t.shape()[i] == first.shape()[i]);
            if !same {
                return Err(TensorError::Broadcast {
                    op: "cat",
                    a: first.shape().to_vec(),
                    b: t.shape().to_vec(),
                });
            }
        }
        let dtype =
            dtype::least_upper_dtype(&tensors.iter().map(|t| t.dtype()).collect::<Vec<_>>())?;
        let total: i64 = tensors.iter().map(|t| t.shape()[a]).sum();
        named("cat", || {
            let mut start = 0;
            let mut out: Option<Tensor> = None;
            for t in tensors {
                let len = t.shape()[a];
                let mut pads = vec![(0, 0); rank];
                pads[a] = (start, total - start - len);
                start += len;
                let piece = t.cast(dtype)?.pad(&pads)?;
                out = Some(match out {
                    Some(o) => o.add(&piece)?,
                    None => piece,
                });
            }
            out.ok_or_else(|| TensorError::Invalid {
                op: "cat",
                why: "no tensors to join".into(),
            })
        })
    }

    /// The tensors (all of one shape) stacked along a new axis `axis`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
    /// let b = Tensor::from_slice(&[0.5f32, -1.0], &[2])?;
    /// let s = Tensor::stack(&[&a, &a], 0)?; // (2, 2, 2)
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn stack(tensors: &[&Tensor], axis: isize) -> Result<Tensor> {
        let Some(first) = tensors.first() else {
            return Err(TensorError::Invalid {
                op: "stack",
                why: "no tensors to stack".into(),
            });
        };
        let a = first.axis_of("stack", axis, first.shape().len() + 1)?;
        let lifted: Vec<Tensor> = tensors
            .iter()
            .map(|t| t.unsqueeze(a))
            .collect::<Result<_>>()?;
        let refs: Vec<&Tensor> = lifted.iter().collect();
        named("stack", || Tensor::cat(&refs, a as isize))
    }
}
