//! Integer arithmetic with PyTorch's semantics and no undefined behaviour: division with a
//! rounding mode (`div_mode`: true division, "trunc" or "floor"), `remainder` (the sign of
//! the divisor, Python's `%`) and `fmod` (the sign of the dividend, C's), bitwise and, or,
//! xor and not, and shifts. A zero integer divisor gives 0 (PyTorch raises an error on
//! the CPU; a lazy kernel cannot, and must not trap), and `MIN / -1` wraps; a shift by
//! the width or more gives 0 (or -1 for a right shift of a negative value).

use uop_ir::{Op, UOp};

use crate::error::{Result, TensorError, named};
use crate::tensor::Tensor;

/// How `div_mode` rounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rounding {
    /// True division (a float result).
    None,
    /// Toward zero.
    Trunc,
    /// Toward negative infinity.
    Floor,
}

impl Tensor {
    fn int_binary(&self, other: &Tensor, op: Op, name: &'static str) -> Result<Tensor> {
        let (a, b) = self.broadcast_pair(other, name)?;
        Ok(a.derive(UOp::alu(op, [a.node(), b.node()]), a.shape().to_vec()))
    }

    fn bitwise(&self, other: &Tensor, op: Op, name: &'static str) -> Result<Tensor> {
        self.require_int(name)?;
        other.require_int(name)?;
        self.int_binary(other, op, name)
    }

    fn require_int(&self, op: &'static str) -> Result<()> {
        if self.dtype().is_int() || self.dtype().is_bool() {
            Ok(())
        } else {
            Err(TensorError::DType {
                op,
                dtype: self.dtype(),
            })
        }
    }

    /// Division rounded as `mode` says (PyTorch's `div(rounding_mode=...)`).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let a = Tensor::from_slice(&[7i32, -7], &[2])?;
    /// let b = Tensor::from_slice(&[2i32, 2], &[2])?;
    /// let q = a.div_mode(&b, Rounding::Floor)?; // tensor([3, -4])
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn div_mode(&self, other: &Tensor, mode: Rounding) -> Result<Tensor> {
        let (a, b) = self.broadcast_pair(other, "div")?;
        if mode == Rounding::None || a.dtype().is_float() {
            let q = a.div(&b)?;
            return match mode {
                Rounding::None => Ok(q),
                Rounding::Trunc => q.trunc(),
                Rounding::Floor => q.floor(),
            };
        }
        named("div", || {
            let op = if mode == Rounding::Trunc {
                Op::CDiv
            } else {
                Op::FloorDiv
            };
            // x / -1 is -x (wrapping at MIN, where a division would trap)
            guarded(&a, &b, op, &a.neg())
        })
    }

    /// The remainder with the divisor's sign (Python's `%`, PyTorch's `remainder`).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let a = Tensor::from_slice(&[7i32, -7], &[2])?;
    /// let b = Tensor::from_slice(&[3i32, 3], &[2])?;
    /// let r = a.remainder(&b)?; // tensor([1, 2])
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn remainder(&self, other: &Tensor) -> Result<Tensor> {
        let (a, b) = self.broadcast_pair(other, "remainder")?;
        named("remainder", || {
            if a.dtype().is_float() {
                return a.sub(&a.div(&b)?.floor()?.mul(&b)?);
            }
            guarded(&a, &b, Op::FloorMod, &a.mul_scalar(0.0)?)
        })
    }

    /// The remainder with the dividend's sign (C's `fmod`).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let a = Tensor::from_slice(&[7i32, -7], &[2])?;
    /// let b = Tensor::from_slice(&[3i32, 3], &[2])?;
    /// let r = a.fmod(&b)?; // tensor([1, -1])
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn fmod(&self, other: &Tensor) -> Result<Tensor> {
        let (a, b) = self.broadcast_pair(other, "fmod")?;
        named("fmod", || {
            if a.dtype().is_float() {
                return a.sub(&a.div(&b)?.trunc()?.mul(&b)?);
            }
            guarded(&a, &b, Op::CMod, &a.mul_scalar(0.0)?)
        })
    }

    /// `bitwise_and`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[3i32, -7, 12, 5], &[2, 2])?;
    /// let y = x.bitwise_and(&x)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn bitwise_and(&self, other: &Tensor) -> Result<Tensor> {
        self.bitwise(other, Op::And, "bitwise_and")
    }

    /// `bitwise_or`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[3i32, -7, 12, 5], &[2, 2])?;
    /// let y = x.bitwise_or(&x)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn bitwise_or(&self, other: &Tensor) -> Result<Tensor> {
        self.bitwise(other, Op::Or, "bitwise_or")
    }

    /// `bitwise_xor`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[3i32, -7, 12, 5], &[2, 2])?;
    /// let y = x.bitwise_xor(&x)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn bitwise_xor(&self, other: &Tensor) -> Result<Tensor> {
        self.bitwise(other, Op::Xor, "bitwise_xor")
    }

    /// Every bit flipped (`!x` for bools).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[3i32, -7, 12, 5], &[2, 2])?;
    /// let y = x.bitwise_not()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn bitwise_not(&self) -> Result<Tensor> {
        self.require_int("bitwise_not")?;
        if self.dtype().is_bool() {
            return self.logical_not();
        }
        named("bitwise_not", || self.bitwise_xor(&self.scalar_like(-1.0)))
    }

    /// `x << s`; 0 when `s` is the width or more (or negative).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[3i32, -7, 12, 5], &[2, 2])?;
    /// let s = Tensor::from_slice(&[1i32, 2, 0, 3], &[2, 2])?;
    /// let y = x.shl(&s)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn shl(&self, shift: &Tensor) -> Result<Tensor> {
        self.shift(shift, Op::Shl, "shl")
    }

    /// `x >> s` (arithmetic for signed dtypes); beyond the width: 0, or -1 for negative x.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[3i32, -7, 12, 5], &[2, 2])?;
    /// let s = Tensor::from_slice(&[1i32, 2, 0, 3], &[2, 2])?;
    /// let y = x.shr(&s)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn shr(&self, shift: &Tensor) -> Result<Tensor> {
        self.shift(shift, Op::Shr, "shr")
    }

    fn shift(&self, shift: &Tensor, op: Op, name: &'static str) -> Result<Tensor> {
        self.require_int(name)?;
        shift.require_int(name)?;
        let width = self.dtype().bitsize() as f64;
        named(name, || {
            let s = shift.cast(self.dtype())?;
            let (x, s) = self.broadcast_pair(&s, name)?;
            let zero = x.scalar_like(0.0).broadcast_to(x.shape())?;
            let in_range = s.ge(&zero)?.logical_and(&s.lt(&x.scalar_like(width))?)?;
            let safe = in_range.where_(&s, &zero)?;
            let shifted = x.derive(UOp::alu(op, [x.node(), safe.node()]), x.shape().to_vec());
            let beyond = if op == Op::Shr && !x.dtype().is_unsigned() {
                x.lt(&zero)?
                    .where_(&x.scalar_like(-1.0).broadcast_to(x.shape())?, &zero)?
            } else {
                zero
            };
            in_range.where_(&shifted, &beyond)
        })
    }
}

/// `a op b` for an integer division or remainder that never traps: where `b` is 0 the
/// result is 0, where `b` is -1 it is `by_minus_one` (the division runs on 1 there).
fn guarded(a: &Tensor, b: &Tensor, op: Op, by_minus_one: &Tensor) -> Result<Tensor> {
    let zero = b.scalar_like(0.0).broadcast_to(b.shape())?;
    let is_zero = b.eq(&zero)?;
    let is_minus_one = b.eq(&b.scalar_like(-1.0))?;
    let one = b.scalar_like(1.0).broadcast_to(b.shape())?;
    let safe = is_zero.logical_or(&is_minus_one)?.where_(&one, b)?;
    let q = a.derive(UOp::alu(op, [a.node(), safe.node()]), a.shape().to_vec());
    let q = is_minus_one.where_(by_minus_one, &q)?;
    is_zero.where_(&a.mul_scalar(0.0)?, &q)
}
