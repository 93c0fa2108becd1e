//! `Sequential`: modules applied one after another, named by their position as PyTorch
//! names them (`0.weight`, `3.bias`; modules without state take a position too).

use super::Module;
use crate::error::Result;
use crate::tensor::Tensor;

#[derive(Default)]
pub struct Sequential {
    layers: Vec<Box<dyn Module>>,
}

impl std::fmt::Debug for Sequential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sequential({} layers)", self.layers.len())
    }
}

impl Sequential {
    /// No layers: the identity.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// use frontend_tensor::nn::*;
    /// let net = Sequential::new().with(Flatten::default()).with(ReLU);
    /// assert_eq!(net.len(), 2);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn new() -> Sequential {
        Sequential::default()
    }

    /// Appends a layer (builder style).
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// use frontend_tensor::nn::*;
    /// let net = Sequential::new().with(ReLU);
    /// assert_eq!(net.len(), 1);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn with(mut self, layer: impl Module + 'static) -> Sequential {
        self.layers.push(Box::new(layer));
        self
    }

    /// Appends a layer.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// use frontend_tensor::nn::*;
    /// let mut net = Sequential::new();
    /// net.push(Box::new(ReLU));
    /// assert_eq!(net.len(), 1);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn push(&mut self, layer: Box<dyn Module>) {
        self.layers.push(layer);
    }

    /// How many layers.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// use frontend_tensor::nn::*;
    /// assert_eq!(Sequential::new().with(ReLU).with(ReLU).len(), 2);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// Whether there are no layers.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// use frontend_tensor::nn::*;
    /// assert!(Sequential::new().is_empty());
    /// assert!(!Sequential::new().with(ReLU).is_empty());
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// The layer at `index`.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// use frontend_tensor::nn::*;
    /// let net = Sequential::new().with(ReLU);
    /// assert!(net.get(0).is_some() && net.get(1).is_none());
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn get(&self, index: usize) -> Option<&dyn Module> {
        self.layers.get(index).map(|l| l.as_ref())
    }
}

impl Module for Sequential {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut y = x.clone();
        for layer in &self.layers {
            y = layer.forward(&y)?;
        }
        Ok(y)
    }

    fn children(&self) -> Vec<(String, &dyn Module)> {
        self.layers
            .iter()
            .enumerate()
            .map(|(i, l)| (i.to_string(), l.as_ref()))
            .collect()
    }
}
