//! IR helper functions that kernels call and LLVM inlines: the narrow floats' encodings
//! (`narrow`) and EXP2 of f32 without a library call (`exp2`). Each is defined once per
//! module, on first use, through `Module::helper`.

pub mod exp2;
pub mod narrow;
