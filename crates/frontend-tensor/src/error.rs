//! The errors of tensor operations: each names the public `Tensor` method the user called
//! (not an op it is built from) and the bad input. A method built from other methods
//! reports their errors under its own name with [`named`].

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
    #[error("{op}: axis {axis} is out of range for shape {shape:?} (rank {rank})", rank = .shape.len())]
    Axis {
        op: &'static str,
        axis: isize,
        shape: Vec<i64>,
    },
    #[error("from_slice: {len} values do not fill shape {shape:?} ({numel} elements)")]
    DataLength {
        len: usize,
        shape: Vec<i64>,
        numel: i64,
    },
    #[error(
        "matmul: {a:?} @ {b:?}: the inner dims must match, the batch dims broadcast, and both have at least 1 dim"
    )]
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
    #[error("{op}: not defined for dtype {dtype}")]
    DType { op: &'static str, dtype: DType },
    #[error("{op}: cannot allocate {bytes} bytes of host memory")]
    HostMemory { op: &'static str, bytes: usize },
    #[error("no gradient through {op}: {why}")]
    Gradient { op: uop_ir::Op, why: String },
    #[error("backward: {0}")]
    Backward(String),
    #[error(
        "{op}: the gradient must have shape {want:?} and dtype {want_dtype}, got {got:?} {got_dtype}"
    )]
    GradShape {
        op: &'static str,
        want: Vec<i64>,
        want_dtype: DType,
        got: Vec<i64>,
        got_dtype: DType,
    },
    #[error(
        "windows of {kernel} (stride {stride}, dilation {dilation}) do not fit the last dim of shape {shape:?}"
    )]
    Window {
        shape: Vec<i64>,
        kernel: i64,
        stride: i64,
        dilation: i64,
    },
    #[error("conv2d of input {input:?} with weight {weight:?}: {why}")]
    Conv {
        input: Vec<i64>,
        weight: Vec<i64>,
        why: String,
    },
    #[error("{op}: {why}")]
    Invalid { op: &'static str, why: String },
    #[error("{op}: {len} bytes do not hold shape {shape:?} of {dtype} ({want} bytes)")]
    ByteLength {
        op: &'static str,
        len: usize,
        shape: Vec<i64>,
        dtype: DType,
        want: usize,
    },
    #[error("{module}: {why}")]
    Module { module: &'static str, why: String },
    #[error("load_state_dict: {}", state_dict_problems(.missing, .unexpected, .mismatched))]
    StateDict {
        /// Names the module has and the state did not give.
        missing: Vec<String>,
        /// Names the state gave that the module does not have.
        unexpected: Vec<String>,
        /// `name: what is wrong` for names both have whose shape, dtype or device differ.
        mismatched: Vec<String>,
    },
    #[error("{optimizer}: {why}")]
    Optimizer {
        optimizer: &'static str,
        why: String,
    },
    #[error("safetensors file {path}{}: {why}", .tensor.as_ref().map(|t| format!(", tensor '{t}'")).unwrap_or_default())]
    Safetensors {
        path: String,
        tensor: Option<String>,
        why: String,
    },
    #[error("Jit::call: {0}")]
    Jit(String),
    #[error("{0}")]
    Promote(#[from] dtype::DTypeError),
    #[error("{0}")]
    Engine(#[from] engine::EngineError),
    #[error("{0}")]
    Device(#[from] device::DeviceError),
}

pub type Result<T> = std::result::Result<T, TensorError>;

/// The message of [`TensorError::StateDict`]: each non-empty list, named.
fn state_dict_problems(missing: &[String], unexpected: &[String], mismatched: &[String]) -> String {
    let parts: Vec<String> = [
        ("missing", missing),
        ("unexpected", unexpected),
        ("mismatched", mismatched),
    ]
    .iter()
    .filter(|(_, names)| !names.is_empty())
    .map(|(what, names)| format!("{what}: {}", names.join(", ")))
    .collect();
    parts.join("; ")
}

impl TensorError {
    /// This error as reported by the method `op`, which failed in an op it is built from.
    fn in_op(self, op: &'static str) -> TensorError {
        match self {
            TensorError::Broadcast { a, b, .. } => TensorError::Broadcast { op, a, b },
            TensorError::Shape { error, .. } => TensorError::Shape { op, error },
            TensorError::Axis { axis, shape, .. } => TensorError::Axis { op, axis, shape },
            TensorError::DType { dtype, .. } => TensorError::DType { op, dtype },
            TensorError::HostMemory { bytes, .. } => TensorError::HostMemory { op, bytes },
            other => other,
        }
    }
}

/// Runs the body of the public method `op`, reporting errors of the ops it is built from
/// as errors of `op`.
pub(crate) fn named<T>(op: &'static str, body: impl FnOnce() -> Result<T>) -> Result<T> {
    body().map_err(|e| e.in_op(op))
}
