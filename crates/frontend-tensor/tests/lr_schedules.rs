//! Learning-rate schedules against the rates PyTorch 2.15's schedulers set on an
//! optimizer with lr 0.1 (printed by `torch.optim.lr_scheduler`, the first value being
//! the rate after the scheduler is made, then one per `step()`), and their errors.

mod common;

use frontend_tensor::optim::{
    Anneal, CosineAnnealingLR, LinearLR, LrScheduler, OneCycleLR, Optimizer, SGD, StepLR,
};
use frontend_tensor::{DType, Tensor};

fn optimizer() -> SGD {
    let p = Tensor::zeros(&[1], DType::F32)
        .and_then(|t| t.contiguous().requires_grad_(true))
        .expect("p");
    SGD::new(vec![p], 0.1).expect("SGD")
}

/// The rates after creation and after each of `want.len() - 1` steps, against `want`.
fn check(what: &str, make: impl FnOnce(&mut dyn Optimizer) -> Box<dyn LrScheduler>, want: &[f64]) {
    let mut opt = optimizer();
    let mut schedule = make(&mut opt);
    let mut got = vec![opt.lr()];
    for _ in 1..want.len() {
        schedule.step(&mut opt).expect("step");
        got.push(opt.lr());
        assert_eq!(schedule.last_lr().expect("last_lr"), opt.lr(), "{what}");
    }
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-12 * w.abs().max(1e-3),
            "{what}: rate {i} is {g}, torch's is {w}\n got {got:?}\nwant {want:?}"
        );
    }
}

#[test]
fn schedules_set_the_rates_torch_sets() {
    if !common::cpu() {
        return;
    }
    check(
        "StepLR(3, 0.5)",
        |o| Box::new(StepLR::new(o, 3, 0.5).expect("StepLR")),
        &[
            0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125, 0.0125,
        ],
    );
    check(
        "CosineAnnealingLR(8, 0.001)",
        |o| Box::new(CosineAnnealingLR::new(o, 8, 0.001).expect("cosine")),
        &[
            0.1,
            0.0962320368593087,
            0.0855017856687341,
            0.06944282990207196,
            0.0505,
            0.03155717009792806,
            0.0154982143312659,
            0.004767963140691306,
            0.001,
            0.004767963140691307,
            0.01549821433126591,
            0.03155717009792807,
            0.05050000000000005,
        ],
    );
    check(
        "LinearLR(0.25, 1.0, 4)",
        |o| Box::new(LinearLR::new(o, 0.25, 1.0, 4).expect("linear")),
        &[0.025, 0.04375, 0.0625, 0.08125, 0.1, 0.1, 0.1],
    );
    check(
        "OneCycleLR(0.1, 10)",
        |o| Box::new(OneCycleLR::new(o, 0.1, 10).expect("1cycle")),
        &[
            0.0040000000000000036,
            0.052000000000000005,
            0.1,
            0.09504846320134738,
            0.0811745653949763,
            0.06112620219362893,
            0.03887419780637107,
            0.0188258346050237,
            0.004951936798652629,
            4e-07,
        ],
    );
    check(
        "OneCycleLR(0.1, 7, pct_start 0.4, linear, 10, 100)",
        |o| {
            Box::new(
                OneCycleLR::with_options(o, 0.1, 7, 0.4, Anneal::Linear, 10.0, 100.0)
                    .expect("1cycle"),
            )
        },
        &[
            0.01,
            0.06,
            0.09524285714285716,
            0.07145714285714286,
            0.04767142857142857,
            0.023885714285714288,
            0.00010000000000000286,
        ],
    );
}

#[test]
fn bad_schedules_are_errors() {
    if !common::cpu() {
        return;
    }
    let mut opt = optimizer();
    assert!(StepLR::new(&mut opt, 0, 0.5).is_err());
    assert!(CosineAnnealingLR::new(&mut opt, 0, 0.0).is_err());
    assert!(LinearLR::new(&mut opt, 0.0, 1.0, 3).is_err());
    let mut one = OneCycleLR::new(&mut opt, 0.1, 2).expect("1cycle");
    one.step(&mut opt).expect("the last step");
    let e = one.step(&mut opt).unwrap_err().to_string();
    assert!(
        e.contains("OneCycleLR") && e.contains("past the 2 total steps"),
        "{e}"
    );
}
