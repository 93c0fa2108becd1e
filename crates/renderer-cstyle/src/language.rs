//! `CStyle`: what a C-like language is to the base renderer. The base writes the
//! statements, expressions and literals that C-like languages share; a language supplies
//! only what differs: the file's preamble, the kernel's signature and how it reaches its
//! buffers, how a launch index is spelled, scratch declarations, the barrier, type names,
//! vectors, and any expression it writes its own way. Every method with a default spells
//! it as C11 does (or says the language has no such thing), so a language overrides only
//! where it differs.
//!
//! CUDA C, for example, fits as: `kernel_open` writes `extern "C" __global__ void
//! __launch_bounds__(N) NAME(float* __restrict__ data0, ...)`; `special_index` gives
//! `blockIdx.x` and `threadIdx.x`; `local_array` writes `__shared__`; `barrier` is
//! `__syncthreads();`; `value_type` names `half` and `__nv_bfloat16` where it computes
//! in them (`stores_as_bits` false); the vector methods use `float4` and
//! `make_float4(...)` with lanes `.x` to `.w`.

use std::fmt;

use dtype::DType;
use renderer::LaunchDims;
use uop_ir::{Op, PatternMatcher, Special};

use crate::alu::Operand;
use crate::dtypes::c_value_type;
use crate::helpers::Helpers;
use crate::narrow::is_narrow_float;

/// A buffer argument of a kernel: its slot and the C type of its elements in memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KernelBuffer {
    pub slot: u32,
    pub element_type: &'static str,
}

/// How a launch index is read: the kernel declares `const <index type> name = expr;`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecialIndex {
    pub name: String,
    pub expr: String,
}

/// A C-like language (see the module doc).
pub trait CStyle: Send + Sync + fmt::Debug {
    /// The target's name, as errors give it (`"C"`, `"CUDA"`).
    fn name(&self) -> &'static str;

    /// The rules that a program is rewritten with before it is written out: the shared
    /// decompositions (`crate::rules::base`), and any of the language's own after them.
    fn rules(&self) -> &PatternMatcher {
        crate::rules::base()
    }

    /// The file's first lines (includes, macros), before the helpers.
    fn preamble(&self) -> String;

    /// The kernel's signature and whatever gives the body its buffers, up to and with the
    /// line that opens the body. Every buffer is declared as `T* data{slot}` (elements of
    /// `element_type`) by the end of it; `dims` is the launch the kernel is compiled for.
    fn kernel_open(&self, name: &str, buffers: &[KernelBuffer], dims: &LaunchDims) -> String;

    /// How the launch index `which` is read, or why the language has no such index.
    fn special_index(&self, which: Special) -> Result<SpecialIndex, String>;

    /// The declaration of scratch memory (DEFINE_LOCAL): `size` elements of `ty` named
    /// `name`, shared by a workgroup where the language has workgroups.
    fn local_array(&self, ty: &str, name: &str, size: i128) -> String;

    /// The statement that holds every thread of a workgroup until all have reached it
    /// (BARRIER); `None` where the language has no workgroups.
    fn barrier(&self) -> Option<&'static str> {
        None
    }

    /// The type a value of `dtype` has in a kernel; `None` for void.
    fn value_type(&self, dtype: DType) -> Option<&'static str> {
        c_value_type(dtype)
    }

    /// Whether values of `dtype` are computed in `float` and stored as their bits (see
    /// `narrow.rs`): by default every float narrower than f32.
    fn stores_as_bits(&self, dtype: DType) -> bool {
        is_narrow_float(dtype)
    }

    /// The `float` value of the bits `bits` of the narrow float `dtype` (a LOAD or CAST of
    /// one). By default the base's integer-only decoder (`narrow::decode`); a language
    /// with a conversion instruction may use it, if it converts exactly as the base does.
    fn decode_narrow(&self, dtype: DType, bits: &str, helpers: &mut Helpers) -> String {
        crate::narrow::decode(helpers, dtype, bits)
    }

    /// The bits of the narrow float `dtype` nearest to the `float` `x` (ties to even). By
    /// default the base's integer-only encoder (`narrow::encode`).
    fn encode_narrow(&self, dtype: DType, x: &str, helpers: &mut Helpers) -> String {
        crate::narrow::encode(helpers, dtype, x)
    }

    /// The literal of positive infinity as a value of the float `dtype`.
    fn infinity(&self, _dtype: DType) -> &'static str {
        "INFINITY"
    }

    /// The literal of a NaN as a value of the float `dtype`.
    fn nan(&self, _dtype: DType) -> &'static str {
        "NAN"
    }

    /// The language's own expression for the scalar ALU op `op` of result dtype `out`,
    /// where it has one (the base's otherwise, see `alu.rs`).
    fn alu(
        &self,
        _op: Op,
        _out: DType,
        _src: &[Operand],
        _helpers: &mut Helpers,
    ) -> Option<Result<String, String>> {
        None
    }

    /// The type of a vector of `lanes` elements of `dtype`, declared through `helpers`
    /// if it needs a definition; an error where the language has no such vector.
    fn vector_type(
        &self,
        dtype: DType,
        lanes: u8,
        _helpers: &mut Helpers,
    ) -> Result<String, String> {
        Err(format!("{} has no vectors of {lanes} {dtype}", self.name()))
    }

    /// A vector of type `ty` made of the expressions `elems`, one per lane.
    fn vector_literal(&self, ty: &str, elems: &[String]) -> String {
        format!("({ty}){{{}}}", elems.join(", "))
    }

    /// Lane `k` of the vector `v`.
    fn vector_lane(&self, v: &str, k: usize) -> String {
        format!("{v}[{k}]")
    }

    /// The vector of type `ty` at element `offset` of buffer `base` and the elements after
    /// it, as an lvalue (to store to it when `write`).
    fn vector_access(&self, ty: &str, base: &str, offset: &str, write: bool) -> String {
        let constness = if write { "" } else { "const " };
        format!("*(({constness}{ty}*)({base} + {offset}))")
    }

    /// The expression of the vector ALU op `op` on `src` (vectors of `lanes`, operands
    /// of one dtype); an error where the language has no such vector op.
    fn vector_alu(
        &self,
        op: Op,
        lanes: u8,
        src: &[Operand],
        _helpers: &mut Helpers,
    ) -> Result<String, String> {
        let dtype = src.first().map_or(DType::Void, |o| o.dtype);
        Err(format!(
            "{} has no vector {op} on {lanes} {dtype}",
            self.name()
        ))
    }

    /// WHERE on vectors of `lanes` elements of `dtype`: lane `k` is `a`'s where
    /// `conds[k]` holds and `b`'s elsewhere. By default a vector of per-lane selects.
    fn vector_select(
        &self,
        dtype: DType,
        lanes: u8,
        conds: &[String],
        a: &str,
        b: &str,
        helpers: &mut Helpers,
    ) -> Result<String, String> {
        let ty = self.vector_type(dtype, lanes, helpers)?;
        let elems: Vec<String> = (0..lanes as usize)
            .zip(conds)
            .map(|(k, c)| {
                format!(
                    "({c}) ? {} : {}",
                    self.vector_lane(a, k),
                    self.vector_lane(b, k)
                )
            })
            .collect();
        Ok(self.vector_literal(&ty, &elems))
    }
}
