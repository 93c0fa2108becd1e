//! The C11 names of dtypes, the default of every C-like language: `<stdint.h>` integers,
//! `_Bool`, `long long` for the index dtype, and `float` for the values of every float
//! narrower than f32 (stored as bits, see `narrow.rs`).

use dtype::DType;

/// The C type a value of `dtype` has in a kernel; `None` for void.
pub fn c_value_type(dtype: DType) -> Option<&'static str> {
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

/// The unsigned C integer as wide as `dtype` (for BITCAST and the narrow floats' bits).
pub fn bits_type(dtype: DType) -> &'static str {
    match dtype.itemsize() {
        1 => "uint8_t",
        2 => "uint16_t",
        4 => "uint32_t",
        _ => "uint64_t",
    }
}

/// `f` for the `float` versions of math functions (`exp2f`), nothing for `double`.
pub fn math_suffix(dtype: DType) -> &'static str {
    if dtype == DType::F64 { "" } else { "f" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_dtype_has_a_c_type() {
        for d in DType::ALL.into_iter().filter(|&d| d != DType::Void) {
            assert!(c_value_type(d).is_some(), "{d}");
        }
        assert_eq!(c_value_type(DType::Index), Some("long long"));
        assert_eq!(c_value_type(DType::BF16), Some("float"));
        assert_eq!(bits_type(DType::Fp8E5M2Fnuz), "uint8_t");
        assert_eq!(
            (math_suffix(DType::F16), math_suffix(DType::F64)),
            ("f", "")
        );
    }
}
