//! Minimal repros of library bugs that the op tests found, kept as regression tests.
//!
//! Reductions over size-1 axes: a size-1 reduce axis reached the kernel AST as
//! `reduce[ADD [](load(..), 0)`, a REDUCE whose range operand was the CONST 0 (the size-1
//! RANGE simplified away), and the linearizer assumed every REDUCE source after the first
//! is a RANGE: it panicked (index out of bounds in `opts.rs` `split`) or failed to render
//! ("END: it closes no RANGE"). Failing at 0d92f1a, passing at 27e0994.
//!
//! Full reductions over 2+ axes failed to render ("END: RANGE is not the innermost open
//! loop"). Failing at e053ba0, passing at 0d92f1a.
//!
//! gcc 13.3 (Ubuntu 24.04) at -O2 and above miscompiles the padded, permuted gather of
//! `padded_permuted_gather` (133 of 1452 elements read as 0; correct at -O1, with
//! `-fno-tree-vrp`, and with gcc 12.2; no UB under -fsanitize=undefined,address). Found
//! by `cargo xtask fuzz-kernels --seed 202 --case 9644`; `-fno-tree-vrp` is now a default
//! C flag.

mod common;

use common::Rng;
use frontend_tensor::{DType, Tensor};

#[test]
fn sum_of_a_size_1_axis() {
    if !common::cpu() {
        return;
    }
    let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0], &[3, 1]).unwrap();
    assert_eq!(
        a.sum(&[1], false).unwrap().to_vec::<f32>().unwrap(),
        vec![1.0, 2.0, 3.0]
    );
    let b = Tensor::from_slice(&[5.0f32], &[1]).unwrap();
    assert_eq!(
        b.max(&[0], false).unwrap().to_vec::<f32>().unwrap(),
        vec![5.0]
    );
}

#[test]
fn matmul_with_inner_dim_1() {
    if !common::cpu() {
        return;
    }
    let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0], &[3, 1]).unwrap();
    let b = Tensor::from_slice(&[4.0f32, 5.0], &[1, 2]).unwrap();
    assert_eq!(
        a.matmul(&b).unwrap().to_vec::<f32>().unwrap(),
        vec![4.0, 5.0, 8.0, 10.0, 12.0, 15.0]
    );
}

#[test]
fn softmax_over_a_size_1_axis() {
    if !common::cpu() {
        return;
    }
    let a = Tensor::from_slice(&[1.0f32, -2.0], &[2, 1]).unwrap();
    assert_eq!(
        a.softmax(-1).unwrap().to_vec::<f32>().unwrap(),
        vec![1.0, 1.0]
    );
}

#[test]
fn sum_of_all_axes_with_a_size_1_dim() {
    if !common::cpu() {
        return;
    }
    let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[1, 4]).unwrap();
    assert_eq!(
        a.sum(&[], false).unwrap().to_vec::<f32>().unwrap(),
        vec![10.0]
    );
}

#[test]
fn full_reduction_over_several_axes() {
    if !common::cpu() {
        return;
    }
    let data: Vec<f32> = (1..=24).map(|v| v as f32).collect();
    let a = Tensor::from_slice(&data, &[2, 3, 4]).unwrap();
    assert_eq!(
        a.sum(&[], false).unwrap().to_vec::<f32>().unwrap(),
        vec![300.0]
    );
    let b = Tensor::from_slice(&data[..6], &[2, 1, 3]).unwrap();
    assert_eq!(
        b.max(&[0, 2], false).unwrap().to_vec::<f32>().unwrap(),
        vec![6.0]
    );
}

#[test]
fn int_tensor_with_a_float_scalar_promotes() {
    if !common::cpu() {
        return;
    }
    let a = Tensor::from_slice(&[1i32, 2, 3], &[3]).unwrap();
    let half = a.mul_scalar(0.5).unwrap();
    assert_eq!(half.dtype(), DType::F32, "i32 * 0.5");
    assert_eq!(half.to_vec::<f32>().unwrap(), vec![0.5, 1.0, 1.5]);
    let plus = a.add_scalar(2.5).unwrap();
    assert_eq!(plus.dtype(), DType::F32, "i32 + 2.5");
    assert_eq!(plus.to_vec::<f32>().unwrap(), vec![3.5, 4.5, 5.5]);
}

/// `rand`/`randn` draw the values on the host first (`rand::uniform` collects `n` f32),
/// with no check that they fit: 2^61 elements panic with "capacity overflow", and 2^40
/// (4 TiB) aborts the whole process ("memory allocation failed"), so it is not tested here.
#[test]
fn rand_of_a_huge_shape_is_an_error() {
    if !common::cpu() {
        return;
    }
    let huge = [1i64 << 61];
    let r = std::panic::catch_unwind(|| Tensor::rand(&huge).map(|_| ()));
    assert!(matches!(r, Ok(Err(_))), "rand [2^61] panicked");
    let r = std::panic::catch_unwind(|| Tensor::randn(&huge).map(|_| ()));
    assert!(matches!(r, Ok(Err(_))), "randn [2^61] panicked");
}

#[test]
fn contiguous_forces_a_kernel_boundary() {
    if !common::cpu() {
        return;
    }
    let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[4]).unwrap();
    let chain = a.add_scalar(1.0).unwrap().mul_scalar(2.0).unwrap();
    assert_eq!(Tensor::schedule(&[&chain]).unwrap().kernels.len(), 1);
    let split = a
        .add_scalar(1.0)
        .unwrap()
        .contiguous()
        .mul_scalar(2.0)
        .unwrap();
    assert_eq!(Tensor::schedule(&[&split]).unwrap().kernels.len(), 2);
    assert_eq!(split.to_vec::<f32>().unwrap(), vec![4.0, 6.0, 8.0, 10.0]);
}

/// A reduction over several axes opens all its loops together (found by fuzz-kernels).
#[test]
fn reduce_over_three_permuted_axes() {
    if !common::cpu() {
        return;
    }
    let data = [4.0f32, -3.0, -1.0, 1.0, 4.0, -4.0, 4.0, -1.0];
    let t = Tensor::from_slice(&data, &[2, 2, 1, 2]).unwrap();
    let p = t
        .permute(&[2, 0, 1, 3])
        .unwrap()
        .permute(&[1, 2, 0, 3])
        .unwrap();
    let m = p.max(&[0, 1, 3], true).unwrap();
    assert_eq!(m.to_vec::<f32>().unwrap(), vec![4.0]);
    let s = t.sum(&[0, 1, 3], false).unwrap();
    assert_eq!(s.to_vec::<f32>().unwrap(), vec![4.0]);
}

/// A reduction nested in another, upcast into lanes of which only some nest: all the lanes'
/// reductions share their loop (found by fuzz-kernels). Checked against the same program
/// cut into two kernels.
#[test]
fn nested_reductions_in_upcast_lanes() {
    if !common::cpu() {
        return;
    }
    let data = [-3.0f32, -1.0, 3.0, -4.0, -2.0, -4.0, 2.0, -4.0];
    let t0 = Tensor::from_slice(&data, &[2, 2, 1, 2]).unwrap();
    let t2 = t0
        .pad(&[(0, 1), (2, 1), (0, 0), (2, 3)])
        .unwrap()
        .sum(&[1], true)
        .unwrap();
    let pads = [(1, 2), (1, 2), (3, 3), (1, 2)];
    let fused = t2.pad(&pads).unwrap().max(&[2], true).unwrap();
    let split = t2.contiguous().pad(&pads).unwrap().max(&[2], true).unwrap();
    assert_eq!(Tensor::schedule(&[&fused]).unwrap().kernels.len(), 1);
    assert_eq!(
        fused.to_vec::<f32>().unwrap(),
        split.to_vec::<f32>().unwrap()
    );
}

/// A full sum of a flipped tensor: a nest of reduction loops read backwards, which gcc
/// 12.2's loop vectorizer miscompiled (found by fuzz-kernels, seed 11, case 1075).
#[test]
fn sum_of_a_flipped_tensor() {
    if !common::cpu() {
        return;
    }
    let t = Tensor::from_slice(&[-3.0f32, 1.0, 1.0, 4.0, 2.0, 2.0, -4.0, 3.0], &[4, 2]).unwrap();
    let s = t.flip(&[0, 1]).unwrap().sum(&[0, 1], true).unwrap();
    assert_eq!(s.to_vec::<f32>().unwrap(), vec![6.0]);
}

#[test]
fn padded_permuted_gather() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(9644);
    let (a, ra) = rng.tensor_in(&[4, 14, 5], -4.0, 4.0);
    let t = a
        .relu()
        .unwrap()
        .mul_scalar(-1.0)
        .unwrap()
        .pad(&[(0, 0), (0, 0), (1, 0)])
        .unwrap()
        .reshape(&[4, 2, 7, 6])
        .unwrap()
        .permute(&[3, 1, 2, 0])
        .unwrap()
        .pad(&[(2, 3), (1, 0), (1, 3), (0, 0)])
        .unwrap();
    let t = t.mul(&t).unwrap();
    let r = ra
        .map(|x| -x.max(0.0))
        .pad(&[(0, 0), (0, 0), (1, 0)])
        .reshape(&[4, 2, 7, 6])
        .permute(&[3, 1, 2, 0])
        .pad(&[(2, 3), (1, 0), (1, 3), (0, 0)]);
    let r = r.zip(&r, |x, y| x * y);
    common::check_f32(&t, &r, 1e-6, 0.0, "padded permuted gather");
}
