//! Compositions users expect, each a few tensor ops (fusion is rangeify's job, gradients
//! come by composition): linear algebra, normalizations, activations, convolution and
//! pooling, losses, indexing, joining; also `bitcast` (one BITCAST of the IR) and
//! `masked_select` (which reads its mask on the host for its length).

mod activation;
mod attention;
mod bitcast;
mod conv;
mod index;
mod indexing;
mod integer;
mod inverse_hyperbolic;
mod join;
mod linalg;
mod loss;
mod masked_select;
mod math;
mod mode;
mod norm;
mod normalize;
mod order;
pub(crate) mod pool;
mod resize;
mod scatter_reduce;
mod select;
mod windows_nd;

pub use attention::AttentionOpts;
pub use conv::{Conv2dOpts, ConvOpts};
pub use indexing::Idx;
pub use integer::Rounding;
pub use loss::{CrossEntropyOpts, Reduction};
pub use pool::Pool2dOpts;
pub use resize::Interpolation;
pub use scatter_reduce::ScatterReduce;
pub use select::PadMode;
