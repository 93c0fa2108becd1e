//! `Linear`: `y = x @ weight.T + bias` over the last dim of `x`, as `torch.nn.Linear`
//! (weight `(out_features, in_features)`, bias `(out_features)`, both uniform in
//! `[-1/sqrt(in_features), 1/sqrt(in_features))`).

use super::Module;
use super::init;
use crate::error::{Result, TensorError};
use crate::tensor::Tensor;

#[derive(Debug)]
pub struct Linear {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
    in_features: i64,
    out_features: i64,
}

impl Linear {
    /// A layer from `in_features` to `out_features` with a bias.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
    /// use frontend_tensor::nn::*;
    /// let layer = Linear::new(3, 2)?;
    /// let y = layer.forward(&Tensor::ones(&[5, 3], DType::F32)?)?;
    /// assert_eq!(y.shape(), &[5, 2]);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn new(in_features: i64, out_features: i64) -> Result<Linear> {
        Linear::with_bias(in_features, out_features, true)
    }

    /// A layer with or without a bias.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
    /// use frontend_tensor::nn::*;
    /// let layer = Linear::with_bias(3, 2, false)?;
    /// assert!(layer.bias.is_none());
    /// assert_eq!(layer.weight.shape(), &[2, 3]);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn with_bias(in_features: i64, out_features: i64, bias: bool) -> Result<Linear> {
        if in_features < 0 || out_features < 0 {
            return Err(TensorError::Module {
                module: "Linear",
                why: format!(
                    "in_features ({in_features}) and out_features ({out_features}) must not be negative"
                ),
            });
        }
        let bound = init::fan_in_bound(in_features);
        let weight = init::uniform(&[out_features, in_features], bound)?;
        let bias = if bias {
            Some(init::uniform(&[out_features], bound)?)
        } else {
            None
        };
        Ok(Linear {
            weight,
            bias,
            in_features,
            out_features,
        })
    }
}

impl Module for Linear {
    /// `x` of shape `(..., in_features)` to `(..., out_features)`.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let shape = x.shape();
        if shape.last() != Some(&self.in_features) {
            return Err(TensorError::Module {
                module: "Linear",
                why: format!(
                    "the input has shape {shape:?}; its last dim must be in_features = {}",
                    self.in_features
                ),
            });
        }
        let rows: i64 = shape[..shape.len() - 1].iter().product();
        let y = x
            .reshape(&[rows, self.in_features])?
            .matmul(&self.weight.transpose(0, 1)?)?;
        let y = match &self.bias {
            Some(b) => y.add(b)?,
            None => y,
        };
        let mut out_shape = shape[..shape.len() - 1].to_vec();
        out_shape.push(self.out_features);
        y.reshape(&out_shape)
    }

    fn own_parameters(&self) -> Vec<(String, Tensor)> {
        let mut out = vec![("weight".to_string(), self.weight.clone())];
        if let Some(b) = &self.bias {
            out.push(("bias".to_string(), b.clone()));
        }
        out
    }
}
