//! Normalizations over the last dims: `LayerNorm` (`torch.nn.LayerNorm`: mean and
//! population variance, then an elementwise affine) and `RMSNorm` (`torch.nn.RMSNorm`:
//! divide by the root mean square, then scale). Narrow floats are computed in f32 and
//! rounded once, as PyTorch does.

use dtype::DType;

use super::Module;
use super::init;
use crate::error::{Result, TensorError};
use crate::tensor::Tensor;

/// The last `normalized.len()` axes of `x` (as negative axes), after checking that they
/// are `normalized`.
fn trailing_axes(module: &'static str, x: &Tensor, normalized: &[i64]) -> Result<Vec<isize>> {
    let shape = x.shape();
    if normalized.is_empty() || !shape.ends_with(normalized) {
        return Err(TensorError::Module {
            module,
            why: format!(
                "the input has shape {shape:?}; its last dims must be normalized_shape {normalized:?}"
            ),
        });
    }
    let k = normalized.len() as isize;
    Ok((-k..0).collect())
}

/// `y * weight + bias` with whichever of them is there.
fn affine(y: Tensor, weight: Option<&Tensor>, bias: Option<&Tensor>) -> Result<Tensor> {
    let y = match weight {
        Some(w) => y.mul(&w.cast(y.dtype())?)?,
        None => y,
    };
    match bias {
        Some(b) => y.add(&b.cast(y.dtype())?),
        None => Ok(y),
    }
}

/// `(x - mean) / sqrt(var + eps) * weight + bias` over the last dims.
#[derive(Debug)]
pub struct LayerNorm {
    pub weight: Option<Tensor>,
    pub bias: Option<Tensor>,
    normalized_shape: Vec<i64>,
    eps: f64,
}

impl LayerNorm {
    /// Over the last dims `normalized_shape`, eps 1e-5, weight ones and bias zeros.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
    /// use frontend_tensor::nn::*;
    /// let norm = LayerNorm::new(&[2])?;
    /// let y = norm.forward(&Tensor::from_slice(&[1.0f32, 3.0], &[1, 2])?)?;
    /// let y: Vec<f32> = y.to_vec()?;
    /// assert!((y[0] + 1.0).abs() < 1e-4 && (y[1] - 1.0).abs() < 1e-4);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn new(normalized_shape: &[i64]) -> Result<LayerNorm> {
        LayerNorm::with_options(normalized_shape, 1e-5, true, true)
    }

    /// PyTorch's `LayerNorm(normalized_shape, eps, elementwise_affine, bias)`.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
    /// use frontend_tensor::nn::*;
    /// let norm = LayerNorm::with_options(&[4], 1e-6, false, false)?;
    /// assert!(norm.weight.is_none() && norm.bias.is_none());
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn with_options(
        normalized_shape: &[i64],
        eps: f64,
        elementwise_affine: bool,
        bias: bool,
    ) -> Result<LayerNorm> {
        let weight = elementwise_affine
            .then(|| init::constant(normalized_shape, 1.0))
            .transpose()?;
        let bias = (elementwise_affine && bias)
            .then(|| init::constant(normalized_shape, 0.0))
            .transpose()?;
        Ok(LayerNorm {
            weight,
            bias,
            normalized_shape: normalized_shape.to_vec(),
            eps,
        })
    }
}

impl Module for LayerNorm {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let axes = trailing_axes("LayerNorm", x, &self.normalized_shape)?;
        x.via_f32(|x| {
            let centered = x.sub(&x.mean(&axes, true)?)?;
            let var = centered.square()?.mean(&axes, true)?;
            let y = centered.mul(&var.add_scalar(self.eps)?.sqrt()?.recip()?)?;
            affine(y, self.weight.as_ref(), self.bias.as_ref())
        })
    }

    fn own_parameters(&self) -> Vec<(String, Tensor)> {
        let mut out = Vec::new();
        if let Some(w) = &self.weight {
            out.push(("weight".to_string(), w.clone()));
        }
        if let Some(b) = &self.bias {
            out.push(("bias".to_string(), b.clone()));
        }
        out
    }
}

/// `x / sqrt(mean(x^2) + eps) * weight` over the last dims.
#[derive(Debug)]
pub struct RMSNorm {
    pub weight: Option<Tensor>,
    normalized_shape: Vec<i64>,
    eps: Option<f64>,
}

impl RMSNorm {
    /// Over the last dims `normalized_shape`, weight ones, and eps the machine epsilon of
    /// the input's dtype (PyTorch's `eps=None`).
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
    /// use frontend_tensor::nn::*;
    /// let norm = RMSNorm::new(&[2])?;
    /// let y = norm.forward(&Tensor::from_slice(&[3.0f32, 3.0], &[1, 2])?)?;
    /// let y: Vec<f32> = y.to_vec()?;
    /// assert!((y[0] - 1.0).abs() < 1e-4);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn new(normalized_shape: &[i64]) -> Result<RMSNorm> {
        RMSNorm::with_options(normalized_shape, None, true)
    }

    /// PyTorch's `RMSNorm(normalized_shape, eps, elementwise_affine)`.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
    /// use frontend_tensor::nn::*;
    /// let norm = RMSNorm::with_options(&[4], Some(1e-6), false)?;
    /// assert!(norm.weight.is_none());
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn with_options(
        normalized_shape: &[i64],
        eps: Option<f64>,
        elementwise_affine: bool,
    ) -> Result<RMSNorm> {
        let weight = elementwise_affine
            .then(|| init::constant(normalized_shape, 1.0))
            .transpose()?;
        Ok(RMSNorm {
            weight,
            normalized_shape: normalized_shape.to_vec(),
            eps,
        })
    }
}

/// `torch.finfo(dtype).eps`: the distance from 1 to the next larger value.
///
/// ```
/// # use frontend_tensor::*;
/// use frontend_tensor::nn::machine_epsilon;
/// assert_eq!(machine_epsilon(DType::F32), f64::from(f32::EPSILON));
/// assert_eq!(machine_epsilon(DType::BF16), 0.0078125);
/// # Ok::<(), TensorError>(())
/// ```
pub fn machine_epsilon(dtype: DType) -> f64 {
    match dtype {
        DType::F64 => f64::EPSILON,
        DType::F16 => 2f64.powi(-10),
        DType::BF16 => 2f64.powi(-7),
        DType::Fp8E4M3 | DType::Fp8E4M3Fnuz => 2f64.powi(-3),
        DType::Fp8E5M2 | DType::Fp8E5M2Fnuz => 2f64.powi(-2),
        _ => f64::from(f32::EPSILON),
    }
}

impl Module for RMSNorm {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let axes = trailing_axes("RMSNorm", x, &self.normalized_shape)?;
        let eps = self.eps.unwrap_or_else(|| machine_epsilon(x.dtype()));
        x.via_f32(|x| {
            let ms = x.square()?.mean(&axes, true)?;
            let y = x.mul(&ms.add_scalar(eps)?.sqrt()?.recip()?)?;
            affine(y, self.weight.as_ref(), None)
        })
    }

    fn own_parameters(&self) -> Vec<(String, Tensor)> {
        self.weight
            .iter()
            .map(|w| ("weight".to_string(), w.clone()))
            .collect()
    }
}
