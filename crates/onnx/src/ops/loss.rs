//! Losses: `NegativeLogLikelihoodLoss` and `SoftmaxCrossEntropyLoss` over `(n, c, d..)`
//! scores with `(n, d..)` class targets, optional per-class weights, an ignored class,
//! and `none`/`sum`/`mean` reductions (a weighted mean divides by the weights used).

use dtype::DType;
use frontend_tensor::Tensor;

use super::{Inputs, OpCtx, OpDef, onnx, out};
use crate::error::{Result, invalid};
use crate::value::{TensorValue, Value};

pub(crate) const OPS: &[OpDef] = &[
    onnx("NegativeLogLikelihoodLoss", nll_loss),
    onnx("SoftmaxCrossEntropyLoss", softmax_cross_entropy),
];

fn like(x: &TensorValue, t: Tensor) -> Result<Value> {
    Ok(Value::Tensor(TensorValue::from_tensor_as(t, x.elem())?))
}

/// The reduced loss of log-probabilities `logp (n, c, d..)` at `target (n, d..)`.
fn nll(ctx: &OpCtx, logp: &Tensor, target: &Tensor, weight: Option<Tensor>) -> Result<Tensor> {
    let (ls, ts) = (logp.shape().to_vec(), target.shape().to_vec());
    let fits = ls.len() >= 2 && ts.len() == ls.len() - 1 && ts[0] == ls[0] && ts[1..] == ls[2..];
    if !fits || !target.dtype().is_int() {
        return Err(invalid!(
            "target {ts:?} {} does not fit scores {ls:?}: integers of shape (n, d..)",
            target.dtype()
        ));
    }
    let t = target.cast(DType::I64)?;
    let ignored = match ctx.int_opt("ignore_index")? {
        Some(k) => Some(t.eq(&Tensor::full(&[], k as f64, DType::I64)?)?),
        None => None,
    };
    let zero = Tensor::full(&[], 0.0, DType::I64)?;
    let safe = match &ignored {
        Some(m) => m.where_(&zero, &t)?,
        None => t.clone(),
    };
    let picked = logp.gather(1, &safe.unsqueeze(1)?)?.squeeze_axes(&[1])?;
    let mut w = match weight {
        Some(w) => w
            .index_select(0, &safe.reshape(&[safe.numel()])?)?
            .reshape(&ts)?,
        None => Tensor::full(&ts, 1.0, logp.dtype())?,
    };
    if let Some(m) = &ignored {
        w = m.where_(&Tensor::full(&[], 0.0, logp.dtype())?, &w)?;
    }
    let loss = picked.neg().mul(&w)?;
    let all: Vec<isize> = (0..ts.len() as isize).collect();
    Ok(match ctx.string("reduction", "mean")?.as_str() {
        "none" => loss,
        "sum" => loss.sum(&all, false)?,
        "mean" => loss.sum(&all, false)?.div(&w.sum(&all, false)?)?,
        other => return Err(invalid!("unknown reduction '{other}'")),
    })
}

fn nll_loss(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    let weight = i.opt_tensor(2)?.map(|w| ctx.t(w)).transpose()?;
    let loss = nll(ctx, &ctx.t(x)?, &ctx.t(i.tensor(1)?)?, weight)?;
    Ok(vec![like(x, loss)?])
}

fn softmax_cross_entropy(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    if x.rank() < 2 {
        return Err(invalid!("scores {:?} must be (n, c, d..)", x.shape()));
    }
    let logp = ctx.t(x)?.log_softmax(1)?;
    let weight = i.opt_tensor(2)?.map(|w| ctx.t(w)).transpose()?;
    let loss = nll(ctx, &logp, &ctx.t(i.tensor(1)?)?, weight)?;
    Ok(vec![like(x, loss)?, out(logp)])
}
