//! Casts between every pair of dtypes, and the edges of dtypes: integer wraparound (numpy
//! semantics), big integer constants, special float constants, f64 precision, narrowing
//! casts and 16-bit floats.

mod common;

use common::{Ref, Rng, SHAPES, check_bool, check_f32, check_i32, dims, pair};
use frontend_tensor::{DType, Tensor};

#[test]
fn casts() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(8);
    for shape in SHAPES {
        let n = shape.iter().product();
        let what = |op: &str| format!("{op} {shape:?}");
        // f32 -> i32 truncates toward zero
        let (f, rf) = pair(&rng.uniform(n, -100.0, 100.0), shape);
        let fi = f.cast(DType::I32).unwrap();
        assert_eq!(fi.dtype(), DType::I32);
        check_i32(&fi, &rf.map(f64::trunc), &what("f32->i32"));
        // i32 -> f32, i32 -> f64
        let (i, ri) = rng.tensor_i32(shape, 1000);
        check_f32(
            &i.cast(DType::F32).unwrap(),
            &ri,
            0.0,
            0.0,
            &what("i32->f32"),
        );
        let d = i.cast(DType::F64).unwrap().to_vec::<f64>().unwrap();
        common::assert_exact(&d, &ri, &what("i32->f64"));
        // to bool: non-zero is true; back to numbers: 1 and 0
        let zi: Vec<i32> = (0..n).map(|_| rng.range(-1, 2) as i32).collect();
        let (z, rz) = (
            Tensor::from_slice(&zi, &dims(shape)).unwrap(),
            Ref::new(shape, zi.iter().map(|&v| f64::from(v)).collect()),
        );
        let truth = rz.map(|v| f64::from(u8::from(v != 0.0)));
        let zb = z.cast(DType::Bool).unwrap();
        check_bool(&zb, &truth, &what("i32->bool"));
        let zf: Vec<f32> = zi.iter().map(|&v| v as f32 * 0.5).collect();
        let fb = Tensor::from_slice(&zf, &dims(shape))
            .unwrap()
            .cast(DType::Bool)
            .unwrap();
        check_bool(&fb, &truth, &what("f32->bool"));
        check_f32(
            &zb.cast(DType::F32).unwrap(),
            &truth,
            0.0,
            0.0,
            &what("bool->f32"),
        );
        check_i32(&zb.cast(DType::I32).unwrap(), &truth, &what("bool->i32"));
        // f32 -> f64 is exact
        let (g, rg) = rng.tensor(shape);
        let gd = g.cast(DType::F64).unwrap().to_vec::<f64>().unwrap();
        common::assert_exact(&gd, &rg, &what("f32->f64"));
    }
}

/// Integer wraparound (numpy semantics), big integer constants, special float
/// constants, f64 precision, narrowing casts and 16-bit floats.
#[test]
fn dtype_edges() {
    if !common::cpu() {
        return;
    }
    let a = Tensor::from_slice(&[200u8, 100, 255, 1], &[4]).unwrap();
    let b = Tensor::from_slice(&[100u8, 100, 1, 1], &[4]).unwrap();
    let sum = a.add(&b).unwrap();
    assert_eq!(sum.to_vec::<u8>().unwrap(), vec![44, 200, 0, 2], "u8 +");
    // the comparison sees the wrapped value, not the C int promotion of the sum
    let fifty = Tensor::full(&[1], 50.0, DType::U8).unwrap();
    assert_eq!(
        sum.lt(&fifty).unwrap().to_vec::<bool>().unwrap(),
        vec![true, false, true, true],
        "u8 (a + b) < 50"
    );
    assert_eq!(
        a.mul(&b).unwrap().to_vec::<u8>().unwrap(),
        vec![32, 16, 255, 1]
    );
    assert_eq!(
        b.sub(&a).unwrap().to_vec::<u8>().unwrap(),
        vec![156, 0, 2, 0]
    );
    assert_eq!(a.neg().to_vec::<u8>().unwrap(), vec![56, 156, 1, 255]);
    let s = a.sum(&[], false).unwrap();
    assert_eq!(s.dtype(), DType::I64, "u8 sums to i64, as in PyTorch");
    assert_eq!(s.to_vec::<i64>().unwrap(), vec![556]);
    let c = Tensor::from_slice(&[100i8, -100, 127, -128], &[4]).unwrap();
    let twice = c.add(&c).unwrap();
    assert_eq!(twice.to_vec::<i8>().unwrap(), vec![-56, 56, -2, 0], "i8 +");
    let zero = Tensor::zeros(&[1], DType::I8).unwrap();
    assert_eq!(
        twice.gt(&zero).unwrap().to_vec::<bool>().unwrap(),
        vec![false, true, false, false],
        "i8 (c + c) > 0"
    );
    // constants beyond 32 bits
    let big = Tensor::full(&[3], (1u64 << 40) as f64, DType::I64).unwrap();
    let ramp = big.add(&Tensor::arange(3, DType::I64).unwrap()).unwrap();
    let base = 1i64 << 40;
    assert_eq!(
        ramp.to_vec::<i64>().unwrap(),
        vec![base, base + 1, base + 2]
    );
    assert_eq!(
        big.sum(&[], false).unwrap().to_vec::<i64>().unwrap(),
        vec![3 * base]
    );
    let u = Tensor::from_slice(&[4_000_000_000u32, 1, 3_000_000_000], &[3]).unwrap();
    assert_eq!(
        u.max(&[], false).unwrap().to_vec::<u32>().unwrap(),
        vec![4_000_000_000]
    );
    let two_g = Tensor::full(&[1], 2e9, DType::U32).unwrap();
    assert_eq!(
        u.lt(&two_g).unwrap().to_vec::<bool>().unwrap(),
        vec![false, true, false],
        "u32 compares unsigned"
    );
    // special float constants
    for v in [f64::INFINITY, f64::NEG_INFINITY, 1e-40, 3.4e38, -0.0] {
        let got = Tensor::full(&[2], v, DType::F32)
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
        assert_eq!(got[0].to_bits(), (v as f32).to_bits(), "full({v})");
    }
    let nan = Tensor::full(&[2], f64::NAN, DType::F32)
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    assert!(nan.iter().all(|v| v.is_nan()), "full(NaN): {nan:?}");
    // f64 keeps f64 precision end to end
    let x = Tensor::from_slice(&[0.1f64, 1.0, 3.0], &[3]).unwrap();
    let y = x.mul_scalar(3.0).unwrap().exp().unwrap().log().unwrap();
    let want = [0.1f64, 1.0, 3.0].map(|v| (v * 3.0).exp().ln());
    for (g, w) in y.to_vec::<f64>().unwrap().iter().zip(want) {
        assert!(
            (g - w).abs() < 1e-13 * w.abs(),
            "f64 log(exp(3x)): {g} vs {w}"
        );
    }
    let tiny = Tensor::from_slice(&[1.0f64], &[1])
        .unwrap()
        .add_scalar(3e-16)
        .unwrap();
    assert_eq!(tiny.to_vec::<f64>().unwrap(), vec![1.0 + 3e-16], "f64 add");
    // narrowing casts wrap (integers) or truncate (floats)
    let wide = Tensor::from_slice(&[300i32, -1, 200, -129], &[4]).unwrap();
    assert_eq!(
        wide.cast(DType::U8).unwrap().to_vec::<u8>().unwrap(),
        vec![44, 255, 200, 127]
    );
    assert_eq!(
        wide.cast(DType::I8).unwrap().to_vec::<i8>().unwrap(),
        vec![44, -1, -56, 127]
    );
    let f = Tensor::from_slice(&[200.7f32, 3.2, 0.9], &[3]).unwrap();
    assert_eq!(
        f.cast(DType::U8).unwrap().to_vec::<u8>().unwrap(),
        vec![200, 3, 0]
    );
    // 16-bit floats round to nearest
    let h = Tensor::from_slice(&[1.0f32 / 3.0, 65504.0, 1e-8, -2.5], &[4]).unwrap();
    let back = |d: DType| {
        h.cast(d)
            .unwrap()
            .cast(DType::F32)
            .unwrap()
            .to_vec::<f32>()
            .unwrap()
    };
    assert_eq!(
        back(DType::F16),
        vec![0.333_251_95, 65504.0, 0.0, -2.5],
        "f16"
    );
    let bf16 = |v: f32| {
        let b = v.to_bits();
        f32::from_bits((b + 0x7fff + ((b >> 16) & 1)) & 0xffff_0000)
    };
    let want: Vec<f32> = [1.0f32 / 3.0, 65504.0, 1e-8, -2.5].map(bf16).to_vec();
    assert_eq!(back(DType::BF16), want, "bf16");
    // extremes of all-negative and all-positive data
    let neg = Tensor::from_slice(&[-3i32, -5, -2, -9], &[2, 2]).unwrap();
    assert_eq!(
        neg.max(&[1], false).unwrap().to_vec::<i32>().unwrap(),
        vec![-3, -2]
    );
    let pos = neg.neg();
    assert_eq!(
        pos.min(&[1], false).unwrap().to_vec::<i32>().unwrap(),
        vec![3, 2]
    );
    let negf = neg.cast(DType::F32).unwrap();
    assert_eq!(
        negf.max(&[0], false).unwrap().to_vec::<f32>().unwrap(),
        vec![-2.0, -5.0]
    );
    // bools: + is "or", == compares
    let p = Tensor::from_slice(&[true, false, true], &[3]).unwrap();
    let q = Tensor::from_slice(&[true, false, false], &[3]).unwrap();
    assert_eq!(
        p.add(&q).unwrap().to_vec::<bool>().unwrap(),
        vec![true, false, true]
    );
    assert_eq!(
        p.eq(&q).unwrap().to_vec::<bool>().unwrap(),
        vec![true, true, false]
    );
}
