//! ONNX import for ferrograd: read `.onnx` files (the protobuf schema compiled in at build
//! time, external data files included), check their opsets, and run their graphs as lazy
//! `Tensor` programs.
//!
//! ```no_run
//! # fn main() -> Result<(), onnx::OnnxError> {
//! let session = onnx::Session::load("model.onnx", "CPU")?;
//! let x = onnx::TensorValue::from_host(onnx::HostTensor::from_f64s(
//!     onnx::ElemType::Native(dtype::DType::F32), vec![1, 3], &[1.0, 2.0, 3.0])?);
//! let outputs = session.run(&[("x", x.into())])?;
//! onnx::realize_values(outputs.iter().map(|(_, v)| v))?;
//! # Ok(())
//! # }
//! ```
//!
//! A run binds the inputs (their types, ranks and dims checked, symbolic dims bound),
//! then builds each node's result from `Tensor` ops. Shape computations on small host
//! tensors are folded on the host, so a model with dynamic shapes is scheduled once.
//! Every error names the node (its name, or `#index`), its op, and the reason; no file
//! content makes the importer panic.

mod data_pb;
pub mod diff;
mod elem;
mod error;
mod exec;
mod graph;
mod host;
mod model;
mod npy;
mod ops;
pub mod proto;
mod session;
mod tensor_proto;
mod value;

pub use data_pb::{read_tensor_pb, read_value_pb};
pub use elem::ElemType;
pub use error::{OnnxError, Result};
pub use exec::Observer;
pub use graph::{AttrValue, Attribute, Dim, Graph, Node, ValueInfo, ValueType};
pub use host::HostTensor;
pub use model::{KNOWN_DOMAINS, MAX_ONNX_OPSET, Model};
pub use npy::{read_npy, write_npy};
pub use ops::{is_supported, supported_ops};
pub use session::{Session, realize_values};
pub use tensor_proto::decode_tensor;
pub use value::{Sequence, TensorValue, Value};
