//! Elementwise ops against `common::Ref` on seeded non-zero data: every unary op at odd
//! shapes, binary ops and comparisons with broadcasting (tables `UNARY`, `BINARY`,
//! `COMPARE`), integer arithmetic, promotion of mixed dtypes, `where`, extreme inputs, and
//! a proptest over random broadcastable shape pairs.

mod common;

use common::prop::broadcast_pair;
use common::{ATOL, F32, Ref, Rng, SHAPES, TRANS, check_bool, check_f32, check_i32, pair};
use frontend_tensor::{DType, Result, Tensor};
use proptest::prelude::*;

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

proptest! {
    #![proptest_config(common::prop::config())]

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
}
