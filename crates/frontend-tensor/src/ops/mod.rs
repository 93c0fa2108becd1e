//! Compositions users expect, each a few tensor ops (fusion is rangeify's job, gradients
//! come by composition): linear algebra, normalizations, activations, convolution and
//! pooling, losses, indexing, joining.

mod linalg;
