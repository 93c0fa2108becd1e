//! Activations beyond relu/sigmoid/tanh: gelu (exact, with erf, and its tanh form), silu,
//! and dropout. Each runs in f32 on narrow floats and rounds once.

use std::f64::consts::{FRAC_1_SQRT_2, FRAC_2_SQRT_PI};

use crate::error::{Result, named};
use crate::tensor::Tensor;

impl Tensor {
    /// `x * Φ(x)` with the exact normal CDF (PyTorch's default gelu).
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
    pub fn silu(&self) -> Result<Tensor> {
        named("silu", || self.via_f32(|x| x.mul(&x.sigmoid()?)))
    }

    /// Zeros each element with probability `p` and scales the rest by `1 / (1 - p)`
    /// while `training`; the identity otherwise. The mask comes from the seeded generator.
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
