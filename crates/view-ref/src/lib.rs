//! Reference "view math": the index functions that tinygrad's `ShapeTracker` computed
//! before it was deleted, kept only as a test oracle for the symbolic index simplifier.
//!
//! A [`View`] maps a point `x` of its shape to `offset + Σ xᵢ·strideᵢ`, or to nothing when
//! `x` lies outside its mask. A [`ViewStack`] composes views: the top view's offset is
//! unraveled (row-major) into a point of the view below, and so on down to the buffer.
//! Movement ops (`pad`, `shrink`, `expand`, `permute`, `flip`, `reshape`) rewrite the top
//! view; a reshape that one view cannot express pushes a new contiguous view.
//!
//! Everything is `i64` with checked arithmetic and static shapes. Inputs are validated and
//! reported as [`ViewError`]; nothing panics. Only exact results are ever returned:
//! [`View::reshape`] and [`merge_views`] return `None` rather than a guess.

mod error;
mod merge;
mod ops;
mod reshape;
mod stack;
mod views;

pub use error::{Result, ViewError};
pub use merge::merge_views;
pub use stack::ViewStack;
pub use views::{View, shape_size, strides_for_shape};
