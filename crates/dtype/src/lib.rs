//! Data types of ferrograd: what each element type is, how it is encoded, and how
//! values convert between types.
//!
//! `DType` is a small `Copy` enum. `Index` is the abstract integer of index math: it
//! behaves like a signed 64-bit integer and is lowered to `i32`/`i64` late in codegen.

mod dtype;

pub use dtype::{DType, ScalarKind};
