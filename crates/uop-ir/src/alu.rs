//! `exec_alu`: what each ALU op computes on constants. Constant folding and the
//! expression evaluator both call it, so the two can never disagree. Integers wrap to
//! their dtype's width; floats are computed in f64 and rounded to their dtype.

use dtype::DType;
use thiserror::Error;

use crate::arg::ConstValue;
use crate::bounds::{floor_div, floor_mod};
use crate::op::Op;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AluError {
    #[error("division by zero in {op} on {dtype}")]
    DivisionByZero { op: Op, dtype: DType },
    #[error("shift by {amount} is out of range for {dtype}")]
    ShiftOutOfRange { amount: i128, dtype: DType },
    #[error("{op} cannot run on {dtype} constants")]
    Unsupported { op: Op, dtype: DType },
    #[error("{op} takes {expected} operands, got {got}")]
    Arity { op: Op, expected: usize, got: usize },
}

/// Computes `op` on constant operands, giving a value of `dtype` (the node's dtype; the
/// operands' dtype for comparisons is taken from the values).
pub fn exec_alu(op: Op, dtype: DType, src: &[ConstValue]) -> Result<ConstValue, AluError> {
    let expected = op.alu_arity().ok_or(AluError::Unsupported { op, dtype })?;
    if src.len() != expected {
        return Err(AluError::Arity {
            op,
            expected,
            got: src.len(),
        });
    }
    if op == Op::Where {
        return Ok(if src[0].as_bool().unwrap_or(false) {
            src[1]
        } else {
            src[2]
        });
    }
    if src.iter().any(|c| matches!(c, ConstValue::Invalid)) {
        return Ok(ConstValue::Invalid);
    }
    if op == Op::Cast {
        return Ok(cast(src[0], dtype));
    }
    let unsupported = AluError::Unsupported { op, dtype };
    let any_float = src.iter().any(|c| matches!(c, ConstValue::Float(_)));
    if any_float {
        let mut v = [0f64; 3];
        src.iter()
            .zip(v.iter_mut())
            .for_each(|(c, x)| *x = c.as_f64().unwrap_or(0.0));
        return float_alu(op, dtype, &v).ok_or(unsupported);
    }
    let mut v = [0i128; 3];
    src.iter()
        .zip(v.iter_mut())
        .for_each(|(c, x)| *x = c.as_int().unwrap_or(0));
    if op.is_comparison() {
        return Ok(ConstValue::Bool(match op {
            Op::CmpLt => v[0] < v[1],
            Op::CmpNe => v[0] != v[1],
            _ => v[0] == v[1],
        }));
    }
    let out = int_alu(op, dtype, &v)?.ok_or(unsupported)?;
    Ok(if dtype == DType::Bool {
        ConstValue::Bool(out != 0)
    } else {
        ConstValue::Int(dtype.wrap_int(out))
    })
}

fn int_alu(op: Op, dtype: DType, v: &[i128]) -> Result<Option<i128>, AluError> {
    let div_zero = AluError::DivisionByZero { op, dtype };
    let bool_like = dtype == DType::Bool;
    Ok(Some(match op {
        Op::Add if bool_like => v[0] | v[1],
        Op::Mul if bool_like => v[0] & v[1],
        Op::Add => v[0].wrapping_add(v[1]),
        Op::Sub => v[0].wrapping_sub(v[1]),
        Op::Mul => dtype.wrap_int(v[0]).wrapping_mul(dtype.wrap_int(v[1])),
        Op::Neg => v[0].wrapping_neg(),
        Op::Max => v[0].max(v[1]),
        Op::FloorDiv => floor_div(v[0], v[1]).ok_or(div_zero)?,
        Op::FloorMod => floor_mod(v[0], v[1]).ok_or(div_zero)?,
        Op::CDiv => v[0].checked_div(v[1]).ok_or(div_zero)?,
        Op::CMod => v[0].checked_rem(v[1]).ok_or(div_zero)?,
        Op::And => v[0] & v[1],
        Op::Or => v[0] | v[1],
        Op::Xor => v[0] ^ v[1],
        Op::Shl | Op::Shr => {
            let amount = v[1];
            if !(0..i128::from(dtype.bitsize())).contains(&amount) {
                return Err(AluError::ShiftOutOfRange { amount, dtype });
            }
            if op == Op::Shl {
                v[0] << amount
            } else {
                v[0] >> amount
            }
        }
        Op::MulAcc => dtype
            .wrap_int(v[0])
            .wrapping_mul(dtype.wrap_int(v[1]))
            .wrapping_add(v[2]),
        Op::Trunc => v[0],
        _ => return Ok(None),
    }))
}

fn float_alu(op: Op, dtype: DType, v: &[f64]) -> Option<ConstValue> {
    if op.is_comparison() {
        return Some(ConstValue::Bool(match op {
            Op::CmpLt => v[0] < v[1],
            Op::CmpNe => v[0] != v[1],
            _ => v[0] == v[1],
        }));
    }
    let out = match op {
        Op::Add => v[0] + v[1],
        Op::Sub => v[0] - v[1],
        Op::Mul => v[0] * v[1],
        Op::FDiv => v[0] / v[1],
        Op::Max => {
            if v[0].is_nan() || v[1].is_nan() {
                f64::NAN
            } else {
                v[0].max(v[1])
            }
        }
        Op::Pow => v[0].powf(v[1]),
        Op::Neg => -v[0],
        Op::Exp2 => v[0].exp2(),
        Op::Log2 => v[0].log2(),
        Op::Sin => v[0].sin(),
        Op::Sqrt => v[0].sqrt(),
        Op::Recip => 1.0 / v[0],
        Op::Trunc => v[0].trunc(),
        // fused: one rounding (C's fma)
        Op::MulAcc => v[0].mul_add(v[1], v[2]),
        _ => return None,
    };
    Some(ConstValue::Float(dtype.round_float(out)))
}

/// Value conversion, as a cast in C would do it (float to int truncates toward zero and
/// saturates at the i128 range before wrapping; NaN becomes 0).
fn cast(v: ConstValue, dtype: DType) -> ConstValue {
    match dtype.kind() {
        dtype::ScalarKind::Bool => ConstValue::Bool(v.as_bool().unwrap_or(false)),
        dtype::ScalarKind::Float => ConstValue::Float(dtype.round_float(v.as_f64().unwrap_or(0.0))),
        dtype::ScalarKind::Void => v,
        _ => ConstValue::Int(dtype.wrap_int(match v {
            ConstValue::Float(f) => f.trunc() as i128,
            other => other.as_int().unwrap_or(0),
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConstValue::{Bool, Float, Int};

    #[test]
    fn integers_wrap_to_their_dtype() {
        assert_eq!(
            exec_alu(Op::Add, DType::U8, &[Int(250), Int(10)]),
            Ok(Int(4))
        );
        assert_eq!(
            exec_alu(Op::Mul, DType::I8, &[Int(100), Int(2)]),
            Ok(Int(-56))
        );
        assert_eq!(
            exec_alu(Op::Sub, DType::U32, &[Int(0), Int(1)]),
            Ok(Int(u32::MAX as i128))
        );
    }

    #[test]
    fn both_divisions() {
        assert_eq!(
            exec_alu(Op::FloorDiv, DType::Index, &[Int(-7), Int(2)]),
            Ok(Int(-4))
        );
        assert_eq!(
            exec_alu(Op::CDiv, DType::Index, &[Int(-7), Int(2)]),
            Ok(Int(-3))
        );
        assert_eq!(
            exec_alu(Op::FloorMod, DType::Index, &[Int(-7), Int(2)]),
            Ok(Int(1))
        );
        assert_eq!(
            exec_alu(Op::CMod, DType::Index, &[Int(-7), Int(2)]),
            Ok(Int(-1))
        );
        assert!(matches!(
            exec_alu(Op::CMod, DType::I32, &[Int(1), Int(0)]),
            Err(AluError::DivisionByZero { .. })
        ));
    }

    #[test]
    fn floats_round_to_their_dtype() {
        let third = exec_alu(Op::FDiv, DType::F32, &[Float(1.0), Float(3.0)]);
        assert_eq!(third, Ok(Float((1.0f32 / 3.0) as f64)));
        assert_eq!(exec_alu(Op::Cast, DType::I32, &[Float(-2.7)]), Ok(Int(-2)));
        assert_eq!(
            exec_alu(Op::CmpLt, DType::Bool, &[Float(1.0), Float(f64::NAN)]),
            Ok(Bool(false))
        );
    }

    #[test]
    fn invalid_poisons_arithmetic_but_not_the_other_branch() {
        use ConstValue::Invalid;
        assert_eq!(
            exec_alu(Op::Add, DType::Index, &[Invalid, Int(1)]),
            Ok(Invalid)
        );
        assert_eq!(
            exec_alu(Op::Where, DType::Index, &[Bool(true), Int(3), Invalid]),
            Ok(Int(3))
        );
    }

    #[test]
    fn shifts_check_their_amount() {
        assert_eq!(
            exec_alu(Op::Shl, DType::U8, &[Int(1), Int(7)]),
            Ok(Int(128))
        );
        assert!(exec_alu(Op::Shl, DType::U8, &[Int(1), Int(8)]).is_err());
    }
}
