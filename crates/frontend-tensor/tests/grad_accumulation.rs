//! Gradient accumulation holds one micro-batch at a time: a training step that sums the
//! gradients of 8 micro-batches (`backward` 8 times, then one optimizer step) reaches the
//! same peak of device memory (the engine's allocator statistics) as a step of one
//! micro-batch, and the accumulated gradient is the sum of the micro-batches' gradients.
//! Its own test binary: the allocator statistics are process-wide.

mod common;

use frontend_tensor::nn::{Linear, Module, ReLU, Sequential};
use frontend_tensor::optim::{Adam, Optimizer, SGD};
use frontend_tensor::{Reduction, Tensor, manual_seed};

const BATCH: i64 = 16;
const FEATURES: i64 = 32;
const HIDDEN: i64 = 64;
const OUT: i64 = 8;

fn model() -> Sequential {
    manual_seed(5);
    Sequential::new()
        .with(Linear::new(FEATURES, HIDDEN).expect("Linear"))
        .with(ReLU)
        .with(Linear::new(HIDDEN, OUT).expect("Linear"))
}

/// Micro-batch `k`: inputs and targets made on the host, as a data loader would.
fn micro_batch(k: usize) -> (Tensor, Tensor) {
    let x: Vec<f32> = (0..BATCH * FEATURES)
        .map(|i| ((i as usize * 7 + k * 13) % 23) as f32 / 23.0 - 0.5)
        .collect();
    let y: Vec<f32> = (0..BATCH * OUT)
        .map(|i| ((i as usize * 5 + k * 3) % 11) as f32 / 11.0)
        .collect();
    (
        Tensor::from_slice(&x, &[BATCH, FEATURES]).expect("x"),
        Tensor::from_slice(&y, &[BATCH, OUT]).expect("y"),
    )
}

/// One optimizer step over `micro_batches` micro-batches, each loss scaled by their count.
fn step(model: &Sequential, opt: &mut dyn Optimizer, micro_batches: usize, first: usize) {
    opt.zero_grad().expect("zero_grad");
    for k in 0..micro_batches {
        let (x, y) = micro_batch(first + k);
        let loss = model
            .forward(&x)
            .and_then(|out| out.mse_loss(&y, Reduction::Mean))
            .and_then(|l| l.mul_scalar(1.0 / micro_batches as f64))
            .expect("loss");
        loss.backward().expect("backward");
    }
    opt.step().expect("step");
}

/// The peak of device memory above what was in use before, over one step of
/// `micro_batches` (after a warm-up step that compiles the kernels and makes the
/// optimizer's state).
fn peak_of_step(micro_batches: usize, adam: bool) -> usize {
    let model = model();
    let mut opt: Box<dyn Optimizer> = if adam {
        Box::new(Adam::new(model.parameters(), 1e-3).expect("Adam"))
    } else {
        Box::new(SGD::new(model.parameters(), 1e-2).expect("SGD"))
    };
    step(&model, opt.as_mut(), micro_batches, 0);
    let before = engine::memory_stats();
    engine::reset_peak_memory();
    step(&model, opt.as_mut(), micro_batches, 100);
    let after = engine::memory_stats();
    assert_eq!(
        after.in_use, before.in_use,
        "{micro_batches} micro-batches: memory in use after a step differs from before it"
    );
    after.peak - before.in_use
}

/// Each parameter's gradient, read back.
fn grads(model: &Sequential) -> Vec<Vec<f32>> {
    model
        .parameters()
        .iter()
        .map(|p| p.grad().expect("a gradient").to_vec::<f32>().expect("read"))
        .collect()
}

/// The gradient accumulated over 8 micro-batches is the sum of their gradients, each
/// computed alone.
fn check_accumulated_sum() {
    let model = model();
    let mut want: Vec<Vec<f64>> = Vec::new();
    for k in 0..8 {
        for p in model.parameters() {
            p.set_grad(None).expect("clear");
        }
        let (x, y) = micro_batch(k);
        let loss = model
            .forward(&x)
            .and_then(|o| o.mse_loss(&y, Reduction::Mean));
        loss.expect("loss").backward().expect("backward");
        let alone = grads(&model);
        want.resize(alone.len(), Vec::new());
        for (w, g) in want.iter_mut().zip(alone) {
            w.resize(g.len(), 0.0);
            w.iter_mut().zip(g).for_each(|(w, g)| *w += f64::from(g));
        }
    }
    for p in model.parameters() {
        p.set_grad(None).expect("clear");
    }
    for k in 0..8 {
        let (x, y) = micro_batch(k);
        let loss = model
            .forward(&x)
            .and_then(|o| o.mse_loss(&y, Reduction::Mean));
        loss.expect("loss").backward().expect("backward");
    }
    for (i, (have, want)) in grads(&model).iter().zip(&want).enumerate() {
        for (j, (h, w)) in have.iter().zip(want).enumerate() {
            let tol = 1e-5 * (1.0 + w.abs());
            assert!(
                (f64::from(*h) - w).abs() <= tol,
                "parameter {i}, element {j}: accumulated {h}, sum of micro-batches {w}"
            );
        }
    }
}

#[test]
fn eight_micro_batches_sum_gradients_and_peak_like_one() {
    if !common::cpu() {
        return;
    }
    check_accumulated_sum();
    for adam in [false, true] {
        let one = peak_of_step(1, adam);
        let eight = peak_of_step(8, adam);
        assert!(one > 0);
        assert_eq!(
            eight, one,
            "adam {adam}: peak bytes of 8 micro-batches vs 1"
        );
    }
}
