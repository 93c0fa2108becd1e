//! Comparisons, boolean logic and `Where`, with numpy broadcasting; folded on the host for
//! small operands known there.

use dtype::DType;
use frontend_tensor::Tensor;

use super::fold::{self, HostBinary, HostUnary};
use super::{Inputs, OpCtx, OpDef, one, onnx, out_host};
use crate::error::{Result, invalid};
use crate::host::HostTensor;
use crate::value::Value;

pub(crate) const OPS: &[OpDef] = &[
    onnx("Equal", equal),
    onnx("Less", less),
    onnx("LessOrEqual", less_or_equal),
    onnx("Greater", greater),
    onnx("GreaterOrEqual", greater_or_equal),
    onnx("And", and),
    onnx("Or", or),
    onnx("Xor", xor),
    onnx("Not", not),
    onnx("Where", where_),
];

fn compare(
    ctx: &OpCtx,
    i: &Inputs,
    op: HostBinary,
    f: fn(&Tensor, &Tensor) -> frontend_tensor::Result<Tensor>,
) -> Result<Vec<Value>> {
    let (a, b) = (i.tensor(0)?, i.tensor(1)?);
    if a.elem() != b.elem() {
        return Err(invalid!(
            "the operands must have one type, got {} and {}",
            a.elem(),
            b.elem()
        ));
    }
    if let (Some(ha), Some(hb)) = (a.host(), b.host())
        && let Some(r) = fold::binary(op, ha, hb)
    {
        return Ok(vec![out_host(r?)]);
    }
    one(f(&ctx.t(a)?, &ctx.t(b)?)?)
}

fn equal(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    compare(ctx, i, HostBinary::Equal, Tensor::eq)
}
fn less(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    compare(ctx, i, HostBinary::Less, Tensor::lt)
}
fn less_or_equal(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    compare(ctx, i, HostBinary::LessOrEqual, Tensor::le)
}
fn greater(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    compare(ctx, i, HostBinary::Greater, Tensor::gt)
}
fn greater_or_equal(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    compare(ctx, i, HostBinary::GreaterOrEqual, Tensor::ge)
}
fn and(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    compare(ctx, i, HostBinary::And, Tensor::logical_and)
}
fn or(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    compare(ctx, i, HostBinary::Or, Tensor::logical_or)
}
fn xor(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    compare(ctx, i, HostBinary::Xor, |a, b| a.ne(b))
}

fn not(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    if let Some(h) = x.host()
        && let Some(r) = fold::unary(HostUnary::Not, h)
    {
        return Ok(vec![out_host(r?)]);
    }
    one(ctx.t(x)?.logical_not()?)
}

/// `c ? a : b`, broadcasting all three.
fn where_(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let (c, a, b) = (i.tensor(0)?, i.tensor(1)?, i.tensor(2)?);
    if a.elem() != b.elem() {
        return Err(invalid!(
            "the two branches must have one type, got {} and {}",
            a.elem(),
            b.elem()
        ));
    }
    if let (Some(hc), Some(ha), Some(hb)) = (c.host(), a.host(), b.host())
        && let Some(r) = where_host(hc, ha, hb)
    {
        return Ok(vec![out_host(r?)]);
    }
    let cond = ctx.t(c)?.cast(DType::Bool)?;
    let r = cond.where_(&ctx.t(a)?, &ctx.t(b)?)?;
    one(r.cast(a.elem().storage())?)
}

fn where_host(c: &HostTensor, a: &HostTensor, b: &HostTensor) -> Option<Result<HostTensor>> {
    let shape = fold::broadcast_shapes(c.shape(), a.shape())
        .and_then(|s| fold::broadcast_shapes(&s, b.shape()));
    let shape = match shape {
        Ok(s) => s,
        Err(e) => return Some(Err(e)),
    };
    let n = crate::host::numel_of(&shape).ok()?;
    if n > fold::FOLD_LIMIT {
        return None;
    }
    let picks = |t: &HostTensor| fold::broadcast_picks(t.shape(), &shape);
    let (pc, pa, pb) = match (picks(c), picks(a), picks(b)) {
        (Ok(x), Ok(y), Ok(z)) => (x, y, z),
        (Err(e), ..) | (_, Err(e), _) | (.., Err(e)) => return Some(Err(e)),
    };
    // a's and b's elements side by side: a's at i, b's at a.numel() + i
    let both = [a.bytes(), b.bytes()].concat();
    let joined = HostTensor::new(a.elem(), vec![(a.numel() + b.numel()) as i64], both).ok()?;
    let chosen: Vec<usize> = (0..n)
        .map(|k| {
            if c.get_i64(pc[k]) != 0 {
                pa[k]
            } else {
                a.numel() + pb[k]
            }
        })
        .collect();
    Some(joined.gather_elements(&chosen, shape))
}
