//! Compositions users expect, each a few tensor ops (fusion is rangeify's job, gradients
//! come by composition): linear algebra, normalizations, activations, convolution and
//! pooling, losses, indexing, joining.

mod activation;
mod attention;
mod conv;
mod index;
mod indexing;
mod integer;
mod join;
mod linalg;
mod loss;
mod math;
mod norm;
mod normalize;
mod order;
pub(crate) mod pool;
mod resize;
mod select;

pub use attention::AttentionOpts;
pub use conv::{Conv2dOpts, ConvOpts};
pub use indexing::Idx;
pub use integer::Rounding;
pub use loss::{CrossEntropyOpts, Reduction};
pub use pool::Pool2dOpts;
pub use resize::Interpolation;
pub use select::PadMode;
