mod common;

use frontend_tensor::{DType, Tensor};

#[test]
fn elementwise_and_reduce() {
    if !common::cpu() {
        return;
    }
    let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
    let b = a.mul(&a).unwrap().add_scalar(1.0).unwrap();
    assert_eq!(
        b.to_vec::<f32>().unwrap(),
        vec![2.0, 5.0, 10.0, 17.0, 26.0, 37.0]
    );
    let s = a.sum(&[1], false).unwrap();
    assert_eq!(s.to_vec::<f32>().unwrap(), vec![6.0, 15.0]);
    let m = a.matmul(&a.transpose(0, 1).unwrap()).unwrap();
    assert_eq!(m.to_vec::<f32>().unwrap(), vec![14.0, 32.0, 32.0, 77.0]);
    let sm = a
        .softmax(-1)
        .unwrap()
        .sum(&[1], false)
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    assert!(sm.iter().all(|v| (v - 1.0).abs() < 1e-6), "{sm:?}");
    let p = a.pad(&[(1, 0), (0, 1)]).unwrap().to_vec::<f32>().unwrap();
    assert_eq!(
        p,
        vec![0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 0.0, 4.0, 5.0, 6.0, 0.0]
    );
    let z = Tensor::zeros(&[3], DType::I32)
        .unwrap()
        .to_vec::<i32>()
        .unwrap();
    assert_eq!(z, vec![0, 0, 0]);
}
