//! Matrix products with PyTorch's `matmul` rules: 1-D operands are vectors, leading dims
//! broadcast, `[.., m, k] @ [.., k, n] -> [.., m, n]`. A product is a broadcast multiply
//! reduced over `k`, so `(a @ b + bias).relu()` is one kernel. Narrow floats multiply
//! and accumulate in f32 and round once, as PyTorch does.

use dtype::DType;

use crate::error::{Result, TensorError, named};
use crate::tensor::Tensor;

impl Tensor {
    /// The matrix product (PyTorch's `matmul`): vector-vector is a dot product, a vector
    /// on the left is a row and on the right a column (the added dim is removed again),
    /// and dims before the last two broadcast.
    pub fn matmul(&self, other: &Tensor) -> Result<Tensor> {
        let (a, b) = (self.shape().to_vec(), other.shape().to_vec());
        let bad = || TensorError::Matmul {
            a: a.clone(),
            b: b.clone(),
        };
        if a.is_empty() || b.is_empty() {
            return Err(bad());
        }
        let x = if a.len() == 1 {
            self.reshape(&[1, a[0]])?
        } else {
            self.clone()
        };
        let w = if b.len() == 1 {
            other.reshape(&[b[0], 1])?
        } else {
            other.clone()
        };
        let (xs, ws) = (x.shape(), w.shape());
        let k = xs[xs.len() - 1];
        if ws[ws.len() - 2] != k {
            return Err(bad());
        }
        let out = named("matmul", || {
            // [.., m, 1, k] * [.., 1, n, k] summed over k
            let lhs = x.unsqueeze(xs.len() - 1)?;
            let rhs = w
                .transpose(ws.len() - 2, ws.len() - 1)?
                .unsqueeze(ws.len() - 2)?;
            let dtype = dtype::least_upper_dtype(&[self.dtype(), other.dtype()])?;
            let wide = if dtype.is_narrow_float() {
                DType::F32
            } else {
                dtype
            };
            lhs.cast(wide)?
                .mul(&rhs.cast(wide)?)?
                .sum(&[-1], false)?
                .cast(dtype)
        })
        .map_err(|e| match e {
            TensorError::Broadcast { .. } => bad(),
            e => e,
        })?;
        // drop the dims a vector operand was given
        let mut shape = out.shape().to_vec();
        if b.len() == 1 {
            shape.pop();
        }
        if a.len() == 1 {
            shape.remove(shape.len() - 1 - usize::from(b.len() != 1));
        }
        out.reshape(&shape)
    }

    /// Batched matrix product of 3-D tensors of one batch size (PyTorch's `bmm`).
    pub fn bmm(&self, other: &Tensor) -> Result<Tensor> {
        let (a, b) = (self.shape(), other.shape());
        if a.len() != 3 || b.len() != 3 || a[0] != b[0] {
            return Err(TensorError::Matmul {
                a: a.to_vec(),
                b: b.to_vec(),
            });
        }
        self.matmul(other)
    }
}
