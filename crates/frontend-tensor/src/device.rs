//! Where tensors live: the default device that creation functions use (`DEV` in the
//! environment, as tinygrad reads it, else `CPU`; `set_default_device` changes it for
//! the process), and `Tensor::to`, which moves a tensor to another device.

use std::sync::Arc;

use parking_lot::RwLock;
use uop_ir::{Arg, Op, UOp};

use crate::error::Result;
use crate::tensor::{DEFAULT_DEVICE, Tensor};

static DEFAULT: RwLock<Option<Arc<str>>> = RwLock::new(None);

/// The device new tensors are created on: the last `set_default_device`, else `DEV`
/// from the environment, else `CPU`.
///
/// ```
/// # use frontend_tensor::*;
/// set_default_device("CPU");
/// assert_eq!(&*default_device(), "CPU");
/// # Ok::<(), TensorError>(())
/// ```
pub fn default_device() -> Arc<str> {
    if let Some(d) = DEFAULT.read().as_ref() {
        return d.clone();
    }
    let chosen: Arc<str> = std::env::var("DEV")
        .ok()
        .filter(|d| !d.trim().is_empty())
        .map_or_else(
            || DEFAULT_DEVICE.into(),
            |d| d.trim().to_ascii_uppercase().into(),
        );
    DEFAULT.write().get_or_insert(chosen).clone()
}

/// Makes `device` (`"CPU"`, `"CUDA"`, `"CUDA:1"`) the device new tensors are created on.
///
/// ```
/// # use frontend_tensor::*;
/// set_default_device("cpu"); // names are upper-cased
/// assert_eq!(&*default_device(), "CPU");
/// # Ok::<(), TensorError>(())
/// ```
pub fn set_default_device(device: &str) {
    *DEFAULT.write() = Some(device.trim().to_ascii_uppercase().into());
}

impl Tensor {
    /// This tensor on `device`: itself when it is there already, else a copy (realized
    /// first; see `engine::copy`). The copy is a new leaf: gradients do not flow back
    /// through it.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
    /// let x = Tensor::from_slice(&[1.0f32, 2.0], &[2])?;
    /// let y = x.to("CPU")?; // already there: x itself
    /// assert_eq!(y.to_vec::<f32>()?, [1.0, 2.0]);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn to(&self, device: &str) -> Result<Tensor> {
        let dev = device::open(device)?;
        if dev.name().eq_ignore_ascii_case(self.device()) {
            return Ok(self.clone());
        }
        self.realize()?;
        let n = self.node();
        let buffer = &n.src()[0];
        let memory = engine::store::get(buffer)
            .ok_or_else(|| engine::EngineError::MissingBuffer(buffer.arg().to_string()))?;
        let numel = self.numel() as usize;
        let copied = engine::copy::copy_to(&memory, &dev)?;
        let moved = UOp::new_buffer(self.dtype(), numel, dev.name());
        engine::store::insert(&moved, dev.name(), copied);
        let node = UOp::new(
            Op::Reshape,
            self.dtype(),
            [moved],
            Arg::Shape(self.shape().into()),
        );
        Ok(Tensor::from_node(node, self.shape().to_vec(), dev.name()))
    }
}
