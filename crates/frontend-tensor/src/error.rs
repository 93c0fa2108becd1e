//! The errors of tensor operations: each names the operation and the bad input.

use dtype::DType;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TensorError {
    #[error("{op}: shapes {a:?} and {b:?} do not broadcast")]
    Broadcast {
        op: &'static str,
        a: Vec<i64>,
        b: Vec<i64>,
    },
    #[error("{op}: {error}")]
    Shape {
        op: &'static str,
        error: uop_ir::ShapeError,
    },
    #[error("{op}: axis {axis} is out of range for a tensor of rank {rank}")]
    Axis {
        op: &'static str,
        axis: isize,
        rank: usize,
    },
    #[error("from_slice: {len} values do not fill shape {shape:?} ({numel} elements)")]
    DataLength {
        len: usize,
        shape: Vec<i64>,
        numel: i64,
    },
    #[error("matmul: {a:?} @ {b:?}: inner dims must match and both must be 2-D")]
    Matmul { a: Vec<i64>, b: Vec<i64> },
    #[error(
        "assign: a value of shape {value:?} ({value_dtype}) cannot be written into a tensor of shape {target:?} ({target_dtype})"
    )]
    Assign {
        target: Vec<i64>,
        target_dtype: DType,
        value: Vec<i64>,
        value_dtype: DType,
    },
    #[error("assign: the value is on {value} but the tensor it is written into is on {target}")]
    AssignDevice { target: String, value: String },
    #[error("to_vec::<{want}>() of a {have} tensor: cast it first")]
    WrongType { want: DType, have: DType },
    #[error("{op} is not defined for {dtype}")]
    DType { op: &'static str, dtype: DType },
    #[error("{op}: cannot allocate {bytes} bytes of host memory")]
    HostMemory { op: &'static str, bytes: usize },
    #[error("{0}")]
    Promote(#[from] dtype::DTypeError),
    #[error("{0}")]
    Engine(#[from] engine::EngineError),
    #[error("{0}")]
    Device(#[from] device::DeviceError),
}

pub type Result<T> = std::result::Result<T, TensorError>;
