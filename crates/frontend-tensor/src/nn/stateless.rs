//! Modules without parameters, for a `Sequential`: `ReLU`, `Flatten` (PyTorch's, from
//! dim 1 by default), and `Func`, any function of a tensor.

use super::Module;
use crate::error::{Result, TensorError};
use crate::tensor::Tensor;

/// `max(x, 0)`.
#[derive(Debug, Default, Clone, Copy)]
pub struct ReLU;

impl Module for ReLU {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.relu()
    }
}

/// Merges the dims `start_dim..=end_dim` into one (negative dims count from the end).
#[derive(Debug, Clone, Copy)]
pub struct Flatten {
    start_dim: isize,
    end_dim: isize,
}

impl Default for Flatten {
    /// From dim 1 to the last, as `torch.nn.Flatten()`: `(N, C, H, W)` to `(N, C*H*W)`.
    fn default() -> Flatten {
        Flatten::new(1, -1)
    }
}

impl Flatten {
    /// Merges the dims `start_dim..=end_dim`.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
    /// use frontend_tensor::nn::*;
    /// let x = Tensor::ones(&[2, 3, 4], DType::F32)?;
    /// let y = Flatten::new(1, -1).forward(&x)?;
    /// assert_eq!(y.shape(), &[2, 12]);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn new(start_dim: isize, end_dim: isize) -> Flatten {
        Flatten { start_dim, end_dim }
    }
}

impl Module for Flatten {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let shape = x.shape();
        let rank = shape.len().max(1) as isize;
        let norm = |d: isize| if d < 0 { d + rank } else { d };
        let (start, end) = (norm(self.start_dim), norm(self.end_dim));
        if start < 0 || end >= rank || start > end {
            return Err(TensorError::Module {
                module: "Flatten",
                why: format!(
                    "dims {}..={} do not fit the input's shape {shape:?}",
                    self.start_dim, self.end_dim
                ),
            });
        }
        if shape.is_empty() {
            return x.reshape(&[1]);
        }
        let (start, end) = (start as usize, end as usize);
        let mut out = shape[..start].to_vec();
        out.push(shape[start..=end].iter().product());
        out.extend_from_slice(&shape[end + 1..]);
        x.reshape(&out)
    }
}

/// A function from a tensor to a tensor, shareable between threads.
type TensorFn = dyn Fn(&Tensor) -> Result<Tensor> + Send + Sync;

/// A function of a tensor as a module (an activation, a pooling, a reshape).
pub struct Func {
    name: &'static str,
    f: Box<TensorFn>,
}

impl std::fmt::Debug for Func {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Func({})", self.name)
    }
}

impl Func {
    /// `f` as a module; `name` is for `Debug` output.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
    /// use frontend_tensor::nn::*;
    /// let double = Func::new("double", |x| x.mul_scalar(2.0));
    /// let y = double.forward(&Tensor::from_slice(&[1.0f32, 2.0], &[2])?)?;
    /// assert_eq!(y.to_vec::<f32>()?, [2.0, 4.0]);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn new(
        name: &'static str,
        f: impl Fn(&Tensor) -> Result<Tensor> + Send + Sync + 'static,
    ) -> Func {
        Func {
            name,
            f: Box::new(f),
        }
    }
}

impl Module for Func {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        (self.f)(x)
    }
}
