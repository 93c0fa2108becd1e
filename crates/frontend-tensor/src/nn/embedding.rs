//! `Embedding`: a table of `num_embeddings` rows of `embedding_dim` values, looked up by
//! integer indices of any shape, as `torch.nn.Embedding` (weight standard normal).

use super::Module;
use super::init;
use crate::error::{Result, TensorError};
use crate::tensor::Tensor;

#[derive(Debug)]
pub struct Embedding {
    pub weight: Tensor,
}

impl Embedding {
    /// A table of `num_embeddings` rows of `embedding_dim` values, drawn from a standard normal.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
    /// use frontend_tensor::nn::*;
    /// let emb = Embedding::new(10, 4)?;
    /// let rows = emb.forward(&Tensor::from_slice(&[3i32, 7], &[2])?)?;
    /// assert_eq!(rows.shape(), &[2, 4]);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn new(num_embeddings: i64, embedding_dim: i64) -> Result<Embedding> {
        if num_embeddings < 1 || embedding_dim < 1 {
            return Err(TensorError::Module {
                module: "Embedding",
                why: format!(
                    "num_embeddings {num_embeddings} and embedding_dim {embedding_dim} must be positive"
                ),
            });
        }
        Ok(Embedding {
            weight: init::normal(&[num_embeddings, embedding_dim])?,
        })
    }
}

impl Module for Embedding {
    /// Integer indices of shape `s` to rows of shape `(s.., embedding_dim)`.
    fn forward(&self, indices: &Tensor) -> Result<Tensor> {
        indices.embedding(&self.weight)
    }

    fn own_parameters(&self) -> Vec<(String, Tensor)> {
        vec![("weight".to_string(), self.weight.clone())]
    }
}
