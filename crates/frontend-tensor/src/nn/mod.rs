//! Layers, as `torch.nn` has them: the [`Module`] trait (named parameters and buffers,
//! state dicts, training mode) and the layers built on the functional tensor ops.
//! Parameter and buffer names, default inits and formulas follow PyTorch, so a state
//! dict saved by one loads into the other.

mod batchnorm;
mod conv;
mod dropout;
mod embedding;
mod init;
mod linear;
mod module;
mod norm;
mod pool;
mod sequential;
mod state_dict;
mod stateless;

pub use batchnorm::{BatchNorm1d, BatchNorm2d};
pub use conv::Conv2d;
pub use dropout::Dropout;
pub use embedding::Embedding;
pub use linear::Linear;
pub use module::Module;
pub use norm::{LayerNorm, RMSNorm, machine_epsilon};
pub use pool::{AvgPool2d, MaxPool2d};
pub use sequential::Sequential;
pub use stateless::{Flatten, Func, ReLU};
