//! Recurrent layers: `RNN`, `GRU` (`linear_before_reset` either way) and `LSTM`
//! (peepholes, `input_forget`), forward, reverse or bidirectional, `layout` 0
//! (`(seq, batch, ..)`) or 1 (`(batch, seq, ..)`), with `clip`, the `activations` list
//! and its alphas and betas, initial states, and `sequence_lens` (a shorter sequence
//! keeps its state after its end and gives zeros there). The input projection of every
//! step is one matmul; the recurrence unrolls step by step into the lazy graph.

use frontend_tensor::Tensor;

use super::{Inputs, OpCtx, OpDef, onnx};
use crate::error::{Result, invalid};
use crate::value::{TensorValue, Value};

/// The most time steps a recurrence unrolls into one graph.
const MAX_STEPS: i64 = 1 << 16;

pub(crate) const OPS: &[OpDef] = &[onnx("RNN", rnn), onnx("GRU", gru), onnx("LSTM", lstm)];

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Rnn,
    Gru,
    Lstm,
}

impl Kind {
    fn gates(self) -> i64 {
        match self {
            Kind::Rnn => 1,
            Kind::Gru => 3,
            Kind::Lstm => 4,
        }
    }

    fn default_activations(self) -> &'static [&'static str] {
        match self {
            Kind::Rnn => &["Tanh"],
            Kind::Gru => &["Sigmoid", "Tanh"],
            Kind::Lstm => &["Sigmoid", "Tanh", "Tanh"],
        }
    }
}

/// One activation function with its alpha and beta.
#[derive(Clone)]
struct Act {
    name: String,
    alpha: Option<f64>,
    beta: Option<f64>,
}

impl Act {
    fn apply(&self, x: &Tensor) -> Result<Tensor> {
        let lit = |v: f64| Tensor::full(&[], v, x.dtype());
        let a = |d: f64| self.alpha.unwrap_or(d);
        let b = |d: f64| self.beta.unwrap_or(d);
        Ok(match self.name.to_ascii_lowercase().as_str() {
            "tanh" => x.tanh()?,
            "sigmoid" => x.sigmoid()?,
            "relu" => x.relu()?,
            "affine" => x.mul(&lit(a(1.0))?)?.add(&lit(b(0.0))?)?,
            "leakyrelu" => x.lt(&lit(0.0)?)?.where_(&x.mul(&lit(a(0.01))?)?, x)?,
            "thresholdedrelu" => x.gt(&lit(a(1.0))?)?.where_(x, &lit(0.0)?)?,
            "scaledtanh" => x.mul(&lit(b(1.0))?)?.tanh()?.mul(&lit(a(1.0))?)?,
            "hardsigmoid" => x
                .mul(&lit(a(0.2))?)?
                .add(&lit(b(0.5))?)?
                .clip(Some(0.0), Some(1.0))?,
            "elu" => x
                .gt(&lit(0.0)?)?
                .where_(x, &x.exp()?.sub(&lit(1.0)?)?.mul(&lit(a(1.0))?)?)?,
            "softsign" => x.softsign()?,
            "softplus" => x.exp()?.add(&lit(1.0)?)?.log()?,
            other => return Err(invalid!("unknown activation '{other}'")),
        })
    }
}

/// Which activation each direction uses, in the op's order.
fn activations(ctx: &OpCtx, kind: Kind, dirs: usize) -> Result<Vec<Vec<Act>>> {
    let per = kind.default_activations().len();
    let names: Vec<String> = match ctx.strings("activations")? {
        Some(n) => n,
        None => (0..dirs)
            .flat_map(|_| kind.default_activations().iter().map(|s| s.to_string()))
            .collect(),
    };
    if names.len() != per * dirs {
        return Err(invalid!(
            "{} activations given, {} expected ({per} per direction)",
            names.len(),
            per * dirs
        ));
    }
    let alphas = ctx.floats("activation_alpha")?.unwrap_or_default();
    let betas = ctx.floats("activation_beta")?.unwrap_or_default();
    let acts: Vec<Act> = names
        .into_iter()
        .enumerate()
        .map(|(k, name)| Act {
            name,
            alpha: alphas.get(k).map(|&v| f64::from(v)),
            beta: betas.get(k).map(|&v| f64::from(v)),
        })
        .collect();
    Ok(acts.chunks(per).map(|c| c.to_vec()).collect())
}

/// Row `d` of a `(dirs, ..)` tensor.
fn dir(t: &Tensor, d: i64) -> Result<Tensor> {
    let mut keep: Vec<(i64, i64)> = t.shape().iter().map(|&n| (0, n)).collect();
    keep[0] = (d, d + 1);
    Ok(t.shrink(&keep)?.squeeze_axes(&[0])?)
}

/// Column block `k` of `g` blocks of a `(.., g*h)` tensor.
fn block(t: &Tensor, k: i64, h: i64) -> Result<Tensor> {
    let mut keep: Vec<(i64, i64)> = t.shape().iter().map(|&n| (0, n)).collect();
    let last = keep.len() - 1;
    keep[last] = (k * h, (k + 1) * h);
    Ok(t.shrink(&keep)?)
}

fn run_rnn(ctx: &OpCtx, i: &Inputs, kind: Kind) -> Result<Vec<Value>> {
    let xv = i.tensor(0)?;
    let layout = ctx.int("layout", 0)?;
    let mut x = ctx.t(xv)?;
    if x.shape().len() != 3 {
        return Err(invalid!("input {:?} must be 3-D", x.shape()));
    }
    if layout != 0 {
        x = x.permute(&[1, 0, 2])?;
    }
    let (seq, batch) = (x.shape()[0], x.shape()[1]);
    if seq > MAX_STEPS {
        return Err(invalid!("{seq} steps: at most {MAX_STEPS} are unrolled"));
    }
    let dt = x.dtype();
    let (w, r) = (ctx.t(i.tensor(1)?)?, ctx.t(i.tensor(2)?)?);
    let g = kind.gates();
    if r.shape().len() != 3 {
        return Err(invalid!("R {:?} must be 3-D", r.shape()));
    }
    let h = match ctx.int_opt("hidden_size")? {
        Some(h) => h,
        None => r.shape()[2],
    };
    if !(1..=1 << 24).contains(&h) {
        return Err(invalid!("hidden_size {h} is out of range"));
    }
    let dirs_name = ctx.string("direction", "forward")?;
    let ndir: i64 = match dirs_name.as_str() {
        "forward" | "reverse" => 1,
        "bidirectional" => 2,
        other => return Err(invalid!("unknown direction '{other}'")),
    };
    if w.shape() != [ndir, g * h, x.shape()[2]] || r.shape() != [ndir, g * h, h] {
        return Err(invalid!(
            "W {:?} and R {:?} do not fit {ndir} directions, {g} gates of {h} and input {:?}",
            w.shape(),
            r.shape(),
            x.shape()
        ));
    }
    let acts = activations(ctx, kind, ndir as usize)?;
    let clip = ctx.float_opt("clip")?.map(f64::from);
    let lbr = ctx.int("linear_before_reset", 0)? != 0;
    let input_forget = ctx.int("input_forget", 0)? != 0;
    let zero_state = Tensor::full(&[ndir, batch, h], 0.0, dt)?;
    let state_in = |k: usize| -> Result<Tensor> {
        Ok(match i.opt_tensor(k)? {
            Some(s) => {
                let s = ctx.t(s)?;
                if layout != 0 {
                    s.permute(&[1, 0, 2])?
                } else {
                    s
                }
            }
            None => zero_state.clone(),
        })
    };
    let h0 = state_in(5)?;
    let c0 = if kind == Kind::Lstm {
        state_in(6)?
    } else {
        zero_state.clone()
    };
    let lens: Option<Vec<i64>> = match i.opt_tensor(4)? {
        Some(l) => Some(l.ints()?).filter(|v| v.iter().any(|&n| n != seq)),
        None => None,
    };
    let peep = if kind == Kind::Lstm {
        i.opt_tensor(7)?.map(|p| ctx.t(p)).transpose()?
    } else {
        None
    };
    let mut ys = Vec::new();
    let (mut hs, mut cs) = (Vec::new(), Vec::new());
    for d in 0..ndir {
        let reverse = dirs_name == "reverse" || d == 1;
        if reverse && lens.is_some() {
            return Err(invalid!(
                "reverse directions with sequence_lens are not supported"
            ));
        }
        let act = &acts[d as usize];
        let (wd, rd) = (dir(&w, d)?, dir(&r, d)?);
        let (wb, rb) = match i.opt_tensor(3)? {
            Some(b) => {
                let bd = dir(&ctx.t(b)?, d)?;
                (block_pair(&bd, 0, g * h)?, block_pair(&bd, 1, g * h)?)
            }
            None => {
                let z = Tensor::full(&[g * h], 0.0, dt)?;
                (z.clone(), z)
            }
        };
        // (seq, batch, g*h): every step's input projection at once
        let xw = x.matmul(&wd.transpose(0, 1)?)?.add(&wb)?;
        let rt = rd.transpose(0, 1)?;
        let (mut ht, mut ct) = (dir(&h0, d)?, dir(&c0, d)?);
        let pd = peep.as_ref().map(|p| dir(p, d)).transpose()?;
        let mut steps: Vec<Tensor> = Vec::new();
        for s in 0..seq {
            let t = if reverse { seq - 1 - s } else { s };
            let xt = dir(&xw.shrink(&[(t, t + 1), (0, batch), (0, g * h)])?, 0)?;
            let cl = |v: Tensor| -> Result<Tensor> {
                Ok(match clip {
                    Some(c) => v.clip(Some(-c), Some(c))?,
                    None => v,
                })
            };
            let (hn, cn) = match kind {
                Kind::Rnn => {
                    let a = xt.add(&ht.matmul(&rt)?)?.add(&rb)?;
                    (act[0].apply(&cl(a)?)?, ct.clone())
                }
                Kind::Gru => {
                    let hr = ht.matmul(&rt)?;
                    let gate = |k: i64| -> Result<Tensor> {
                        Ok(block(&xt, k, h)?
                            .add(&block(&hr, k, h)?)?
                            .add(&block(&rb, k, h)?)?)
                    };
                    let z = act[0].apply(&cl(gate(0)?)?)?;
                    let rg = act[0].apply(&cl(gate(1)?)?)?;
                    let rh = block(&rt, 2, h)?;
                    let hh_in = if lbr {
                        block(&xt, 2, h)?
                            .add(&rg.mul(&ht.matmul(&rh)?.add(&block(&rb, 2, h)?)?)?)?
                    } else {
                        block(&xt, 2, h)?
                            .add(&rg.mul(&ht)?.matmul(&rh)?)?
                            .add(&block(&rb, 2, h)?)?
                    };
                    let hh = act[1].apply(&cl(hh_in)?)?;
                    let one = Tensor::full(&[], 1.0, dt)?;
                    (one.sub(&z)?.mul(&hh)?.add(&z.mul(&ht)?)?, ct.clone())
                }
                Kind::Lstm => {
                    let a = xt.add(&ht.matmul(&rt)?)?.add(&rb)?;
                    let p = |k: i64| -> Result<Option<Tensor>> {
                        pd.as_ref().map(|p| block(p, k, h)).transpose()
                    };
                    let with_peep = |v: Tensor, k: i64, c: &Tensor| -> Result<Tensor> {
                        Ok(match p(k)? {
                            Some(pk) => v.add(&pk.mul(c)?)?,
                            None => v,
                        })
                    };
                    let it = act[0].apply(&cl(with_peep(block(&a, 0, h)?, 0, &ct)?)?)?;
                    let ft = if input_forget {
                        Tensor::full(&[], 1.0, dt)?.sub(&it)?
                    } else {
                        act[0].apply(&cl(with_peep(block(&a, 2, h)?, 2, &ct)?)?)?
                    };
                    let cc = act[1].apply(&cl(block(&a, 3, h)?)?)?;
                    let c_new = ft.mul(&ct)?.add(&it.mul(&cc)?)?;
                    let ot = act[0].apply(&cl(with_peep(block(&a, 1, h)?, 1, &c_new)?)?)?;
                    (ot.mul(&act[2].apply(&c_new)?)?, c_new)
                }
            };
            match &lens {
                Some(l) => {
                    let live: Vec<bool> = l.iter().map(|&n| t < n).collect();
                    let m = Tensor::from_slice(&live, &[batch, 1])?;
                    let zero = Tensor::full(&[], 0.0, dt)?;
                    steps.push(m.where_(&hn, &zero)?);
                    ht = m.where_(&hn, &ht)?;
                    ct = m.where_(&cn, &ct)?;
                }
                None => {
                    steps.push(hn.clone());
                    ht = hn;
                    ct = cn;
                }
            }
        }
        if reverse {
            steps.reverse();
        }
        let refs: Vec<&Tensor> = steps.iter().collect();
        ys.push(Tensor::stack(&refs, 0)?);
        hs.push(ht);
        cs.push(ct);
    }
    // Y (seq, dirs, batch, h), Y_h and Y_c (dirs, batch, h)
    let yr: Vec<&Tensor> = ys.iter().collect();
    let hr: Vec<&Tensor> = hs.iter().collect();
    let cr: Vec<&Tensor> = cs.iter().collect();
    let (mut y, mut yh, mut yc) = (
        Tensor::stack(&yr, 1)?,
        Tensor::stack(&hr, 0)?,
        Tensor::stack(&cr, 0)?,
    );
    if layout != 0 {
        y = y.permute(&[2, 0, 1, 3])?;
        yh = yh.permute(&[1, 0, 2])?;
        yc = yc.permute(&[1, 0, 2])?;
    }
    let v = |t: Tensor| -> Result<Value> {
        Ok(Value::Tensor(TensorValue::from_tensor_as(t, xv.elem())?))
    };
    let mut outs = vec![v(y)?, v(yh)?];
    if kind == Kind::Lstm {
        outs.push(v(yc)?);
    }
    Ok(outs)
}

/// Half `k` of a `(2 * n,)` bias.
fn block_pair(b: &Tensor, k: i64, n: i64) -> Result<Tensor> {
    if b.shape() != [2 * n] {
        return Err(invalid!("bias {:?} must be ({})", b.shape(), 2 * n));
    }
    Ok(b.shrink(&[(k * n, (k + 1) * n)])?.cast(b.dtype())?)
}

fn rnn(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    run_rnn(ctx, i, Kind::Rnn)
}

fn gru(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    run_rnn(ctx, i, Kind::Gru)
}

fn lstm(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    run_rnn(ctx, i, Kind::Lstm)
}
