//! Compile tests: rendered C is built with `cc` and run on real buffers, and every result
//! is checked against a Rust reference (`uop_ir::exec_alu`, the `dtype` crate's
//! conversions, or a plain loop). Without a C compiler each test prints
//! "skipping: no C compiler" and returns.

#[path = "../common/mod.rs"]
mod common;
#[path = "../common/run.rs"]
mod run;

mod kernel;

mod alu;
mod floats;
mod programs;
mod vectors;
