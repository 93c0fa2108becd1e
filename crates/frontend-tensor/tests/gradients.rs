//! Every differentiable op's gradient against central finite differences, in f64, at
//! random shapes (broadcast operands, reduced axes, odd sizes). The loss is
//! `sum(op(inputs) * w)` with random weights `w`, so every output element matters.

mod common;

use common::Rng;
use frontend_tensor::{Conv2dOpts, CrossEntropyOpts, DType, Pool2dOpts, Reduction, Result, Tensor};
use proptest::prelude::*;

/// Where an input's values come from.
#[derive(Clone, Copy)]
enum Domain {
    /// |x| in [0.25, 2), either sign.
    Signed,
    /// x in [0.5, 2).
    Positive,
}

type Shapes = fn(&mut Rng) -> Vec<Vec<i64>>;
type Function = fn(&[Tensor]) -> Result<Tensor>;

struct Case {
    name: &'static str,
    domains: &'static [Domain],
    shapes: Shapes,
    f: Function,
}

use Domain::{Positive, Signed};

fn dim(rng: &mut Rng) -> i64 {
    rng.range(1, 5)
}

/// A shape of rank 1 to 3.
fn shape(rng: &mut Rng) -> Vec<i64> {
    let rank = rng.range(1, 4) as usize;
    (0..rank).map(|_| dim(rng)).collect()
}

fn one(rng: &mut Rng) -> Vec<Vec<i64>> {
    vec![shape(rng)]
}

/// Two shapes that broadcast: the second has some dims (or leading dims) of size 1.
fn broadcast_pair(rng: &mut Rng) -> Vec<Vec<i64>> {
    let a = shape(rng);
    let mut b: Vec<i64> = a
        .iter()
        .map(|&d| if rng.range(0, 3) == 0 { 1 } else { d })
        .collect();
    if b.len() > 1 && rng.range(0, 2) == 0 {
        b.remove(0);
    }
    if rng.range(0, 2) == 0 {
        vec![a, b]
    } else {
        vec![b, a]
    }
}

fn same_pair(rng: &mut Rng) -> Vec<Vec<i64>> {
    let a = shape(rng);
    vec![a.clone(), a]
}

fn matrix_pair(rng: &mut Rng) -> Vec<Vec<i64>> {
    let (m, k, n) = (dim(rng), dim(rng), dim(rng));
    vec![vec![m, k], vec![k, n]]
}

fn last_axis(t: &Tensor) -> isize {
    t.shape().len() as isize - 1
}

const CASES: &[Case] = &[
    Case {
        name: "neg",
        domains: &[Signed],
        shapes: one,
        f: |x| Ok(x[0].neg()),
    },
    Case {
        name: "abs",
        domains: &[Signed],
        shapes: one,
        f: |x| x[0].abs(),
    },
    Case {
        name: "relu",
        domains: &[Signed],
        shapes: one,
        f: |x| x[0].relu(),
    },
    Case {
        name: "square",
        domains: &[Signed],
        shapes: one,
        f: |x| x[0].square(),
    },
    Case {
        name: "exp",
        domains: &[Signed],
        shapes: one,
        f: |x| x[0].exp(),
    },
    Case {
        name: "exp2",
        domains: &[Signed],
        shapes: one,
        f: |x| x[0].exp2(),
    },
    Case {
        name: "log",
        domains: &[Positive],
        shapes: one,
        f: |x| x[0].log(),
    },
    Case {
        name: "log2",
        domains: &[Positive],
        shapes: one,
        f: |x| x[0].log2(),
    },
    Case {
        name: "sqrt",
        domains: &[Positive],
        shapes: one,
        f: |x| x[0].sqrt(),
    },
    Case {
        name: "sin",
        domains: &[Signed],
        shapes: one,
        f: |x| x[0].sin(),
    },
    Case {
        name: "cos",
        domains: &[Signed],
        shapes: one,
        f: |x| x[0].cos(),
    },
    Case {
        name: "recip",
        domains: &[Signed],
        shapes: one,
        f: |x| x[0].recip(),
    },
    Case {
        name: "sigmoid",
        domains: &[Signed],
        shapes: one,
        f: |x| x[0].sigmoid(),
    },
    Case {
        name: "tanh",
        domains: &[Signed],
        shapes: one,
        f: |x| x[0].tanh(),
    },
    Case {
        name: "add",
        domains: &[Signed, Signed],
        shapes: broadcast_pair,
        f: |x| x[0].add(&x[1]),
    },
    Case {
        name: "sub",
        domains: &[Signed, Signed],
        shapes: broadcast_pair,
        f: |x| x[0].sub(&x[1]),
    },
    Case {
        name: "mul",
        domains: &[Signed, Signed],
        shapes: broadcast_pair,
        f: |x| x[0].mul(&x[1]),
    },
    Case {
        name: "div",
        domains: &[Signed, Signed],
        shapes: broadcast_pair,
        f: |x| x[0].div(&x[1]),
    },
    Case {
        name: "pow",
        domains: &[Positive, Signed],
        shapes: broadcast_pair,
        f: |x| x[0].pow(&x[1]),
    },
    Case {
        name: "maximum",
        domains: &[Signed, Signed],
        shapes: broadcast_pair,
        f: |x| x[0].maximum(&x[1]),
    },
    Case {
        name: "minimum",
        domains: &[Signed, Signed],
        shapes: broadcast_pair,
        f: |x| x[0].minimum(&x[1]),
    },
    Case {
        name: "where",
        domains: &[Signed, Signed, Signed],
        shapes: |r| {
            let s = same_pair(r);
            vec![s[0].clone(), s[0].clone(), s[1].clone()]
        },
        f: |x| {
            x[0].gt(&x[0].mul_scalar(0.0)?)?
                .where_(&x[1], &x[2])?
                .add(&x[0])
        },
    },
    Case {
        name: "sum all",
        domains: &[Signed],
        shapes: one,
        f: |x| x[0].sum(&[], false),
    },
    Case {
        name: "sum last",
        domains: &[Signed],
        shapes: one,
        f: |x| x[0].sum(&[last_axis(&x[0])], false),
    },
    Case {
        name: "sum first keepdim",
        domains: &[Signed],
        shapes: one,
        f: |x| x[0].sum(&[0], true),
    },
    Case {
        name: "max",
        domains: &[Signed],
        shapes: one,
        f: |x| x[0].max(&[last_axis(&x[0])], false),
    },
    Case {
        name: "min",
        domains: &[Signed],
        shapes: one,
        f: |x| x[0].min(&[0], true),
    },
    Case {
        name: "mean",
        domains: &[Signed],
        shapes: one,
        f: |x| x[0].mean(&[], false),
    },
    Case {
        name: "var",
        domains: &[Signed],
        shapes: one,
        f: |x| x[0].var(&[0], false),
    },
    Case {
        name: "softmax",
        domains: &[Signed],
        shapes: one,
        f: |x| x[0].softmax(-1),
    },
    Case {
        name: "layernorm",
        domains: &[Signed],
        shapes: one,
        f: |x| x[0].layernorm(-1, 1e-5),
    },
    Case {
        name: "matmul",
        domains: &[Signed, Signed],
        shapes: matrix_pair,
        f: |x| x[0].matmul(&x[1]),
    },
    Case {
        name: "reshape",
        domains: &[Signed],
        shapes: one,
        f: |x| x[0].reshape(&[x[0].numel()]),
    },
    Case {
        name: "transpose",
        domains: &[Signed],
        shapes: one,
        f: |x| x[0].transpose(0, x[0].shape().len() - 1),
    },
    Case {
        name: "expand",
        domains: &[Signed],
        shapes: |r| vec![vec![dim(r), 1]],
        f: |x| x[0].expand(&[x[0].shape()[0], 3]),
    },
    Case {
        name: "pad",
        domains: &[Signed],
        shapes: one,
        f: |x| x[0].pad(&vec![(1, 2); x[0].shape().len()]),
    },
    Case {
        name: "slice",
        domains: &[Signed],
        shapes: |r| vec![vec![dim(r) + 2, dim(r) + 1]],
        f: |x| x[0].slice(&[(1, -1), (0, -1)]),
    },
    Case {
        name: "flip",
        domains: &[Signed],
        shapes: one,
        f: |x| x[0].flip(&[0]),
    },
    Case {
        name: "contiguous",
        domains: &[Signed],
        shapes: one,
        f: |x| x[0].contiguous().square(),
    },
    Case {
        name: "batched matmul",
        domains: &[Signed, Signed],
        shapes: |r| {
            let (b, m, k, n) = (dim(r), dim(r), dim(r), dim(r));
            vec![vec![b, 1, m, k], vec![2, k, n]]
        },
        f: |x| x[0].matmul(&x[1]),
    },
    Case {
        name: "conv2d",
        domains: &[Signed, Signed, Signed],
        shapes: |r| {
            vec![
                vec![2, 4, 4 + dim(r), 3 + dim(r)],
                vec![4, 2, 3, 2],
                vec![4],
            ]
        },
        f: |x| {
            let opts = Conv2dOpts {
                stride: (2, 1),
                padding: (1, 1),
                dilation: (1, 2),
                groups: 2,
            };
            x[0].conv2d(&x[1], Some(&x[2]), &opts)
        },
    },
    Case {
        name: "max_pool2d",
        domains: &[Signed],
        shapes: |r| vec![vec![1, 2, 3 + dim(r), 3 + dim(r)]],
        f: |x| {
            x[0].max_pool2d(&Pool2dOpts {
                kernel: (2, 3),
                stride: Some((1, 2)),
                padding: (1, 1),
                dilation: (1, 1),
            })
        },
    },
    Case {
        name: "avg_pool2d",
        domains: &[Signed],
        shapes: |r| vec![vec![2, 1, 3 + dim(r), 4 + dim(r)]],
        f: |x| x[0].avg_pool2d(&Pool2dOpts::square(2)),
    },
    Case {
        name: "log_softmax",
        domains: &[Signed],
        shapes: one,
        f: |x| x[0].log_softmax(-1),
    },
    Case {
        name: "logsumexp",
        domains: &[Signed],
        shapes: one,
        f: |x| x[0].logsumexp(&[0], false),
    },
    Case {
        name: "cross_entropy",
        domains: &[Signed],
        shapes: |r| vec![vec![4, 2 + dim(r)]],
        f: |x| {
            let target = Tensor::from_slice(&[0i64, 1, 0, 1], &[4])?;
            let opts = CrossEntropyOpts {
                ignore_index: Some(0),
                label_smoothing: 0.1,
                reduction: Reduction::Mean,
            };
            x[0].cross_entropy(&target, &opts)
        },
    },
    Case {
        name: "gelu",
        domains: &[Signed],
        shapes: one,
        f: |x| x[0].gelu(),
    },
    Case {
        name: "gelu_tanh",
        domains: &[Signed],
        shapes: one,
        f: |x| x[0].gelu_tanh(),
    },
    Case {
        name: "silu",
        domains: &[Signed],
        shapes: one,
        f: |x| x[0].silu(),
    },
    Case {
        name: "embedding",
        domains: &[Signed],
        shapes: |r| vec![vec![3, dim(r)]],
        f: |x| Tensor::from_slice(&[2i64, 0, 2, 1, 1], &[5])?.embedding(&x[0]),
    },
    Case {
        name: "cat",
        domains: &[Signed, Signed],
        shapes: |r| {
            let (a, b, c) = (dim(r), dim(r), dim(r));
            vec![vec![a, b], vec![a, c]]
        },
        f: |x| Tensor::cat(&[&x[0], &x[1], &x[0]], 1),
    },
    Case {
        name: "stack",
        domains: &[Signed, Signed],
        shapes: same_pair,
        f: |x| Tensor::stack(&[&x[0], &x[1]], -1),
    },
    Case {
        name: "repeat",
        domains: &[Signed],
        shapes: |r| vec![vec![dim(r), 2]],
        f: |x| x[0].repeat(&[2, 1, 3]),
    },
    Case {
        name: "used twice",
        domains: &[Signed],
        shapes: one,
        f: |x| x[0].mul(&x[0].exp()?)?.add(&x[0]),
    },
];

fn data(rng: &mut Rng, domain: Domain, n: usize) -> Vec<f64> {
    match domain {
        Signed => rng.nonzero(n).iter().map(|&v| f64::from(v)).collect(),
        Positive => (0..n).map(|_| 0.5 + 1.5 * rng.unit()).collect(),
    }
}

fn tensor(values: &[f64], shape: &[i64]) -> Tensor {
    Tensor::from_slice(values, shape).expect("input")
}

/// `sum(f(inputs) * w)`, evaluated.
fn loss_of(case: &Case, inputs: &[Tensor], w: &Tensor) -> Result<Tensor> {
    (case.f)(inputs)?.mul(w)?.sum(&[], false)
}

fn value(t: &Tensor) -> f64 {
    t.to_vec::<f64>().expect("loss")[0]
}

fn check(case: &Case, seed: u64) -> std::result::Result<(), String> {
    let mut rng = Rng::new(seed);
    let shapes = (case.shapes)(&mut rng);
    let data: Vec<Vec<f64>> = shapes
        .iter()
        .zip(case.domains)
        .map(|(s, &d)| data(&mut rng, d, s.iter().product::<i64>() as usize))
        .collect();
    let inputs: Vec<Tensor> = data
        .iter()
        .zip(&shapes)
        .map(|(d, s)| tensor(d, s))
        .collect();
    let out = (case.f)(&inputs).map_err(|e| e.to_string())?;
    let w = tensor(
        &rng.nonzero(out.numel() as usize)
            .iter()
            .map(|&v| f64::from(v))
            .collect::<Vec<_>>(),
        out.shape(),
    );
    let loss = loss_of(case, &inputs, &w).map_err(|e| e.to_string())?;
    let refs: Vec<&Tensor> = inputs.iter().collect();
    let grads = loss.gradient(&refs).map_err(|e| e.to_string())?;
    let h = 1e-6;
    for (k, g) in grads.iter().enumerate() {
        if g.shape() != inputs[k].shape() {
            return Err(format!("input {k}: gradient shape {:?}", g.shape()));
        }
        let analytic = g.to_vec::<f64>().map_err(|e| e.to_string())?;
        for i in 0..data[k].len() {
            let at = |delta: f64| {
                let mut moved = inputs.clone();
                let mut d = data[k].clone();
                d[i] += delta;
                moved[k] = tensor(&d, &shapes[k]);
                loss_of(case, &moved, &w).map(|l| value(&l))
            };
            let numeric = (at(h).map_err(|e| e.to_string())?
                - at(-h).map_err(|e| e.to_string())?)
                / (2.0 * h);
            let tol = 1e-5 * (1.0 + numeric.abs());
            if (analytic[i] - numeric).abs() > tol {
                return Err(format!(
                    "input {k} of shapes {shapes:?}, element {i}: analytic {} vs numeric {numeric}",
                    analytic[i]
                ));
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]
    #[test]
    fn gradients_match_central_differences(seed in any::<u64>()) {
        if common::cpu() {
            for case in CASES {
                if let Err(e) = check(case, seed) {
                    prop_assert!(false, "{}: {}", case.name, e);
                }
            }
        }
    }
}

/// A cast's gradient is cast back (finite differences through f32 rounding are noise, so
/// this one is checked exactly).
#[test]
fn a_cast_passes_its_gradient_back_in_the_source_dtype() {
    if !common::cpu() {
        return;
    }
    let x = Tensor::from_slice(&[1.5f32, -2.0, 0.25], &[3]).expect("x");
    let y = x
        .cast(DType::F64)
        .and_then(|t| t.mul_scalar(3.0))
        .and_then(|t| t.sum(&[], false))
        .expect("y");
    let g = y.gradient(&[&x]).expect("gradient");
    assert_eq!(g[0].dtype(), DType::F32);
    assert_eq!(g[0].to_vec::<f32>().expect("grad"), [3.0, 3.0, 3.0]);
}
