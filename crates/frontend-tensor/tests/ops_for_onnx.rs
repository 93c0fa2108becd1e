//! Ops added for the ONNX importer, against plain Rust references on random data:
//! inverse hyperbolic functions.

mod common;

use frontend_tensor::Tensor;

fn values(data: &[f32], f: impl Fn(&Tensor) -> frontend_tensor::Result<Tensor>) -> Vec<f32> {
    let t = Tensor::from_slice(data, &[data.len() as i64]).expect("tensor");
    f(&t).and_then(|y| y.to_vec::<f32>()).expect("realize")
}

fn assert_close(got: &[f32], want: impl Iterator<Item = f64>, what: &str) {
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let g = f64::from(*g);
        let ok = (g - w).abs() <= 1e-5 * (1.0 + w.abs()) || (g.is_nan() && w.is_nan()) || g == w;
        assert!(ok, "{what}: element {i} is {g}, want {w}");
    }
}

#[test]
fn inverse_hyperbolic_functions_match_std() {
    if !common::cpu() {
        return;
    }
    let wide: Vec<f32> = (0..41).map(|i| (i as f32 - 20.0) * 0.37).collect();
    assert_close(
        &values(&wide, Tensor::asinh),
        wide.iter().map(|&x| f64::from(x).asinh()),
        "asinh",
    );
    let above_one: Vec<f32> = (0..30).map(|i| 1.0 + i as f32 * 0.61).collect();
    assert_close(
        &values(&above_one, Tensor::acosh),
        above_one.iter().map(|&x| f64::from(x).acosh()),
        "acosh",
    );
    let unit: Vec<f32> = (0..21).map(|i| (i as f32 - 10.0) * 0.095).collect();
    assert_close(
        &values(&unit, Tensor::atanh),
        unit.iter().map(|&x| f64::from(x).atanh()),
        "atanh",
    );
    let outside = values(&[0.5, 2.0], Tensor::acosh);
    assert!(outside[0].is_nan() && outside[1] > 1.3, "{outside:?}");
}
