//! LLVM IR types and constants of ferrograd dtypes. A value of a dtype has a type in
//! registers (`value_type`) and an element of it one in memory (`memory_type`); they
//! differ for bools (`i1` in registers, a byte in memory) and for the narrow floats,
//! which are computed on as `float` and stored as their bits (`i16`, `i8`), as in the
//! C renderer. Integer types carry no sign in LLVM: the ops choose it (`is_signed`).
//! Constants are printed so that the IR parser reads back exactly the value: floats as
//! the hexadecimal bits of the double of the same value (LLVM's exact form), integers
//! as their signed value in the type's width.

use uop_ir::{ConstValue, DType};

/// The LLVM type of a scalar value of `dtype` in registers; `None` for void.
pub fn value_type(dtype: DType) -> Option<&'static str> {
    Some(match dtype {
        DType::Void => return None,
        DType::Bool => "i1",
        DType::F64 => "double",
        d if d.is_float() => "float",
        d => int_type(d.itemsize()),
    })
}

/// The LLVM type of an element of `dtype` in memory; `None` for void.
pub fn memory_type(dtype: DType) -> Option<&'static str> {
    match dtype {
        DType::Bool => Some("i8"),
        d if d.is_narrow_float() => Some(int_type(d.itemsize())),
        d => value_type(d),
    }
}

/// The integer type of `bytes` bytes.
pub fn int_type(bytes: usize) -> &'static str {
    match bytes {
        1 => "i8",
        2 => "i16",
        4 => "i32",
        _ => "i64",
    }
}

/// The type of `lanes` values of type `scalar`: the scalar itself for one lane.
pub fn vector_of(scalar: &str, lanes: u8) -> String {
    if lanes > 1 {
        format!("<{lanes} x {scalar}>")
    } else {
        scalar.to_string()
    }
}

/// The constant `c` of type `scalar` in every one of `lanes` lanes, untyped (as an
/// operand after the first is written): `c` itself for one lane.
pub fn splat(scalar: &str, c: &str, lanes: u8) -> String {
    if lanes > 1 {
        format!("splat ({scalar} {c})")
    } else {
        c.to_string()
    }
}

/// The register type of `lanes` values of `dtype`.
pub fn value_type_of(dtype: DType, lanes: u8) -> Option<String> {
    value_type(dtype).map(|t| vector_of(t, lanes))
}

/// Whether integer ops on `dtype` are signed (division, comparison, widening, shifts).
pub fn is_signed(dtype: DType) -> bool {
    dtype.is_int() && !dtype.is_unsigned()
}

/// The suffix of overloaded intrinsics for `lanes` values of the float `dtype`
/// (`f32`, `v8f32`, `f64`).
pub fn intrinsic_suffix(dtype: DType, lanes: u8) -> String {
    let scalar = if dtype == DType::F64 { "f64" } else { "f32" };
    if lanes > 1 {
        format!("v{lanes}{scalar}")
    } else {
        scalar.to_string()
    }
}

/// The literal of a float value held in a `float` or a `double`: the bits of the equal
/// double in hexadecimal, LLVM's exact form for both.
pub fn float_bits_literal(value: f64) -> String {
    format!("0x{:016X}", value.to_bits())
}

/// The literal of `value` as a scalar of `dtype` in registers. Floats narrower than f32
/// are first rounded to their dtype, then held as `float`; integers wrap to the dtype.
pub fn literal(dtype: DType, value: ConstValue) -> Result<String, String> {
    if matches!(value, ConstValue::Invalid) {
        return Err("an Invalid constant reached the renderer".into());
    }
    if dtype == DType::Void {
        return Err("a constant has dtype void".into());
    }
    if dtype.is_float() {
        let v = value.as_f64().unwrap_or(0.0);
        let held = if dtype == DType::F64 {
            v
        } else {
            f64::from(dtype.round_float(v) as f32)
        };
        return Ok(float_bits_literal(held));
    }
    if dtype == DType::Bool {
        let b = value.as_bool().unwrap_or(false);
        return Ok(if b { "true" } else { "false" }.into());
    }
    let v = dtype.wrap_int(match value {
        ConstValue::Float(f) => f.trunc() as i128,
        other => other.as_int().unwrap_or(0),
    });
    Ok(signed_in_width(v, dtype.itemsize()).to_string())
}

/// `v` (already wrapped to `bytes` bytes, signed or not) as the signed value of the same
/// bits, the form LLVM prints integer constants in.
fn signed_in_width(v: i128, bytes: usize) -> i128 {
    let bits = 8 * bytes as u32;
    let modulus = 1i128 << bits;
    let v = v.rem_euclid(modulus);
    if v >= modulus / 2 { v - modulus } else { v }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConstValue::{Bool, Float, Int};

    fn lit(dtype: DType, v: ConstValue) -> String {
        literal(dtype, v).unwrap_or_else(|e| e)
    }

    #[test]
    fn register_and_memory_types() {
        assert_eq!(value_type(DType::Bool), Some("i1"));
        assert_eq!(memory_type(DType::Bool), Some("i8"));
        assert_eq!(value_type(DType::F16), Some("float"));
        assert_eq!(memory_type(DType::BF16), Some("i16"));
        assert_eq!(memory_type(DType::Fp8E4M3), Some("i8"));
        assert_eq!(value_type(DType::Index), Some("i64"));
        assert_eq!(value_type(DType::U32), Some("i32"));
        assert_eq!(value_type(DType::Void), None);
        assert_eq!(value_type_of(DType::F32, 8).as_deref(), Some("<8 x float>"));
        assert_eq!(intrinsic_suffix(DType::F64, 4), "v4f64");
        assert_eq!(intrinsic_suffix(DType::F16, 1), "f32");
    }

    #[test]
    fn every_value_dtype_has_types() {
        for d in DType::ALL.into_iter().filter(|&d| d != DType::Void) {
            assert!(value_type(d).is_some() && memory_type(d).is_some(), "{d}");
        }
    }

    #[test]
    fn constants_read_back_exactly() {
        assert_eq!(lit(DType::F32, Float(1.0)), "0x3FF0000000000000");
        assert_eq!(lit(DType::F32, Float(0.1)), "0x3FB99999A0000000");
        assert_eq!(lit(DType::F64, Float(0.1)), "0x3FB999999999999A");
        assert_eq!(lit(DType::F32, Float(f64::INFINITY)), "0x7FF0000000000000");
        // narrow floats are rounded to their dtype first
        assert_eq!(lit(DType::F16, Float(0.1)), "0x3FB9980000000000");
        assert_eq!(lit(DType::F32, Int(3)), "0x4008000000000000");
        assert_eq!(lit(DType::Bool, Bool(true)), "true");
        assert_eq!(lit(DType::Bool, Int(0)), "false");
        assert_eq!(lit(DType::U8, Int(255)), "-1");
        assert_eq!(lit(DType::U8, Int(300)), "44");
        assert_eq!(lit(DType::U64, Int(u64::MAX as i128)), "-1");
        assert_eq!(lit(DType::I32, Int(i32::MIN as i128)), "-2147483648");
        assert_eq!(lit(DType::Index, Int(-7)), "-7");
        assert_eq!(lit(DType::I8, Float(-2.7)), "-2");
        assert!(literal(DType::Index, ConstValue::Invalid).is_err());
        assert!(literal(DType::Void, Int(0)).is_err());
    }
}
