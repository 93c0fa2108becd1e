//! Elementwise math beyond the IR's base ops, each as PyTorch defines it: trigonometric
//! and hyperbolic functions, `log1p`/`expm1` without cancellation, rounding (`floor`,
//! `ceil`, `round` half to even, `trunc`), `sign`, `clip`, the float classes (`isnan`,
//! `isinf`, `isfinite`), `nan_to_num` and `lerp`. Built of several IR ops, each runs in f32
//! on narrow floats and rounds once.

use std::f64::consts::{FRAC_PI_2, FRAC_PI_4};

use dtype::DType;
use uop_ir::{ConstValue, Op, UOp};

use crate::error::{Result, named};
use crate::tensor::Tensor;

impl Tensor {
    /// `v` broadcast to this tensor's shape, in its dtype.
    pub(crate) fn full_like_value(&self, v: f64) -> Result<Tensor> {
        self.scalar_like(v)
            .cast(self.dtype())?
            .broadcast_to(self.shape())
    }

    /// The largest (or the smallest) value of this tensor's dtype as a scalar on its
    /// device: ±inf for floats, the bounds of an integer dtype, true or false for bools.
    pub(crate) fn extreme_like(&self, largest: bool) -> Tensor {
        let d = self.dtype();
        let value = match (d.is_float(), largest) {
            (true, true) => ConstValue::Float(f64::INFINITY),
            (true, false) => ConstValue::Float(f64::NEG_INFINITY),
            (false, true) => ConstValue::Int(d.int_max().unwrap_or(0)),
            (false, false) => ConstValue::Int(d.int_min().unwrap_or(0)),
        };
        Tensor::from_node(UOp::const_of(d, value), Vec::new(), self.device())
    }

    /// `tan`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.tan()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn tan(&self) -> Result<Tensor> {
        named("tan", || self.via_f32(|x| x.sin()?.div(&x.cos()?)))
    }

    /// Arctangent (Cephes' reduction to |x| <= tan(pi/8) and its polynomial: about 1e-7).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.atan()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn atan(&self) -> Result<Tensor> {
        named("atan", || {
            self.via_f32(|x| {
                let a = x.abs()?;
                let big = a.gt_scalar(2.414_213_562_373_095)?;
                let mid = a.gt_scalar(0.414_213_562_373_095)?;
                // big: pi/2 + atan(-1/a); mid: pi/4 + atan((a-1)/(a+1)); else atan(a)
                let reduced = big.where_(
                    &a.recip()?.neg(),
                    &mid.where_(&a.add_scalar(-1.0)?.div(&a.add_scalar(1.0)?)?, &a)?,
                )?;
                let base = big.where_(
                    &x.full_like_value(FRAC_PI_2)?,
                    &mid.where_(&x.full_like_value(FRAC_PI_4)?, &x.full_like_value(0.0)?)?,
                )?;
                let z = reduced.square()?;
                let p = z
                    .mul_scalar(8.053_744_495_38e-2)?
                    .add_scalar(-1.387_768_560_32e-1)?
                    .mul(&z)?
                    .add_scalar(1.997_771_064_78e-1)?
                    .mul(&z)?
                    .add_scalar(-3.333_294_915_39e-1)?
                    .mul(&z)?
                    .mul(&reduced)?
                    .add(&reduced)?;
                let magnitude = base.add(&p)?;
                x.lt_scalar(0.0)?.where_(&magnitude.neg(), &magnitude)
            })
        })
    }

    /// Arcsine: `atan(x / sqrt(1 - x^2))` (NaN outside [-1, 1]).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.asin()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn asin(&self) -> Result<Tensor> {
        named("asin", || {
            self.via_f32(|x| {
                let c = x.square()?.neg().add_scalar(1.0)?.sqrt()?;
                // at |x| = 1 the quotient is +-inf, whose atan is +-pi/2
                x.div(&c)?.atan()
            })
        })
    }

    /// Arccosine: `pi/2 - asin(x)`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.acos()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn acos(&self) -> Result<Tensor> {
        named("acos", || {
            self.via_f32(|x| x.asin()?.neg().add_scalar(FRAC_PI_2))
        })
    }

    /// `sinh`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.sinh()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn sinh(&self) -> Result<Tensor> {
        named("sinh", || {
            self.via_f32(|x| x.exp()?.sub(&x.neg().exp()?)?.mul_scalar(0.5))
        })
    }

    /// `cosh`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.cosh()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn cosh(&self) -> Result<Tensor> {
        named("cosh", || {
            self.via_f32(|x| x.exp()?.add(&x.neg().exp()?)?.mul_scalar(0.5))
        })
    }

    /// `log(1 + x)`, accurate for small x: `log(u) * x / (u - 1)` with `u = 1 + x`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.log1p()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn log1p(&self) -> Result<Tensor> {
        named("log1p", || {
            self.via_f32(|x| {
                let u = x.add_scalar(1.0)?;
                let d = u.add_scalar(-1.0)?;
                let exact = d.eq(&x.full_like_value(0.0)?)?;
                let ratio = u
                    .log()?
                    .mul(&x.div(&exact.where_(&x.full_like_value(1.0)?, &d)?)?)?;
                exact.where_(x, &ratio)
            })
        })
    }

    /// `exp(x) - 1`, accurate for small x: `(u - 1) * x / log(u)` with `u = exp(x)`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.expm1()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn expm1(&self) -> Result<Tensor> {
        named("expm1", || {
            self.via_f32(|x| {
                let u = x.exp()?;
                let d = u.add_scalar(-1.0)?;
                let one = u.eq(&x.full_like_value(1.0)?)?;
                let lu = u.log()?;
                let safe = one.where_(&x.full_like_value(1.0)?, &lu)?;
                let ratio = d.mul(x)?.div(&safe)?;
                // u = inf: inf; u - 1 = -1: -1
                let inf = u.eq(&x.full_like_value(f64::INFINITY)?)?;
                let r = inf.where_(&u, &ratio)?;
                let r = d.eq(&x.full_like_value(-1.0)?)?.where_(&d, &r)?;
                one.where_(x, &r)
            })
        })
    }

    /// `1 / sqrt(x)`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.rsqrt()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn rsqrt(&self) -> Result<Tensor> {
        named("rsqrt", || self.sqrt()?.recip())
    }

    /// `1 / x` (PyTorch's name).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.reciprocal()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn reciprocal(&self) -> Result<Tensor> {
        self.recip()
    }

    /// Rounds toward zero (integers are unchanged).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.trunc()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn trunc(&self) -> Result<Tensor> {
        if !self.dtype().is_float() {
            return Ok(self.clone());
        }
        Ok(self.derive(
            uop_ir::UOp::alu(Op::Trunc, [self.node()]),
            self.shape().to_vec(),
        ))
    }

    /// The largest integer not above x.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.floor()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn floor(&self) -> Result<Tensor> {
        if !self.dtype().is_float() {
            return Ok(self.clone());
        }
        named("floor", || {
            let t = self.trunc()?;
            self.lt(&t)?.where_(&t.add_scalar(-1.0)?, &t)
        })
    }

    /// The smallest integer not below x.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.ceil()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn ceil(&self) -> Result<Tensor> {
        if !self.dtype().is_float() {
            return Ok(self.clone());
        }
        named("ceil", || {
            let t = self.trunc()?;
            self.gt(&t)?.where_(&t.add_scalar(1.0)?, &t)
        })
    }

    /// Rounds to the nearest integer, ties to even (as PyTorch's `round`).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.round()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn round(&self) -> Result<Tensor> {
        if !self.dtype().is_float() {
            return Ok(self.clone());
        }
        named("round", || {
            let f = self.floor()?;
            let d = self.sub(&f)?;
            let half = self.full_like_value(0.5)?;
            // f is even when f/2 has no fraction
            let f2 = f.mul_scalar(0.5)?;
            let even = f2.eq(&f2.floor()?)?;
            let up = f.add_scalar(1.0)?;
            let tie = even.where_(&f, &up)?;
            d.gt(&half)?.where_(&up, &d.lt(&half)?.where_(&f, &tie)?)
        })
    }

    /// -1, 0 or 1 by the sign of x (0 for NaN, as PyTorch).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.sign()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn sign(&self) -> Result<Tensor> {
        named("sign", || {
            let zero = self.full_like_value(0.0)?;
            let inner = self
                .lt(&zero)?
                .where_(&self.full_like_value(-1.0)?, &zero)?;
            self.gt(&zero)?.where_(&self.full_like_value(1.0)?, &inner)
        })
    }

    /// `min(max(x, lo), hi)` with either bound optional (PyTorch's `clamp`).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.clip(Some(0.0), Some(1.0))?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn clip(&self, lo: Option<f64>, hi: Option<f64>) -> Result<Tensor> {
        named("clip", || {
            let mut x = self.clone();
            if let Some(lo) = lo {
                x = x.maximum(&x.scalar_like(lo))?;
            }
            if let Some(hi) = hi {
                x = x.minimum(&x.scalar_like(hi))?;
            }
            Ok(x)
        })
    }

    /// Where x is NaN.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.isnan()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn isnan(&self) -> Result<Tensor> {
        self.ne(self)
    }

    /// Where x is +-inf.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.isinf()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn isinf(&self) -> Result<Tensor> {
        if !self.dtype().is_float() {
            return self.ne(self);
        }
        named("isinf", || self.abs()?.eq(&self.scalar_like(f64::INFINITY)))
    }

    /// Where x is neither NaN nor infinite.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.isfinite()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn isfinite(&self) -> Result<Tensor> {
        if !self.dtype().is_float() {
            return self.eq(self);
        }
        // x - x is 0 for finite x and NaN otherwise
        named("isfinite", || {
            self.sub(self)?.eq(&self.full_like_value(0.0)?)
        })
    }

    /// NaN to `nan`, +inf to `posinf`, -inf to `neginf` (defaults: 0 and the dtype's
    /// largest and smallest finite values, as PyTorch).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[f32::NAN, f32::INFINITY, 1.0], &[3])?;
    /// let y = x.nan_to_num(0.0, None, None)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn nan_to_num(&self, nan: f64, posinf: Option<f64>, neginf: Option<f64>) -> Result<Tensor> {
        if !self.dtype().is_float() {
            return Ok(self.clone());
        }
        let max = self.dtype().max_value_f64().unwrap_or(f64::MAX);
        named("nan_to_num", || {
            let pos = self.full_like_value(posinf.unwrap_or(max))?;
            let neg = self.full_like_value(neginf.unwrap_or(-max))?;
            let inf = self.full_like_value(f64::INFINITY)?;
            let x = self.isnan()?.where_(&self.full_like_value(nan)?, self)?;
            let x = x.eq(&inf)?.where_(&pos, &x)?;
            x.eq(&inf.neg())?.where_(&neg, &x)
        })
    }

    /// `self + weight * (end - self)`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
    /// let b = Tensor::from_slice(&[0.5f32, -1.0], &[2])?;
    /// let c = a.lerp(&a.flip(&[1])?, &a.full_like(0.25)?)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn lerp(&self, end: &Tensor, weight: &Tensor) -> Result<Tensor> {
        named("lerp", || self.add(&weight.mul(&end.sub(self)?)?))
    }

    /// `x ^ e` for a scalar exponent.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.pow_scalar(3.0)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn pow_scalar(&self, e: f64) -> Result<Tensor> {
        named("pow", || {
            let x = self.to_float()?;
            x.pow(&x.scalar_like(e))
        })
    }

    /// Converts to `dtype` (PyTorch's `to(dtype)`): as `cast`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.to_dtype(DType::F64)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn to_dtype(&self, dtype: DType) -> Result<Tensor> {
        self.cast(dtype)
    }
}
