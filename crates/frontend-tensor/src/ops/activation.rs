//! Activations beyond relu/sigmoid/tanh, with PyTorch's definitions and defaults: gelu
//! (exact, with erf, and its tanh form), silu, relu6, leaky_relu, elu, selu, celu,
//! quick_gelu, mish, hardsigmoid, hardswish, hardtanh, softplus, softsign, logsigmoid,
//! and dropout. Each runs in f32 on narrow floats and rounds once.

use std::f64::consts::{FRAC_1_SQRT_2, FRAC_2_SQRT_PI};

use crate::error::{Result, named};
use crate::tensor::Tensor;

impl Tensor {
    /// `x * Φ(x)` with the exact normal CDF (PyTorch's default gelu).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.gelu()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn gelu(&self) -> Result<Tensor> {
        named("gelu", || {
            self.via_f32(|x| {
                let cdf = x
                    .mul_scalar(FRAC_1_SQRT_2)?
                    .erf()?
                    .add_scalar(1.0)?
                    .mul_scalar(0.5)?;
                x.mul(&cdf)
            })
        })
    }

    /// `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))` (gelu with `approximate="tanh"`).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.gelu_tanh()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn gelu_tanh(&self) -> Result<Tensor> {
        named("gelu_tanh", || {
            self.via_f32(|x| {
                let k = FRAC_2_SQRT_PI * FRAC_1_SQRT_2;
                let inner = x.mul(&x.square()?.mul_scalar(0.044715)?.add_scalar(1.0)?)?;
                let t = inner.mul_scalar(k)?.tanh()?;
                x.mul(&t.add_scalar(1.0)?)?.mul_scalar(0.5)
            })
        })
    }

    /// `x * sigmoid(x)` (also called swish).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.silu()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn silu(&self) -> Result<Tensor> {
        named("silu", || self.via_f32(|x| x.mul(&x.sigmoid()?)))
    }

    /// `min(max(x, 0), 6)`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.relu6()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn relu6(&self) -> Result<Tensor> {
        named("relu6", || self.clip(Some(0.0), Some(6.0)))
    }

    /// `x` where positive, `slope * x` elsewhere (PyTorch's default slope is 0.01).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.leaky_relu(0.01)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn leaky_relu(&self, slope: f64) -> Result<Tensor> {
        named("leaky_relu", || {
            self.gt_scalar(0.0)?.where_(self, &self.mul_scalar(slope)?)
        })
    }

    /// `x` where positive, `alpha * (exp(x) - 1)` elsewhere.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.elu(1.0)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn elu(&self, alpha: f64) -> Result<Tensor> {
        named("elu", || {
            self.via_f32(|x| x.gt_scalar(0.0)?.where_(x, &x.expm1()?.mul_scalar(alpha)?))
        })
    }

    /// `scale * elu(x, alpha)` with SELU's constants.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.selu()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn selu(&self) -> Result<Tensor> {
        const ALPHA: f64 = 1.673_263_242_354_377_3;
        const SCALE: f64 = 1.050_700_987_355_480_5;
        named("selu", || self.via_f32(|x| x.elu(ALPHA)?.mul_scalar(SCALE)))
    }

    /// `max(0, x) + min(0, alpha * (exp(x / alpha) - 1))`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.celu(1.0)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn celu(&self, alpha: f64) -> Result<Tensor> {
        named("celu", || {
            self.via_f32(|x| {
                let neg = x.mul_scalar(1.0 / alpha)?.expm1()?.mul_scalar(alpha)?;
                x.gt_scalar(0.0)?.where_(x, &neg)
            })
        })
    }

    /// `x * sigmoid(1.702 x)`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.quick_gelu()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn quick_gelu(&self) -> Result<Tensor> {
        named("quick_gelu", || {
            self.via_f32(|x| x.mul(&x.mul_scalar(1.702)?.sigmoid()?))
        })
    }

    /// `x * tanh(softplus(x))`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.mish()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn mish(&self) -> Result<Tensor> {
        named("mish", || {
            self.via_f32(|x| x.mul(&x.softplus(1.0, 20.0)?.tanh()?))
        })
    }

    /// `clip(x / 6 + 1/2, 0, 1)`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.hardsigmoid()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn hardsigmoid(&self) -> Result<Tensor> {
        named("hardsigmoid", || {
            self.via_f32(|x| {
                x.mul_scalar(1.0 / 6.0)?
                    .add_scalar(0.5)?
                    .clip(Some(0.0), Some(1.0))
            })
        })
    }

    /// `x * hardsigmoid(x)`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.hardswish()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn hardswish(&self) -> Result<Tensor> {
        named("hardswish", || self.via_f32(|x| x.mul(&x.hardsigmoid()?)))
    }

    /// `clip(x, lo, hi)` (PyTorch's defaults are -1 and 1).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.hardtanh(-1.0, 1.0)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn hardtanh(&self, lo: f64, hi: f64) -> Result<Tensor> {
        named("hardtanh", || self.clip(Some(lo), Some(hi)))
    }

    /// `log(1 + exp(beta x)) / beta`, and `x` where `beta x > threshold` (PyTorch's
    /// defaults are 1 and 20).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.softplus(1.0, 20.0)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn softplus(&self, beta: f64, threshold: f64) -> Result<Tensor> {
        named("softplus", || {
            self.via_f32(|x| {
                let bx = x.mul_scalar(beta)?;
                let soft = bx.exp()?.log1p()?.mul_scalar(1.0 / beta)?;
                bx.gt_scalar(threshold)?.where_(x, &soft)
            })
        })
    }

    /// `x / (1 + |x|)`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.softsign()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn softsign(&self) -> Result<Tensor> {
        named("softsign", || {
            self.via_f32(|x| x.div(&x.abs()?.add_scalar(1.0)?))
        })
    }

    /// `log(sigmoid(x))`, as `-softplus(-x)`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.logsigmoid()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn logsigmoid(&self) -> Result<Tensor> {
        named("logsigmoid", || {
            self.via_f32(|x| Ok(x.neg().softplus(1.0, 20.0)?.neg()))
        })
    }

    /// Zeros each element with probability `p` and scales the rest by `1 / (1 - p)`
    /// while `training`; the identity otherwise. The mask comes from the seeded generator.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.dropout(0.5, true)?; // half the elements zeroed, the rest doubled
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn dropout(&self, p: f64, training: bool) -> Result<Tensor> {
        if !(0.0..=1.0).contains(&p) {
            return Err(crate::TensorError::Invalid {
                op: "dropout",
                why: format!("p = {p} is not a probability"),
            });
        }
        if !training || p == 0.0 {
            return Ok(self.clone());
        }
        named("dropout", || {
            if p == 1.0 {
                return self.mul_scalar(0.0);
            }
            let keep = Tensor::rand(self.shape())?.ge_scalar(p)?;
            let zero = self.mul_scalar(0.0)?;
            keep.where_(&self.mul_scalar(1.0 / (1.0 - p))?, &zero)
        })
    }
}
