//! Creating tensors: scalars (rank 0) and how they broadcast, `full`/`zeros`/`ones`,
//! `arange`, and the seeded random generators `rand`/`randn`.

mod common;

use common::{F32, Ref, SHAPES, assert_close, dims};
use frontend_tensor::{DType, Tensor};

#[test]
fn scalar_tensors() {
    if !common::cpu() {
        return;
    }
    let s = Tensor::from_slice(&[5.0f32], &[]).unwrap();
    assert_eq!(s.shape(), &[] as &[i64]);
    assert_eq!(s.to_vec::<f32>().unwrap(), vec![5.0]);
    let c = Tensor::full(&[], 2.0, DType::F32).unwrap();
    assert_eq!(c.to_vec::<f32>().unwrap(), vec![2.0]);
    assert_eq!(
        c.add_scalar(1.0).unwrap().to_vec::<f32>().unwrap(),
        vec![3.0]
    );
    // a full reduction is a scalar that broadcasts against its input
    let a = Tensor::from_slice(&[-3f32, -5., -2., -9.], &[2, 2]).unwrap();
    let total = a.sum(&[], false).unwrap();
    assert_eq!(total.shape(), &[] as &[i64]);
    assert_eq!(
        a.sub(&total).unwrap().to_vec::<f32>().unwrap(),
        vec![16.0, 14.0, 17.0, 10.0]
    );
    assert_eq!(
        total.sub(&a).unwrap().to_vec::<f32>().unwrap(),
        vec![-16.0, -14.0, -17.0, -10.0]
    );
    assert_eq!(
        s.mul(&a).unwrap().to_vec::<f32>().unwrap(),
        vec![-15.0, -25.0, -10.0, -45.0]
    );
    // scalars as where branches
    let m = Tensor::from_slice(&[1i32, 0], &[2]).unwrap();
    let yes = Tensor::full(&[], 7.0, DType::I32).unwrap();
    let no = Tensor::full(&[], -7.0, DType::I32).unwrap();
    assert_eq!(
        m.where_(&yes, &no).unwrap().to_vec::<i32>().unwrap(),
        vec![7, -7]
    );
    // a tensor listed twice in one schedule, and an empty schedule
    let e = a.exp().unwrap();
    Tensor::realize_all(&[&e, &e]).unwrap();
    let want: Vec<f32> = [-3f32, -5., -2., -9.].iter().map(|v| v.exp()).collect();
    assert_close(
        &e.to_vec::<f32>().unwrap(),
        &Ref::new(&[4], want.iter().map(|&v| f64::from(v)).collect()),
        F32,
        0.0,
        "exp",
    );
    assert_eq!(Tensor::schedule(&[]).unwrap().kernels.len(), 0);
    Tensor::realize_all(&[]).unwrap();
}

#[test]
fn creation() {
    if !common::cpu() {
        return;
    }
    for shape in SHAPES {
        let s = dims(shape);
        let n: usize = shape.iter().product();
        let full = Tensor::full(&s, 2.5, DType::F32).unwrap();
        assert_eq!(
            full.to_vec::<f32>().unwrap(),
            vec![2.5; n],
            "full {shape:?}"
        );
        let fi = Tensor::full(&s, -3.0, DType::I32).unwrap();
        assert_eq!(
            fi.to_vec::<i32>().unwrap(),
            vec![-3; n],
            "full i32 {shape:?}"
        );
        let z = Tensor::zeros(&s, DType::F32).unwrap();
        assert_eq!(z.to_vec::<f32>().unwrap(), vec![0.0; n], "zeros {shape:?}");
        let o = Tensor::ones(&s, DType::I32).unwrap();
        assert_eq!(o.to_vec::<i32>().unwrap(), vec![1; n], "ones {shape:?}");
        let ob = Tensor::ones(&s, DType::Bool).unwrap();
        assert_eq!(
            ob.to_vec::<bool>().unwrap(),
            vec![true; n],
            "ones bool {shape:?}"
        );
        // a constant used in arithmetic
        let c = Tensor::full(&s, 1.5, DType::F32)
            .unwrap()
            .mul(&Tensor::full(&s, 2.0, DType::F32).unwrap())
            .unwrap();
        assert_eq!(
            c.to_vec::<f32>().unwrap(),
            vec![3.0; n],
            "full*full {shape:?}"
        );
    }
    for n in [1, 7, 13] {
        let want: Vec<f32> = (0..n).map(|i| i as f32).collect();
        assert_eq!(
            Tensor::arange(n, DType::F32)
                .unwrap()
                .to_vec::<f32>()
                .unwrap(),
            want
        );
        let want: Vec<i32> = (0..n as i32).collect();
        assert_eq!(
            Tensor::arange(n, DType::I32)
                .unwrap()
                .to_vec::<i32>()
                .unwrap(),
            want
        );
        let want: Vec<i64> = (0..n).collect();
        assert_eq!(
            Tensor::arange(n, DType::I64)
                .unwrap()
                .to_vec::<i64>()
                .unwrap(),
            want
        );
        let want: Vec<f64> = (0..n).map(|i| i as f64).collect();
        assert_eq!(
            Tensor::arange(n, DType::F64)
                .unwrap()
                .to_vec::<f64>()
                .unwrap(),
            want
        );
    }
    let data: Vec<u8> = (0..12).collect();
    let u = Tensor::from_slice(&data, &[3, 4]).unwrap();
    assert_eq!(u.dtype(), DType::U8);
    assert_eq!(u.to_vec::<u8>().unwrap(), data);
}

/// The only test in this binary that draws from the global generator, so the draws
/// here are not interleaved with another test's.
#[test]
fn rand_and_randn() {
    if !common::cpu() {
        return;
    }
    frontend_tensor::manual_seed(42);
    let a = Tensor::rand(&[64, 64]).unwrap();
    assert_eq!(a.dtype(), DType::F32);
    let av = a.to_vec::<f32>().unwrap();
    assert!(
        av.iter().all(|v| (0.0..1.0).contains(v)),
        "rand out of [0, 1)"
    );
    let mean = av.iter().map(|&v| f64::from(v)).sum::<f64>() / av.len() as f64;
    assert!((mean - 0.5).abs() < 0.02, "rand mean {mean}");
    // the next draw differs; a reseed repeats the first
    let b = Tensor::rand(&[64, 64]).unwrap().to_vec::<f32>().unwrap();
    assert_ne!(av, b);
    frontend_tensor::manual_seed(42);
    let again = Tensor::rand(&[64, 64]).unwrap().to_vec::<f32>().unwrap();
    assert_eq!(av, again, "manual_seed does not reproduce rand");
    // odd shapes
    for shape in SHAPES {
        let t = Tensor::rand(&dims(shape)).unwrap();
        assert_eq!(t.shape(), dims(shape).as_slice());
        assert_eq!(
            t.to_vec::<f32>().unwrap().len(),
            shape.iter().product::<usize>()
        );
    }
    let n = Tensor::randn(&[101, 41]).unwrap();
    let nv = n.to_vec::<f32>().unwrap();
    let len = nv.len() as f64;
    let mean = nv.iter().map(|&v| f64::from(v)).sum::<f64>() / len;
    let var = nv
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / len;
    assert!(nv.iter().all(|v| v.is_finite()), "randn not finite");
    assert!(mean.abs() < 0.05, "randn mean {mean}");
    assert!((var - 1.0).abs() < 0.08, "randn var {var}");
    // on-device statistics agree with the host ones
    let dm = n.mean(&[], false).unwrap().to_vec::<f32>().unwrap();
    assert!((f64::from(dm[0]) - mean).abs() < 1e-4, "{dm:?} vs {mean}");
}
