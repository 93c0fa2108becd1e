//! `Jit` against the same function called without it: a replay computes what the call
//! computes, for plain functions and for whole training steps (forward, backward, SGD with
//! momentum, Adam, AdamW, under a changing learning rate), to the bit; replays schedule
//! nothing and allocate no device memory; new input shapes capture again. Its own test
//! binary: it reads process-wide counters, so its tests take turns (`TURN`).

mod common;

use std::sync::Mutex;

use frontend_tensor::nn::{Linear, Module, ReLU, Sequential};
use frontend_tensor::optim::{
    Adam, AdamW, CosineAnnealingLR, LrScheduler, Optimizer, SGD, SgdConfig,
};
use frontend_tensor::{Jit, Reduction, Tensor, TensorError, manual_seed};

static TURN: Mutex<()> = Mutex::new(());

fn turn() -> std::sync::MutexGuard<'static, ()> {
    TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn data(seed: u64, n: usize) -> Vec<f32> {
    common::Rng::new(seed).uniform(n, -1.0, 1.0)
}

fn tensor(seed: u64, shape: &[i64]) -> Tensor {
    let n = shape.iter().product::<i64>() as usize;
    Tensor::from_slice(&data(seed, n), shape).expect("tensor")
}

/// `x * w + 1` and the sum of each row, through a parameter `w` the function reads.
fn affine(w: &Tensor, x: &Tensor) -> frontend_tensor::Result<Vec<Tensor>> {
    let y = x.mul(w)?.add_scalar(1.0)?;
    let s = y.sum(&[1], false)?;
    Ok(vec![y, s])
}

#[test]
fn replays_compute_what_calls_compute_and_schedule_nothing() {
    if !common::cpu() {
        return;
    }
    let _turn = turn();
    let w = tensor(1, &[5]);
    let mut jit = Jit::new(|x: &[Tensor]| affine(&w, &x[0]));
    for call in 0..6u64 {
        let x = tensor(10 + call, &[3, 5]);
        let want: Vec<Vec<f32>> = affine(&w, &x)
            .expect("direct")
            .iter()
            .map(|t| t.to_vec::<f32>().expect("want"))
            .collect();
        let scheduled = engine::schedule_cache_stats();
        let launched = engine::kernels_launched();
        let outs = jit.call(std::slice::from_ref(&x)).expect("call");
        let got: Vec<Vec<f32>> = outs
            .iter()
            .map(|t| t.to_vec::<f32>().expect("got"))
            .collect();
        assert_eq!(got, want, "call {call}");
        assert_eq!(outs[0].shape(), &[3, 5]);
        let kernels = jit.captured_kernels(std::slice::from_ref(&x));
        assert_eq!(kernels.is_some(), call >= 1, "captured on the second call");
        if call >= 2 {
            let after = engine::schedule_cache_stats();
            assert_eq!(
                (after.hits, after.misses),
                (scheduled.hits, scheduled.misses),
                "call {call}: a replay schedules nothing"
            );
            let k = kernels.expect("captured") as u64;
            assert!(k >= 1);
            assert_eq!(engine::kernels_launched() - launched, k, "call {call}");
        }
    }
}

#[test]
fn a_replays_outputs_are_overwritten_by_the_next_call_and_inputs_pass_through() {
    if !common::cpu() {
        return;
    }
    let _turn = turn();
    let mut jit = Jit::new(|x: &[Tensor]| Ok(vec![x[0].mul_scalar(2.0)?, x[1].clone()]));
    let call = |jit: &mut Jit<_>, seed| {
        let (x, y) = (tensor(seed, &[4]), tensor(seed + 100, &[4]));
        let outs = jit.call(&[x.clone(), y.clone()]).expect("call");
        assert!(
            outs[1].same(&y),
            "an input returned is the input of this call"
        );
        (x, outs)
    };
    for seed in 0..3 {
        call(&mut jit, seed);
    }
    let (x3, first) = call(&mut jit, 3);
    let (x4, _) = call(&mut jit, 4);
    let doubled = |x: &Tensor| -> Vec<f32> {
        x.to_vec::<f32>()
            .expect("x")
            .iter()
            .map(|v| v * 2.0)
            .collect()
    };
    assert_ne!(doubled(&x3), doubled(&x4));
    assert_eq!(first[0].to_vec::<f32>().expect("out"), doubled(&x4));
}

#[test]
fn new_input_shapes_capture_again() {
    if !common::cpu() {
        return;
    }
    let _turn = turn();
    let w = tensor(2, &[5]);
    let mut jit = Jit::new(|x: &[Tensor]| affine(&w, &x[0]));
    for (call, rows) in [4, 4, 4, 2, 2, 2, 4, 2].into_iter().enumerate() {
        let x = tensor(50 + call as u64, &[rows, 5]);
        let want = affine(&w, &x).expect("direct")[1]
            .to_vec::<f32>()
            .expect("want");
        let got = jit.call(std::slice::from_ref(&x)).expect("call")[1]
            .to_vec::<f32>()
            .expect("got");
        assert_eq!(got, want, "call {call}, {rows} rows");
    }
    for rows in [4, 2] {
        let x = tensor(0, &[rows, 5]);
        assert!(jit.captured_kernels(&[x]).is_some(), "{rows} rows captured");
    }
    let e = jit
        .call(&[tensor(0, &[3, 4])])
        .expect_err("a function error comes back");
    assert!(matches!(e, TensorError::Broadcast { .. }), "{e}");
}

fn model() -> Sequential {
    manual_seed(17);
    Sequential::new()
        .with(Linear::new(6, 16).expect("Linear"))
        .with(ReLU)
        .with(Linear::new(16, 3).expect("Linear"))
}

fn batch(step: usize) -> [Tensor; 2] {
    [
        tensor(1000 + step as u64, &[8, 6]),
        tensor(2000 + step as u64, &[8, 3]),
    ]
}

/// One training step: forward, backward, update; the loss.
fn train_step(
    model: &Sequential,
    opt: &mut dyn Optimizer,
    b: &[Tensor],
) -> frontend_tensor::Result<Vec<Tensor>> {
    opt.zero_grad()?;
    let loss = model.forward(&b[0])?.mse_loss(&b[1], Reduction::Mean)?;
    loss.backward()?;
    opt.step()?;
    Ok(vec![loss])
}

type MakeOptimizer = fn(Vec<Tensor>) -> Box<dyn Optimizer>;

/// Losses of each step and the parameters after them, with or without the JIT.
fn train(make: MakeOptimizer, jit: bool, steps: usize) -> (Vec<f32>, Vec<Vec<f32>>) {
    let model = model();
    let mut opt = make(model.parameters());
    let mut schedule = CosineAnnealingLR::new(opt.as_mut(), 4, 1e-4).expect("schedule");
    let mut losses = Vec::new();
    {
        let step = |b: &[Tensor], opt: &mut dyn Optimizer| -> Vec<Tensor> {
            train_step(&model, opt, b).expect("step")
        };
        if jit {
            let opt_cell = std::cell::RefCell::new(opt);
            let mut jitted = Jit::new(|b: &[Tensor]| Ok(step(b, opt_cell.borrow_mut().as_mut())));
            for s in 0..steps {
                let loss = &jitted.call(&batch(s)).expect("jit step")[0];
                losses.push(loss.to_vec::<f32>().expect("loss")[0]);
                schedule
                    .step(opt_cell.borrow_mut().as_mut())
                    .expect("schedule step");
            }
            assert!(jitted.captured_kernels(&batch(0)).is_some());
            opt = opt_cell.into_inner();
        } else {
            for s in 0..steps {
                let loss = &step(&batch(s), opt.as_mut())[0];
                losses.push(loss.to_vec::<f32>().expect("loss")[0]);
                schedule.step(opt.as_mut()).expect("schedule step");
            }
        }
    }
    let params = model
        .parameters()
        .iter()
        .map(|p| p.to_vec::<f32>().expect("param"))
        .collect();
    drop(opt);
    (losses, params)
}

#[test]
fn jitted_training_steps_match_the_steps_to_the_bit() {
    if !common::cpu() {
        return;
    }
    let _turn = turn();
    let optimizers: [(&str, MakeOptimizer); 4] = [
        ("SGD", |p| Box::new(SGD::new(p, 0.05).expect("SGD"))),
        ("SGD with momentum", |p| {
            let config = SgdConfig {
                momentum: 0.9,
                nesterov: true,
                ..SgdConfig::default()
            };
            Box::new(SGD::with_config(p, 0.05, config).expect("SGD"))
        }),
        ("Adam", |p| Box::new(Adam::new(p, 0.01).expect("Adam"))),
        ("AdamW", |p| Box::new(AdamW::new(p, 0.01).expect("AdamW"))),
    ];
    for (name, make) in optimizers {
        let (want_losses, want_params) = train(make, false, 7);
        let (losses, params) = train(make, true, 7);
        assert_eq!(losses, want_losses, "{name}: losses");
        assert_eq!(params, want_params, "{name}: parameters");
        assert!(
            want_losses.last() < want_losses.first(),
            "{name} trains: {want_losses:?}"
        );
    }
}

#[test]
fn replayed_steps_allocate_nothing_and_keep_adam_state() {
    if !common::cpu() {
        return;
    }
    let _turn = turn();
    let model = model();
    let adam = std::cell::RefCell::new(Adam::new(model.parameters(), 0.01).expect("Adam"));
    let mut jitted = Jit::new(|b: &[Tensor]| train_step(&model, &mut *adam.borrow_mut(), b));
    let batches: Vec<[Tensor; 2]> = (0..6).map(batch).collect();
    for b in &batches[..3] {
        jitted.call(b).expect("step");
    }
    let before = engine::memory_stats();
    for b in &batches[3..] {
        jitted.call(b).expect("step");
    }
    let after = engine::memory_stats();
    assert_eq!(after.allocations, before.allocations, "replays allocated");
    assert_eq!(after.in_use, before.in_use);
    assert_eq!(
        adam.borrow().steps(0).expect("steps"),
        6,
        "counted on the device"
    );
}
