//! Scaled dot-product attention as PyTorch's `scaled_dot_product_attention`:
//! `softmax(q k^T * scale + mask) v`, with an optional causal mask, an additive or boolean
//! mask, and dropout on the weights.

use dtype::DType;

use crate::error::{Result, TensorError, named};
use crate::tensor::Tensor;

/// Options of `scaled_dot_product_attention` (PyTorch's defaults: no mask, no dropout,
/// scale `1/sqrt(d)`).
#[derive(Clone, Debug, Default)]
pub struct AttentionOpts<'a> {
    /// Added to the scores (float), or where false the score is -inf (bool).
    pub mask: Option<&'a Tensor>,
    /// Each query sees keys up to its own position only.
    pub causal: bool,
    pub dropout: f64,
    /// Multiplies `q k^T`; `None` is `1/sqrt(d)`.
    pub scale: Option<f64>,
}

impl Tensor {
    /// Attention of queries `(.., l, d)` over keys `(.., s, d)` and values `(.., s, dv)`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let q = Tensor::randn(&[1, 2, 4, 8])?;
    /// let (k, v) = (Tensor::randn(&[1, 2, 6, 8])?, Tensor::randn(&[1, 2, 6, 8])?);
    /// let out = q.scaled_dot_product_attention(&k, &v, &AttentionOpts { causal: false, ..Default::default() })?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn scaled_dot_product_attention(
        &self,
        key: &Tensor,
        value: &Tensor,
        opts: &AttentionOpts,
    ) -> Result<Tensor> {
        let (q, k) = (self.shape(), key.shape());
        let fits = q.len() >= 2
            && k.len() == q.len()
            && value.shape().len() == q.len()
            && q[q.len() - 1] == k[k.len() - 1];
        if !fits {
            return Err(TensorError::Invalid {
                op: "scaled_dot_product_attention",
                why: format!(
                    "query {q:?}, key {k:?}, value {:?}: (.., l, d), (.., s, d), (.., s, dv)",
                    value.shape()
                ),
            });
        }
        let (l, s, d) = (q[q.len() - 2], k[k.len() - 2], q[q.len() - 1]);
        let scale = opts.scale.unwrap_or(1.0 / (d as f64).sqrt());
        named("scaled_dot_product_attention", || {
            self.via_f32(|qf| {
                let kt = key.cast(qf.dtype())?.transpose(k.len() - 2, k.len() - 1)?;
                let mut scores = qf.matmul(&kt)?.mul_scalar(scale)?;
                if opts.causal {
                    let rows = Tensor::positions(l, self.device())?.reshape(&[l, 1])?;
                    let cols = Tensor::positions(s, self.device())?.reshape(&[1, s])?;
                    let allowed = cols.le(&rows)?;
                    scores =
                        allowed.where_(&scores, &scores.full_like_value(f64::NEG_INFINITY)?)?;
                }
                if let Some(m) = opts.mask {
                    scores = if m.dtype() == DType::Bool {
                        m.where_(&scores, &scores.full_like_value(f64::NEG_INFINITY)?)?
                    } else {
                        scores.add(&m.cast(scores.dtype())?)?
                    };
                }
                let weights = scores
                    .softmax(-1)?
                    .dropout(opts.dropout, opts.dropout > 0.0)?;
                weights.matmul(&value.cast(qf.dtype())?)
            })
        })
    }
}
