//! How the layers create their tensors, as PyTorch initializes them: parameters drawn
//! from the seeded generator (`Tensor::rand`/`randn`, see `manual_seed`) or filled with a
//! constant, made leaves with `requires_grad_(true)`; buffers filled with a constant.
//! Values are computed on the host, so creating a layer compiles no kernel.

use crate::element::Element;
use crate::error::Result;
use crate::tensor::Tensor;

/// A trainable leaf holding `values` (f32) of `shape`.
fn parameter(values: &[f32], shape: &[i64]) -> Result<Tensor> {
    Tensor::from_slice(values, shape)?.requires_grad_(true)
}

/// Uniform in `[-bound, bound)`: PyTorch's `kaiming_uniform_(a=sqrt(5))` for a layer's
/// weight and its bias's `uniform_(-1/sqrt(fan_in), 1/sqrt(fan_in))` both come to
/// `bound = 1/sqrt(fan_in)`.
pub(crate) fn uniform(shape: &[i64], bound: f64) -> Result<Tensor> {
    let unit = Tensor::rand(shape)?.to_vec::<f32>()?;
    let values: Vec<f32> = unit
        .iter()
        .map(|&u| ((2.0 * f64::from(u) - 1.0) * bound) as f32)
        .collect();
    parameter(&values, shape)
}

/// Standard normal (PyTorch's `normal_()`, as `Embedding` initializes its weight).
pub(crate) fn normal(shape: &[i64]) -> Result<Tensor> {
    let values = Tensor::randn(shape)?.to_vec::<f32>()?;
    parameter(&values, shape)
}

/// A trainable leaf filled with `value` (ones for a norm's weight, zeros for its bias).
pub(crate) fn constant(shape: &[i64], value: f32) -> Result<Tensor> {
    let n: i64 = shape.iter().product();
    parameter(&vec![value; n as usize], shape)
}

/// A buffer (not trainable) filled with `value`.
pub(crate) fn buffer<T: Element>(shape: &[i64], value: T) -> Result<Tensor> {
    let n: i64 = shape.iter().product();
    Tensor::from_slice(&vec![value; n as usize], shape)
}

/// The bound of a layer's default init for `fan_in` inputs per output.
pub(crate) fn fan_in_bound(fan_in: i64) -> f64 {
    if fan_in > 0 {
        1.0 / (fan_in as f64).sqrt()
    } else {
        0.0
    }
}
