//! `Tensor`: ferrograd's lazy tensors. Operations build a graph of `UOp`s and run
//! nothing; `realize`/`to_vec` hand the graph to the engine, which fuses it into a few
//! kernels and runs them on the tensor's device (found through the device registry: a
//! program registers its devices first, as the `ferrograd` facade's `init` does). `Jit`
//! captures the kernels of a function (a training step) and replays them.

mod assign;
mod autograd;
mod bytes;
mod creation;
mod device;
mod display;
mod element;
mod elementwise;
mod error;
mod jit;
mod movement;
pub mod nn;
mod operators;
mod ops;
pub mod optim;
mod rand;
mod reduce;
mod state;
mod tensor;

pub use autograd::{NoGradGuard, no_grad};
pub use device::{default_device, set_default_device};
pub use dtype::DType;
pub use element::Element;
pub use engine::RunStats;
pub use error::{Result, TensorError};
pub use jit::Jit;
pub use movement::broadcast_shape;
pub use ops::{
    AttentionOpts, Conv2dOpts, ConvOpts, CrossEntropyOpts, Idx, Interpolation, PadMode, Pool2dOpts,
    Reduction, Rounding, ScatterReduce,
};
pub use rand::manual_seed;
pub use state::{load_safetensors, load_safetensors_on, save_safetensors};
pub use tensor::{DEFAULT_DEVICE, Tensor};
