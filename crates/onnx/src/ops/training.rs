//! The optimizers of `ai.onnx.preview.training`: `Adagrad`, `Momentum` (standard and
//! Nesterov) and `Adam`, each updating one or more tensors in one node. Inputs are the
//! learning rate `R` and step count `T` (scalars, read on the host), then the tensors
//! grouped by kind (all `X`, then all `G`, then the states); outputs the new tensors,
//! then the new states, grouped the same way.

use frontend_tensor::Tensor;

use super::{Inputs, OpCtx, OpDef, out};
use crate::error::{Result, invalid};
use crate::value::Value;

const DOMAIN: &str = "ai.onnx.preview.training";

pub(crate) const OPS: &[OpDef] = &[
    OpDef {
        domain: DOMAIN,
        name: "Adagrad",
        run: adagrad,
    },
    OpDef {
        domain: DOMAIN,
        name: "Momentum",
        run: momentum,
    },
    OpDef {
        domain: DOMAIN,
        name: "Adam",
        run: adam,
    },
];

/// The learning rate, the step, and the tensors in `groups` groups of `n`.
fn unpack(ctx: &OpCtx, i: &Inputs, groups: usize) -> Result<(f64, i64, Vec<Vec<Tensor>>)> {
    let r = i.tensor(0)?.scalar_f64()?;
    let t = i.tensor(1)?.scalar_i64()?;
    let rest = i.rest(2)?;
    if rest.is_empty() || rest.len() % groups != 0 {
        return Err(invalid!(
            "{} tensors do not form {groups} equal groups",
            rest.len()
        ));
    }
    let n = rest.len() / groups;
    let tensors: Vec<Tensor> = rest.iter().map(|v| ctx.t(v)).collect::<Result<_>>()?;
    let grouped = tensors.chunks(n).map(|c| c.to_vec()).collect();
    Ok((r, t, grouped))
}

fn lit(x: &Tensor, v: f64) -> Result<Tensor> {
    Ok(Tensor::full(&[], v, x.dtype())?)
}

/// `norm * x + g`.
fn regularized(x: &Tensor, g: &Tensor, norm: f64) -> Result<Tensor> {
    Ok(x.mul(&lit(x, norm)?)?.add(g)?)
}

fn adagrad(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let (r, t, g) = unpack(ctx, i, 3)?;
    let decay = f64::from(ctx.float("decay_factor", 0.0)?);
    let eps = f64::from(ctx.float("epsilon", 0.0)?);
    let norm = f64::from(ctx.float("norm_coefficient", 0.0)?);
    let rate = r / (1.0 + t as f64 * decay);
    let (mut xs, mut hs) = (Vec::new(), Vec::new());
    for (k, x) in g[0].iter().enumerate() {
        let (grad, h) = (&g[1][k], &g[2][k]);
        let gr = regularized(x, grad, norm)?;
        let h_new = h.add(&gr.square()?)?;
        let step = gr
            .mul(&lit(x, rate)?)?
            .div(&h_new.sqrt()?.add(&lit(x, eps)?)?)?;
        xs.push(out(x.sub(&step)?));
        hs.push(out(h_new));
    }
    xs.extend(hs);
    Ok(xs)
}

fn momentum(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let (r, t, g) = unpack(ctx, i, 3)?;
    let need = |name: &str| -> Result<f64> {
        ctx.float_opt(name)?
            .map(f64::from)
            .ok_or_else(|| invalid!("attribute '{name}' is required"))
    };
    let (alpha, beta, norm) = (need("alpha")?, need("beta")?, need("norm_coefficient")?);
    let nesterov = match ctx.string("mode", "standard")?.as_str() {
        "standard" => false,
        "nesterov" => true,
        other => return Err(invalid!("unknown mode '{other}'")),
    };
    let beta = if t > 0 { beta } else { 1.0 };
    let (mut xs, mut vs) = (Vec::new(), Vec::new());
    for (k, x) in g[0].iter().enumerate() {
        let (grad, v) = (&g[1][k], &g[2][k]);
        let gr = regularized(x, grad, norm)?;
        let v_new = v.mul(&lit(x, alpha)?)?.add(&gr.mul(&lit(x, beta)?)?)?;
        let dir = if nesterov {
            gr.add(&v_new.mul(&lit(x, alpha)?)?)?
        } else {
            v_new.clone()
        };
        xs.push(out(x.sub(&dir.mul(&lit(x, r)?)?)?));
        vs.push(out(v_new));
    }
    xs.extend(vs);
    Ok(xs)
}

fn adam(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let (r, t, g) = unpack(ctx, i, 4)?;
    let alpha = f64::from(ctx.float("alpha", 0.9)?);
    let beta = f64::from(ctx.float("beta", 0.999)?);
    let eps = f64::from(ctx.float("epsilon", 1e-6)?);
    let norm = f64::from(ctx.float("norm_coefficient", 0.0)?);
    let post = f64::from(ctx.float("norm_coefficient_post", 0.0)?);
    let rate = if t > 0 {
        r * (1.0 - beta.powi(t as i32)).sqrt() / (1.0 - alpha.powi(t as i32))
    } else {
        r
    };
    let (mut xs, mut vs, mut hs) = (Vec::new(), Vec::new(), Vec::new());
    for (k, x) in g[0].iter().enumerate() {
        let (grad, v, h) = (&g[1][k], &g[2][k], &g[3][k]);
        let gr = regularized(x, grad, norm)?;
        let v_new = v
            .mul(&lit(x, alpha)?)?
            .add(&gr.mul(&lit(x, 1.0 - alpha)?)?)?;
        let h_new = h
            .mul(&lit(x, beta)?)?
            .add(&gr.square()?.mul(&lit(x, 1.0 - beta)?)?)?;
        let step = v_new
            .div(&h_new.sqrt()?.add(&lit(x, eps)?)?)?
            .mul(&lit(x, rate)?)?;
        let x_new = x.sub(&step)?.mul(&lit(x, 1.0 - post)?)?;
        xs.push(out(x_new));
        vs.push(out(v_new));
        hs.push(out(h_new));
    }
    xs.extend(vs);
    xs.extend(hs);
    Ok(xs)
}
