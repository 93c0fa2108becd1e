//! Constructors that read like the math they build: `UOp::range(4, 0)`, `&x * 3 + 1`,
//! `x.floordiv(4)`, `valid.where_(idx, UOp::invalid())`. The dtype of an ALU node follows
//! its operands (comparisons give bool); integer literals take the other operand's dtype.

use std::ops;
use std::sync::Arc;

use dtype::DType;

use crate::arg::{Arg, ConstValue, Special};
use crate::op::{AxisType, Op};
use crate::uop::UOp;

impl UOp {
    /// A constant of `dtype`; the value is converted to the dtype's kind (bool, int, float).
    pub fn const_of(dtype: DType, v: ConstValue) -> UOp {
        let v = match (dtype.kind(), v) {
            (_, ConstValue::Invalid) => ConstValue::Invalid,
            (dtype::ScalarKind::Bool, v) => ConstValue::Bool(v.as_bool().unwrap_or(false)),
            (dtype::ScalarKind::Float, v) => ConstValue::Float(v.as_f64().unwrap_or(0.0)),
            (_, ConstValue::Float(f)) => ConstValue::Int(dtype.wrap_int(f as i128)),
            (_, v) => ConstValue::Int(dtype.wrap_int(v.as_int().unwrap_or(0))),
        };
        UOp::new(Op::Const, dtype, [], Arg::Const(v))
    }

    /// An index constant.
    pub fn int(v: i64) -> UOp {
        UOp::const_of(DType::Index, ConstValue::Int(v as i128))
    }

    pub fn bool(v: bool) -> UOp {
        UOp::const_of(DType::Bool, ConstValue::Bool(v))
    }

    /// An integer literal with this node's dtype.
    pub fn const_like(&self, v: i128) -> UOp {
        UOp::const_of(self.dtype(), ConstValue::Int(v))
    }

    /// The poison value of gated indices.
    pub fn invalid() -> UOp {
        UOp::new(Op::Const, DType::Index, [], Arg::Const(ConstValue::Invalid))
    }

    /// The value of a CONST node.
    pub fn const_value(&self) -> Option<ConstValue> {
        match (self.op(), self.arg()) {
            (Op::Const, Arg::Const(c)) => Some(*c),
            _ => None,
        }
    }

    /// The value of an integer or bool CONST node.
    pub fn const_int(&self) -> Option<i128> {
        self.const_value()?.as_int()
    }

    pub fn is_invalid(&self) -> bool {
        matches!(self.const_value(), Some(ConstValue::Invalid))
    }

    /// A loop over `0..end` on axis `axis`.
    pub fn range(end: i64, axis: u32) -> UOp {
        UOp::range_of(UOp::int(end), axis, AxisType::Loop)
    }

    pub fn range_of(end: UOp, axis: u32, kind: AxisType) -> UOp {
        UOp::new(Op::Range, DType::Index, [end], Arg::Range { axis, kind })
    }

    /// The launch index `which`, running over `0..count`.
    pub fn special(which: Special, count: i64) -> UOp {
        UOp::new(
            Op::Special,
            DType::Index,
            [UOp::int(count)],
            Arg::Special(which),
        )
    }

    /// Which launch index this SPECIAL is (`None` for any other node).
    pub fn special_kind(&self) -> Option<Special> {
        match (self.op(), self.arg()) {
            (Op::Special, Arg::Special(s)) => Some(*s),
            _ => None,
        }
    }

    /// A new tensor storage of `size` elements on `device`, with a fresh id.
    pub fn new_buffer(dtype: DType, size: usize, device: &str) -> UOp {
        static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let id = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        UOp::new(
            Op::Buffer,
            dtype,
            [],
            Arg::Buffer {
                id,
                size,
                device: Arc::from(device),
            },
        )
    }

    /// A named index variable in `min..=max`.
    pub fn var(name: &str, min: i64, max: i64) -> UOp {
        UOp::new(
            Op::DefineVar,
            DType::Index,
            [],
            Arg::Var {
                name: Arc::from(name),
                min,
                max,
            },
        )
    }

    /// An ALU node; its dtype is bool for comparisons, else that of its value operand.
    pub fn alu(op: Op, src: impl Into<Box<[UOp]>>) -> UOp {
        let src = src.into();
        let dtype = if op.is_comparison() {
            DType::Bool
        } else if op == Op::Where {
            src.get(1).map_or(DType::Void, UOp::dtype)
        } else {
            src.first().map_or(DType::Void, UOp::dtype)
        };
        // a vector operand makes the result a vector (scalars broadcast)
        let lanes = src.iter().map(UOp::lanes).max().unwrap_or(1);
        UOp::new_vec(op, dtype, lanes, src, Arg::None)
    }

    fn binary(&self, op: Op, rhs: impl IntoOperand) -> UOp {
        let rhs = rhs.into_operand(self);
        UOp::alu(op, [self.clone(), rhs])
    }

    pub fn floordiv(&self, rhs: impl IntoOperand) -> UOp {
        self.binary(Op::FloorDiv, rhs)
    }

    pub fn floormod(&self, rhs: impl IntoOperand) -> UOp {
        self.binary(Op::FloorMod, rhs)
    }

    pub fn cdiv(&self, rhs: impl IntoOperand) -> UOp {
        self.binary(Op::CDiv, rhs)
    }

    pub fn cmod(&self, rhs: impl IntoOperand) -> UOp {
        self.binary(Op::CMod, rhs)
    }

    pub fn max(&self, rhs: impl IntoOperand) -> UOp {
        self.binary(Op::Max, rhs)
    }

    /// `min(a, b) = -max(-a, -b)`.
    pub fn min(&self, rhs: impl IntoOperand) -> UOp {
        let rhs = rhs.into_operand(self);
        -(-self).max(-rhs)
    }

    pub fn lt(&self, rhs: impl IntoOperand) -> UOp {
        self.binary(Op::CmpLt, rhs)
    }

    /// `self >= rhs`, built as `!(self < rhs)`.
    pub fn ge(&self, rhs: impl IntoOperand) -> UOp {
        self.lt(rhs).not()
    }

    pub fn ne(&self, rhs: impl IntoOperand) -> UOp {
        self.binary(Op::CmpNe, rhs)
    }

    pub fn eq_(&self, rhs: impl IntoOperand) -> UOp {
        self.binary(Op::CmpEq, rhs)
    }

    pub fn and(&self, rhs: impl IntoOperand) -> UOp {
        self.binary(Op::And, rhs)
    }

    pub fn or(&self, rhs: impl IntoOperand) -> UOp {
        self.binary(Op::Or, rhs)
    }

    pub fn xor(&self, rhs: impl IntoOperand) -> UOp {
        self.binary(Op::Xor, rhs)
    }

    /// Logical not of a bool: `x != true`.
    pub fn not(&self) -> UOp {
        self.ne(UOp::bool(true))
    }

    /// `self ? t : f`.
    pub fn where_(&self, t: &UOp, f: &UOp) -> UOp {
        UOp::alu(Op::Where, [self.clone(), t.clone(), f.clone()])
    }

    pub fn cast(&self, dtype: DType) -> UOp {
        UOp::new(Op::Cast, dtype, [self.clone()], Arg::None)
    }
}

/// A right-hand operand: another node, or an integer literal of the left node's dtype.
pub trait IntoOperand {
    fn into_operand(self, like: &UOp) -> UOp;
}

impl IntoOperand for UOp {
    fn into_operand(self, _: &UOp) -> UOp {
        self
    }
}

impl IntoOperand for &UOp {
    fn into_operand(self, _: &UOp) -> UOp {
        self.clone()
    }
}

impl IntoOperand for i64 {
    fn into_operand(self, like: &UOp) -> UOp {
        like.const_like(self as i128)
    }
}

macro_rules! binary_operator {
    ($trait:ident, $method:ident, $op:expr) => {
        impl<R: IntoOperand> ops::$trait<R> for &UOp {
            type Output = UOp;
            fn $method(self, rhs: R) -> UOp {
                self.binary($op, rhs)
            }
        }
        impl<R: IntoOperand> ops::$trait<R> for UOp {
            type Output = UOp;
            fn $method(self, rhs: R) -> UOp {
                self.binary($op, rhs)
            }
        }
    };
}

binary_operator!(Add, add, Op::Add);
binary_operator!(Sub, sub, Op::Sub);
binary_operator!(Mul, mul, Op::Mul);

impl ops::Neg for &UOp {
    type Output = UOp;
    fn neg(self) -> UOp {
        UOp::alu(Op::Neg, [self.clone()])
    }
}

impl ops::Neg for UOp {
    type Output = UOp;
    fn neg(self) -> UOp {
        -&self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_take_the_left_dtype() {
        let x = UOp::var("x", 0, 9).cast(DType::I32);
        let y = &x + 3;
        assert_eq!(y.src()[1].dtype(), DType::I32);
        assert_eq!(x.lt(4).dtype(), DType::Bool);
    }

    #[test]
    fn consts_convert_to_their_dtype() {
        assert_eq!(
            UOp::const_of(DType::U8, ConstValue::Int(300)).const_int(),
            Some(44)
        );
        assert_eq!(
            UOp::const_of(DType::F32, ConstValue::Int(2)).const_value(),
            Some(ConstValue::Float(2.0))
        );
    }

    #[test]
    fn ranges_and_vars_carry_bounds() {
        let r = UOp::range(8, 0);
        assert_eq!(r.bounds().map(|b| (b.min, b.max)), Some((0, 7)));
        let e = &r * 4 + UOp::var("v", 1, 3);
        assert_eq!(e.bounds().map(|b| (b.min, b.max)), Some((1, 31)));
    }

    #[test]
    fn specials_say_which_index_they_are() {
        let l = UOp::special(Special::Local(1), 16);
        assert_eq!(l.special_kind(), Some(Special::Local(1)));
        assert_eq!(l.bounds().map(|b| (b.min, b.max)), Some((0, 15)));
        assert_eq!(UOp::range(4, 0).special_kind(), None);
        assert_ne!(l, UOp::special(Special::Global(1), 16));
    }
}
