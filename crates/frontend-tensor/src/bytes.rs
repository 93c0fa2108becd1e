//! Tensors as raw bytes: `Tensor::from_bytes` and `Tensor::to_bytes` move a tensor's
//! elements in and out of device memory in their native encoding, for every dtype with
//! values (fp8 included, which has no Rust element type). Serializers (safetensors) and
//! optimizers' per-step scalars are built on them.

use dtype::DType;
use uop_ir::{Arg, Op, UOp, checked_numel};

use crate::error::{Result, TensorError};
use crate::tensor::Tensor;

impl Tensor {
    /// A tensor of `dtype` and `shape` on `device` holding `bytes`: its elements row-major,
    /// each in the dtype's encoding, in the host's byte order. A bool is one byte, 0 or 1.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let bytes = 1.5f32.to_le_bytes();
    /// let x = Tensor::from_bytes(&bytes, DType::F32, &[1], "CPU")?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn from_bytes(bytes: &[u8], dtype: DType, shape: &[i64], device: &str) -> Result<Tensor> {
        const OP: &str = "from_bytes";
        if matches!(dtype, DType::Void | DType::Index) {
            return Err(TensorError::DType { op: OP, dtype });
        }
        let numel = checked_numel(shape).map_err(|error| TensorError::Shape { op: OP, error })?;
        let want = (numel as usize).saturating_mul(dtype.itemsize());
        if bytes.len() != want {
            return Err(TensorError::ByteLength {
                op: OP,
                len: bytes.len(),
                shape: shape.to_vec(),
                dtype,
                want,
            });
        }
        let dev = device::open(device)?;
        crate::autograd::forget_dead_origins();
        let buffer = UOp::new_buffer(dtype, numel as usize, dev.name());
        let memory = engine::store::alloc_for(&buffer, &dev, bytes.len())?;
        memory.copy_in(0, bytes)?;
        let node = UOp::new(Op::Reshape, dtype, [buffer], Arg::Shape(shape.into()));
        Ok(Tensor::from_node(node, shape.to_vec(), dev.name()))
    }

    /// The elements, row-major, each in the dtype's encoding in the host's byte order.
    /// Realizes the tensor first.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let bytes = x.to_bytes()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        self.realize()?;
        let n = self.node();
        let buffer = &n.src()[0];
        let memory = engine::store::get(buffer)
            .ok_or_else(|| engine::EngineError::MissingBuffer(buffer.arg().to_string()))?;
        let mut bytes = Vec::new();
        let len = self.numel() as usize * self.dtype().itemsize();
        bytes
            .try_reserve_exact(len)
            .map_err(|_| TensorError::HostMemory {
                op: "to_bytes",
                bytes: len,
            })?;
        bytes.resize(len, 0);
        memory.copy_out(0, &mut bytes)?;
        Ok(bytes)
    }

    /// Writes `bytes` (the elements, as `to_bytes` gives them) into this tensor's buffer
    /// at once, realizing it first. Every tensor reading the buffer sees the new values
    /// from its next realize on. The length must be the tensor's.
    pub(crate) fn overwrite_bytes(&self, bytes: &[u8]) -> Result<()> {
        let want = self.numel() as usize * self.dtype().itemsize();
        if bytes.len() != want {
            return Err(TensorError::ByteLength {
                op: "overwrite_bytes",
                len: bytes.len(),
                shape: self.shape().to_vec(),
                dtype: self.dtype(),
                want,
            });
        }
        self.realize()?;
        let n = self.node();
        let buffer = &n.src()[0];
        let memory = engine::store::get(buffer)
            .ok_or_else(|| engine::EngineError::MissingBuffer(buffer.arg().to_string()))?;
        memory.copy_in(0, bytes)?;
        Ok(())
    }
}
