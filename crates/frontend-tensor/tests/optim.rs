//! Optimizers against torch's update formulas written as plain f64 loops, over several
//! steps: SGD (plain, momentum, dampening, Nesterov, weight decay), Adam (weight decay,
//! AMSGrad), AdamW. The loss `sum(c * p + s/2 * p^2)` has the gradient `c + s * p`, so
//! each step's gradient depends on the parameters the previous step wrote. Also: updates
//! are in place, parameters without a gradient are skipped, the learning rate can change
//! between steps, bad hyperparameters are errors, and a linear regression trains.

mod common;

use common::Rng;
use frontend_tensor::nn::{Linear, Module};
use frontend_tensor::optim::{Adam, AdamConfig, AdamW, Optimizer, SGD, SgdConfig};
use frontend_tensor::{DType, Tensor, TensorError, manual_seed};

const STEPS: usize = 6;
/// The curvature of the test loss.
const S: f64 = 0.7;

/// An f64 parameter with random values.
fn param(rng: &mut Rng, n: usize) -> (Tensor, Vec<f64>) {
    let v: Vec<f64> = rng.nonzero(n).iter().map(|&x| f64::from(x)).collect();
    let t = Tensor::from_slice(&v, &[n as i64])
        .and_then(|t| t.requires_grad_(true))
        .expect("param");
    (t, v)
}

/// `sum(c * p + S/2 * p^2)` over the parameters, and its backward.
fn loss_backward(params: &[&Tensor], coefs: &[Vec<f64>]) -> Tensor {
    let mut total: Option<Tensor> = None;
    for (p, c) in params.iter().zip(coefs) {
        let c = Tensor::from_slice(c, &[c.len() as i64]).expect("c");
        let term = p
            .mul(&c)
            .and_then(|t| t.add(&p.square()?.mul_scalar(S / 2.0)?))
            .and_then(|t| t.sum(&[], false))
            .expect("term");
        total = Some(match total {
            Some(t) => t.add(&term).expect("add"),
            None => term,
        });
    }
    let loss = total.expect("a parameter");
    loss.backward().expect("backward");
    loss
}

fn reference_grad(p: &[f64], c: &[f64]) -> Vec<f64> {
    p.iter().zip(c).map(|(p, c)| c + S * p).collect()
}

fn assert_close(got: &[f64], want: &[f64], rtol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= rtol * (1.0 + w.abs()),
            "{what}: element {i} is {g}, want {w}\n got {got:?}\nwant {want:?}"
        );
    }
}

/// torch.optim.SGD's update of one parameter.
fn sgd_reference(p: &mut [f64], g: &[f64], buf: &mut Option<Vec<f64>>, lr: f64, c: SgdConfig) {
    let mut d: Vec<f64> = g
        .iter()
        .zip(p.iter())
        .map(|(g, p)| g + c.weight_decay * p)
        .collect();
    if c.momentum != 0.0 {
        let b = match buf.take() {
            None => d.clone(),
            Some(b) => b
                .iter()
                .zip(&d)
                .map(|(b, d)| c.momentum * b + (1.0 - c.dampening) * d)
                .collect(),
        };
        d = if c.nesterov {
            d.iter().zip(&b).map(|(d, b)| d + c.momentum * b).collect()
        } else {
            b.clone()
        };
        *buf = Some(b);
    }
    for (p, d) in p.iter_mut().zip(&d) {
        *p -= lr * d;
    }
}

/// The state of torch's Adam for one parameter.
#[derive(Default)]
struct AdamRef {
    t: i32,
    m: Vec<f64>,
    v: Vec<f64>,
    vmax: Vec<f64>,
}

/// torch.optim.Adam's (or, `decoupled`, AdamW's) update of one parameter.
fn adam_reference(
    p: &mut [f64],
    g: &[f64],
    s: &mut AdamRef,
    lr: f64,
    c: AdamConfig,
    decoupled: bool,
) {
    let (b1, b2) = c.betas;
    let n = p.len();
    if s.t == 0 {
        s.m = vec![0.0; n];
        s.v = vec![0.0; n];
        s.vmax = vec![0.0; n];
    }
    s.t += 1;
    for i in 0..n {
        let mut g = g[i];
        if decoupled {
            p[i] *= 1.0 - lr * c.weight_decay;
        } else {
            g += c.weight_decay * p[i];
        }
        s.m[i] += (1.0 - b1) * (g - s.m[i]);
        s.v[i] = b2 * s.v[i] + (1.0 - b2) * g * g;
        s.vmax[i] = s.vmax[i].max(s.v[i]);
        let v = if c.amsgrad { s.vmax[i] } else { s.v[i] };
        let bc1 = 1.0 - b1.powi(s.t);
        let bc2 = 1.0 - b2.powi(s.t);
        let denom = v.sqrt() / bc2.sqrt() + c.eps;
        p[i] -= lr / bc1 * s.m[i] / denom;
    }
}

/// Runs `opt` and `reference` side by side for STEPS steps on two parameters (and a
/// third that gets no gradient), changing the learning rate halfway.
fn run_against_reference(
    seed: u64,
    make: impl FnOnce(Vec<Tensor>) -> Box<dyn Optimizer>,
    mut reference: impl FnMut(usize, &mut [f64], &[f64], f64),
    what: &str,
) {
    let mut rng = Rng::new(seed);
    let (a, mut ra) = param(&mut rng, 5);
    let (b, mut rb) = param(&mut rng, 3);
    let (unused, ru) = param(&mut rng, 2);
    let coefs: Vec<Vec<f64>> = [5, 3]
        .iter()
        .map(|&n| rng.nonzero(n).iter().map(|&x| f64::from(x)).collect())
        .collect();
    let mut opt = make(vec![a.clone(), unused.clone(), b.clone()]);
    let buffer_before = a.node();
    for step in 0..STEPS {
        if step == STEPS / 2 {
            opt.set_lr(opt.lr() * 0.5).expect("set_lr");
        }
        let lr = opt.lr();
        opt.zero_grad().expect("zero_grad");
        loss_backward(&[&a, &b], &coefs);
        opt.step().expect("step");
        let ga = reference_grad(&ra, &coefs[0]);
        let gb = reference_grad(&rb, &coefs[1]);
        reference(0, &mut ra, &ga, lr);
        reference(2, &mut rb, &gb, lr);
        let what = format!("{what}, step {step}");
        assert_close(
            &a.to_vec::<f64>().expect("a"),
            &ra,
            1e-12,
            &format!("{what}: a"),
        );
        assert_close(
            &b.to_vec::<f64>().expect("b"),
            &rb,
            1e-12,
            &format!("{what}: b"),
        );
    }
    assert_eq!(a.node(), buffer_before, "{what}: the update is in place");
    assert_eq!(
        unused.to_vec::<f64>().expect("unused"),
        ru,
        "{what}: skipped"
    );
}

#[test]
fn sgd_matches_torch() {
    if !common::cpu() {
        return;
    }
    let configs = [
        SgdConfig::default(),
        SgdConfig {
            momentum: 0.9,
            ..SgdConfig::default()
        },
        SgdConfig {
            momentum: 0.8,
            dampening: 0.3,
            weight_decay: 0.05,
            ..SgdConfig::default()
        },
        SgdConfig {
            momentum: 0.9,
            nesterov: true,
            weight_decay: 0.01,
            ..SgdConfig::default()
        },
    ];
    for (i, c) in configs.into_iter().enumerate() {
        let mut bufs: Vec<Option<Vec<f64>>> = vec![None; 3];
        run_against_reference(
            10 + i as u64,
            |params| Box::new(SGD::with_config(params, 0.1, c).expect("SGD")),
            |slot, p, g, lr| sgd_reference(p, g, &mut bufs[slot], lr, c),
            &format!("SGD {c:?}"),
        );
    }
}

#[test]
fn adam_and_adamw_match_torch() {
    if !common::cpu() {
        return;
    }
    let configs = [
        (AdamConfig::default(), false),
        (
            AdamConfig {
                betas: (0.8, 0.99),
                eps: 1e-6,
                weight_decay: 0.1,
                amsgrad: false,
            },
            false,
        ),
        (
            AdamConfig {
                amsgrad: true,
                ..AdamConfig::default()
            },
            false,
        ),
        (
            AdamConfig {
                weight_decay: 0.01,
                ..AdamConfig::default()
            },
            true,
        ),
        (
            AdamConfig {
                weight_decay: 0.2,
                amsgrad: true,
                betas: (0.3, 0.9),
                ..AdamConfig::default()
            },
            true,
        ),
    ];
    for (i, (c, decoupled)) in configs.into_iter().enumerate() {
        let mut states: Vec<AdamRef> = (0..3).map(|_| AdamRef::default()).collect();
        run_against_reference(
            20 + i as u64,
            |params| {
                if decoupled {
                    Box::new(AdamW::with_config(params, 0.05, c).expect("AdamW"))
                } else {
                    Box::new(Adam::with_config(params, 0.05, c).expect("Adam"))
                }
            },
            |slot, p, g, lr| adam_reference(p, g, &mut states[slot], lr, c, decoupled),
            &format!("{} {c:?}", if decoupled { "AdamW" } else { "Adam" }),
        );
    }
}

#[test]
fn f32_adam_follows_the_f64_reference() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(40);
    let v = rng.nonzero(7);
    let c: Vec<f64> = rng.nonzero(7).iter().map(|&x| f64::from(x)).collect();
    let p = Tensor::from_slice(&v, &[7])
        .and_then(|t| t.requires_grad_(true))
        .expect("p");
    let mut rp: Vec<f64> = v.iter().map(|&x| f64::from(x)).collect();
    let mut opt = Adam::new(vec![p.clone()], 0.01).expect("Adam");
    let mut state = AdamRef::default();
    let ct = Tensor::from_slice(&c.iter().map(|&x| x as f32).collect::<Vec<_>>(), &[7]).expect("c");
    for step in 0..STEPS {
        opt.zero_grad().expect("zero_grad");
        let loss = p
            .mul(&ct)
            .and_then(|t| t.add(&p.square()?.mul_scalar(S / 2.0)?))
            .and_then(|t| t.sum(&[], false))
            .expect("loss");
        loss.backward().expect("backward");
        opt.step_with(&[&loss]).expect("step");
        let g = reference_grad(&rp, &c);
        adam_reference(&mut rp, &g, &mut state, 0.01, AdamConfig::default(), false);
        let got: Vec<f64> = p
            .to_vec::<f32>()
            .expect("p")
            .iter()
            .map(|&x| f64::from(x))
            .collect();
        assert_close(&got, &rp, 2e-5, &format!("f32 Adam step {step}"));
    }
    assert_eq!(opt.steps(0).expect("steps"), STEPS as u64);
}

#[test]
fn the_loss_realized_with_the_step_has_its_value_before_the_update() {
    if !common::cpu() {
        return;
    }
    let p = Tensor::from_slice(&[1.0f32, -2.0], &[2])
        .and_then(|t| t.requires_grad_(true))
        .expect("p");
    let mut opt = SGD::new(vec![p.clone()], 0.25).expect("SGD");
    let loss = p.square().and_then(|t| t.sum(&[], false)).expect("loss");
    loss.backward().expect("backward");
    opt.step_with(&[&loss]).expect("step");
    assert_eq!(loss.to_vec::<f32>().expect("loss"), [5.0]);
    // p - 0.25 * 2p = p / 2; the gradient kept its value too
    assert_eq!(p.to_vec::<f32>().expect("p"), [0.5, -1.0]);
    let g = p.grad().expect("grad").to_vec::<f32>().expect("grad");
    assert_eq!(g, [2.0, -4.0]);
}

#[test]
fn bad_hyperparameters_are_errors() {
    if !common::cpu() {
        return;
    }
    let p = || {
        vec![
            Tensor::zeros(&[2], DType::F32)
                .and_then(|t| t.contiguous().requires_grad_(true))
                .expect("p"),
        ]
    };
    let msg = |e: TensorError| e.to_string();
    assert!(msg(SGD::new(p(), -1.0).unwrap_err()).contains("learning rate"));
    let nesterov = SgdConfig {
        nesterov: true,
        ..SgdConfig::default()
    };
    assert!(msg(SGD::with_config(p(), 0.1, nesterov).unwrap_err()).contains("Nesterov"));
    let betas = AdamConfig {
        betas: (1.0, 0.9),
        ..AdamConfig::default()
    };
    assert!(msg(Adam::with_config(p(), 0.1, betas).unwrap_err()).contains("beta1"));
    assert!(msg(AdamW::new(p(), f64::NAN).unwrap_err()).contains("AdamW"));
}

#[test]
fn linear_regression_trains_to_a_low_loss() {
    if !common::cpu() {
        return;
    }
    manual_seed(7);
    let mut rng = Rng::new(50);
    let (n, k) = (64usize, 3usize);
    let x: Vec<f32> = rng.uniform(n * k, -1.0, 1.0);
    let (w, b) = ([1.5f32, -2.0, 0.5], 0.3f32);
    let y: Vec<f32> = (0..n)
        .map(|i| (0..k).map(|j| x[i * k + j] * w[j]).sum::<f32>() + b)
        .collect();
    let x = Tensor::from_slice(&x, &[n as i64, k as i64]).expect("x");
    let y = Tensor::from_slice(&y, &[n as i64, 1]).expect("y");
    let model = Linear::new(3, 1).expect("Linear");
    let mut opt = Adam::new(model.parameters(), 0.1).expect("Adam");
    let mut losses = Vec::new();
    for _ in 0..150 {
        opt.zero_grad().expect("zero_grad");
        let loss = model
            .forward(&x)
            .and_then(|p| p.sub(&y)?.square()?.mean(&[], false))
            .expect("loss");
        loss.backward().expect("backward");
        opt.step_with(&[&loss]).expect("step");
        losses.push(loss.to_vec::<f32>().expect("loss")[0]);
    }
    let last = losses[losses.len() - 1];
    assert!(
        last < 1e-4 && last < losses[0] / 1000.0,
        "loss went from {} to {last}",
        losses[0]
    );
    let learned = model.weight.to_vec::<f32>().expect("weight");
    for (l, w) in learned.iter().zip(w) {
        assert!((l - w).abs() < 0.02, "weight {learned:?}, want {w:?}");
    }
}
