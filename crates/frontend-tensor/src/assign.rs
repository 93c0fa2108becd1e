//! `Tensor::assign`: writing new values into the buffer that already backs a tensor (as
//! tinygrad's `assign` does), rather than giving the result a buffer of its own. The write
//! is lazy like every other op: it happens when the tensor is realized, in a schedule that
//! runs every kernel reading the buffer's old contents before the kernel overwriting it.

use uop_ir::{Arg, Op, UOp};

use crate::error::{Result, TensorError};
use crate::tensor::Tensor;

impl Tensor {
    /// Writes `value` into this tensor's buffer and makes this tensor (and every clone of
    /// it) the assigned value; returns it. `value` must have this tensor's shape, dtype and
    /// device. A lazy tensor is realized first, so that it has a buffer to write into.
    ///
    /// `value` may read this tensor: elementwise (`a.assign(&(a + 1))`) it is one kernel;
    /// at other positions (`a.assign(&a.flip(&[0]))`) the old contents are copied first, so
    /// no element reads one already overwritten. Other tensors that read the buffer (views
    /// of it, or values computed from it) see its old contents when they are realized
    /// before or together with the assignment, and the new contents afterwards.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// x.assign(&x.mul_scalar(2.0)?)?; // writes into x's buffer
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn assign(&self, value: &Tensor) -> Result<Tensor> {
        if value.shape() != self.shape() || value.dtype() != self.dtype() {
            return Err(TensorError::Assign {
                target: self.shape().to_vec(),
                target_dtype: self.dtype(),
                value: value.shape().to_vec(),
                value_dtype: value.dtype(),
            });
        }
        if value.device() != self.device() {
            return Err(TensorError::AssignDevice {
                target: self.device().to_string(),
                value: value.device().to_string(),
            });
        }
        self.realize()?;
        let node = UOp::new(
            Op::Assign,
            self.dtype(),
            [self.node(), value.node()],
            Arg::None,
        );
        self.set_node(node);
        Ok(self.clone())
    }
}
