//! MFMA: the matrix instructions of CDNA parts (gfx942, gfx950), the lowering of WMMA
//! nodes. A WMMA node multiplies a 16x16 tile of A by a 16x16 tile of B (f16 or bf16)
//! and adds the product into a 16x16 f32 tile, across the 64 lanes of a wavefront: each
//! lane holds 4 values of A, 4 of B and 4 of the accumulator (the layout of the
//! `v_mfma_f32_16x16x16` instructions). Its sources are `[a, b, c]` (4 lanes each,
//! narrow floats as `float` values, converted to the instruction's operand type here),
//! its dtype f32 with 4 lanes, and its argument the instruction's name.
//!
//! | WMMA name | intrinsic | A, B operands |
//! |---|---|---|
//! | `mfma_f32_16x16x16_f16` | `llvm.amdgcn.mfma.f32.16x16x16f16` | `<4 x half>` |
//! | `mfma_f32_16x16x16_bf16` | `llvm.amdgcn.mfma.f32.16x16x16bf16.1k` | `<4 x i16>` (bf16 bits) |

use renderer::TensorCore;
use renderer_llvm::{Module, Operand};
use uop_ir::DType;

use crate::arch::Arch;

/// A matrix instruction: WMMA name, input dtype, intrinsic, and the IR type of its A/B
/// operands.
pub(crate) struct Mfma {
    name: &'static str,
    dtype_in: DType,
    intrinsic: &'static str,
    operand: &'static str,
}

const MFMA: [Mfma; 2] = [
    Mfma {
        name: "mfma_f32_16x16x16_f16",
        dtype_in: DType::F16,
        intrinsic: "llvm.amdgcn.mfma.f32.16x16x16f16",
        operand: "<4 x half>",
    },
    Mfma {
        name: "mfma_f32_16x16x16_bf16",
        dtype_in: DType::BF16,
        intrinsic: "llvm.amdgcn.mfma.f32.16x16x16bf16.1k",
        operand: "<4 x i16>",
    },
];

/// The WMMA name of the MFMA instruction for `dtype_in` inputs.
pub fn instruction_for(dtype_in: DType) -> Option<&'static str> {
    MFMA.iter().find(|m| m.dtype_in == dtype_in).map(|m| m.name)
}

/// The matrix units of `arch`, as the linearizer's `Target` lists them.
pub fn tensor_cores(arch: Arch) -> Vec<TensorCore> {
    if !arch.has_mfma() {
        return Vec::new();
    }
    MFMA.iter()
        .map(|m| TensorCore {
            dtype_in: m.dtype_in,
            dtype_acc: DType::F32,
            m: 16,
            n: 16,
            k: 16,
        })
        .collect()
}

/// The lines computing WMMA node `dest` (see the module doc).
pub fn lower(
    arch: Arch,
    instruction: &str,
    dest: &str,
    out: (DType, u8),
    src: &[Operand],
    module: &mut Module,
) -> Result<Vec<String>, String> {
    let m = MFMA
        .iter()
        .find(|m| m.name == instruction)
        .ok_or_else(|| format!("no matrix instruction named {instruction}"))?;
    if !arch.has_mfma() {
        return Err(format!("{arch} has no MFMA instructions ({instruction})"));
    }
    let [a, b, c] = src else {
        return Err(format!(
            "{instruction} takes [a, b, c], got {} sources",
            src.len()
        ));
    };
    for (what, v, dtype) in [
        ("A", a, m.dtype_in),
        ("B", b, m.dtype_in),
        ("C", c, DType::F32),
    ] {
        if v.dtype != dtype || v.lanes != 4 {
            return Err(format!(
                "{instruction}: {what} must be 4 lanes of {dtype}, not {} of {}",
                v.lanes, v.dtype
            ));
        }
    }
    if out != (DType::F32, 4) {
        return Err(format!(
            "{instruction} gives 4 lanes of f32, not {} of {}",
            out.1, out.0
        ));
    }
    let mut lines = Vec::new();
    let mut operand = |tag: &str, v: &Operand| {
        let t = format!("{dest}.{tag}");
        let narrow = m.narrow();
        lines.push(format!("{t} = fptrunc <4 x float> {} to {narrow}", v.text));
        m.operand(dest, tag, &t, &mut lines)
    };
    let (ta, tb) = (operand("a", a), operand("b", b));
    lines.push(m.call(dest, &ta, &tb, &c.text, module));
    Ok(lines)
}

/// The instruction for `dtype_in` inputs.
pub(crate) fn for_dtype(dtype_in: DType) -> Option<&'static Mfma> {
    MFMA.iter().find(|m| m.dtype_in == dtype_in)
}

impl Mfma {
    /// The vector of 4 narrow floats an A or B operand is computed as.
    pub(crate) fn narrow(&self) -> &'static str {
        if self.dtype_in == DType::F16 {
            "<4 x half>"
        } else {
            "<4 x bfloat>"
        }
    }

    /// `v` (of `narrow()`) as the intrinsic's operand type: itself, or its bits as
    /// `{dest}.{tag}bits` (a line added to `lines`).
    pub(crate) fn operand(
        &self,
        dest: &str,
        tag: &str,
        v: &str,
        lines: &mut Vec<String>,
    ) -> String {
        if self.operand == self.narrow() {
            return v.to_string();
        }
        let bits = format!("{dest}.{tag}bits");
        lines.push(format!(
            "{bits} = bitcast {} {v} to {}",
            self.narrow(),
            self.operand
        ));
        bits
    }

    /// The call that sets `dest` (`<4 x float>`) to the product of operands `a` and `b`
    /// added to `c` (`<4 x float>`).
    pub(crate) fn call(
        &self,
        dest: &str,
        a: &str,
        b: &str,
        c: &str,
        module: &mut Module,
    ) -> String {
        let op = self.operand;
        module.declare(format!(
            "declare <4 x float> @{}({op}, {op}, <4 x float>, i32 immarg, i32 immarg, i32 immarg)",
            self.intrinsic
        ));
        format!(
            "{dest} = call <4 x float> @{}({op} {a}, {op} {b}, <4 x float> {c}, i32 0, i32 0, i32 0)",
            self.intrinsic
        )
    }
}
