//! `Dropout`: in training mode, zeros each element with probability `p` and scales the
//! rest by `1 / (1 - p)` (the mask from the seeded generator); the identity in
//! evaluation mode, as `torch.nn.Dropout`.

use std::sync::atomic::{AtomicBool, Ordering};

use super::Module;
use crate::error::{Result, TensorError};
use crate::tensor::Tensor;

#[derive(Debug)]
pub struct Dropout {
    p: f64,
    training: AtomicBool,
}

impl Dropout {
    /// Dropout with probability `p` (PyTorch's default is 0.5), in training mode.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// use frontend_tensor::nn::*;
    /// let dropout = Dropout::new(0.1)?;
    /// assert!(dropout.is_training());
    /// assert!(Dropout::new(1.5).is_err());
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn new(p: f64) -> Result<Dropout> {
        if !(0.0..=1.0).contains(&p) {
            return Err(TensorError::Module {
                module: "Dropout",
                why: format!("p = {p} is not a probability"),
            });
        }
        Ok(Dropout {
            p,
            training: AtomicBool::new(true),
        })
    }

    /// The probability of zeroing an element.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// use frontend_tensor::nn::*;
    /// assert_eq!(Dropout::new(0.25)?.p(), 0.25);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn p(&self) -> f64 {
        self.p
    }

    /// Whether the layer drops elements (training mode) or passes its input through.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// use frontend_tensor::nn::*;
    /// let dropout = Dropout::new(0.5)?;
    /// dropout.eval();
    /// assert!(!dropout.is_training());
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn is_training(&self) -> bool {
        self.training.load(Ordering::Relaxed)
    }
}

impl Module for Dropout {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.dropout(self.p, self.is_training())
    }

    fn set_training(&self, on: bool) {
        self.training.store(on, Ordering::Relaxed);
    }
}
