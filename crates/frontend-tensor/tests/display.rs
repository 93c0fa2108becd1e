//! `Display` prints values as PyTorch prints them, and the operators work.

mod common;

use frontend_tensor::{DType, Tensor};

#[test]
fn tensors_print_like_pytorch() {
    if !common::cpu() {
        return;
    }
    let m = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2]).expect("m");
    assert_eq!(m.to_string(), "tensor([[1., 2.],\n        [3., 4.]])");
    let v = Tensor::from_slice(&[0.5f32, -1.25, 3.0], &[3]).expect("v");
    assert_eq!(v.to_string(), "tensor([ 0.5000, -1.2500,  3.0000])");
    let i = Tensor::from_slice(&[1i32, -20, 3], &[3]).expect("i");
    assert_eq!(i.to_string(), "tensor([  1, -20,   3], dtype=i32)");
    let b = Tensor::from_slice(&[true, false], &[2]).expect("b");
    assert_eq!(b.to_string(), "tensor([ True, False])");
    let s = Tensor::full(&[], 2.5, DType::F32).expect("s");
    assert_eq!(s.to_string(), "tensor(2.5000)");
    let tiny = Tensor::from_slice(&[1e-5f64, 1.0], &[2]).expect("tiny");
    assert_eq!(
        tiny.to_string(),
        "tensor([1.0000e-05, 1.0000e+00], dtype=f64)"
    );
    let long = Tensor::arange(2000, DType::I64).expect("long");
    assert_eq!(
        long.to_string(),
        "tensor([   0,    1,    2, ..., 1997, 1998, 1999])"
    );
    let cube = Tensor::arange(8, DType::I64)
        .and_then(|t| t.reshape(&[2, 2, 2]))
        .expect("c");
    assert_eq!(
        cube.to_string(),
        "tensor([[[0, 1],\n         [2, 3]],\n\n        [[4, 5],\n         [6, 7]]])"
    );
}

#[test]
fn operators_broadcast_and_report_errors() {
    if !common::cpu() {
        return;
    }
    let a = Tensor::from_slice(&[1.0f32, 2.0], &[2]).expect("a");
    let b = Tensor::from_slice(&[10.0f32, 20.0, 30.0, 40.0], &[2, 2]).expect("b");
    let values =
        |t: frontend_tensor::Result<Tensor>| t.and_then(|t| t.to_vec::<f32>()).expect("op");
    assert_eq!(values(&a + &b), [11.0, 22.0, 31.0, 42.0]);
    assert_eq!(values(&b - &a), [9.0, 18.0, 29.0, 38.0]);
    assert_eq!(values(&a * 2.0), [2.0, 4.0]);
    assert_eq!(values(1.0 - &a), [0.0, -1.0]);
    assert_eq!(values(&b / 10.0), [1.0, 2.0, 3.0, 4.0]);
    assert_eq!(values(2.0 / &a), [2.0, 1.0]);
    assert_eq!(values(Ok(-&a)), [-1.0, -2.0]);
    assert_eq!(values((&a * &a).and_then(|t| t + 1.0)), [2.0, 5.0]);
    let c = Tensor::from_slice(&[1.0f32, 2.0, 3.0], &[3]).expect("c");
    assert!((&a + &c).is_err(), "shapes [2] and [3] do not broadcast");
}
