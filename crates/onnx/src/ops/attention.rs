//! `Attention` (opset 23/24) and `RotaryEmbedding`.
//!
//! Attention takes `(b, heads, seq, head)` or `(b, seq, heads*head)` queries, keys and
//! values, appends keys and values to a past cache (returned as the present one),
//! repeats key/value heads for grouped queries, scales `q k^T`, adds a float mask or
//! masks with a boolean one (a short mask is padded with "masked"), applies the causal
//! mask aligned to the end of the past, an optional softcap, and a softmax (in
//! `softmax_precision` when given). `qk_matmul_output_mode` picks which intermediate is
//! the fourth output (0: `q k^T`, 1: with the mask, 2: after softcap, 3: after softmax).

use dtype::DType;
use frontend_tensor::Tensor;

use super::{Inputs, OpCtx, OpDef, onnx, out};
use crate::elem::ElemType;
use crate::error::{Result, invalid};
use crate::value::{TensorValue, Value};

pub(crate) const OPS: &[OpDef] = &[
    onnx("Attention", attention),
    onnx("RotaryEmbedding", rotary_embedding),
];

fn like(x: &TensorValue, t: Tensor) -> Result<Value> {
    Ok(Value::Tensor(TensorValue::from_tensor_as(t, x.elem())?))
}

/// `(b, seq, heads*head)` as `(b, heads, seq, head)`.
fn split_heads(t: &Tensor, heads: i64) -> Result<Tensor> {
    let s = t.shape();
    if heads < 1 || s[2] % heads != 0 {
        return Err(invalid!(
            "hidden size {} does not split into {heads} heads",
            s[2]
        ));
    }
    Ok(t.reshape(&[s[0], s[1], heads, s[2] / heads])?
        .permute(&[0, 2, 1, 3])?)
}

fn attention(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let qv = i.tensor(0)?;
    let (mut q, mut k, mut v) = (ctx.t(qv)?, ctx.t(i.tensor(1)?)?, ctx.t(i.tensor(2)?)?);
    let three_d = q.shape().len() == 3;
    if q.shape().len() != k.shape().len()
        || k.shape().len() != v.shape().len()
        || !(three_d || q.shape().len() == 4)
    {
        return Err(invalid!(
            "q {:?}, k {:?}, v {:?} must all be 3-D or all 4-D",
            q.shape(),
            k.shape(),
            v.shape()
        ));
    }
    let q_heads_attr = ctx.int_opt("q_num_heads")?;
    let kv_heads_attr = ctx.int_opt("kv_num_heads")?;
    if three_d {
        let (qh, kvh) = q_heads_attr
            .zip(kv_heads_attr)
            .ok_or_else(|| invalid!("3-D inputs need q_num_heads and kv_num_heads"))?;
        q = split_heads(&q, qh)?;
        k = split_heads(&k, kvh)?;
        v = split_heads(&v, kvh)?;
    }
    let dt = q.dtype();
    let head = q.shape()[3];
    let scale = match ctx.float_opt("scale")? {
        Some(s) => f64::from(s),
        None => 1.0 / (head as f64).sqrt(),
    };
    let past_len = match i.opt_tensor(4)? {
        Some(p) => {
            k = Tensor::cat(&[&ctx.t(p)?, &k], 2)?;
            p.shape()[2]
        }
        None => 0,
    };
    if let Some(p) = i.opt_tensor(5)? {
        v = Tensor::cat(&[&ctx.t(p)?, &v], 2)?;
    }
    let (present_k, present_v) = (k.clone(), v.clone());
    let (sq, skv) = (q.shape()[2], k.shape()[2]);
    // the additive bias (sq, skv) or broadcastable to (b, heads, sq, skv)
    let neg_inf = Tensor::full(&[], f64::NEG_INFINITY, dt)?;
    let zero = Tensor::full(&[], 0.0, dt)?;
    let mut bias: Option<Tensor> = None;
    if let Some(m) = i.opt_tensor(3)? {
        let mut m = ctx.t(m)?;
        let last = *m
            .shape()
            .last()
            .ok_or_else(|| invalid!("the mask must have at least one dim, got a scalar"))?;
        let short = skv - last;
        let is_bool = m.dtype() == DType::Bool;
        if short > 0 {
            let mut pads = vec![(0, 0); m.shape().len()];
            *pads.last_mut().unwrap_or(&mut (0, 0)) = (0, short);
            let padded = m.pad(&pads)?;
            m = if is_bool {
                padded
            } else {
                // float padding is -inf, where the zero pad put zeros
                let ones = Tensor::full(m.shape(), 1.0, DType::Bool)?.pad(&pads)?;
                ones.where_(&padded, &neg_inf)?
            };
        }
        bias = Some(if is_bool {
            m.where_(&zero, &neg_inf)?
        } else {
            m.cast(dt)?
        });
    }
    if ctx.int("is_causal", 0)? != 0 {
        // masked where key column - past > query row
        let rows = Tensor::arange(sq, DType::I64)?.reshape(&[sq, 1])?;
        let cols = Tensor::arange(skv, DType::I64)?
            .sub(&Tensor::full(&[], past_len as f64, DType::I64)?)?
            .reshape(&[1, skv])?;
        let causal = cols.gt(&rows)?.where_(&neg_inf, &zero)?;
        bias = Some(match bias {
            Some(b) => b.add(&causal)?,
            None => causal,
        });
    }
    if let Some(lens) = i.opt_tensor(6)? {
        let b = q.shape()[0];
        let lens = ctx.t(lens)?.cast(DType::I64)?.reshape(&[b, 1, 1, 1])?;
        let cols = Tensor::arange(skv, DType::I64)?.reshape(&[1, 1, 1, skv])?;
        let pad = cols.lt(&lens)?.where_(&zero, &neg_inf)?;
        bias = Some(match bias {
            Some(b) => b.add(&pad)?,
            None => pad,
        });
    }
    // grouped queries: each key/value head serves heads/kv_heads query heads in turn
    let (qh, kvh) = (q.shape()[1], k.shape()[1]);
    if qh != kvh {
        if kvh < 1 || qh % kvh != 0 || v.shape()[1] != kvh {
            return Err(invalid!(
                "{qh} query heads cannot share {kvh} key/value heads"
            ));
        }
        k = k.repeat_interleave(qh / kvh, 1)?;
        v = v.repeat_interleave(qh / kvh, 1)?;
    }
    let root = Tensor::full(&[], scale.sqrt(), dt)?;
    let qk = q.mul(&root)?.matmul(&k.mul(&root)?.transpose(2, 3)?)?;
    let mode = ctx.int("qk_matmul_output_mode", 0)?;
    let mut inter = qk.clone();
    let mut logits = match &bias {
        Some(b) => qk.add(b)?,
        None => qk,
    };
    if mode == 1 {
        inter = logits.clone();
    }
    if let Some(cap) = ctx.float_opt("softcap")?.filter(|&c| c > 0.0) {
        let c = Tensor::full(&[], f64::from(cap), dt)?;
        logits = logits.div(&c)?.tanh()?.mul(&c)?;
        if mode == 2 {
            inter = logits.clone();
        }
    }
    if let Some(p) = ctx.int_opt("softmax_precision")? {
        logits = logits.cast(ElemType::from_onnx(p as i32)?.storage())?;
    }
    let probs = logits.softmax(-1)?.cast(dt)?;
    if mode == 3 {
        inter = probs.clone();
    }
    let mut y = probs.matmul(&v)?;
    if three_d {
        let s = y.shape().to_vec();
        y = y
            .permute(&[0, 2, 1, 3])?
            .reshape(&[s[0], s[2], s[1] * s[3]])?;
    }
    Ok(vec![
        like(qv, y)?,
        out(present_k),
        out(present_v),
        out(inter.cast(dt)?),
    ])
}

fn rotary_embedding(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let xv = i.tensor(0)?;
    let x0 = ctx.t(xv)?;
    let shape = x0.shape().to_vec();
    // (b, seq, heads, head)
    let x = match shape.len() {
        4 => x0.permute(&[0, 2, 1, 3])?,
        3 => {
            let heads = ctx.int("num_heads", 0)?;
            if heads < 1 || shape[2] % heads != 0 {
                return Err(invalid!(
                    "3-D input {shape:?} needs num_heads dividing its hidden size"
                ));
            }
            x0.reshape(&[shape[0], shape[1], heads, shape[2] / heads])?
        }
        _ => return Err(invalid!("input {shape:?} must be 3-D or 4-D")),
    };
    let xs = x.shape().to_vec();
    let head = xs[3];
    let dim = match ctx.int("rotary_embedding_dim", 0)? {
        0 => head,
        d => d,
    };
    if dim > head || dim % 2 != 0 {
        return Err(invalid!(
            "rotary_embedding_dim {dim} for a head of {head}: even, at most the head"
        ));
    }
    let half = dim / 2;
    let (mut cos, mut sin) = (ctx.t(i.tensor(1)?)?, ctx.t(i.tensor(2)?)?);
    if let Some(p) = i.opt_tensor(3)? {
        let p = ctx.t(p)?.cast(DType::I64)?;
        let ps = p.shape().to_vec();
        let flat = p.reshape(&[p.numel()])?;
        let pick = |c: &Tensor| -> Result<Tensor> {
            let w = c.shape()[c.shape().len() - 1];
            Ok(c.index_select(0, &flat)?.reshape(&[ps[0], ps[1], w])?)
        };
        cos = pick(&cos)?;
        sin = pick(&sin)?;
    }
    if cos.shape().last() != Some(&half) || sin.shape().last() != Some(&half) {
        return Err(invalid!(
            "the caches' last dim must be rotary_embedding_dim/2 = {half}"
        ));
    }
    let (cos, sin) = (
        cos.unsqueeze(2)?.cast(x.dtype())?,
        sin.unsqueeze(2)?.cast(x.dtype())?,
    );
    let rot = x.shrink(&[(0, xs[0]), (0, xs[1]), (0, xs[2]), (0, dim)])?;
    let interleaved = ctx.int("interleaved", 0)? != 0;
    let (x1, x2) = if interleaved {
        let pairs = rot.reshape(&[xs[0], xs[1], xs[2], half, 2])?;
        let cut = |k: i64| -> Result<Tensor> {
            Ok(pairs
                .shrink(&[(0, xs[0]), (0, xs[1]), (0, xs[2]), (0, half), (k, k + 1)])?
                .reshape(&[xs[0], xs[1], xs[2], half])?)
        };
        (cut(0)?, cut(1)?)
    } else {
        let parts = rot.split_sizes(&[half, half], -1)?;
        (parts[0].clone(), parts[1].clone())
    };
    let real = cos.mul(&x1)?.sub(&sin.mul(&x2)?)?;
    let imag = sin.mul(&x1)?.add(&cos.mul(&x2)?)?;
    let rotated = if interleaved {
        Tensor::stack(&[&real, &imag], -1)?.reshape(&[xs[0], xs[1], xs[2], dim])?
    } else {
        Tensor::cat(&[&real, &imag], -1)?
    };
    let mut y = if dim < head {
        let rest = x.shrink(&[(0, xs[0]), (0, xs[1]), (0, xs[2]), (dim, head)])?;
        Tensor::cat(&[&rotated, &rest], -1)?
    } else {
        rotated
    };
    y = if shape.len() == 3 {
        y.reshape(&shape)?
    } else {
        y.permute(&[0, 2, 1, 3])?
    };
    Ok(vec![like(xv, y)?])
}
