//! The C renderer's compile tests, run through LLVM: the same test bodies (its files,
//! included by path) with a `kernel` module that renders each program as LLVM IR,
//! compiles it in process and links it with this crate's JIT. Every result is checked
//! against the same Rust references (`uop_ir::exec_alu`, the `dtype` crate's
//! conversions, plain loops), so the two CPU backends agree on every op and dtype.

#[path = "../../../renderer-c/tests/common/mod.rs"]
mod common;
#[path = "../../../renderer-c/tests/common/run.rs"]
mod run;

mod kernel;

#[path = "../../../renderer-c/tests/compile/alu.rs"]
mod alu;
#[path = "../../../renderer-c/tests/compile/floats.rs"]
mod floats;
#[path = "../../../renderer-c/tests/compile/programs.rs"]
mod programs;
#[path = "../../../renderer-c/tests/compile/vectors.rs"]
mod vectors;
