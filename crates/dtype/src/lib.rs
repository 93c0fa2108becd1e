//! Data types of ferrograd: what each element type is, how it is encoded, and how
//! values convert between types.
//!
//! `DType` is a small `Copy` enum. `Index` is the abstract integer of index math: it
//! behaves like a signed 64-bit integer and is lowered to `i32`/`i64` late in codegen.
//!
//! - [`Fp8Format`]: exact f32 ↔ fp8 conversion for the four 8-bit float formats.
//! - [`DType::round_float`]: an `f64` rounded to a float dtype, for constant folding.
//! - [`least_upper_dtype`] and [`promote`]: type promotion on a lattice, with weak literals.

mod convert;
mod dtype;
mod error;
mod fp8;
mod promote;

pub use dtype::{DType, ScalarKind};
pub use error::DTypeError;
pub use fp8::{Fp8Format, Fp8Overflow};
pub use promote::{DEFAULT_FLOAT, DEFAULT_INT, Operand, least_upper_dtype, promote, sum_acc_dtype};
