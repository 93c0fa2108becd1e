//! Training steps compile their kernels once: after the first steps, further steps (with
//! the learning rate changed by a schedule at every step, and Adam's bias corrections
//! changing too) add no program to the engine's cache, since those values reach the
//! kernels as tensors, not as constants. Its own test binary: the cache is process-wide.

mod common;

use frontend_tensor::nn::{Linear, Module};
use frontend_tensor::optim::{Adam, CosineAnnealingLR, LrScheduler, Optimizer, SGD, SgdConfig};
use frontend_tensor::{DType, Tensor, manual_seed};

fn train(opt: &mut dyn Optimizer, model: &Linear, x: &Tensor, steps: usize) {
    let mut schedule = CosineAnnealingLR::new(opt, 50, 0.0).expect("schedule");
    for _ in 0..steps {
        opt.zero_grad().expect("zero_grad");
        let loss = model
            .forward(x)
            .and_then(|y| y.square()?.mean(&[], false))
            .expect("loss");
        loss.backward().expect("backward");
        opt.step_with(&[&loss]).expect("step");
        schedule.step(opt).expect("schedule step");
    }
}

#[test]
fn later_steps_compile_nothing() {
    if !common::cpu() {
        return;
    }
    manual_seed(9);
    let x = Tensor::arange(12, DType::F32)
        .and_then(|t| t.reshape(&[4, 3]))
        .expect("x");
    let model = Linear::new(3, 2).expect("Linear");
    let momentum = SgdConfig {
        momentum: 0.9,
        ..SgdConfig::default()
    };
    let optimizers: Vec<(&str, Box<dyn Optimizer>)> = vec![
        (
            "SGD",
            Box::new(SGD::with_config(model.parameters(), 0.01, momentum).expect("SGD")),
        ),
        (
            "Adam",
            Box::new(Adam::new(model.parameters(), 0.01).expect("Adam")),
        ),
    ];
    for (name, mut opt) in optimizers {
        train(opt.as_mut(), &model, &x, 3);
        let compiled = engine::cached_programs();
        let lr = opt.lr();
        train(opt.as_mut(), &model, &x, 4);
        assert_ne!(opt.lr(), lr, "{name}: the schedule moved the learning rate");
        assert_eq!(
            engine::cached_programs(),
            compiled,
            "{name}: steps after the first ones compiled new kernels"
        );
    }
}
