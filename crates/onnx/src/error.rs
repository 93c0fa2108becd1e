//! The one error type of ONNX import: every failure says what was wrong and where: the
//! file, the tensor, or the node (its name, or its position when it has none) and op.

use std::path::PathBuf;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum OnnxError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("malformed {what}: {source}")]
    Decode {
        what: &'static str,
        source: prost::DecodeError,
    },
    #[error("invalid model: {0}")]
    Model(String),
    #[error("tensor '{name}': {why}")]
    TensorData { name: String, why: String },
    #[error("opset: {0}")]
    Opset(String),
    #[error("input '{name}': {why}")]
    Input { name: String, why: String },
    #[error("node {node} ({op}): {source}")]
    Node {
        node: String,
        op: String,
        source: Box<OnnxError>,
    },
    #[error("op {op} (domain '{domain}', opset {version}) is not supported")]
    Unsupported {
        op: String,
        domain: String,
        version: i64,
    },
    #[error("attribute '{name}': {why}")]
    Attribute { name: String, why: String },
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Tensor(#[from] frontend_tensor::TensorError),
}

pub type Result<T> = std::result::Result<T, OnnxError>;

impl OnnxError {
    /// This error as raised while running the node `node` (its name, or `#index`) of
    /// op `op`; an error of a node inside a subgraph keeps its own node too.
    pub fn at_node(self, node: &str, op: &str) -> OnnxError {
        OnnxError::Node {
            node: node.to_string(),
            op: op.to_string(),
            source: Box::new(self),
        }
    }

    /// The innermost reason, without the node context around it.
    pub fn reason(&self) -> &OnnxError {
        match self {
            OnnxError::Node { source, .. } => source.reason(),
            other => other,
        }
    }
}

/// An [`OnnxError::Invalid`] with a formatted reason.
macro_rules! invalid {
    ($($arg:tt)*) => {
        $crate::error::OnnxError::Invalid(format!($($arg)*))
    };
}
pub(crate) use invalid;
