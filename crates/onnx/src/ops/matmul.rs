//! Matrix products: `MatMul` (numpy's rules), `Gemm` (transposes, alpha, beta, a
//! broadcast C) and `Einsum` (an ellipsis becomes letters the equation does not use).

use frontend_tensor::Tensor;

use super::{Inputs, OpCtx, OpDef, one, onnx};
use crate::error::{Result, invalid};
use crate::value::Value;

pub(crate) const OPS: &[OpDef] = &[
    onnx("MatMul", matmul),
    onnx("Gemm", gemm),
    onnx("Einsum", einsum),
];

fn matmul(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let (a, b) = (ctx.t(i.tensor(0)?)?, ctx.t(i.tensor(1)?)?);
    let dtype = a.dtype();
    one(a.matmul(&b)?.cast(dtype)?)
}

/// `alpha * A' @ B' + beta * C`.
fn gemm(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let mut a = ctx.t(i.tensor(0)?)?;
    let mut b = ctx.t(i.tensor(1)?)?;
    if a.shape().len() != 2 || b.shape().len() != 2 {
        return Err(invalid!(
            "A and B must be 2-D, got {:?} and {:?}",
            a.shape(),
            b.shape()
        ));
    }
    if ctx.int("transA", 0)? != 0 {
        a = a.transpose(0, 1)?;
    }
    if ctx.int("transB", 0)? != 0 {
        b = b.transpose(0, 1)?;
    }
    let dtype = a.dtype();
    let scalar = |v: f32| Tensor::full(&[], f64::from(v), dtype);
    let alpha = ctx.float("alpha", 1.0)?;
    let beta = ctx.float("beta", 1.0)?;
    let mut y = a.matmul(&b)?;
    if alpha != 1.0 {
        y = y.mul(&scalar(alpha)?)?;
    }
    if let Some(c) = i.opt_tensor(2)? {
        let mut c = ctx.t(c)?;
        if beta != 1.0 {
            c = c.mul(&scalar(beta)?)?;
        }
        y = y.add(&c)?;
    }
    one(y.cast(dtype)?)
}

/// The equation with each `...` replaced by letters it does not use: as many as the dims
/// the ellipsis stands for in each operand, aligned from the right as numpy aligns them.
fn expand_ellipsis(equation: &str, ranks: &[usize]) -> Result<String> {
    let eq: String = equation.chars().filter(|c| !c.is_whitespace()).collect();
    if !eq.contains("...") {
        return Ok(eq);
    }
    let (lhs, rhs) = match eq.split_once("->") {
        Some((l, r)) => (l.to_string(), Some(r.to_string())),
        None => (eq.clone(), None),
    };
    let terms: Vec<&str> = lhs.split(',').collect();
    if terms.len() != ranks.len() {
        return Err(invalid!(
            "{} terms for {} operands in {equation:?}",
            terms.len(),
            ranks.len()
        ));
    }
    let spare: Vec<char> = ('A'..='Z')
        .chain('a'..='z')
        .filter(|c| !eq.contains(*c))
        .collect();
    // dims each operand's ellipsis stands for
    let mut counts = Vec::with_capacity(terms.len());
    for (t, &rank) in terms.iter().zip(ranks) {
        let letters = t.replace("...", "").chars().count();
        let n = if t.contains("...") {
            rank.checked_sub(letters)
                .ok_or_else(|| invalid!("term {t:?} has more letters than rank {rank}"))?
        } else {
            0
        };
        counts.push(n);
    }
    let widest = counts.iter().copied().max().unwrap_or(0);
    if widest > spare.len() {
        return Err(invalid!("the ellipsis of {equation:?} spans too many dims"));
    }
    let all: String = spare[..widest].iter().collect();
    let terms: Vec<String> = terms
        .iter()
        .zip(&counts)
        .map(|(t, &n)| t.replace("...", &all[widest - n..]))
        .collect();
    let rhs = match rhs {
        Some(r) => r.replace("...", &all),
        None => {
            // implicit output: the ellipsis dims, then the letters seen once, sorted
            let plain = lhs.replace("...", "");
            let mut once: Vec<char> = plain
                .chars()
                .filter(|c| c.is_ascii_alphabetic() && plain.matches(*c).count() == 1)
                .collect();
            once.sort_unstable();
            format!("{all}{}", once.into_iter().collect::<String>())
        }
    };
    Ok(format!("{}->{rhs}", terms.join(",")))
}

fn einsum(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let equation = ctx
        .string_opt("equation")?
        .ok_or_else(|| invalid!("attribute 'equation' is required"))?;
    let operands: Vec<Tensor> = i.rest(0)?.iter().map(|t| ctx.t(t)).collect::<Result<_>>()?;
    let ranks: Vec<usize> = operands.iter().map(|t| t.shape().len()).collect();
    let eq = expand_ellipsis(&equation, &ranks)?;
    let refs: Vec<&Tensor> = operands.iter().collect();
    let dtype = operands
        .first()
        .map(|t| t.dtype())
        .ok_or_else(|| invalid!("needs at least one operand"))?;
    one(Tensor::einsum(&eq, &refs)?.cast(dtype)?)
}
