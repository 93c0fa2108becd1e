//! `masked_select`: the elements where a bool mask is true, as a 1-D tensor. Its length
//! depends on the mask's values, so the mask (broadcast with the tensor) is realized and
//! read on the host first, a sync, as in PyTorch; the elements are then an
//! `index_select` of the flattened tensor at the positions found, so the gradient is
//! `index_select`'s: the output's gradient back at the selected places, 0 elsewhere
//! (summed over the dims the tensor was broadcast along).

use crate::error::{Result, TensorError, named};
use crate::movement::broadcast_shape;
use crate::tensor::Tensor;

const OP: &str = "masked_select";

impl Tensor {
    /// The elements where `mask` (bool) is true, in row-major order, as a 1-D tensor
    /// (PyTorch's `masked_select`). The tensor and the mask broadcast together first, so
    /// an element is picked once for each true place it is broadcast to. Reads the mask
    /// back to the host to count its true places (it waits for the mask to be computed);
    /// picking costs `numel * count` comparisons (a one-hot mask), fused.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let mask = x.gt_scalar(0.0)?;
    /// let y = x.masked_select(&mask)?; // [0.5, 2.0, 4.0]
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn masked_select(&self, mask: &Tensor) -> Result<Tensor> {
        if !mask.dtype().is_bool() {
            return Err(TensorError::Invalid {
                op: OP,
                why: format!("the mask must be bool, got {}", mask.dtype()),
            });
        }
        let shape = broadcast_shape(OP, self.shape(), mask.shape())?;
        named(OP, || {
            let picked: Vec<i64> = mask
                .broadcast_to(&shape)?
                .to_vec::<bool>()?
                .into_iter()
                .enumerate()
                .filter(|&(_, on)| on)
                .map(|(k, _)| k as i64)
                .collect();
            let at = Tensor::from_slice_on(&picked, &[picked.len() as i64], self.device())?;
            let flat = self.broadcast_to(&shape)?.reshape(&[-1])?;
            flat.index_select(0, &at)
        })
    }
}
