//! C types of dtypes, and which helper functions a kernel needs.
//!
//! A value of any float dtype narrower than f32 (f16, bf16, the four fp8 formats) lives
//! in a `float` that holds exactly a value of its dtype, except for the results of ALU ops,
//! which are computed in `float` and rounded only when stored or CAST. In memory these
//! dtypes are their raw bits (`uint16_t`, `uint8_t`); a LOAD decodes and a STORE encodes.

use std::collections::BTreeSet;

use uop_ir::DType;

/// The C type a value of `dtype` has in a kernel; `None` for void.
pub(crate) fn value_type(dtype: DType) -> Option<&'static str> {
    Some(match dtype {
        DType::Void => return None,
        DType::Bool => "_Bool",
        DType::I8 => "int8_t",
        DType::I16 => "int16_t",
        DType::I32 => "int32_t",
        DType::I64 => "int64_t",
        DType::U8 => "uint8_t",
        DType::U16 => "uint16_t",
        DType::U32 => "uint32_t",
        DType::U64 => "uint64_t",
        DType::Index => "long long",
        DType::F64 => "double",
        _ => "float",
    })
}

/// The C type of an element of `dtype` in a buffer; `None` for void.
pub(crate) fn storage_type(dtype: DType) -> Option<&'static str> {
    if is_narrow_float(dtype) {
        Some(bits_type(dtype))
    } else {
        value_type(dtype)
    }
}

/// The unsigned C integer as wide as `dtype` (for BITCAST and the narrow floats' bits).
pub(crate) fn bits_type(dtype: DType) -> &'static str {
    match dtype.itemsize() {
        1 => "uint8_t",
        2 => "uint16_t",
        4 => "uint32_t",
        _ => "uint64_t",
    }
}

/// A float dtype stored as bits and computed on as `float`.
pub(crate) fn is_narrow_float(dtype: DType) -> bool {
    matches!(dtype, DType::F16 | DType::BF16) || dtype.is_fp8()
}

/// `f` for the `float` versions of math.h functions, nothing for `double`.
pub(crate) fn math_suffix(dtype: DType) -> &'static str {
    if dtype == DType::F64 { "" } else { "f" }
}

/// A C function a kernel may call; emitted once, only when used. The declaration order
/// is the emission order: every helper comes after the helpers it calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Helper {
    /// `#include <immintrin.h>` on x86-64 (the FMA intrinsics of `VecFma`).
    Intrinsics,
    /// The typedefs of a vector type (`f32x8`, `f32x8_u`).
    VecType(DType, u8),
    /// `f32_bits` and `f32_from_bits`.
    F32Bits,
    /// `f64_bits` and `f64_from_bits`.
    F64Bits,
    /// `rne_shr`: a right shift rounding to nearest, ties to even.
    RneShr,
    /// `f64_to_f32_odd`: double to float rounding to odd.
    F64ToF32Odd,
    /// `fp8_mag`: the magnitude code shared by the fp8 encoders.
    Fp8Mag,
    /// `DTYPE_to_float` of a narrow float.
    Decode(DType),
    /// `float_to_DTYPE` of a narrow float.
    Encode(DType),
    FloorDiv,
    FloorMod,
    /// `exp2_f32`: a branch-free exp2 that the C compiler can vectorize.
    Exp2F32,
    /// `max_f32x8`: the lane-wise MAX of two vectors.
    VecMax(DType, u8),
    /// `exp2_f32x8`: `exp2_f32` on every lane.
    VecExp2(u8),
    /// `fma_f32x8`: a fused multiply-add on every lane.
    VecFma(DType, u8),
}

impl Helper {
    fn deps(self) -> Vec<Helper> {
        if matches!(
            self,
            Helper::VecMax(..) | Helper::VecExp2(_) | Helper::VecFma(..)
        ) {
            return crate::vector::deps(self);
        }
        let deps: &[Helper] = match self {
            Helper::F64ToF32Odd | Helper::Decode(_) => &[Helper::F32Bits],
            Helper::Fp8Mag => &[Helper::RneShr],
            Helper::Encode(d) if d.is_fp8() => &[Helper::F32Bits, Helper::Fp8Mag],
            Helper::Encode(_) => &[Helper::F32Bits, Helper::RneShr],
            _ => &[],
        };
        deps.to_vec()
    }
}

/// The helpers a kernel uses.
#[derive(Debug, Default)]
pub(crate) struct Helpers(BTreeSet<Helper>);

impl Helpers {
    pub(crate) fn require(&mut self, helper: Helper) {
        if self.0.insert(helper) {
            helper.deps().into_iter().for_each(|d| self.require(d));
        }
    }

    /// The C text of every used helper, in dependency order.
    pub(crate) fn render(&self) -> String {
        let texts: Vec<String> = self.0.iter().map(|&h| crate::helpers::text(h)).collect();
        texts.join("\n")
    }

    /// `DTYPE_to_float(bits)`: the value of the bits of a narrow float.
    pub(crate) fn decode(&mut self, dtype: DType, bits: &str) -> String {
        self.require(Helper::Decode(dtype));
        format!("{}_to_float({bits})", dtype.name())
    }

    /// `float_to_DTYPE(x)`: the bits of a narrow float nearest to the float `x`.
    pub(crate) fn encode(&mut self, dtype: DType, x: &str) -> String {
        self.require(Helper::Encode(dtype));
        format!("float_to_{}({x})", dtype.name())
    }

    /// The value of a buffer element `lvalue` of `dtype`.
    pub(crate) fn load(&mut self, dtype: DType, lvalue: &str) -> String {
        if is_narrow_float(dtype) {
            self.decode(dtype, lvalue)
        } else {
            lvalue.to_string()
        }
    }

    /// The element of `dtype` that stores the value `x`.
    pub(crate) fn store(&mut self, dtype: DType, x: &str) -> String {
        if is_narrow_float(dtype) {
            self.encode(dtype, x)
        } else {
            x.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_dtype_has_c_types() {
        for d in DType::ALL.into_iter().filter(|&d| d != DType::Void) {
            assert!(value_type(d).is_some(), "{d}");
            assert!(storage_type(d).is_some(), "{d}");
        }
        assert_eq!(storage_type(DType::BF16), Some("uint16_t"));
        assert_eq!(storage_type(DType::Fp8E5M2Fnuz), Some("uint8_t"));
        assert_eq!(value_type(DType::Index), Some("long long"));
    }

    #[test]
    fn helpers_pull_in_their_dependencies_once() {
        let mut h = Helpers::default();
        h.encode(DType::Fp8E4M3, "x");
        h.encode(DType::Fp8E5M2, "x");
        let order: Vec<Helper> = h.0.iter().copied().collect();
        assert_eq!(
            order,
            [
                Helper::F32Bits,
                Helper::RneShr,
                Helper::Fp8Mag,
                Helper::Encode(DType::Fp8E4M3),
                Helper::Encode(DType::Fp8E5M2),
            ]
        );
    }
}
