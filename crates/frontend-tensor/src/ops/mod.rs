//! Compositions users expect, each a few tensor ops (fusion is rangeify's job, gradients
//! come by composition): linear algebra, normalizations, activations, convolution and
//! pooling, losses, indexing, joining.

mod activation;
mod conv;
mod index;
mod join;
mod linalg;
mod loss;
mod normalize;
pub(crate) mod pool;

pub use conv::Conv2dOpts;
pub use loss::{CrossEntropyOpts, Reduction};
pub use pool::Pool2dOpts;
