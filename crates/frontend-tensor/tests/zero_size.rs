//! Tensors with a dim of size 0 are legal, as in PyTorch: they hold no elements, ops on
//! them give empty results (no kernel runs), and reductions over an empty dim give the
//! op's identity.

mod common;

use frontend_tensor::{DType, Tensor};

#[test]
fn empty_tensors_flow_through_ops() {
    if !common::cpu() {
        return;
    }
    let empty: &[f32] = &[];
    let e = Tensor::from_slice(empty, &[0, 3]).expect("empty");
    assert_eq!(e.numel(), 0);
    assert_eq!(e.to_vec::<f32>().expect("values"), empty);
    let y = e.add_scalar(1.0).and_then(|t| t.exp()).expect("ops");
    assert_eq!(y.shape(), [0, 3]);
    assert!(y.to_vec::<f32>().expect("values").is_empty());
    assert_eq!(e.reshape(&[3, 0]).expect("reshape").shape(), [3, 0]);
    assert_eq!(e.transpose(0, 1).expect("t").shape(), [3, 0]);
    // reductions: over the empty dim, the identity; over others, empty
    let s = e.sum(&[0], false).expect("sum");
    assert_eq!(s.to_vec::<f32>().expect("sum"), [0.0, 0.0, 0.0]);
    assert_eq!(e.sum(&[1], false).expect("sum").shape(), [0]);
    assert!(e.max(&[0], false).is_err(), "a max of nothing is undefined");
    // a product with an empty inner dim is zeros
    let a = Tensor::zeros(&[2, 0], DType::F32).expect("a");
    let b = Tensor::zeros(&[0, 4], DType::F32).expect("b");
    let m = a.matmul(&b).expect("matmul");
    assert_eq!(m.to_vec::<f32>().expect("matmul"), [0.0; 8]);
    // joining with an empty piece
    let x = Tensor::from_slice(&[1.0f32, 2.0, 3.0], &[1, 3]).expect("x");
    let c = Tensor::cat(&[&e, &x, &e], 0).expect("cat");
    assert_eq!(c.to_vec::<f32>().expect("cat"), [1.0, 2.0, 3.0]);
    // an empty slice, as Python's x[2:1]
    let s = x.slice(&[(0, 1), (2, 1)]).expect("slice");
    assert_eq!(s.shape(), [1, 0]);
    assert_eq!(Tensor::arange(0, DType::I64).expect("arange").numel(), 0);
    assert!(Tensor::full(&[-1], 0.0, DType::F32).is_err());
}

#[test]
fn index_entries_out_of_range_select_zeros_and_positions_are_checked() {
    if !common::cpu() {
        return;
    }
    use frontend_tensor::Idx;
    let x = Tensor::from_slice(&[1.0f32, 2.0, 3.0], &[3]).expect("x");
    let idx = Tensor::from_slice(&[2i64, 7, -1, -9], &[4]).expect("idx");
    let got = x
        .index(&[Idx::Tensor(idx)])
        .and_then(|t| t.to_vec::<f32>())
        .expect("index");
    assert_eq!(got, [3.0, 0.0, 3.0, 0.0], "7 and -9 are outside a dim of 3");
    assert!(x.index(&[Idx::At(3)]).is_err());
    assert!(x.index(&[Idx::At(0), Idx::At(0)]).is_err());
    let g = x
        .gather(0, &Tensor::from_slice(&[5i64], &[1]).expect("i"))
        .and_then(|t| t.to_vec::<f32>());
    assert_eq!(g.ok(), Some(vec![0.0]));
}
