//! Validation errors of the view math, and the checked-arithmetic helper that turns an
//! `i64` overflow into one of them.

/// Result of a view operation.
pub type Result<T> = std::result::Result<T, ViewError>;

/// Why a view or a movement op was rejected. Each message names the bad input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ViewError {
    /// A shape holds a negative dimension (zero is allowed).
    #[error("negative dimension {dim} at axis {axis} of shape {shape:?}")]
    NegativeDim {
        /// The offending shape.
        shape: Vec<i64>,
        /// Axis of the negative dimension.
        axis: usize,
        /// The negative dimension.
        dim: i64,
    },
    /// The element count of a shape does not fit in `i64`.
    #[error("element count of shape {shape:?} overflows i64")]
    SizeOverflow {
        /// The offending shape.
        shape: Vec<i64>,
    },
    /// An argument has a different number of axes than the view.
    #[error("{op} expects {expected} axes, got {got}")]
    RankMismatch {
        /// The operation (`pad`, `shrink`, `permute`, `flip`, `expand`, `create`).
        op: &'static str,
        /// Rank of the view.
        expected: usize,
        /// Length of the argument.
        got: usize,
    },
    /// `permute` axes are not a permutation of `0..rank`.
    #[error("permute axes {axes:?} are not a permutation of 0..{rank}")]
    NotAPermutation {
        /// The axes given.
        axes: Vec<usize>,
        /// Rank of the view.
        rank: usize,
    },
    /// A `shrink` range has `begin > end`, `begin < 0` or `end > size`.
    #[error("shrink ({begin}, {end}) is out of bounds for axis {axis} of size {size}")]
    ShrinkOutOfBounds {
        /// Axis of the bad range.
        axis: usize,
        /// Begin of the range.
        begin: i64,
        /// End of the range.
        end: i64,
        /// Size of the axis.
        size: i64,
    },
    /// A `pad` amount is negative.
    #[error("negative pad ({before}, {after}) on axis {axis}")]
    NegativePad {
        /// Axis of the bad pad.
        axis: usize,
        /// Padding before.
        before: i64,
        /// Padding after.
        after: i64,
    },
    /// `expand` changes an axis whose size is not 1.
    #[error("cannot expand axis {axis} from {from} to {to}: only size-1 axes expand")]
    ExpandNonUnit {
        /// The axis.
        axis: usize,
        /// Its current size.
        from: i64,
        /// The requested size.
        to: i64,
    },
    /// `reshape` to a shape with a different element count.
    #[error("cannot reshape {from:?} to {to:?}: element counts differ")]
    ReshapeCount {
        /// Current shape.
        from: Vec<i64>,
        /// Requested shape.
        to: Vec<i64>,
    },
    /// An offset or stride computation overflows `i64`.
    #[error("offset arithmetic overflows i64 in {op}")]
    Overflow {
        /// The operation that overflowed.
        op: &'static str,
    },
    /// A `ViewStack` without any view.
    #[error("view stack holds no view")]
    EmptyStack,
}

/// Turns the `None` of a `checked_*` operation into [`ViewError::Overflow`].
pub(crate) trait OrOverflow {
    fn or_overflow(self, op: &'static str) -> Result<i64>;
}

impl OrOverflow for Option<i64> {
    fn or_overflow(self, op: &'static str) -> Result<i64> {
        self.ok_or(ViewError::Overflow { op })
    }
}
