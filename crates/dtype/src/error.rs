//! Errors of this crate: the inputs that type promotion refuses.
//!
//! Every other function here is total (conversions saturate, round or produce NaN as their
//! documentation says), so this enum only names promotion failures.

use crate::DType;

/// Why a dtype operation was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum DTypeError {
    /// The dtype has no values, so there is nothing to promote (only `void`).
    #[error("cannot promote `{0}`: it has no values")]
    NotPromotable(DType),
    /// `least_upper_dtype` was given no dtypes.
    #[error("cannot find the least upper dtype of an empty list of dtypes")]
    EmptyPromotion,
}
