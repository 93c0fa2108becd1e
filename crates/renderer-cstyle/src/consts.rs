//! Literals for constants in C-like languages. Integers carry the suffix of their type
//! (`u`, `LL`, `ULL`) so that an expression of two literals computes in the right width;
//! the most negative value of a type is written as a difference, since `-2147483648` is a
//! negated `long`. Floats are printed as the shortest decimal that reads back as the same
//! value, which C compilers parse with correct rounding; the narrow floats are first
//! rounded to their dtype. Infinities and NaN are the language's (`CStyle::infinity`,
//! `CStyle::nan`). Negative literals are parenthesized, so every literal is an atom.

use uop_ir::{ConstValue, DType};

use crate::language::CStyle;

/// The literal of `value` as a `dtype` value in `lang`.
pub fn literal<L: CStyle + ?Sized>(
    lang: &L,
    dtype: DType,
    value: ConstValue,
) -> Result<String, String> {
    if matches!(value, ConstValue::Invalid) {
        return Err("an Invalid constant reached the renderer".into());
    }
    if dtype == DType::Void {
        return Err("a constant has dtype void".into());
    }
    if dtype.is_float() {
        let v = value.as_f64().unwrap_or(0.0);
        let special = (lang.infinity(dtype), lang.nan(dtype));
        return Ok(if dtype == DType::F64 {
            float_literal(v, format!("{v:?}"), "", special)
        } else {
            let x = dtype.round_float(v) as f32;
            float_literal(f64::from(x), format!("{x:?}"), "f", special)
        });
    }
    if dtype == DType::Bool {
        return Ok(if value.as_bool().unwrap_or(false) {
            "1"
        } else {
            "0"
        }
        .into());
    }
    let v = dtype.wrap_int(match value {
        ConstValue::Float(f) => f.trunc() as i128,
        other => other.as_int().unwrap_or(0),
    });
    Ok(int_literal(dtype, v))
}

/// `v` printed as `digits` and `suffix`, or as the language's `(infinity, nan)`.
fn float_literal(v: f64, digits: String, suffix: &str, (inf, nan): (&str, &str)) -> String {
    if v.is_nan() {
        nan.into()
    } else if v.is_infinite() {
        if v > 0.0 {
            inf.into()
        } else {
            format!("(-{inf})")
        }
    } else if v.is_sign_negative() {
        format!("({digits}{suffix})")
    } else {
        format!("{digits}{suffix}")
    }
}

fn int_literal(dtype: DType, v: i128) -> String {
    let suffix = match dtype {
        DType::U32 => "u",
        DType::I64 | DType::Index => "LL",
        DType::U64 => "ULL",
        _ => "",
    };
    if Some(v) == dtype.int_min() && v < 0 {
        format!("({}{suffix} - 1)", v + 1)
    } else if v < 0 {
        format!("({v}{suffix})")
    } else {
        format!("{v}{suffix}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::Plain;
    use ConstValue::{Bool, Float, Int};

    fn lit(dtype: DType, v: ConstValue) -> String {
        literal(&Plain, dtype, v).unwrap_or_else(|e| e)
    }

    #[test]
    fn integers_carry_their_suffix() {
        assert_eq!(lit(DType::Index, Int(16)), "16LL");
        assert_eq!(lit(DType::I32, Int(-3)), "(-3)");
        assert_eq!(lit(DType::U32, Int(7)), "7u");
        assert_eq!(
            lit(DType::U64, Int(u64::MAX as i128)),
            "18446744073709551615ULL"
        );
        assert_eq!(lit(DType::U8, Int(300)), "44");
        assert_eq!(lit(DType::I32, Int(i32::MIN as i128)), "(-2147483647 - 1)");
        assert_eq!(
            lit(DType::I64, Int(i64::MIN as i128)),
            "(-9223372036854775807LL - 1)"
        );
        assert_eq!(lit(DType::I8, Float(-2.7)), "(-2)");
        assert_eq!(lit(DType::Bool, Bool(true)), "1");
        assert_eq!(lit(DType::Bool, Int(0)), "0");
    }

    #[test]
    fn floats_are_exact() {
        assert_eq!(lit(DType::F32, Float(1.0)), "1.0f");
        assert_eq!(lit(DType::F32, Float(0.1)), "0.1f");
        assert_eq!(lit(DType::F64, Float(0.1)), "0.1");
        assert_eq!(lit(DType::F32, Float(-0.0)), "(-0.0f)");
        assert_eq!(lit(DType::F32, Float(1e-45)), "1e-45f");
        assert_eq!(lit(DType::F32, Int(3)), "3.0f");
        assert_eq!(lit(DType::F64, Float(f64::NEG_INFINITY)), "(-INFINITY)");
        assert_eq!(lit(DType::F16, Float(f64::NAN)), "NAN");
        // Narrow floats are rounded to their dtype first.
        assert_eq!(lit(DType::F16, Float(0.1)), "0.099975586f");
        assert_eq!(lit(DType::F16, Float(1e6)), "INFINITY");
        assert_eq!(lit(DType::Fp8E4M3, Float(1e6)), "NAN");
        assert_eq!(lit(DType::BF16, Float(3.0)), "3.0f");
    }

    #[test]
    fn invalid_and_void_are_errors() {
        assert!(literal(&Plain, DType::Index, ConstValue::Invalid).is_err());
        assert!(literal(&Plain, DType::Void, Int(0)).is_err());
    }
}
