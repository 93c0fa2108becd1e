//! The autograd methods of `Tensor`: `requires_grad_`, `backward`, `gradient`, `grad`,
//! `detach`.

use std::sync::atomic::Ordering;

use uop_ir::UOp;

use super::{leaves, walk};
use crate::error::{Result, TensorError};
use crate::tensor::Tensor;

impl Tensor {
    /// Marks this tensor as a leaf whose gradient `backward` computes (or unmarks it).
    /// A leaf is materialized now, as PyTorch's leaves are: later graphs read its buffer.
    /// Only float tensors can require grad.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let w = x.requires_grad_(true)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn requires_grad_(&self, on: bool) -> Result<Tensor> {
        if on && !self.dtype().is_float() {
            return Err(TensorError::DType {
                op: "requires_grad_",
                dtype: self.dtype(),
            });
        }
        if on {
            self.realize()?;
            leaves::register(self);
        }
        self.inner().requires_grad.store(on, Ordering::Relaxed);
        Ok(self.clone())
    }

    /// Whether a gradient flows to this tensor from what is computed from it: it is a leaf
    /// marked with `requires_grad_`, or its graph leads to one (outside `no_grad`).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// assert!(!x.requires_grad());
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn requires_grad(&self) -> bool {
        self.requires_grad_flag() || walk::tracked(&[self])[0]
    }

    /// The gradient `backward` accumulated into this leaf, if any.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let w = x.requires_grad_(true)?;
    /// w.sum(&[], false)?.backward()?;
    /// let g = w.grad(); // Some(ones)
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn grad(&self) -> Option<Tensor> {
        self.inner().grad.read().clone()
    }

    /// Sets (or with `None`, clears) this tensor's gradient.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let w = x.requires_grad_(true)?;
    /// w.set_grad(None)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn set_grad(&self, grad: Option<Tensor>) -> Result<()> {
        if let Some(g) = &grad
            && (g.shape() != self.shape() || g.dtype() != self.dtype())
        {
            return Err(TensorError::GradShape {
                op: "set_grad",
                want: self.shape().to_vec(),
                want_dtype: self.dtype(),
                got: g.shape().to_vec(),
                got_dtype: g.dtype(),
            });
        }
        *self.inner().grad.write() = grad;
        Ok(())
    }

    /// The same values with no gradient path: nothing computed from the result passes a
    /// gradient to this tensor.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.detach(); // no gradient flows through y
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn detach(&self) -> Tensor {
        let node = super::detached(self.node());
        self.derive(node, self.shape().to_vec())
    }

    /// Computes the gradient of this one-element tensor (a loss) with respect to every
    /// leaf that requires grad and that it depends on, and adds it to the leaf's `grad`
    /// (so calls accumulate, as in PyTorch; clear with `set_grad(None)` or an optimizer's
    /// `zero_grad`).
    ///
    /// The gradients are computed at once, together with this tensor itself, in one
    /// schedule: a leaf's first gradient gets a buffer of its own, a later one is added
    /// into that buffer. So accumulating over any number of micro-batches holds one
    /// micro-batch's graph and memory at a time, and nothing computed later (an
    /// optimizer's step) keeps a micro-batch alive.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let w = x.requires_grad_(true)?;
    /// w.square()?.sum(&[], false)?.backward()?;
    /// let g = w.grad(); // 2 * w
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn backward(&self) -> Result<()> {
        if self.numel() != 1 {
            return Err(TensorError::Backward(format!(
                "the tensor has shape {:?}: backward() needs one element (reduce it, or \
                 give its gradient with backward_with)",
                self.shape()
            )));
        }
        self.backward_with(&self.ones_seed()?)
    }

    /// `backward` with `grad` as the gradient of this tensor (of its shape and dtype).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let w = x.requires_grad_(true)?;
    /// let y = w.square()?;
    /// y.backward_with(&y.ones_like()?)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn backward_with(&self, grad: &Tensor) -> Result<()> {
        if grad.shape() != self.shape() || grad.dtype() != self.dtype() {
            return Err(TensorError::GradShape {
                op: "backward_with",
                want: self.shape().to_vec(),
                want_dtype: self.dtype(),
                got: grad.shape().to_vec(),
                got_dtype: grad.dtype(),
            });
        }
        let leaves = leaves::live();
        let targets: Vec<UOp> = leaves.iter().map(Tensor::node).collect();
        let grads = walk::gradients(&self.node(), grad.clone(), &targets)?;
        if grads.is_empty() {
            return Err(TensorError::Backward(
                "no tensor it depends on requires grad (mark parameters with \
                 requires_grad_(true), and compute the loss outside no_grad)"
                    .into(),
            ));
        }
        let mut written = vec![self.clone()];
        for (leaf, node) in leaves.iter().zip(&targets) {
            let Some(g) = grads.get(node) else { continue };
            let g = g.detach();
            let have = leaf.grad();
            match have {
                None => {
                    *leaf.inner().grad.write() = Some(g.clone());
                    written.push(g);
                }
                Some(old) => {
                    old.assign(&old.add(&g)?)?;
                    written.push(old);
                }
            }
        }
        let refs: Vec<&Tensor> = written.iter().collect();
        Tensor::realize_all(&refs)
    }

    /// The gradients of this one-element tensor with respect to `targets` (any tensors
    /// it depends on), as lazy tensors; nothing is stored in `grad`. They are not
    /// detached: a gradient of a gradient works.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.square()?.sum(&[], false)?;
    /// let g = y.gradient(&[&x])?; // [2 * x]
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn gradient(&self, targets: &[&Tensor]) -> Result<Vec<Tensor>> {
        if self.numel() != 1 {
            return Err(TensorError::Backward(format!(
                "gradient: the tensor has shape {:?}; it needs one element",
                self.shape()
            )));
        }
        let seed = self.ones_seed()?;
        let nodes: Vec<UOp> = targets.iter().map(|t| t.node()).collect();
        let grads = walk::gradients(&self.node(), seed, &nodes)?;
        nodes
            .iter()
            .enumerate()
            .map(|(i, n)| {
                if targets[i].numel() == 0 {
                    // nothing flows through no elements: an empty gradient
                    return targets[i].zeros_like();
                }
                grads.get(n).cloned().ok_or_else(|| {
                    TensorError::Backward(format!(
                        "gradient: target {i} ({:?} {}) is not used to compute this tensor",
                        targets[i].shape(),
                        targets[i].dtype()
                    ))
                })
            })
            .collect()
    }

    /// Ones of this tensor's shape, dtype and device: the gradient of a loss by itself.
    fn ones_seed(&self) -> Result<Tensor> {
        self.scalar_like(1.0)
            .cast(self.dtype())?
            .broadcast_to(self.shape())
    }
}
