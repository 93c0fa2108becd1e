//! Fused or not, an op gives the same bits: for every op and float dtype, `op(pre(x))` in
//! one schedule equals `op` applied to `pre(x)` realized first. A result that depended on
//! where kernels split would show here (as f16 chains once did: rounded only at stores).

mod common;

use common::Rng;
use frontend_tensor::{DType, Result, Tensor};

type Op = (&'static str, fn(&Tensor, &Tensor) -> Result<Tensor>);

const OPS: &[Op] = &[
    ("neg", |x, _| Ok(x.neg())),
    ("abs", |x, _| x.abs()),
    ("relu", |x, _| x.relu()),
    ("square", |x, _| x.square()),
    ("exp", |x, _| x.exp()),
    ("exp2", |x, _| x.exp2()),
    ("log", |x, _| x.abs()?.log()),
    ("log2", |x, _| x.abs()?.log2()),
    ("sqrt", |x, _| x.abs()?.sqrt()),
    ("sin", |x, _| x.sin()),
    ("cos", |x, _| x.cos()),
    ("recip", |x, _| x.recip()),
    ("sigmoid", |x, _| x.sigmoid()),
    ("tanh", |x, _| x.tanh()),
    ("add", |x, y| x.add(y)),
    ("sub", |x, y| x.sub(y)),
    ("mul", |x, y| x.mul(y)),
    ("div", |x, y| x.div(y)),
    ("maximum", |x, y| x.maximum(y)),
    ("minimum", |x, y| x.minimum(y)),
    ("add scalar", |x, _| x.add_scalar(0.1)),
    ("sum", |x, _| x.sum(&[1], false)),
    ("sum all", |x, _| x.sum(&[], false)),
    ("mean", |x, _| x.mean(&[0], true)),
    ("max", |x, _| x.max(&[1], false)),
    ("min", |x, _| x.min(&[0], false)),
    ("var", |x, _| x.var(&[1], false)),
    ("softmax", |x, _| x.softmax(1)),
    ("layernorm", |x, _| x.layernorm(1, 1e-5)),
    ("matmul", |x, y| x.matmul(&y.transpose(0, 1)?)),
];

const DTYPES: &[DType] = &[
    DType::F16,
    DType::BF16,
    DType::F32,
    DType::F64,
    DType::Fp8E4M3,
    DType::Fp8E5M2,
];

/// The values as f64 bit patterns (every dtype here converts to f64 exactly).
fn bits(t: &Tensor) -> Vec<u64> {
    let v = t
        .cast(DType::F64)
        .and_then(|t| t.to_vec::<f64>())
        .expect("realize");
    v.iter()
        .map(|x| if x.is_nan() { u64::MAX } else { x.to_bits() })
        .collect()
}

#[test]
fn every_op_gives_the_same_bits_fused_or_realized_first() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(77);
    let shape = [5i64, 12];
    for &dtype in DTYPES {
        let x = Tensor::from_slice(&rng.nonzero(60), &shape)
            .and_then(|t| t.cast(dtype))
            .expect("x");
        let y = Tensor::from_slice(&rng.nonzero(60), &shape)
            .and_then(|t| t.cast(dtype))
            .expect("y");
        Tensor::realize_all(&[&x, &y]).expect("inputs");
        // the op's input is itself computed: fused, its kernel computes both
        let pre = |x: &Tensor| x.mul_scalar(1.5)?.add_scalar(-0.25);
        for (name, op) in OPS {
            let fused = op(&pre(&x).expect("pre"), &y).expect(name);
            let first = pre(&x).expect("pre");
            first.realize().expect("realize");
            let split = op(&first, &y).expect(name);
            assert_eq!(fused.dtype(), split.dtype(), "{name} {dtype}");
            assert_eq!(bits(&fused), bits(&split), "{name} of {dtype}");
        }
    }
}
