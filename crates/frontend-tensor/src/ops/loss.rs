//! Losses with PyTorch's conventions: class-index targets along dim 1, `ignore_index`,
//! label smoothing, and a `Reduction` (mean over the counted elements, sum, or none).

use dtype::DType;

use crate::error::{Result, TensorError, named};
use crate::tensor::Tensor;

/// How a loss combines per-element values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Reduction {
    /// The mean over counted elements (targets equal to `ignore_index` are not counted).
    #[default]
    Mean,
    Sum,
    /// Per-element losses, the targets' shape.
    None,
}

/// Options of `cross_entropy` (PyTorch's defaults: nothing ignored, no smoothing, mean).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CrossEntropyOpts {
    pub ignore_index: Option<i64>,
    pub label_smoothing: f64,
    pub reduction: Reduction,
}

impl Tensor {
    /// Cross entropy of logits `(n, c)` (or `(n, c, d..)`) against class indices `(n)`
    /// (or `(n, d..)`): `-log softmax(logits)[target]`, mixed with the mean over classes
    /// by `label_smoothing`. Indices outside `0..c` other than `ignore_index` count as
    /// no class (they add only the smoothing term): check them first when unsure.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let logits = Tensor::randn(&[4, 10])?;
    /// let y = Tensor::from_slice(&[3i64, 0, 9, 1], &[4])?;
    /// let loss = logits.cross_entropy(&y, &CrossEntropyOpts::default())?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn cross_entropy(&self, target: &Tensor, opts: &CrossEntropyOpts) -> Result<Tensor> {
        if !(0.0..=1.0).contains(&opts.label_smoothing) {
            return Err(TensorError::Invalid {
                op: "cross_entropy",
                why: format!("label_smoothing {} is not in [0, 1]", opts.label_smoothing),
            });
        }
        let logp = self.class_log_probs("cross_entropy", target)?;
        named("cross_entropy", || {
            let picked = pick_class(&logp, target)?;
            let eps = opts.label_smoothing;
            let per = if eps > 0.0 {
                let uniform = logp.mean(&[1], false)?;
                picked
                    .mul_scalar(1.0 - eps)?
                    .add(&uniform.mul_scalar(eps)?)?
            } else {
                picked
            };
            reduce_loss(&per.neg(), target, opts.ignore_index, opts.reduction)
        })
    }

    /// Negative log likelihood of log-probabilities `(n, c, ..)` at class indices.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let logp = Tensor::randn(&[4, 10])?.log_softmax(1)?;
    /// let y = Tensor::from_slice(&[3i64, 0, 9, 1], &[4])?;
    /// let loss = logp.nll_loss(&y, None, Reduction::Mean)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn nll_loss(
        &self,
        target: &Tensor,
        ignore_index: Option<i64>,
        reduction: Reduction,
    ) -> Result<Tensor> {
        self.check_class_target("nll_loss", target)?;
        named("nll_loss", || {
            let picked = pick_class(self, target)?;
            reduce_loss(&picked.neg(), target, ignore_index, reduction)
        })
    }

    /// Mean (or sum, or none) of squared differences.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
    /// let b = Tensor::from_slice(&[0.5f32, -1.0], &[2])?;
    /// let loss = a.mse_loss(&a.flip(&[1])?, Reduction::Mean)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn mse_loss(&self, target: &Tensor, reduction: Reduction) -> Result<Tensor> {
        named("mse_loss", || {
            let d = self.sub(target)?.square()?;
            match reduction {
                Reduction::Mean => d.mean(&[], false),
                Reduction::Sum => d.sum(&[], false),
                Reduction::None => Ok(d),
            }
        })
    }

    /// Binary cross entropy of probabilities against targets in [0, 1] (each log is
    /// clamped at -100, as PyTorch does).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let p = Tensor::from_slice(&[0.9f32, 0.2], &[2])?;
    /// let y = Tensor::from_slice(&[1.0f32, 0.0], &[2])?;
    /// let loss = p.binary_cross_entropy(&y, Reduction::Mean)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn binary_cross_entropy(&self, target: &Tensor, reduction: Reduction) -> Result<Tensor> {
        named("binary_cross_entropy", || {
            let floor = self.scalar_like(-100.0);
            let lp = self.log()?.maximum(&floor)?;
            let lq = self.neg().add_scalar(1.0)?.log()?.maximum(&floor)?;
            let y = target.cast(lp.dtype())?;
            let per = y.mul(&lp)?.add(&y.neg().add_scalar(1.0)?.mul(&lq)?)?.neg();
            reduce_plain(&per, reduction)
        })
    }

    /// Binary cross entropy of logits: `max(x, 0) - x*y + log(1 + exp(-|x|))`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[2.0f32, -1.0], &[2])?;
    /// let y = Tensor::from_slice(&[1.0f32, 0.0], &[2])?;
    /// let loss = x.binary_cross_entropy_with_logits(&y, Reduction::Mean)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn binary_cross_entropy_with_logits(
        &self,
        target: &Tensor,
        reduction: Reduction,
    ) -> Result<Tensor> {
        named("binary_cross_entropy_with_logits", || {
            self.via_f32(|x| {
                let y = target.cast(x.dtype())?;
                let per = x
                    .relu()?
                    .sub(&x.mul(&y)?)?
                    .add(&x.abs()?.neg().exp()?.log1p()?)?;
                reduce_plain(&per, reduction)
            })
        })
    }

    /// Mean (or sum, or none) of absolute differences.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
    /// let b = Tensor::from_slice(&[0.5f32, -1.0], &[2])?;
    /// let loss = a.l1_loss(&a.flip(&[1])?, Reduction::Mean)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn l1_loss(&self, target: &Tensor, reduction: Reduction) -> Result<Tensor> {
        named("l1_loss", || {
            reduce_plain(&self.sub(target)?.abs()?, reduction)
        })
    }

    /// `0.5 d^2 / beta` where `|d| < beta`, else `|d| - 0.5 beta`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
    /// let b = Tensor::from_slice(&[0.5f32, -1.0], &[2])?;
    /// let loss = a.smooth_l1_loss(&a.flip(&[1])?, 1.0, Reduction::Mean)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn smooth_l1_loss(
        &self,
        target: &Tensor,
        beta: f64,
        reduction: Reduction,
    ) -> Result<Tensor> {
        named("smooth_l1_loss", || {
            let d = self.sub(target)?.abs()?;
            let per = if beta == 0.0 {
                d
            } else {
                d.lt_scalar(beta)?.where_(
                    &d.square()?.mul_scalar(0.5 / beta)?,
                    &d.add_scalar(-0.5 * beta)?,
                )?
            };
            reduce_plain(&per, reduction)
        })
    }

    /// `0.5 d^2` where `|d| <= delta`, else `delta (|d| - 0.5 delta)`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
    /// let b = Tensor::from_slice(&[0.5f32, -1.0], &[2])?;
    /// let loss = a.huber_loss(&a.flip(&[1])?, 1.0, Reduction::Mean)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn huber_loss(&self, target: &Tensor, delta: f64, reduction: Reduction) -> Result<Tensor> {
        named("huber_loss", || {
            let d = self.sub(target)?.abs()?;
            let near = d.le(&d.scalar_like(delta))?;
            let per = near.where_(
                &d.square()?.mul_scalar(0.5)?,
                &d.add_scalar(-0.5 * delta)?.mul_scalar(delta)?,
            )?;
            reduce_plain(&per, reduction)
        })
    }

    /// KL divergence of `target` from this tensor's log-probabilities:
    /// `target * (log(target) - input)` (0 where target is 0), or with log-targets.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
    /// let b = Tensor::from_slice(&[0.5f32, -1.0], &[2])?;
    /// let loss = a.log_softmax(1)?.kl_div(&a.softmax(1)?, false, Reduction::Sum)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn kl_div(
        &self,
        target: &Tensor,
        log_target: bool,
        reduction: Reduction,
    ) -> Result<Tensor> {
        named("kl_div", || {
            let t = target.cast(self.dtype())?;
            let per = if log_target {
                t.exp()?.mul(&t.sub(self)?)?
            } else {
                let zero = t.full_like_value(0.0)?;
                let pos = t.gt(&zero)?;
                let safe = pos.where_(&t, &t.full_like_value(1.0)?)?;
                pos.where_(&t.mul(&safe.log()?.sub(self)?)?, &zero)?
            };
            reduce_plain(&per, reduction)
        })
    }

    fn check_class_target(&self, op: &'static str, target: &Tensor) -> Result<()> {
        let (s, t) = (self.shape(), target.shape());
        let fits = s.len() >= 2
            && t.len() == s.len() - 1
            && t[0] == s[0]
            && t[1..] == s[2..]
            && target.dtype().is_int();
        if fits {
            Ok(())
        } else {
            Err(TensorError::Invalid {
                op,
                why: format!(
                    "input {s:?} needs integer class indices of shape {:?}, got {t:?} {}",
                    s.iter()
                        .enumerate()
                        .filter(|(i, _)| *i != 1)
                        .map(|(_, d)| *d)
                        .collect::<Vec<_>>(),
                    target.dtype()
                ),
            })
        }
    }

    fn class_log_probs(&self, op: &'static str, target: &Tensor) -> Result<Tensor> {
        self.check_class_target(op, target)?;
        named(op, || self.log_softmax(1))
    }
}

/// `values[:, target]` along dim 1: the value at each target's class.
fn pick_class(values: &Tensor, target: &Tensor) -> Result<Tensor> {
    let classes = values.shape()[1];
    // (n, d..) -> (n, 1, d..) compared with (1, c, 1..)
    let mut tshape = target.shape().to_vec();
    tshape.insert(1, 1);
    let mut cshape = vec![1; values.shape().len()];
    cshape[1] = classes;
    let hit = target
        .cast(DType::I64)?
        .reshape(&tshape)?
        .eq(&Tensor::positions(classes, values.device())?.reshape(&cshape)?)?;
    let zero = values.mul_scalar(0.0)?;
    hit.where_(values, &zero)?.sum(&[1], false)
}

/// Per-element losses reduced as `reduction` says.
fn reduce_plain(per: &Tensor, reduction: Reduction) -> Result<Tensor> {
    match reduction {
        Reduction::Mean => per.mean(&[], false),
        Reduction::Sum => per.sum(&[], false),
        Reduction::None => Ok(per.clone()),
    }
}

/// Per-element losses zeroed where the target is `ignore`, then reduced.
fn reduce_loss(
    per: &Tensor,
    target: &Tensor,
    ignore: Option<i64>,
    reduction: Reduction,
) -> Result<Tensor> {
    let (per, counted) = match ignore {
        Some(i) => {
            let keep = target.ne(&target.scalar_like(i as f64))?;
            let zero = per.mul_scalar(0.0)?;
            (keep.where_(per, &zero)?, Some(keep))
        }
        None => (per.clone(), None),
    };
    match reduction {
        Reduction::None => Ok(per),
        Reduction::Sum => per.sum(&[], false),
        Reduction::Mean => match counted {
            None => per.mean(&[], false),
            Some(keep) => per
                .sum(&[], false)?
                .div(&keep.cast(per.dtype())?.sum(&[], false)?),
        },
    }
}
