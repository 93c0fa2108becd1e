//! The rule families, one per file, in the order `symbolic()` applies them.

pub mod canonical;
pub mod cast;
pub mod combine;
pub mod compare;
pub mod divmod;
pub mod fold;
pub mod gate;
pub mod identity;
pub mod valid;
