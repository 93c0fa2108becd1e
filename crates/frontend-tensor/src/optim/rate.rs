//! `LearningRate`: an optimizer's learning rate, on the host and on each device its
//! parameters live on, as a one-element f64 tensor that the step's kernels read. Setting
//! the rate writes the new value into those tensors' memory at once, so every step sees
//! the current rate without building a new graph: a schedule changing the rate compiles
//! nothing new, and a step captured by `Jit` and replayed reads the rate set since.

use dtype::DType;

use crate::error::Result;
use crate::tensor::Tensor;

#[derive(Debug)]
pub(crate) struct LearningRate {
    value: f64,
    /// The rate on each device a step has used it on.
    on_devices: Vec<Tensor>,
}

impl LearningRate {
    pub(crate) fn new(value: f64) -> LearningRate {
        LearningRate {
            value,
            on_devices: Vec::new(),
        }
    }

    pub(crate) fn value(&self) -> f64 {
        self.value
    }

    /// Sets the rate, on the host and on every device.
    pub(crate) fn set(&mut self, value: f64) -> Result<()> {
        for t in &self.on_devices {
            t.overwrite_bytes(&value.to_ne_bytes())?;
        }
        self.value = value;
        Ok(())
    }

    /// The rate on `device`: an f64 tensor of shape `[]`.
    pub(crate) fn on(&mut self, device: &str) -> Result<Tensor> {
        if let Some(t) = self.on_devices.iter().find(|t| t.device() == device) {
            return Ok(t.clone());
        }
        let t = Tensor::from_bytes(&self.value.to_ne_bytes(), DType::F64, &[], device)?;
        self.on_devices.push(t.clone());
        Ok(t)
    }
}
