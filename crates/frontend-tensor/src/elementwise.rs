//! Elementwise math with numpy broadcasting and dtype promotion. Transcendental functions
//! are built from the IR's base-2 ops (`exp(x) = exp2(x / ln 2)`).
//!
//! Rounding: every op's result is rounded to its dtype once, at its end, so a result never
//! depends on where kernels split. An op of the IR rounds by itself (the linearizer
//! computes narrow floats in f32 and rounds each result); an op built of several IR ops
//! runs them in f32 on narrow floats and rounds once (`via_f32`), as PyTorch does.

use dtype::{DType, Operand, least_upper_dtype, promote};
use uop_ir::{Op, UOp};

use crate::error::{Result, TensorError, named};
use crate::movement::broadcast_shape;
use crate::tensor::Tensor;

const LN2: f64 = std::f64::consts::LN_2;

impl Tensor {
    fn unary(&self, op: Op) -> Tensor {
        self.derive(UOp::alu(op, [self.node()]), self.shape().to_vec())
    }

    fn float_unary(&self, op: Op) -> Result<Tensor> {
        Ok(self.to_float()?.unary(op))
    }

    /// `f` applied in f32 when this tensor is a narrow float (f16, bf16, fp8), its result
    /// rounded back to this dtype once; integers become f32 first (and stay f32); f32 and
    /// f64 run `f` as they are. Ops built of several IR ops go through this.
    pub(crate) fn via_f32(&self, f: impl FnOnce(&Tensor) -> Result<Tensor>) -> Result<Tensor> {
        if self.dtype().is_narrow_float() {
            f(&self.cast(DType::F32)?)?.cast(self.dtype())
        } else {
            f(&self.to_float()?)
        }
    }

    /// Converts to the default float (f32) unless already a float.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[1i32, 2], &[2])?;
    /// let y = x.to_float()?; // f32
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn to_float(&self) -> Result<Tensor> {
        if self.dtype().is_float() {
            Ok(self.clone())
        } else {
            self.cast(DType::F32)
        }
    }

    /// Both operands broadcast to one shape and promoted to one dtype.
    pub(crate) fn broadcast_pair(
        &self,
        other: &Tensor,
        op: &'static str,
    ) -> Result<(Tensor, Tensor)> {
        let shape = broadcast_shape(op, self.shape(), other.shape())?;
        // a scalar constant is a weak literal: it adopts the other side's dtype, unless it
        // is a float next to an integer tensor
        let weak = |c: &Tensor, strong: &Tensor| -> Result<DType> {
            if c.dtype().is_bool() {
                // a bool literal takes the other side's dtype (bool + True is bool)
                return Ok(strong.dtype());
            }
            let lit = if c.dtype().is_float() {
                Operand::WeakFloat
            } else {
                Operand::WeakInt
            };
            Ok(promote(Operand::Strong(strong.dtype()), lit)?)
        };
        let is_literal = |t: &Tensor| t.shape().is_empty() && t.node().op() == Op::Const;
        let dtype = match (is_literal(self), is_literal(other)) {
            (true, false) => weak(self, other)?,
            (false, true) => weak(other, self)?,
            _ => least_upper_dtype(&[self.dtype(), other.dtype()])?,
        };
        Ok((
            self.cast(dtype)?.broadcast_to(&shape)?,
            other.cast(dtype)?.broadcast_to(&shape)?,
        ))
    }

    fn binary(&self, other: &Tensor, op: Op, name: &'static str) -> Result<Tensor> {
        // A literal of the other side's dtype next to a tensor needs no broadcast: an
        // elementwise node takes a scalar constant as it is (shapes infer it, rangeify
        // lowers it to itself), which keeps eager graphs two nodes smaller.
        let is_literal = |t: &Tensor| t.shape().is_empty() && t.node().op() == Op::Const;
        if is_literal(other) && !self.shape().is_empty() && other.dtype() == self.dtype() {
            return Ok(self.derive(
                UOp::alu(op, [self.node(), other.node()]),
                self.shape().to_vec(),
            ));
        }
        if is_literal(self) && !other.shape().is_empty() && self.dtype() == other.dtype() {
            return Ok(other.derive(
                UOp::alu(op, [self.node(), other.node()]),
                other.shape().to_vec(),
            ));
        }
        let (a, b) = self.broadcast_pair(other, name)?;
        Ok(a.derive(UOp::alu(op, [a.node(), b.node()]), a.shape().to_vec()))
    }

    /// `cast`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.cast(DType::F16)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn cast(&self, dtype: DType) -> Result<Tensor> {
        if dtype == self.dtype() {
            return Ok(self.clone());
        }
        if dtype == DType::Void || dtype == DType::Index {
            return Err(TensorError::DType { op: "cast", dtype });
        }
        Ok(self.derive(self.node().cast(dtype), self.shape().to_vec()))
    }

    /// `add`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
    /// let b = Tensor::from_slice(&[0.5f32, -1.0], &[2])?;
    /// let c = a.add(&b)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn add(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(other, Op::Add, "add")
    }

    /// `sub`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
    /// let b = Tensor::from_slice(&[0.5f32, -1.0], &[2])?;
    /// let c = a.sub(&b)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn sub(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(other, Op::Sub, "sub")
    }

    /// `mul`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
    /// let b = Tensor::from_slice(&[0.5f32, -1.0], &[2])?;
    /// let c = a.mul(&b)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn mul(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(other, Op::Mul, "mul")
    }

    /// True division (integers are converted to f32 first).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
    /// let b = Tensor::from_slice(&[0.5f32, -1.0], &[2])?;
    /// let c = a.div(&b)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn div(&self, other: &Tensor) -> Result<Tensor> {
        self.to_float()?.binary(&other.to_float()?, Op::FDiv, "div")
    }

    /// `self ^ exponent` of floats (integers are converted to f32 first).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
    /// let b = Tensor::from_slice(&[0.5f32, -1.0], &[2])?;
    /// let c = a.pow(&a)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn pow(&self, exponent: &Tensor) -> Result<Tensor> {
        self.to_float()?
            .binary(&exponent.to_float()?, Op::Pow, "pow")
    }

    /// `maximum`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
    /// let b = Tensor::from_slice(&[0.5f32, -1.0], &[2])?;
    /// let c = a.maximum(&b)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn maximum(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(other, Op::Max, "maximum")
    }

    /// The smaller of the two (NaN if either is NaN, for floats).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
    /// let b = Tensor::from_slice(&[0.5f32, -1.0], &[2])?;
    /// let c = a.minimum(&b)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn minimum(&self, other: &Tensor) -> Result<Tensor> {
        named("minimum", || {
            let (a, b) = self.broadcast_pair(other, "minimum")?;
            if a.dtype().is_float() {
                // -max(-a, -b) keeps max's NaN propagation
                Ok(a.neg().maximum(&b.neg())?.neg())
            } else {
                // negation would wrap unsigned values and MIN
                a.lt(&b)?.where_(&a, &b)
            }
        })
    }

    /// `lt`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
    /// let b = Tensor::from_slice(&[0.5f32, -1.0], &[2])?;
    /// let c = a.lt(&b)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn lt(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(other, Op::CmpLt, "lt")
    }

    /// `gt`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
    /// let b = Tensor::from_slice(&[0.5f32, -1.0], &[2])?;
    /// let c = a.gt(&b)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn gt(&self, other: &Tensor) -> Result<Tensor> {
        // `b < a`, with the operands named in the user's order in errors
        let (a, b) = self.broadcast_pair(other, "gt")?;
        Ok(a.derive(
            UOp::alu(Op::CmpLt, [b.node(), a.node()]),
            a.shape().to_vec(),
        ))
    }

    /// `self >= other` (false where either is NaN).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
    /// let b = Tensor::from_slice(&[0.5f32, -1.0], &[2])?;
    /// let c = a.ge(&b)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn ge(&self, other: &Tensor) -> Result<Tensor> {
        named("ge", || other.lt(self)?.logical_or(&self.eq(other)?))
    }

    /// `self <= other` (false where either is NaN).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
    /// let b = Tensor::from_slice(&[0.5f32, -1.0], &[2])?;
    /// let c = a.le(&b)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn le(&self, other: &Tensor) -> Result<Tensor> {
        named("le", || self.lt(other)?.logical_or(&self.eq(other)?))
    }

    /// `ge_scalar`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.ge_scalar(2.0)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn ge_scalar(&self, v: f64) -> Result<Tensor> {
        self.ge(&self.scalar_like(v))
    }

    /// `lt_scalar`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.lt_scalar(2.0)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn lt_scalar(&self, v: f64) -> Result<Tensor> {
        self.lt(&self.scalar_like(v))
    }

    /// `gt_scalar`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.gt_scalar(2.0)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn gt_scalar(&self, v: f64) -> Result<Tensor> {
        self.gt(&self.scalar_like(v))
    }

    /// Elementwise `or` of truth values (nonzero is true); a bool tensor.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
    /// let b = Tensor::from_slice(&[0.5f32, -1.0], &[2])?;
    /// let c = a.logical_or(&b)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn logical_or(&self, other: &Tensor) -> Result<Tensor> {
        let (a, b) = (self.cast(DType::Bool)?, other.cast(DType::Bool)?);
        a.binary(&b, Op::Or, "logical_or")
    }

    /// Elementwise `and` of truth values; a bool tensor.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
    /// let b = Tensor::from_slice(&[0.5f32, -1.0], &[2])?;
    /// let c = a.logical_and(&b)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn logical_and(&self, other: &Tensor) -> Result<Tensor> {
        let (a, b) = (self.cast(DType::Bool)?, other.cast(DType::Bool)?);
        a.binary(&b, Op::And, "logical_and")
    }

    /// Elementwise `not` of truth values; a bool tensor.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.logical_not()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn logical_not(&self) -> Result<Tensor> {
        let a = self.cast(DType::Bool)?;
        a.eq(&a.scalar_like(0.0))
    }

    /// `eq`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
    /// let b = Tensor::from_slice(&[0.5f32, -1.0], &[2])?;
    /// let c = a.eq(&b)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn eq(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(other, Op::CmpEq, "eq")
    }

    /// `ne`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
    /// let b = Tensor::from_slice(&[0.5f32, -1.0], &[2])?;
    /// let c = a.ne(&b)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn ne(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(other, Op::CmpNe, "ne")
    }

    /// `self ? a : b` (self is cast to bool).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.gt_scalar(0.0)?.where_(&x, &x.zeros_like()?)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn where_(&self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        let (a, b) = a.broadcast_pair(b, "where")?;
        let shape = broadcast_shape("where", self.shape(), a.shape())?;
        let c = self.cast(DType::Bool)?.broadcast_to(&shape)?;
        let (a, b) = (a.broadcast_to(&shape)?, b.broadcast_to(&shape)?);
        Ok(c.derive(UOp::alu(Op::Where, [c.node(), a.node(), b.node()]), shape))
    }

    /// `add_scalar`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.add_scalar(2.0)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn add_scalar(&self, v: f64) -> Result<Tensor> {
        self.add(&self.scalar_like(v))
    }

    /// `mul_scalar`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.mul_scalar(2.0)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn mul_scalar(&self, v: f64) -> Result<Tensor> {
        self.mul(&self.scalar_like(v))
    }

    /// `neg`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.neg();
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn neg(&self) -> Tensor {
        self.unary(Op::Neg)
    }

    /// `exp2`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.exp2()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn exp2(&self) -> Result<Tensor> {
        self.float_unary(Op::Exp2)
    }

    /// `log2`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.log2()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn log2(&self) -> Result<Tensor> {
        self.float_unary(Op::Log2)
    }

    /// `exp`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.exp()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn exp(&self) -> Result<Tensor> {
        named("exp", || self.via_f32(|x| x.mul_scalar(1.0 / LN2)?.exp2()))
    }

    /// `log`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.log()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn log(&self) -> Result<Tensor> {
        named("log", || self.via_f32(|x| x.log2()?.mul_scalar(LN2)))
    }

    /// `sqrt`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.sqrt()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn sqrt(&self) -> Result<Tensor> {
        self.float_unary(Op::Sqrt)
    }

    /// `sin`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.sin()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn sin(&self) -> Result<Tensor> {
        self.float_unary(Op::Sin)
    }

    /// `cos`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.cos()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn cos(&self) -> Result<Tensor> {
        named("cos", || {
            self.via_f32(|x| x.neg().add_scalar(std::f64::consts::FRAC_PI_2)?.sin())
        })
    }

    /// `recip`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.recip()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn recip(&self) -> Result<Tensor> {
        self.float_unary(Op::Recip)
    }

    /// `max(x, 0)`, NaN kept; its gradient is 0 at 0, as PyTorch's (a tie with a
    /// constant gives the constant the gradient).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.relu()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn relu(&self) -> Result<Tensor> {
        self.maximum(&self.scalar_like(0.0))
    }

    /// `1 / (1 + exp(-x))`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.sigmoid()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn sigmoid(&self) -> Result<Tensor> {
        named("sigmoid", || {
            self.via_f32(|x| x.neg().exp()?.add_scalar(1.0)?.recip())
        })
    }

    /// `2*sigmoid(2x) - 1`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.tanh()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn tanh(&self) -> Result<Tensor> {
        named("tanh", || {
            self.via_f32(|x| {
                x.mul_scalar(2.0)?
                    .sigmoid()?
                    .mul_scalar(2.0)?
                    .add_scalar(-1.0)
            })
        })
    }

    /// The error function, to about 1e-7 (a Taylor series below 0.5 in magnitude, a
    /// Chebyshev fit of erfc above).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.erf()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn erf(&self) -> Result<Tensor> {
        named("erf", || {
            self.via_f32(|x| {
                let a = x.abs()?;
                let x2 = x.square()?;
                // 2/sqrt(pi) (x - x^3/3 + x^5/10 - x^7/42 + x^9/216 - x^11/1320)
                let series = [
                    -1.0 / 1320.0,
                    1.0 / 216.0,
                    -1.0 / 42.0,
                    1.0 / 10.0,
                    -1.0 / 3.0,
                    1.0,
                ]
                .iter()
                .try_fold(x.mul_scalar(0.0)?, |acc, &c| acc.mul(&x2)?.add_scalar(c))?
                .mul(x)?
                .mul_scalar(std::f64::consts::FRAC_2_SQRT_PI)?;
                // erfc(a) = t exp(-a^2 + p(t)), t = 1 / (1 + a/2)
                let t = a.mul_scalar(0.5)?.add_scalar(1.0)?.recip()?;
                let coeffs = [
                    0.17087277,
                    -0.82215223,
                    1.48851587,
                    -1.13520398,
                    0.27886807,
                    -0.18628806,
                    0.09678418,
                    0.37409196,
                    1.00002368,
                    -1.26551223,
                ];
                let p = coeffs
                    .iter()
                    .try_fold(t.mul_scalar(0.0)?, |acc, &c| acc.mul(&t)?.add_scalar(c))?;
                let erfc = t.mul(&x2.neg().add(&p)?.exp()?)?;
                let sign = x.lt_scalar(0.0)?.where_(
                    &x.scalar_like(-1.0).broadcast_to(x.shape())?,
                    &x.scalar_like(1.0).broadcast_to(x.shape())?,
                )?;
                let tail = erfc.neg().add_scalar(1.0)?.mul(&sign)?;
                a.lt_scalar(0.5)?.where_(&series, &tail)
            })
        })
    }

    /// `abs`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.abs()?; // tensor([[0.5000, 1.5000], [2.0000, 4.0000]])
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn abs(&self) -> Result<Tensor> {
        self.maximum(&self.neg())
    }

    /// `square`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.square()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn square(&self) -> Result<Tensor> {
        self.mul(self)
    }
}
