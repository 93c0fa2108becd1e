//! `bitcast`: the same bytes read as another dtype (PyTorch's `Tensor.view(dtype)`).
//! Between dtypes of one size it is one BITCAST per element. Between sizes the last dim
//! changes, as in PyTorch: each element splits into several narrower ones, or several
//! join into one wider, little-endian (the first holds the lowest bits, as the CPU and
//! GPUs store them), with shifts on unsigned integers of each size. The result is a new
//! lazy tensor, not memory shared with the input. No gradient flows through it (PyTorch's
//! `view(dtype)` is not differentiable either).

use dtype::DType;
use uop_ir::{Arg, Op, UOp};

use crate::error::{Result, TensorError, named};
use crate::tensor::Tensor;

const OP: &str = "bitcast";

/// The unsigned integer dtype of `bytes` bytes.
fn unsigned_of(bytes: usize) -> DType {
    match bytes {
        1 => DType::U8,
        2 => DType::U16,
        4 => DType::U32,
        _ => DType::U64,
    }
}

impl Tensor {
    /// The bits of every element reinterpreted as `dtype` (PyTorch's `view(dtype)`). For
    /// a dtype of another size the last dim scales by the ratio of the sizes (f32 `(.., n)`
    /// to u8 is `(.., 4n)`; u8 `(.., 4n)` to f32 is `(.., n)`, the last dim divisible),
    /// and a scalar cannot change size. Bytes are little-endian. Not differentiable.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[1.0f32, -2.0], &[2])?;
    /// let bits = x.bitcast(DType::I32)?; // [1065353216, -1073741824]
    /// let bytes = x.bitcast(DType::U8)?; // 8 bytes
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn bitcast(&self, dtype: DType) -> Result<Tensor> {
        let from = self.dtype();
        for d in [from, dtype] {
            if matches!(d, DType::Void | DType::Index) {
                return Err(TensorError::DType { op: OP, dtype: d });
            }
        }
        let x = self.detach();
        if from == dtype {
            return Ok(x);
        }
        let (size, to_size) = (from.itemsize(), dtype.itemsize());
        if size == to_size {
            return Ok(x.bits_as(dtype));
        }
        let rank = self.shape().len();
        let last = self.shape().last().copied();
        let Some(last) = last else {
            return Err(TensorError::Invalid {
                op: OP,
                why: format!(
                    "a scalar {from} cannot be read as {dtype}: their sizes differ ({size} and {to_size} bytes)"
                ),
            });
        };
        if to_size > size && last % (to_size / size) as i64 != 0 {
            return Err(TensorError::Invalid {
                op: OP,
                why: format!(
                    "the last dim of {:?} must be divisible by {} to read {from} as {dtype} ({size} and {to_size} bytes)",
                    self.shape(),
                    to_size / size
                ),
            });
        }
        named(OP, || {
            let (wide, narrow) = (
                unsigned_of(size.max(to_size)),
                unsigned_of(size.min(to_size)),
            );
            let parts = (size.max(to_size) / size.min(to_size)) as i64;
            // part k of a wide element holds bits 8 * narrow size * k and up
            let step = 8 * narrow.itemsize() as u64;
            let shifts: Vec<u64> = (0..parts as u64).map(|k| k * step).collect();
            let shifts = Tensor::from_slice_on(&shifts, &[parts], self.device())?.cast(wide)?;
            let mut shape = self.shape().to_vec();
            if to_size < size {
                // (.., n) wide -> (.., n, parts) narrow -> (.., n * parts)
                shape[rank - 1] = last * parts;
                let split = x
                    .bits_as(wide)
                    .unsqueeze(rank)?
                    .shr(&shifts)?
                    .cast(narrow)?
                    .reshape(&shape)?;
                Ok(split.bits_as(dtype))
            } else {
                // (.., n * parts) narrow -> (.., n, parts) wide, the parts' bits disjoint
                shape[rank - 1] = last / parts;
                shape.push(parts);
                let joined = x
                    .bits_as(narrow)
                    .reshape(&shape)?
                    .cast(wide)?
                    .shl(&shifts)?
                    .sum(&[-1], false)?
                    .cast(wide)?;
                Ok(joined.bits_as(dtype))
            }
        })
    }

    /// A BITCAST to `dtype`, of the same size as this tensor's dtype.
    fn bits_as(&self, dtype: DType) -> Tensor {
        if dtype == self.dtype() {
            return self.clone();
        }
        let node = UOp::new(Op::Bitcast, dtype, [self.node()], Arg::None);
        self.derive(node, self.shape().to_vec())
    }
}
