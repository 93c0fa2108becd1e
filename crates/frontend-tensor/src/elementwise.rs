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
    pub fn to_float(&self) -> Result<Tensor> {
        if self.dtype().is_float() {
            Ok(self.clone())
        } else {
            self.cast(DType::F32)
        }
    }

    /// Both operands broadcast to one shape and promoted to one dtype.
    fn broadcast_pair(&self, other: &Tensor, op: &'static str) -> Result<(Tensor, Tensor)> {
        let shape = broadcast_shape(op, self.shape(), other.shape())?;
        // a scalar constant is a weak literal: it adopts the other side's dtype, unless it
        // is a float next to an integer tensor
        let weak = |c: &Tensor, strong: &Tensor| -> Result<DType> {
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
        let (a, b) = self.broadcast_pair(other, name)?;
        Ok(a.derive(UOp::alu(op, [a.node(), b.node()]), a.shape().to_vec()))
    }

    pub fn cast(&self, dtype: DType) -> Result<Tensor> {
        if dtype == self.dtype() {
            return Ok(self.clone());
        }
        if dtype == DType::Void || dtype == DType::Index {
            return Err(TensorError::DType { op: "cast", dtype });
        }
        Ok(self.derive(self.node().cast(dtype), self.shape().to_vec()))
    }

    pub fn add(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(other, Op::Add, "add")
    }

    pub fn sub(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(other, Op::Sub, "sub")
    }

    pub fn mul(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(other, Op::Mul, "mul")
    }

    /// True division (integers are converted to f32 first).
    pub fn div(&self, other: &Tensor) -> Result<Tensor> {
        self.to_float()?.binary(&other.to_float()?, Op::FDiv, "div")
    }

    /// `self ^ exponent` of floats (integers are converted to f32 first).
    pub fn pow(&self, exponent: &Tensor) -> Result<Tensor> {
        self.to_float()?
            .binary(&exponent.to_float()?, Op::Pow, "pow")
    }

    pub fn maximum(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(other, Op::Max, "maximum")
    }

    pub fn minimum(&self, other: &Tensor) -> Result<Tensor> {
        named("minimum", || Ok(self.neg().maximum(&other.neg())?.neg()))
    }

    pub fn lt(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(other, Op::CmpLt, "lt")
    }

    pub fn gt(&self, other: &Tensor) -> Result<Tensor> {
        // `b < a`, with the operands named in the user's order in errors
        let (a, b) = self.broadcast_pair(other, "gt")?;
        Ok(a.derive(
            UOp::alu(Op::CmpLt, [b.node(), a.node()]),
            a.shape().to_vec(),
        ))
    }

    pub fn eq(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(other, Op::CmpEq, "eq")
    }

    pub fn ne(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(other, Op::CmpNe, "ne")
    }

    /// `self ? a : b` (self is cast to bool).
    pub fn where_(&self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        let (a, b) = a.broadcast_pair(b, "where")?;
        let shape = broadcast_shape("where", self.shape(), a.shape())?;
        let c = self.cast(DType::Bool)?.broadcast_to(&shape)?;
        let (a, b) = (a.broadcast_to(&shape)?, b.broadcast_to(&shape)?);
        Ok(c.derive(UOp::alu(Op::Where, [c.node(), a.node(), b.node()]), shape))
    }

    pub fn add_scalar(&self, v: f64) -> Result<Tensor> {
        self.add(&self.scalar_like(v))
    }

    pub fn mul_scalar(&self, v: f64) -> Result<Tensor> {
        self.mul(&self.scalar_like(v))
    }

    pub fn neg(&self) -> Tensor {
        self.unary(Op::Neg)
    }

    pub fn exp2(&self) -> Result<Tensor> {
        self.float_unary(Op::Exp2)
    }

    pub fn log2(&self) -> Result<Tensor> {
        self.float_unary(Op::Log2)
    }

    pub fn exp(&self) -> Result<Tensor> {
        named("exp", || self.via_f32(|x| x.mul_scalar(1.0 / LN2)?.exp2()))
    }

    pub fn log(&self) -> Result<Tensor> {
        named("log", || self.via_f32(|x| x.log2()?.mul_scalar(LN2)))
    }

    pub fn sqrt(&self) -> Result<Tensor> {
        self.float_unary(Op::Sqrt)
    }

    pub fn sin(&self) -> Result<Tensor> {
        self.float_unary(Op::Sin)
    }

    pub fn cos(&self) -> Result<Tensor> {
        named("cos", || {
            self.via_f32(|x| x.neg().add_scalar(std::f64::consts::FRAC_PI_2)?.sin())
        })
    }

    pub fn recip(&self) -> Result<Tensor> {
        self.float_unary(Op::Recip)
    }

    /// `max(x, 0)`, NaN kept; its gradient is 0 at 0, as PyTorch's (a tie with a
    /// constant gives the constant the gradient).
    pub fn relu(&self) -> Result<Tensor> {
        self.maximum(&self.scalar_like(0.0))
    }

    /// `1 / (1 + exp(-x))`.
    pub fn sigmoid(&self) -> Result<Tensor> {
        named("sigmoid", || {
            self.via_f32(|x| x.neg().exp()?.add_scalar(1.0)?.recip())
        })
    }

    /// `2*sigmoid(2x) - 1`.
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

    pub fn abs(&self) -> Result<Tensor> {
        self.maximum(&self.neg())
    }

    pub fn square(&self) -> Result<Tensor> {
        self.mul(self)
    }
}
