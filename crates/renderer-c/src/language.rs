//! C for the CPU as a `CStyle` language: what it writes differently from the base.
//!
//! - The kernel is `void NAME(void* const* bufs, int core_id)`: its buffers come as an
//!   array of pointers (`T* restrict data{slot} = (T*)bufs[slot];`), and `core_id` is
//!   the only launch index (one call per CPU thread); C has no workgroups.
//! - Scratch (DEFINE_LOCAL) is a stack array aligned for vectors, one per call.
//! - Vectors are GCC/clang vector extensions (`vector.rs`), read and written through
//!   their element-aligned `_u` twin so that any offset is allowed.
//! - EXP2 of floats below f64 is the branch-free `exp2_f32` (`exp2.rs`).

use renderer::LaunchDims;
use renderer_cstyle::{CStyle, Helpers, KernelBuffer, Operand, SpecialIndex};
use uop_ir::{DType, Op, Special};

use crate::exp2::exp2_f32;
use crate::vector;

/// The C language of the CPU target.
#[derive(Clone, Copy, Debug, Default)]
pub struct C;

impl CStyle for C {
    fn name(&self) -> &'static str {
        "C"
    }

    fn preamble(&self) -> String {
        "#include <stdint.h>\n#include <math.h>\n\n".into()
    }

    fn kernel_open(&self, name: &str, buffers: &[KernelBuffer], _dims: &LaunchDims) -> String {
        let mut out = format!("void {name}(void* const* bufs, int core_id) {{\n");
        for b in buffers {
            let (ty, slot) = (b.element_type, b.slot);
            out += &format!("  {ty}* restrict data{slot} = ({ty}*)bufs[{slot}];\n");
        }
        out
    }

    fn special_index(&self, which: Special) -> Result<SpecialIndex, String> {
        match which {
            Special::Core => Ok(SpecialIndex {
                name: "core_id64".into(),
                expr: "core_id".into(),
            }),
            other => Err(format!("C kernels have only core_id, not {other}")),
        }
    }

    fn local_array(&self, ty: &str, name: &str, size: i128) -> String {
        format!("{ty} {name}[{size}] __attribute__((aligned(64)));")
    }

    fn alu(
        &self,
        op: Op,
        _out: DType,
        src: &[Operand],
        helpers: &mut Helpers,
    ) -> Option<Result<String, String>> {
        let x = src.first()?;
        (op == Op::Exp2 && x.dtype.is_float() && x.dtype != DType::F64)
            .then(|| Ok(exp2_f32(helpers, &x.text)))
    }

    fn vector_type(
        &self,
        dtype: DType,
        lanes: u8,
        helpers: &mut Helpers,
    ) -> Result<String, String> {
        vector::vector_type(dtype, lanes, helpers)
    }

    fn vector_access(&self, ty: &str, base: &str, offset: &str, write: bool) -> String {
        let constness = if write { "" } else { "const " };
        format!("*({constness}{ty}_u*)({base} + {offset})")
    }

    fn vector_alu(
        &self,
        op: Op,
        lanes: u8,
        src: &[Operand],
        helpers: &mut Helpers,
    ) -> Result<String, String> {
        vector::alu(op, lanes, src, helpers)
    }

    fn vector_select(
        &self,
        dtype: DType,
        lanes: u8,
        conds: &[String],
        a: &str,
        b: &str,
        helpers: &mut Helpers,
    ) -> Result<String, String> {
        vector::select(dtype, lanes, conds, a, b, helpers)
    }
}
