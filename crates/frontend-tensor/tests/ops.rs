//! Every Tensor op against `common::Ref` (plain loops in f64) on seeded non-zero data, at
//! odd shapes and shapes with size-1 dims; proptest picks the shapes for broadcasting,
//! reductions over random axes and random movement chains.
//!
//! Tolerances: exact for integer ops, comparisons, casts and data movement; `F32` for
//! f32 arithmetic; `TRANS` for exp/log/sin and what is built from them; sums get an
//! absolute slack proportional to the number of terms.

mod common;

use common::{Ref, Rng, assert_close, check_bool, check_f32, check_i32, dims, pair};
use frontend_tensor::{DType, Result, Tensor};
use proptest::prelude::*;

/// Odd sizes and size-1 dims.
const SHAPES: &[&[usize]] = &[
    &[7],
    &[1],
    &[13, 5],
    &[1, 9],
    &[3, 1, 4],
    &[2, 3, 5, 1],
    &[1, 1, 1],
];

const F32: f64 = 1e-5;
const TRANS: f64 = 3e-5;
const ATOL: f64 = 1e-6;

type TensorFn = fn(&Tensor) -> Result<Tensor>;
type BinaryFn = fn(&Tensor, &Tensor) -> Result<Tensor>;

struct Unary {
    name: &'static str,
    t: TensorFn,
    r: fn(f64) -> f64,
    /// Inputs in this range; `None`: non-zero values of magnitude 0.25..2.
    domain: Option<(f64, f64)>,
    rtol: f64,
}

const UNARY: &[Unary] = &[
    Unary {
        name: "neg",
        t: |t| Ok(t.neg()),
        r: |x| -x,
        domain: None,
        rtol: 0.0,
    },
    Unary {
        name: "exp",
        t: |t| t.exp(),
        r: f64::exp,
        domain: None,
        rtol: TRANS,
    },
    Unary {
        name: "exp2",
        t: |t| t.exp2(),
        r: f64::exp2,
        domain: None,
        rtol: TRANS,
    },
    Unary {
        name: "log",
        t: |t| t.log(),
        r: f64::ln,
        domain: Some((0.1, 8.0)),
        rtol: TRANS,
    },
    Unary {
        name: "log2",
        t: |t| t.log2(),
        r: f64::log2,
        domain: Some((0.1, 8.0)),
        rtol: TRANS,
    },
    Unary {
        name: "sqrt",
        t: |t| t.sqrt(),
        r: f64::sqrt,
        domain: Some((0.1, 8.0)),
        rtol: F32,
    },
    Unary {
        name: "sin",
        t: |t| t.sin(),
        r: f64::sin,
        domain: Some((-6.0, 6.0)),
        rtol: TRANS,
    },
    Unary {
        name: "cos",
        t: |t| t.cos(),
        r: f64::cos,
        domain: Some((-6.0, 6.0)),
        rtol: TRANS,
    },
    Unary {
        name: "recip",
        t: |t| t.recip(),
        r: |x| 1.0 / x,
        domain: Some((0.1, 8.0)),
        rtol: F32,
    },
    Unary {
        name: "relu",
        t: |t| t.relu(),
        r: |x| x.max(0.0),
        domain: None,
        rtol: 0.0,
    },
    Unary {
        name: "sigmoid",
        t: |t| t.sigmoid(),
        r: |x| 1.0 / (1.0 + (-x).exp()),
        domain: Some((-6.0, 6.0)),
        rtol: TRANS,
    },
    Unary {
        name: "tanh",
        t: |t| t.tanh(),
        r: f64::tanh,
        domain: Some((-3.0, 3.0)),
        rtol: TRANS,
    },
    Unary {
        name: "abs",
        t: |t| t.abs(),
        r: f64::abs,
        domain: None,
        rtol: 0.0,
    },
    Unary {
        name: "square",
        t: |t| t.square(),
        r: |x| x * x,
        domain: None,
        rtol: F32,
    },
    Unary {
        name: "add_scalar",
        t: |t| t.add_scalar(1.5),
        r: |x| x + 1.5,
        domain: None,
        rtol: F32,
    },
    Unary {
        name: "mul_scalar",
        t: |t| t.mul_scalar(-0.75),
        r: |x| x * -0.75,
        domain: None,
        rtol: F32,
    },
];

#[test]
fn unary_f32() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(1);
    for shape in SHAPES {
        for op in UNARY {
            let (t, r) = match op.domain {
                Some((lo, hi)) => rng.tensor_in(shape, lo, hi),
                None => rng.tensor(shape),
            };
            let out = (op.t)(&t).unwrap_or_else(|e| panic!("{}: {e}", op.name));
            assert_eq!(out.dtype(), DType::F32, "{}", op.name);
            check_f32(
                &out,
                &r.map(op.r),
                op.rtol,
                if op.rtol == 0.0 { 0.0 } else { ATOL },
                &format!("{} {shape:?}", op.name),
            );
        }
    }
}

struct Binary {
    name: &'static str,
    t: BinaryFn,
    r: fn(f64, f64) -> f64,
}

const BINARY: &[Binary] = &[
    Binary {
        name: "add",
        t: |a, b| a.add(b),
        r: |x, y| x + y,
    },
    Binary {
        name: "sub",
        t: |a, b| a.sub(b),
        r: |x, y| x - y,
    },
    Binary {
        name: "mul",
        t: |a, b| a.mul(b),
        r: |x, y| x * y,
    },
    Binary {
        name: "div",
        t: |a, b| a.div(b),
        r: |x, y| x / y,
    },
    Binary {
        name: "maximum",
        t: |a, b| a.maximum(b),
        r: f64::max,
    },
    Binary {
        name: "minimum",
        t: |a, b| a.minimum(b),
        r: f64::min,
    },
];

/// Comparisons; the reference gives 1.0 for true.
const COMPARE: &[Binary] = &[
    Binary {
        name: "lt",
        t: |a, b| a.lt(b),
        r: |x, y| f64::from(u8::from(x < y)),
    },
    Binary {
        name: "gt",
        t: |a, b| a.gt(b),
        r: |x, y| f64::from(u8::from(x > y)),
    },
    Binary {
        name: "eq",
        t: |a, b| a.eq(b),
        r: |x, y| f64::from(u8::from(x == y)),
    },
    Binary {
        name: "ne",
        t: |a, b| a.ne(b),
        r: |x, y| f64::from(u8::from(x != y)),
    },
];

/// Operand shapes: equal, and broadcast from either side, with odd sizes.
const PAIRS: &[(&[usize], &[usize])] = &[
    (&[7], &[7]),
    (&[13, 5], &[13, 5]),
    (&[13, 5], &[5]),
    (&[13, 1], &[13, 5]),
    (&[1, 9], &[4, 1]),
    (&[3, 1, 4], &[1, 6, 1]),
    (&[2, 3, 5, 1], &[3, 1, 7]),
    (&[1], &[2, 3]),
];

#[test]
fn binary_f32_broadcast() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(2);
    for (sa, sb) in PAIRS {
        for op in BINARY {
            let (a, ra) = rng.tensor(sa);
            let (b, rb) = rng.tensor(sb);
            let out = (op.t)(&a, &b).unwrap_or_else(|e| panic!("{}: {e}", op.name));
            assert_eq!(out.dtype(), DType::F32, "{}", op.name);
            check_f32(
                &out,
                &ra.zip(&rb, op.r),
                F32,
                ATOL,
                &format!("{} {sa:?} {sb:?}", op.name),
            );
        }
    }
}

#[test]
fn compare_f32_gives_bool() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(3);
    for (sa, sb) in PAIRS {
        for op in COMPARE {
            // small integers as floats, so that equal values occur
            let va: Vec<f32> = rng
                .nonzero_i32(sa.iter().product(), 2)
                .iter()
                .map(|&v| v as f32)
                .collect();
            let vb: Vec<f32> = rng
                .nonzero_i32(sb.iter().product(), 2)
                .iter()
                .map(|&v| v as f32)
                .collect();
            let ((a, ra), (b, rb)) = (pair(&va, sa), pair(&vb, sb));
            let out = (op.t)(&a, &b).unwrap_or_else(|e| panic!("{}: {e}", op.name));
            assert_eq!(out.dtype(), DType::Bool, "{}", op.name);
            check_bool(
                &out,
                &ra.zip(&rb, op.r),
                &format!("{} {sa:?} {sb:?}", op.name),
            );
        }
    }
}

#[test]
fn i32_ops_are_exact() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(4);
    for (sa, sb) in PAIRS {
        for op in BINARY.iter().filter(|op| op.name != "div") {
            let (a, ra) = rng.tensor_i32(sa, 9);
            let (b, rb) = rng.tensor_i32(sb, 9);
            let out = (op.t)(&a, &b).unwrap_or_else(|e| panic!("{}: {e}", op.name));
            assert_eq!(out.dtype(), DType::I32, "{}", op.name);
            check_i32(
                &out,
                &ra.zip(&rb, op.r),
                &format!("i32 {} {sa:?} {sb:?}", op.name),
            );
        }
        for op in COMPARE {
            let (a, ra) = rng.tensor_i32(sa, 2);
            let (b, rb) = rng.tensor_i32(sb, 2);
            let out = (op.t)(&a, &b).unwrap_or_else(|e| panic!("{}: {e}", op.name));
            assert_eq!(out.dtype(), DType::Bool, "{}", op.name);
            check_bool(
                &out,
                &ra.zip(&rb, op.r),
                &format!("i32 {} {sa:?} {sb:?}", op.name),
            );
        }
    }
    for shape in SHAPES {
        let (a, ra) = rng.tensor_i32(shape, 20);
        let what = |op: &str| format!("i32 {op} {shape:?}");
        check_i32(&a.neg(), &ra.map(|x| -x), &what("neg"));
        check_i32(&a.abs().unwrap(), &ra.map(f64::abs), &what("abs"));
        check_i32(&a.square().unwrap(), &ra.map(|x| x * x), &what("square"));
        check_i32(&a.relu().unwrap(), &ra.map(|x| x.max(0.0)), &what("relu"));
        check_i32(
            &a.add_scalar(3.0).unwrap(),
            &ra.map(|x| x + 3.0),
            &what("+3"),
        );
        check_i32(
            &a.mul_scalar(-2.0).unwrap(),
            &ra.map(|x| -2.0 * x),
            &what("*-2"),
        );
    }
}

#[test]
fn i32_div_and_math_go_through_f32() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(5);
    let (a, ra) = rng.tensor_i32(&[13, 5], 50);
    let (b, rb) = rng.tensor_i32(&[5], 7);
    let q = a.div(&b).unwrap();
    assert_eq!(q.dtype(), DType::F32);
    check_f32(&q, &ra.zip(&rb, |x, y| x / y), F32, 0.0, "i32 / i32");
    let e = a.abs().unwrap().sqrt().unwrap();
    assert_eq!(e.dtype(), DType::F32);
    check_f32(&e, &ra.map(|x| x.abs().sqrt()), F32, 0.0, "sqrt(|i32|)");
}

#[test]
fn mixed_dtypes_promote() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(6);
    let (a, ra) = rng.tensor_i32(&[3, 1, 4], 9);
    let (b, rb) = rng.tensor(&[5, 1]);
    let s = a.add(&b).unwrap();
    assert_eq!(s.dtype(), DType::F32);
    check_f32(&s, &ra.zip(&rb, |x, y| x + y), F32, ATOL, "i32 + f32");
    let p = b.mul(&a).unwrap();
    assert_eq!(p.dtype(), DType::F32);
    check_f32(&p, &rb.zip(&ra, |x, y| x * y), F32, ATOL, "f32 * i32");
}

#[test]
fn where_selects_with_broadcast() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(7);
    // bool condition from a comparison, branches of other shapes
    let (x, rx) = rng.tensor(&[13, 1]);
    let (a, ra) = rng.tensor(&[5]);
    let (b, rb) = rng.tensor(&[13, 5]);
    let cond = x.gt(&Tensor::zeros(&[1], DType::F32).unwrap()).unwrap();
    let rc = rx.map(|v| f64::from(u8::from(v > 0.0)));
    let w = cond.where_(&a, &b).unwrap();
    check_f32(&w, &rc.where_(&ra, &rb), 0.0, 0.0, "where(bool, f32, f32)");
    // an i32 condition is cast to bool: zeros select the second branch
    let ci: Vec<i32> = (0..21).map(|i| i % 3 - 1).collect();
    let c = Tensor::from_slice(&ci, &[3, 7]).unwrap();
    let rcond = Ref::new(&[3, 7], ci.iter().map(|&v| f64::from(v)).collect());
    let (a, ra) = rng.tensor_i32(&[3, 7], 9);
    let (b, rb) = rng.tensor_i32(&[1, 7], 9);
    check_i32(
        &c.where_(&a, &b).unwrap(),
        &rcond.where_(&ra, &rb),
        "where(i32, i32, i32)",
    );
}

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
    assert_eq!(s.dtype(), DType::U32, "u8 sums accumulate as u32");
    assert_eq!(s.to_vec::<u32>().unwrap(), vec![556]);
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
        assert_eq!(t.to_vec::<f32>().unwrap().len(), shape.iter().product());
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

#[test]
fn movement_ops() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(9);
    let (a, ra) = rng.tensor(&[2, 3, 5, 1]);
    let exact = |t: Result<Tensor>, r: Ref, what: &str| {
        check_f32(
            &t.unwrap_or_else(|e| panic!("{what}: {e}")),
            &r,
            0.0,
            0.0,
            what,
        )
    };
    exact(a.reshape(&[6, 5]), ra.reshape(&[6, 5]), "reshape");
    exact(a.reshape(&[30]), ra.reshape(&[30]), "reshape flat");
    exact(
        a.reshape(&[5, 1, 6]),
        ra.reshape(&[5, 1, 6]),
        "reshape 5x1x6",
    );
    exact(
        a.permute(&[3, 2, 0, 1]),
        ra.permute(&[3, 2, 0, 1]),
        "permute",
    );
    exact(
        a.permute(&[1, 0, 2, 3]),
        ra.permute(&[1, 0, 2, 3]),
        "permute 1023",
    );
    exact(
        a.expand(&[2, 3, 5, 4]),
        ra.expand(&[2, 3, 5, 4]),
        "expand last",
    );
    exact(
        a.pad(&[(1, 0), (0, 2), (3, 1), (1, 1)]),
        ra.pad(&[(1, 0), (0, 2), (3, 1), (1, 1)]),
        "pad",
    );
    exact(
        a.shrink(&[(1, 2), (0, 3), (1, 4), (0, 1)]),
        ra.shrink(&[(1, 2), (0, 3), (1, 4), (0, 1)]),
        "shrink",
    );
    exact(a.flip(&[0, 2]), ra.flip(&[0, 2]), "flip 0,2");
    exact(a.flip(&[1]), ra.flip(&[1]), "flip 1");
    exact(a.flip(&[]), ra.clone(), "flip none");
    exact(a.transpose(1, 2), ra.permute(&[0, 2, 1, 3]), "transpose");
    exact(
        a.transpose(3, 0),
        ra.permute(&[3, 1, 2, 0]),
        "transpose 3,0",
    );
    exact(a.unsqueeze(0), ra.reshape(&[1, 2, 3, 5, 1]), "unsqueeze 0");
    exact(
        a.unsqueeze(4),
        ra.reshape(&[2, 3, 5, 1, 1]),
        "unsqueeze end",
    );
    exact(
        a.unsqueeze(2),
        ra.reshape(&[2, 3, 1, 5, 1]),
        "unsqueeze mid",
    );
    // slicing: negative indices from the end, out-of-range ends clamped, missing dims whole
    exact(
        a.slice(&[(0, 1), (-2, 100)]),
        ra.shrink(&[(0, 1), (1, 3), (0, 5), (0, 1)]),
        "slice",
    );
    exact(
        a.slice(&[(-100, 2), (0, 3), (2, -1)]),
        ra.shrink(&[(0, 2), (0, 3), (2, 4), (0, 1)]),
        "slice negative end",
    );
    let (b, rb) = rng.tensor(&[13, 1]);
    exact(
        b.broadcast_to(&[2, 13, 5]),
        rb.broadcast_to(&[2, 13, 5]),
        "broadcast_to",
    );
    exact(b.broadcast_to(&[13, 1]), rb.clone(), "broadcast_to same");
    // movement of i32 and of bool data
    let (i, ri) = rng.tensor_i32(&[3, 1, 4], 9);
    check_i32(
        &i.permute(&[2, 0, 1])
            .unwrap()
            .pad(&[(1, 1), (0, 0), (0, 2)])
            .unwrap()
            .flip(&[0])
            .unwrap(),
        &ri.permute(&[2, 0, 1])
            .pad(&[(1, 1), (0, 0), (0, 2)])
            .flip(&[0]),
        "i32 permute pad flip",
    );
    let c = i.gt(&Tensor::zeros(&[1], DType::I32).unwrap()).unwrap();
    let rc = ri.map(|v| f64::from(u8::from(v > 0.0)));
    check_bool(
        &c.pad(&[(0, 1), (2, 0), (0, 0)])
            .unwrap()
            .flip(&[2])
            .unwrap(),
        &rc.pad(&[(0, 1), (2, 0), (0, 0)]).flip(&[2]),
        "bool pad",
    );
}

#[test]
fn reductions_every_axis() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(10);
    for shape in SHAPES {
        let rank = shape.len() as isize;
        let (a, ra) = rng.tensor(shape);
        let n: usize = shape.iter().product();
        let sum_tol = 1e-6 * n as f64 * 2.0;
        // each axis, given positive and negative, and all axes
        let mut cases: Vec<Vec<isize>> = (0..rank).map(|d| vec![d]).collect();
        cases.extend((0..rank).map(|d| vec![d - rank]));
        cases.push(vec![]);
        if rank >= 2 {
            cases.push(vec![0, rank - 1]);
        }
        for axes in cases {
            let ax: Vec<usize> = axes
                .iter()
                .map(|&d| {
                    if d < 0 {
                        (d + rank) as usize
                    } else {
                        d as usize
                    }
                })
                .collect();
            for keepdim in [false, true] {
                let what = |op: &str| format!("{op} {shape:?} axes {axes:?} keepdim {keepdim}");
                check_f32(
                    &a.sum(&axes, keepdim).unwrap(),
                    &ra.sum(&ax, keepdim),
                    F32,
                    sum_tol,
                    &what("sum"),
                );
                check_f32(
                    &a.max(&axes, keepdim).unwrap(),
                    &ra.max(&ax, keepdim),
                    0.0,
                    0.0,
                    &what("max"),
                );
                check_f32(
                    &a.min(&axes, keepdim).unwrap(),
                    &ra.min(&ax, keepdim),
                    0.0,
                    0.0,
                    &what("min"),
                );
                check_f32(
                    &a.mean(&axes, keepdim).unwrap(),
                    &ra.mean(&ax, keepdim),
                    F32,
                    sum_tol,
                    &what("mean"),
                );
                check_f32(
                    &a.var(&axes, keepdim).unwrap(),
                    &ra.var(&ax, keepdim),
                    1e-4,
                    sum_tol,
                    &what("var"),
                );
            }
        }
    }
}

#[test]
fn reductions_of_integers_and_bools() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(11);
    for shape in SHAPES {
        let (a, ra) = rng.tensor_i32(shape, 50);
        let last = shape.len() - 1;
        let what = |op: &str, axes: &[usize]| format!("i32 {op} {shape:?} axes {axes:?}");
        for keepdim in [false, true] {
            let s = a.sum(&[-1], keepdim).unwrap();
            assert_eq!(s.dtype(), DType::I32);
            check_i32(&s, &ra.sum(&[last], keepdim), &what("sum", &[last]));
            check_i32(
                &a.max(&[0], keepdim).unwrap(),
                &ra.max(&[0], keepdim),
                &what("max", &[0]),
            );
            let m = a.mean(&[0], keepdim).unwrap();
            assert_eq!(m.dtype(), DType::F32);
            check_f32(&m, &ra.mean(&[0], keepdim), F32, 1e-5, &what("mean", &[0]));
            check_i32(
                &a.min(&[], keepdim).unwrap(),
                &ra.min(&[], keepdim),
                &what("min", &[]),
            );
        }
        // counting trues: a bool sum accumulates as i32
        let pos = a.gt(&Tensor::zeros(&[1], DType::I32).unwrap()).unwrap();
        let count = pos.sum(&[], false).unwrap();
        assert_eq!(count.dtype(), DType::I32);
        let want = ra.map(|v| f64::from(u8::from(v > 0.0))).sum(&[], false);
        check_i32(&count, &want, &what("bool count", &[]));
    }
}

#[test]
fn matmul_shapes() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(12);
    for (m, k, n) in [
        (1, 1, 1),
        (3, 5, 7),
        (13, 1, 4),
        (1, 9, 1),
        (8, 8, 8),
        (2, 33, 3),
    ] {
        let (a, ra) = rng.tensor(&[m, k]);
        let (b, rb) = rng.tensor(&[k, n]);
        // matmul reduces [m, n, k] over k
        check_f32(
            &a.matmul(&b).unwrap(),
            &ra.matmul(&rb),
            F32,
            1e-6 * 4.0 * k as f64,
            &format!("matmul {m}x{k} @ {k}x{n}"),
        );
    }
    // transposed operands and a chain
    let (a, ra) = rng.tensor(&[5, 6]);
    let (b, rb) = rng.tensor(&[7, 6]);
    let (c, rc) = rng.tensor(&[7, 3]);
    let t = a
        .matmul(&b.transpose(0, 1).unwrap())
        .unwrap()
        .matmul(&c)
        .unwrap();
    let rt = ra.matmul(&rb.permute(&[1, 0])).matmul(&rc);
    check_f32(&t, &rt, 1e-5, 1e-4, "(a @ b.T) @ c");
    // integer matmul is exact
    let (x, rx) = rng.tensor_i32(&[4, 3], 9);
    let (y, ry) = rng.tensor_i32(&[3, 5], 9);
    check_i32(&x.matmul(&y).unwrap(), &rx.matmul(&ry), "i32 matmul");
}

#[test]
fn softmax_and_layernorm() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(13);
    for shape in SHAPES {
        let (a, ra) = rng.tensor(shape);
        let rank = shape.len();
        for axis in 0..rank {
            let what = |op: &str| format!("{op} {shape:?} axis {axis}");
            check_f32(
                &a.softmax(axis as isize).unwrap(),
                &ra.softmax(axis),
                TRANS,
                ATOL,
                &what("softmax"),
            );
            check_f32(
                &a.softmax(axis as isize - rank as isize).unwrap(),
                &ra.softmax(axis),
                TRANS,
                ATOL,
                &what("softmax negative axis"),
            );
            // eps keeps the size-1 axes (variance 0) finite
            check_f32(
                &a.layernorm(axis as isize, 1e-5).unwrap(),
                &ra.layernorm(axis, 1e-5),
                1e-4,
                1e-4,
                &what("layernorm"),
            );
        }
    }
}

#[test]
fn extreme_inputs() {
    if !common::cpu() {
        return;
    }
    // softmax subtracts the max: large logits do not overflow
    let big = Tensor::from_slice(
        &[1000.0f32, 1001.0, 1002.0, -1000.0, -1001.0, -1002.0],
        &[2, 3],
    )
    .unwrap();
    let r = Ref::new(&[2, 3], vec![0.0, 1.0, 2.0, 0.0, -1.0, -2.0]);
    check_f32(
        &big.softmax(1).unwrap(),
        &r.softmax(1),
        TRANS,
        1e-7,
        "softmax of large logits",
    );
    // saturating functions at the ends of their range
    let x = Tensor::from_slice(&[-100.0f32, -50.0, 50.0, 100.0], &[4]).unwrap();
    let sig = x.sigmoid().unwrap().to_vec::<f32>().unwrap();
    assert!(
        sig[0] >= 0.0 && sig[0] < 1e-30 && sig[3] == 1.0,
        "sigmoid {sig:?}"
    );
    assert_eq!(
        x.tanh().unwrap().to_vec::<f32>().unwrap(),
        vec![-1.0, -1.0, 1.0, 1.0]
    );
    assert_eq!(
        x.relu().unwrap().to_vec::<f32>().unwrap(),
        vec![0.0, 0.0, 50.0, 100.0]
    );
    // overflow and the edges of the domain give IEEE results
    let e = x.exp().unwrap().to_vec::<f32>().unwrap();
    assert!(
        e[3].is_infinite() && (0.0..1e-40).contains(&e[0]),
        "exp {e:?}"
    );
    let z = Tensor::from_slice(&[0.0f32, 4.0], &[2]).unwrap();
    assert_eq!(
        z.log2().unwrap().to_vec::<f32>().unwrap(),
        vec![f32::NEG_INFINITY, 2.0]
    );
    assert_eq!(z.sqrt().unwrap().to_vec::<f32>().unwrap(), vec![0.0, 2.0]);
    assert_eq!(
        z.recip().unwrap().to_vec::<f32>().unwrap(),
        vec![f32::INFINITY, 0.25]
    );
    // layernorm of a constant row is 0 (the variance is 0; eps keeps it finite)
    let c = Tensor::full(&[3, 5], 2.5, DType::F32).unwrap();
    let ln = c.layernorm(1, 1e-5).unwrap().to_vec::<f32>().unwrap();
    assert!(
        ln.iter().all(|v| *v == 0.0),
        "layernorm of a constant: {ln:?}"
    );
}

#[test]
fn realize_then_reuse() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(14);
    let (a, ra) = rng.tensor(&[13, 5]);
    let e = a.exp().unwrap();
    let s = a.sum(&[1], true).unwrap();
    Tensor::realize_all(&[&e, &s]).unwrap();
    let re = ra.map(f64::exp);
    let rs = ra.sum(&[1], true);
    check_f32(&e, &re, TRANS, ATOL, "exp after realize_all");
    check_f32(&s, &rs, F32, 1e-5, "sum after realize_all");
    // a realized tensor feeds a new graph, and realizing again is a no-op
    let d = e.sub(&s).unwrap();
    d.realize().unwrap();
    d.realize().unwrap();
    check_f32(
        &d,
        &re.zip(&rs, |x, y| x - y),
        TRANS,
        1e-5,
        "realized - realized",
    );
    // the clone of a tensor sees its realization
    let c = d.clone();
    check_f32(&c, &re.zip(&rs, |x, y| x - y), TRANS, 1e-5, "clone");
    // realize_all of an already realized tensor and a new one
    let m = d.mul_scalar(2.0).unwrap();
    Tensor::realize_all(&[&d, &m]).unwrap();
    check_f32(
        &m,
        &re.zip(&rs, |x, y| 2.0 * (x - y)),
        TRANS,
        1e-5,
        "realize_all mixed",
    );
}

#[test]
fn larger_shapes_exercise_opts() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(15);
    // big enough for upcast, unroll and thread splits; sizes that divide nothing evenly
    let (a, ra) = rng.tensor(&[517, 33]);
    let (b, rb) = rng.tensor(&[33]);
    check_f32(
        &a.mul(&b).unwrap(),
        &ra.zip(&rb, |x, y| x * y),
        F32,
        0.0,
        "[517,33] * [33]",
    );
    let (c, rc) = rng.tensor(&[300, 257]);
    for axis in [0usize, 1] {
        check_f32(
            &c.sum(&[axis as isize], false).unwrap(),
            &rc.sum(&[axis], false),
            F32,
            1e-4,
            &format!("sum [300,257] axis {axis}"),
        );
        check_f32(
            &c.max(&[axis as isize], true).unwrap(),
            &rc.max(&[axis], true),
            0.0,
            0.0,
            &format!("max [300,257] axis {axis}"),
        );
    }
    check_f32(
        &c.sum(&[], false).unwrap(),
        &rc.sum(&[], false),
        F32,
        2e-3,
        "sum all",
    );
    let (d, rd) = rng.tensor(&[1024, 64]);
    check_f32(
        &d.sum(&[1], false).unwrap(),
        &rd.sum(&[1], false),
        F32,
        1e-4,
        "sum [1024,64]",
    );
    let (x, rx) = rng.tensor(&[65, 67]);
    let (y, ry) = rng.tensor(&[67, 31]);
    check_f32(
        &x.matmul(&y).unwrap(),
        &rx.matmul(&ry),
        F32,
        1e-4,
        "matmul 65x67x31",
    );
    let (p, rp) = rng.tensor(&[128, 128]);
    let (q, rq) = rng.tensor(&[128, 128]);
    check_f32(
        &p.matmul(&q).unwrap(),
        &rp.matmul(&rq),
        F32,
        2e-4,
        "matmul 128^3",
    );
    let (s, rs) = rng.tensor(&[64, 1000]);
    check_f32(
        &s.softmax(-1).unwrap(),
        &rs.softmax(1),
        TRANS,
        1e-6,
        "softmax [64,1000]",
    );
    check_f32(
        &s.layernorm(-1, 1e-5).unwrap(),
        &rs.layernorm(1, 1e-5),
        1e-4,
        1e-4,
        "layernorm [64,1000]",
    );
    // prime lengths, reduced along and across the contiguous axis
    let (t, rt) = rng.tensor(&[3, 100_003]);
    check_f32(
        &t.sum(&[1], false).unwrap(),
        &rt.sum(&[1], false),
        F32,
        1e-2,
        "sum prime",
    );
    let tt = t.transpose(0, 1).unwrap();
    check_f32(
        &tt.sum(&[0], false).unwrap(),
        &rt.sum(&[1], false),
        F32,
        1e-2,
        "sum prime T",
    );
    let (x, rx) = rng.tensor(&[1, 4099]);
    let (y, ry) = rng.tensor(&[4099, 3]);
    check_f32(
        &x.matmul(&y).unwrap(),
        &rx.matmul(&ry),
        F32,
        1e-3,
        "matmul 1x4099x3",
    );
    let (i, ri) = rng.tensor_i32(&[333, 129], 100);
    check_i32(
        &i.sum(&[0], false).unwrap(),
        &ri.sum(&[0], false),
        "i32 sum [333,129]",
    );
    check_i32(
        &i.sum(&[1], false).unwrap(),
        &ri.sum(&[1], false),
        "i32 sum axis 1",
    );
}

#[test]
fn shared_subexpressions() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(16);
    // one node read by an elementwise op, a reduction over each axis and a movement op
    let (a, ra) = rng.tensor(&[13, 7]);
    let x = a.exp().unwrap();
    let rx = ra.map(f64::exp);
    let t = x
        .add(&x.sum(&[0], true).unwrap())
        .unwrap()
        .mul(&x.max(&[1], true).unwrap())
        .unwrap()
        .sub(&x.flip(&[0, 1]).unwrap())
        .unwrap();
    let rt = rx
        .zip(&rx.sum(&[0], true), |v, s| v + s)
        .zip(&rx.max(&[1], true), |v, m| v * m)
        .zip(&rx.flip(&[0, 1]), |v, f| v - f);
    check_f32(&t, &rt, TRANS, 1e-5, "x + sum0(x) * max1(x) - flip(x)");
    // a node read through two different permutations
    let (b, rb) = rng.tensor(&[6, 6]);
    let y = b.mul_scalar(3.0).unwrap();
    let u = y.add(&y.transpose(0, 1).unwrap()).unwrap();
    let ry = rb.map(|v| 3.0 * v);
    check_f32(
        &u,
        &ry.zip(&ry.permute(&[1, 0]), |p, q| p + q),
        F32,
        0.0,
        "y + y.T",
    );
    // several outputs of one schedule that share inputs
    let (c, rc) = rng.tensor(&[5, 9]);
    let o1 = c.sum(&[1], false).unwrap();
    let o2 = c.mul(&c).unwrap().sum(&[1], false).unwrap();
    let o3 = c.sub(&c.mean(&[1], true).unwrap()).unwrap();
    Tensor::realize_all(&[&o1, &o2, &o3]).unwrap();
    check_f32(&o1, &rc.sum(&[1], false), F32, 1e-5, "o1");
    check_f32(&o2, &rc.map(|v| v * v).sum(&[1], false), F32, 1e-5, "o2");
    check_f32(
        &o3,
        &rc.zip(&rc.mean(&[1], true), |v, m| v - m),
        F32,
        1e-5,
        "o3",
    );
    // a reduction of a reduction, and a reduction fed by a broadcast of a reduction
    let (d, rd) = rng.tensor(&[4, 6, 5]);
    let r2 = d.sum(&[2], false).unwrap().max(&[0], false).unwrap();
    check_f32(
        &r2,
        &rd.sum(&[2], false).max(&[0], false),
        F32,
        1e-5,
        "max0(sum2)",
    );
    let v = d.var(&[1], false).unwrap();
    check_f32(
        &v,
        &rd.var(&[1], false),
        1e-4,
        1e-5,
        "var over the middle axis",
    );
}

// ---------------------------------------------------------------------------------------
// proptest: shapes

/// 48 cases (each compiles a few kernels; identical kernels are cached), or
/// `PROPTEST_CASES` for a longer run.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48);
    ProptestConfig {
        cases,
        // failures are reported with their inputs; a regression becomes a named test
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A shape of rank 1..=4 with dims 1..=6, size-1 dims likely.
fn shape() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(prop_oneof![Just(1usize), 1usize..=6], 1..=4)
}

/// Two shapes that broadcast: `b` keeps or sets to 1 each trailing dim of `a`, and may
/// drop leading dims; the pair may be swapped.
fn broadcast_pair() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    shape().prop_flat_map(|a| {
        let rank = a.len();
        (
            Just(a),
            prop::collection::vec(any::<bool>(), rank),
            0..rank,
            any::<bool>(),
        )
            .prop_map(|(a, ones, drop, swap)| {
                let b: Vec<usize> = a
                    .iter()
                    .zip(&ones)
                    .skip(drop)
                    .map(|(&d, &one)| if one { 1 } else { d })
                    .collect();
                if swap { (b, a) } else { (a, b) }
            })
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn prop_elementwise_broadcast(
        (sa, sb) in broadcast_pair(),
        op in 0..BINARY.len() + COMPARE.len(),
        seed in any::<u64>(),
    ) {
        if !common::cpu() {
            return Ok(());
        }
        let mut rng = Rng::new(seed);
        let (a, ra) = rng.tensor(&sa);
        let (b, rb) = rng.tensor(&sb);
        let what = format!("{sa:?} {sb:?} seed {seed}");
        if let Some(op) = BINARY.get(op) {
            let out = (op.t)(&a, &b).unwrap();
            check_f32(&out, &ra.zip(&rb, op.r), F32, ATOL, &format!("{} {what}", op.name));
        } else {
            let op = &COMPARE[op - BINARY.len()];
            let out = (op.t)(&a, &b).unwrap();
            check_bool(&out, &ra.zip(&rb, op.r), &format!("{} {what}", op.name));
        }
    }

    #[test]
    fn prop_reduce_random_axes(
        shape in shape(),
        mask in any::<u8>(),
        negative in any::<bool>(),
        keepdim in any::<bool>(),
        op in 0..4usize,
        seed in any::<u64>(),
    ) {
        if !common::cpu() {
            return Ok(());
        }
        let rank = shape.len();
        let ax: Vec<usize> = (0..rank).filter(|d| mask & (1 << d) != 0).collect();
        let axes: Vec<isize> = ax
            .iter()
            .map(|&d| if negative { d as isize - rank as isize } else { d as isize })
            .collect();
        let mut rng = Rng::new(seed);
        let (a, ra) = rng.tensor(&shape);
        let n: usize = shape.iter().product();
        let what = format!("op {op} {shape:?} axes {axes:?} keepdim {keepdim} seed {seed}");
        let (t, r, tol) = match op {
            0 => (a.sum(&axes, keepdim), ra.sum(&ax, keepdim), 2e-6 * n as f64),
            1 => (a.max(&axes, keepdim), ra.max(&ax, keepdim), 0.0),
            2 => (a.min(&axes, keepdim), ra.min(&ax, keepdim), 0.0),
            _ => (a.mean(&axes, keepdim), ra.mean(&ax, keepdim), 2e-6 * n as f64),
        };
        check_f32(&t.unwrap(), &r, F32, tol, &what);
    }

    #[test]
    fn prop_movement_chain(
        shape in shape(),
        len in 1..=5usize,
        seed in any::<u64>(),
    ) {
        if !common::cpu() {
            return Ok(());
        }
        let mut rng = Rng::new(seed);
        let chain = random_chain(&mut rng, &shape, len);
        let (a, ra) = rng.tensor(&shape);
        let what = format!("{shape:?} then {chain:?} (seed {seed})");
        let (mut t, mut r) = (a, ra);
        for m in &chain {
            t = m.apply(&t).unwrap_or_else(|e| panic!("{what}: {m:?}: {e}"));
            r = m.apply_ref(&r);
        }
        // the chain alone (a copy kernel), and reductions through it: a sum over the
        // first axis and a max over a random set of axes, realized together
        let rank = r.shape.len();
        let ax: Vec<usize> = (0..rank).filter(|_| rng.range(0, 2) == 0).collect();
        let axes: Vec<isize> = ax.iter().map(|&d| d as isize).collect();
        let n = r.shape[0] as f64;
        let outs = [
            (t.clone(), r.clone(), (0.0, 0.0), what.clone()),
            (
                t.sum(&[0], false).unwrap(),
                r.sum(&[0], false),
                (F32, 2e-6 * n),
                format!("sum(0) of {what}"),
            ),
            (
                t.max(&axes, true).unwrap(),
                r.max(&ax, true),
                (0.0, 0.0),
                format!("max({ax:?}) of {what}"),
            ),
        ];
        Tensor::realize_all(&outs.iter().map(|o| &o.0).collect::<Vec<_>>()).unwrap();
        for (t, r, (rtol, atol), what) in &outs {
            check_f32(t, r, *rtol, *atol, what);
        }
    }
}

/// One movement op, on a Tensor or on a Ref.
#[derive(Clone, Debug)]
enum Mv {
    Reshape(Vec<usize>),
    Permute(Vec<usize>),
    Expand(Vec<usize>),
    Pad(Vec<(usize, usize)>),
    Shrink(Vec<(usize, usize)>),
    Flip(Vec<usize>),
}

impl Mv {
    fn apply(&self, t: &Tensor) -> Result<Tensor> {
        match self {
            Mv::Reshape(s) => t.reshape(&dims(s)),
            Mv::Permute(p) => t.permute(p),
            Mv::Expand(s) => t.expand(&dims(s)),
            Mv::Pad(p) => {
                let p: Vec<(i64, i64)> = p.iter().map(|&(b, a)| (b as i64, a as i64)).collect();
                t.pad(&p)
            }
            Mv::Shrink(r) => {
                let r: Vec<(i64, i64)> = r.iter().map(|&(b, e)| (b as i64, e as i64)).collect();
                t.shrink(&r)
            }
            Mv::Flip(a) => t.flip(a),
        }
    }

    fn apply_ref(&self, r: &Ref) -> Ref {
        match self {
            Mv::Reshape(s) => r.reshape(s),
            Mv::Permute(p) => r.permute(p),
            Mv::Expand(s) => r.expand(s),
            Mv::Pad(p) => r.pad(p),
            Mv::Shrink(s) => r.shrink(s),
            Mv::Flip(a) => r.flip(a),
        }
    }

    fn out_shape(&self, shape: &[usize]) -> Vec<usize> {
        match self {
            Mv::Reshape(s) | Mv::Expand(s) => s.clone(),
            Mv::Permute(p) => p.iter().map(|&a| shape[a]).collect(),
            Mv::Pad(p) => shape.iter().zip(p).map(|(s, (b, a))| s + b + a).collect(),
            Mv::Shrink(r) => r.iter().map(|(b, e)| e - b).collect(),
            Mv::Flip(_) => shape.to_vec(),
        }
    }
}

/// `len` valid movement ops starting from `shape`, kept under 4096 elements.
fn random_chain(rng: &mut Rng, shape: &[usize], len: usize) -> Vec<Mv> {
    let mut shape = shape.to_vec();
    let mut chain = Vec::new();
    while chain.len() < len {
        let rank = shape.len();
        let numel: usize = shape.iter().product();
        let m = match rng.range(0, 6) {
            0 => Mv::Reshape(random_reshape(rng, &shape)),
            1 => {
                let mut p: Vec<usize> = (0..rank).collect();
                for i in (1..rank).rev() {
                    p.swap(i, rng.range(0, i as i64 + 1) as usize);
                }
                Mv::Permute(p)
            }
            2 if numel <= 512 => {
                if !shape.contains(&1) {
                    // make a size-1 dim to grow
                    let mut s = shape.clone();
                    s.insert(rng.range(0, rank as i64 + 1) as usize, 1);
                    chain.push(Mv::Reshape(s.clone()));
                    shape = s;
                }
                let grown: Vec<usize> = shape
                    .iter()
                    .map(|&d| {
                        if d == 1 && rng.range(0, 2) == 0 {
                            rng.range(2, 5) as usize
                        } else {
                            d
                        }
                    })
                    .collect();
                Mv::Expand(grown)
            }
            3 if numel <= 512 => Mv::Pad(
                (0..rank)
                    .map(|_| (rng.range(0, 3) as usize, rng.range(0, 3) as usize))
                    .collect(),
            ),
            5 => Mv::Flip((0..rank).filter(|_| rng.range(0, 2) == 0).collect()),
            _ => Mv::Shrink(
                shape
                    .iter()
                    .map(|&d| {
                        let b = rng.range(0, d as i64) as usize;
                        (b, rng.range(b as i64 + 1, d as i64 + 1) as usize)
                    })
                    .collect(),
            ),
        };
        shape = m.out_shape(&shape);
        chain.push(m);
    }
    chain
}

/// A reshape of `shape`: merge two neighbours, split a dim, or add/remove a size-1 dim.
fn random_reshape(rng: &mut Rng, shape: &[usize]) -> Vec<usize> {
    let mut s = shape.to_vec();
    match rng.range(0, 3) {
        0 if s.len() >= 2 => {
            let i = rng.range(0, s.len() as i64 - 1) as usize;
            let d = s.remove(i + 1);
            s[i] *= d;
        }
        1 => {
            let i = rng.range(0, s.len() as i64) as usize;
            let d = s[i];
            if let Some(f) = (2..d).find(|f| d.is_multiple_of(*f)) {
                s[i] = f;
                s.insert(i + 1, d / f);
            } else {
                s.insert(i, 1);
            }
        }
        _ => {
            if let Some(i) = s.iter().position(|&d| d == 1).filter(|_| s.len() > 1) {
                s.remove(i);
            } else {
                s.insert(rng.range(0, s.len() as i64 + 1) as usize, 1);
            }
        }
    }
    s
}
