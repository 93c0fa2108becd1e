//! The autograd API: leaves, `backward` accumulation, `no_grad`, `detach`, realizing a
//! loss before `backward`, and the errors of misuse.

mod common;

use frontend_tensor::{DType, NoGradGuard, Tensor, TensorError, no_grad};

fn leaf(v: &[f32], shape: &[i64]) -> Tensor {
    Tensor::from_slice(v, shape)
        .and_then(|t| t.requires_grad_(true))
        .expect("leaf")
}

fn grad_of(t: &Tensor) -> Vec<f32> {
    t.grad()
        .expect("a gradient")
        .to_vec::<f32>()
        .expect("realize")
}

#[test]
fn backward_fills_and_accumulates_leaf_gradients() {
    if !common::cpu() {
        return;
    }
    let x = leaf(&[1.0, 2.0, 3.0], &[3]);
    let loss = x.square().and_then(|t| t.sum(&[], false)).expect("loss");
    assert!(loss.requires_grad());
    loss.backward().expect("backward");
    assert_eq!(grad_of(&x), [2.0, 4.0, 6.0]);
    // a second backward adds to the gradient
    let loss = x
        .mul_scalar(3.0)
        .and_then(|t| t.sum(&[], false))
        .expect("loss");
    loss.backward().expect("backward");
    assert_eq!(grad_of(&x), [5.0, 7.0, 9.0]);
    x.set_grad(None).expect("clear");
    assert!(x.grad().is_none());
}

#[test]
fn a_loss_realized_before_backward_still_has_its_graph() {
    if !common::cpu() {
        return;
    }
    let w = leaf(&[0.5, -1.0], &[2]);
    let h = w.mul_scalar(2.0).expect("h");
    // an intermediate realized on its own, then used
    h.realize().expect("h");
    let loss = h.exp().and_then(|t| t.sum(&[], false)).expect("loss");
    let value = loss.to_vec::<f32>().expect("loss")[0];
    assert!((value - (1f32.exp() + (-2f32).exp())).abs() < 1e-5);
    loss.backward().expect("backward");
    let g = grad_of(&w);
    assert!((g[0] - 2.0 * 1f32.exp()).abs() < 1e-5, "{g:?}");
    assert!((g[1] - 2.0 * (-2f32).exp()).abs() < 1e-5, "{g:?}");
}

#[test]
fn no_grad_and_detach_stop_gradients() {
    if !common::cpu() {
        return;
    }
    let x = leaf(&[1.0, 2.0], &[2]);
    let frozen = no_grad(|| x.mul_scalar(10.0)).expect("frozen");
    assert!(!frozen.requires_grad());
    let loss = frozen
        .mul(&x)
        .and_then(|t| t.add(&x.detach().square()?))
        .and_then(|t| t.sum(&[], false))
        .expect("loss");
    loss.backward().expect("backward");
    // d/dx (10x)·x with 10x frozen is 10x; the detached square gives nothing
    assert_eq!(grad_of(&x), [10.0, 20.0]);
    let _guard = NoGradGuard::enter();
    assert!(!x.mul_scalar(2.0).expect("y").requires_grad());
}

#[test]
fn relu_has_gradient_zero_at_zero_and_maximum_splits_ties() {
    if !common::cpu() {
        return;
    }
    let x = leaf(&[-1.0, 0.0, 2.0], &[3]);
    let loss = x.relu().and_then(|t| t.sum(&[], false)).expect("loss");
    loss.backward().expect("backward");
    assert_eq!(grad_of(&x), [0.0, 0.0, 1.0], "PyTorch: relu'(0) = 0");
    let y = leaf(&[0.0, 1.0, 2.0], &[3]);
    let z = leaf(&[0.0, 3.0, 2.0], &[3]);
    let loss = y.maximum(&z).and_then(|t| t.sum(&[], false)).expect("loss");
    loss.backward().expect("backward");
    assert_eq!(grad_of(&y), [0.5, 0.0, 0.5]);
    assert_eq!(grad_of(&z), [0.5, 1.0, 0.5]);
}

#[test]
fn misuse_is_an_error_that_says_what_to_do() {
    if !common::cpu() {
        return;
    }
    let x = leaf(&[1.0, 2.0], &[2]);
    let not_scalar = x.square().expect("y");
    let e = not_scalar.backward().expect_err("needs one element");
    assert!(e.to_string().contains("backward_with"), "{e}");
    let ints = Tensor::from_slice(&[1i32], &[1]).expect("ints");
    assert!(matches!(
        ints.requires_grad_(true),
        Err(TensorError::DType { .. })
    ));
    let unrelated = Tensor::from_slice(&[1.0f32], &[1]).expect("u");
    let loss = x.sum(&[], false).expect("loss");
    let e = loss.gradient(&[&unrelated]).expect_err("not used");
    assert!(e.to_string().contains("not used"), "{e}");
    let frozen = no_grad(|| x.sum(&[], false)).expect("frozen");
    let e = frozen.backward().expect_err("no grad path");
    assert!(e.to_string().contains("requires grad"), "{e}");
    let wrong = Tensor::ones(&[3], DType::F32).expect("g");
    assert!(matches!(
        x.set_grad(Some(wrong)),
        Err(TensorError::GradShape { .. })
    ));
}

#[test]
fn dropout_passes_the_gradient_through_the_kept_elements_only() {
    if !common::cpu() {
        return;
    }
    let x = leaf(&[1.0; 64], &[64]);
    let y = x.dropout(0.5, true).expect("dropout");
    y.realize().expect("y");
    let kept: Vec<bool> = y
        .to_vec::<f32>()
        .expect("y")
        .iter()
        .map(|&v| v != 0.0)
        .collect();
    y.sum(&[], false)
        .and_then(|l| l.backward())
        .expect("backward");
    let g = grad_of(&x);
    for (k, g) in kept.iter().zip(&g) {
        assert_eq!(*g, if *k { 2.0 } else { 0.0 });
    }
    assert!(kept.iter().any(|k| *k) && kept.iter().any(|k| !*k));
}
