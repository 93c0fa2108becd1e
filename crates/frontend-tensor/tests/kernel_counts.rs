//! Fusion quality, pinned: how many kernels each canonical program schedules into
//! (`Tensor::schedule(..).kernels.len()`), with an explicit bound per program and an
//! `insta` table of the actual counts next to tinygrad's for the same program at the same
//! shapes (`peers/tinygrad_kernel_counts.py`, tinygrad 0.14 on the CPU; inputs realized, so
//! no random-number kernels). No program takes more kernels than tinygrad's. Each program
//! is also run and compared with `common::Ref`, so that a fusion which drops work cannot
//! pass.
//!
//! Scheduling needs only the registered device, not a C compiler; running does.

mod common;

use common::{Ref, Rng, check_f32, check_i32};
use frontend_tensor::{AttentionOpts, Conv2dOpts, DType, Pool2dOpts, Result, Tensor};

/// How many kernels a program takes.
#[derive(Clone, Copy, Debug)]
enum Bound {
    Exactly(usize),
}

impl Bound {
    fn holds(self, n: usize) -> bool {
        match self {
            Bound::Exactly(b) => n == b,
        }
    }
}

impl std::fmt::Display for Bound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Bound::Exactly(b) => write!(f, "= {b}"),
        }
    }
}

/// A program: the tensors realized together and their references.
struct Program {
    outputs: Vec<Tensor>,
    refs: Vec<Ref>,
    /// Relative and absolute tolerance of the comparison.
    tol: (f64, f64),
}

struct Case {
    name: &'static str,
    bound: Bound,
    /// tinygrad 0.14's kernels for the same program (CPU).
    tinygrad: usize,
    build: fn(&mut Rng) -> Result<Program>,
}

const CASES: &[Case] = &[
    Case {
        name: "elementwise chain",
        bound: Bound::Exactly(1),
        tinygrad: 1,
        build: |rng| {
            let (a, ra) = rng.tensor(&[13, 5]);
            let (b, rb) = rng.tensor(&[13, 5]);
            let t = a
                .mul(&b)?
                .add_scalar(1.0)?
                .exp()?
                .sub(&a)?
                .abs()?
                .sqrt()?
                .neg();
            let r = ra
                .zip(&rb, |x, y| x * y)
                .map(|v| (v + 1.0).exp())
                .zip(&ra, |x, y| -(x - y).abs().sqrt());
            Ok(Program {
                outputs: vec![t],
                refs: vec![r],
                tol: (3e-5, 1e-6),
            })
        },
    },
    Case {
        name: "a + bias (broadcast)",
        bound: Bound::Exactly(1),
        tinygrad: 1,
        build: |rng| {
            let (a, ra) = rng.tensor(&[13, 5]);
            let (bias, rbias) = rng.tensor(&[5]);
            Ok(Program {
                outputs: vec![a.add(&bias)?],
                refs: vec![ra.zip(&rbias, |x, y| x + y)],
                tol: (1e-6, 0.0),
            })
        },
    },
    Case {
        name: "permute+pad+shrink then add",
        bound: Bound::Exactly(1),
        tinygrad: 1,
        build: |rng| {
            let (a, ra) = rng.tensor(&[4, 6]);
            let (b, rb) = rng.tensor(&[6, 5]);
            let moved = a
                .permute(&[1, 0])?
                .pad(&[(1, 1), (2, 0)])?
                .shrink(&[(1, 7), (0, 5)])?;
            let rmoved = ra
                .permute(&[1, 0])
                .pad(&[(1, 1), (2, 0)])
                .shrink(&[(1, 7), (0, 5)]);
            Ok(Program {
                outputs: vec![moved.add(&b)?],
                refs: vec![rmoved.zip(&rb, |x, y| x + y)],
                tol: (1e-6, 0.0),
            })
        },
    },
    Case {
        name: "sum over an axis",
        bound: Bound::Exactly(1),
        tinygrad: 1,
        build: |rng| {
            let (a, ra) = rng.tensor(&[13, 7]);
            Ok(Program {
                outputs: vec![a.sum(&[1], false)?],
                refs: vec![ra.sum(&[1], false)],
                tol: (1e-5, 1e-5),
            })
        },
    },
    Case {
        name: "sum of 2^16 (split in two)",
        bound: Bound::Exactly(2),
        tinygrad: 2,
        build: |rng| {
            let (a, ra) = rng.tensor(&[1 << 16]);
            Ok(Program {
                outputs: vec![a.sum(&[0], false)?],
                refs: vec![ra.sum(&[0], false)],
                tol: (1e-4, 1e-3),
            })
        },
    },
    Case {
        name: "max over 40000 of 3 rows (split)",
        bound: Bound::Exactly(2),
        tinygrad: 2,
        build: |rng| {
            let (a, ra) = rng.tensor(&[3, 40000]);
            Ok(Program {
                outputs: vec![a.max(&[1], true)?],
                refs: vec![ra.max(&[1], true)],
                tol: (0.0, 0.0),
            })
        },
    },
    Case {
        name: "a - a.sum(1, keepdim)",
        bound: Bound::Exactly(1),
        tinygrad: 2,
        build: |rng| {
            let (a, ra) = rng.tensor(&[13, 7]);
            let t = a.sub(&a.sum(&[1], true)?)?;
            Ok(Program {
                outputs: vec![t],
                refs: vec![ra.zip(&ra.sum(&[1], true), |x, s| x - s)],
                tol: (1e-5, 1e-5),
            })
        },
    },
    Case {
        name: "layernorm (no affine)",
        bound: Bound::Exactly(1),
        tinygrad: 3,
        build: |rng| {
            let (a, ra) = rng.tensor(&[9, 16]);
            Ok(Program {
                outputs: vec![a.layernorm(-1, 1e-5)?],
                refs: vec![ra.layernorm(1, 1e-5)],
                tol: (1e-4, 1e-4),
            })
        },
    },
    Case {
        // the row's mean and variance are computed once per row of the matmul's output
        // (outside its column loop) and each element normalized as it is read
        name: "layernorm then matmul",
        bound: Bound::Exactly(1),
        tinygrad: 3,
        build: |rng| {
            let (a, ra) = rng.tensor(&[9, 16]);
            let (w, rw) = rng.tensor(&[16, 8]);
            Ok(Program {
                outputs: vec![a.layernorm(-1, 1e-5)?.matmul(&w)?],
                refs: vec![ra.layernorm(1, 1e-5).matmul(&rw)],
                tol: (1e-4, 1e-4),
            })
        },
    },
    Case {
        name: "softmax",
        bound: Bound::Exactly(1),
        tinygrad: 3,
        build: |rng| {
            let (a, ra) = rng.tensor(&[9, 16]);
            Ok(Program {
                outputs: vec![a.softmax(-1)?],
                refs: vec![ra.softmax(1)],
                tol: (3e-5, 1e-6),
            })
        },
    },
    Case {
        name: "(a @ b + bias).relu()",
        bound: Bound::Exactly(1),
        tinygrad: 1,
        build: |rng| {
            let (a, ra) = rng.tensor(&[7, 12]);
            let (b, rb) = rng.tensor(&[12, 5]);
            let (bias, rbias) = rng.tensor(&[5]);
            let t = a.matmul(&b)?.add(&bias)?.relu()?;
            let r = ra.matmul(&rb).zip(&rbias, |x, y| (x + y).max(0.0));
            Ok(Program {
                outputs: vec![t],
                refs: vec![r],
                tol: (1e-5, 1e-5),
            })
        },
    },
    Case {
        name: "a.exp() and a.sum() together",
        bound: Bound::Exactly(2),
        tinygrad: 2,
        build: |rng| {
            let (a, ra) = rng.tensor(&[16, 8]);
            Ok(Program {
                outputs: vec![a.exp()?, a.sum(&[], false)?],
                refs: vec![ra.map(f64::exp), ra.sum(&[], false)],
                tol: (3e-5, 1e-5),
            })
        },
    },
    Case {
        name: "log_softmax",
        bound: Bound::Exactly(1),
        tinygrad: 3,
        build: |rng| {
            let (a, ra) = rng.tensor(&[9, 16]);
            let m = ra.max(&[1], true);
            let shifted = ra.zip(&m, |x, m| x - m);
            let lse = shifted.map(f64::exp).sum(&[1], true).map(f64::ln);
            Ok(Program {
                outputs: vec![a.log_softmax(-1)?],
                refs: vec![shifted.zip(&lse, |x, l| x - l)],
                tol: (3e-5, 1e-5),
            })
        },
    },
    Case {
        name: "a @ b @ a",
        bound: Bound::Exactly(2),
        tinygrad: 2,
        build: |rng| {
            let (a, ra) = rng.tensor(&[16, 16]);
            let (b, rb) = rng.tensor(&[16, 16]);
            Ok(Program {
                outputs: vec![a.matmul(&b)?.matmul(&a)?],
                refs: vec![ra.matmul(&rb).matmul(&ra)],
                tol: (1e-4, 1e-3),
            })
        },
    },
    Case {
        name: "conv2d",
        bound: Bound::Exactly(1),
        tinygrad: 1,
        build: |rng| {
            let (x, rx) = rng.tensor(&[1, 3, 16, 16]);
            let (w, rw) = rng.tensor(&[8, 3, 3, 3]);
            Ok(Program {
                outputs: vec![x.conv2d(&w, None, &Conv2dOpts::default())?],
                refs: vec![conv_ref(&rx, &rw)],
                tol: (1e-4, 1e-4),
            })
        },
    },
    Case {
        name: "conv2d + relu + maxpool",
        bound: Bound::Exactly(1),
        tinygrad: 2,
        build: |rng| {
            let (x, rx) = rng.tensor(&[1, 3, 16, 16]);
            let (w, rw) = rng.tensor(&[8, 3, 3, 3]);
            let t = x
                .conv2d(&w, None, &Conv2dOpts::default())?
                .relu()?
                .max_pool2d(&Pool2dOpts::square(2))?;
            let c = conv_ref(&rx, &rw).map(|v| v.max(0.0));
            let r = Ref::from_fn(&[1, 8, 7, 7], |i| {
                let at = |dy: usize, dx: usize| c.at(&[0, i[1], 2 * i[2] + dy, 2 * i[3] + dx]);
                at(0, 0).max(at(0, 1)).max(at(1, 0)).max(at(1, 1))
            });
            Ok(Program {
                outputs: vec![t],
                refs: vec![r],
                tol: (1e-4, 1e-4),
            })
        },
    },
    Case {
        name: "attention",
        bound: Bound::Exactly(1),
        tinygrad: 4,
        build: |rng| attention(rng, false),
    },
    Case {
        name: "causal attention",
        bound: Bound::Exactly(1),
        tinygrad: 4,
        build: |rng| attention(rng, true),
    },
    Case {
        name: "cumsum",
        bound: Bound::Exactly(1),
        tinygrad: 1,
        build: |rng| {
            let (a, ra) = rng.tensor(&[8, 33]);
            let r = Ref::from_fn(&[8, 33], |i| (0..=i[1]).map(|j| ra.at(&[i[0], j])).sum());
            Ok(Program {
                outputs: vec![a.cumsum(1)?],
                refs: vec![r],
                tol: (1e-4, 1e-4),
            })
        },
    },
    Case {
        name: "gather by an index tensor",
        bound: Bound::Exactly(1),
        tinygrad: 1,
        build: |rng| {
            let (a, ra) = rng.tensor(&[8, 10]);
            let picks: Vec<i32> = (0..32).map(|_| rng.range(0, 10) as i32).collect();
            let index = Tensor::from_slice(&picks, &[8, 4])?;
            let r = Ref::from_fn(&[8, 4], |i| ra.at(&[i[0], picks[i[0] * 4 + i[1]] as usize]));
            Ok(Program {
                outputs: vec![a.gather(1, &index)?],
                refs: vec![r],
                tol: (0.0, 0.0),
            })
        },
    },
    Case {
        name: "cat",
        bound: Bound::Exactly(1),
        tinygrad: 1,
        build: |rng| {
            let (a, ra) = rng.tensor(&[4, 5]);
            let (b, rb) = rng.tensor(&[4, 3]);
            let (c, rc) = rng.tensor(&[4, 2]);
            let r = Ref::from_fn(&[4, 10], |i| match i[1] {
                j @ 0..5 => ra.at(&[i[0], j]),
                j @ 5..8 => rb.at(&[i[0], j - 5]),
                j => rc.at(&[i[0], j - 8]),
            });
            Ok(Program {
                outputs: vec![Tensor::cat(&[&a, &b, &c], 1)?],
                refs: vec![r],
                tol: (0.0, 0.0),
            })
        },
    },
    Case {
        name: "argmax",
        bound: Bound::Exactly(1),
        tinygrad: 2,
        build: |rng| {
            let (a, ra) = rng.tensor(&[9, 16]);
            let r = Ref::from_fn(&[9], |i| {
                let row: Vec<f64> = (0..16).map(|j| ra.at(&[i[0], j])).collect();
                let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                row.iter().position(|v| *v == m).unwrap_or(0) as f64
            });
            Ok(Program {
                outputs: vec![a.argmax(1, false)?],
                refs: vec![r],
                tol: (0.0, 0.0),
            })
        },
    },
    Case {
        name: "sum of 2^20",
        bound: Bound::Exactly(2),
        tinygrad: 2,
        build: |rng| {
            let (a, ra) = rng.tensor(&[1 << 20]);
            Ok(Program {
                outputs: vec![a.sum(&[0], false)?],
                refs: vec![ra.sum(&[0], false)],
                tol: (1e-4, 1e-2),
            })
        },
    },
];

/// `x (1, c, h, w)` convolved with `w (o, c, kh, kw)`: no padding, stride 1.
fn conv_ref(x: &Ref, w: &Ref) -> Ref {
    let (c, h, wd) = (x.shape[1], x.shape[2], x.shape[3]);
    let (o, kh, kw) = (w.shape[0], w.shape[2], w.shape[3]);
    Ref::from_fn(&[1, o, h - kh + 1, wd - kw + 1], |i| {
        let mut acc = 0.0;
        for ci in 0..c {
            for dy in 0..kh {
                for dx in 0..kw {
                    acc += x.at(&[0, ci, i[2] + dy, i[3] + dx]) * w.at(&[i[1], ci, dy, dx]);
                }
            }
        }
        acc
    })
}

/// `softmax(q k^T / sqrt(d)) v` over 2 heads of 64 positions of width 16.
fn attention(rng: &mut Rng, causal: bool) -> Result<Program> {
    let shape = [1, 2, 64, 16];
    let (q, rq) = rng.tensor(&shape);
    let (k, rk) = rng.tensor(&shape);
    let (v, rv) = rng.tensor(&shape);
    let opts = AttentionOpts {
        mask: None,
        causal,
        dropout: 0.0,
        scale: None,
    };
    let out = q.scaled_dot_product_attention(&k, &v, &opts)?;
    let r = Ref::from_fn(&shape, |i| {
        let (h, l, e) = (i[1], i[2], i[3]);
        let keys = if causal { l + 1 } else { 64 };
        let s: Vec<f64> = (0..keys)
            .map(|j| {
                (0..16)
                    .map(|d| rq.at(&[0, h, l, d]) * rk.at(&[0, h, j, d]))
                    .sum::<f64>()
                    / 4.0
            })
            .collect();
        let m = s.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let z: f64 = s.iter().map(|x| (x - m).exp()).sum();
        (0..keys)
            .map(|j| (s[j] - m).exp() / z * rv.at(&[0, h, j, e]))
            .sum()
    });
    Ok(Program {
        outputs: vec![out],
        refs: vec![r],
        tol: (1e-4, 1e-5),
    })
}

fn count(p: &Program) -> usize {
    let outs: Vec<&Tensor> = p.outputs.iter().collect();
    Tensor::schedule(&outs)
        .unwrap_or_else(|e| panic!("schedule: {e}"))
        .kernels
        .len()
}

/// Schedules the case (the count must be within its bound), then runs it and compares.
fn check(name: &str) {
    common::cpu();
    let case = CASES
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no case {name}"));
    let p = (case.build)(&mut Rng::new(7)).unwrap_or_else(|e| panic!("{}: {e}", case.name));
    let n = count(&p);
    assert!(
        case.bound.holds(n),
        "{}: {n} kernels, want {}",
        case.name,
        case.bound
    );
    if !common::cpu() {
        return;
    }
    let outs: Vec<&Tensor> = p.outputs.iter().collect();
    Tensor::realize_all(&outs).unwrap_or_else(|e| panic!("{}: realize: {e}", case.name));
    for (i, (t, r)) in p.outputs.iter().zip(&p.refs).enumerate() {
        let what = format!("{} output {i}", case.name);
        if t.dtype() == DType::F32 {
            check_f32(t, r, p.tol.0, p.tol.1, &what);
        } else {
            check_i32(t, r, &what);
        }
    }
}

#[test]
fn elementwise_chain_is_one_kernel() {
    check("elementwise chain");
}

#[test]
fn bias_broadcast_is_one_kernel() {
    check("a + bias (broadcast)");
}

#[test]
fn movement_then_add_is_one_kernel() {
    check("permute+pad+shrink then add");
}

#[test]
fn sum_over_axis_is_one_kernel() {
    check("sum over an axis");
}

#[test]
fn subtract_row_sum_is_one_kernel() {
    check("a - a.sum(1, keepdim)");
}

#[test]
fn layernorm_is_one_kernel() {
    check("layernorm (no affine)");
}

#[test]
fn softmax_is_one_kernel() {
    check("softmax");
}

#[test]
fn matmul_bias_relu_is_one_kernel() {
    check("(a @ b + bias).relu()");
}

#[test]
fn exp_and_sum_together_are_two_kernels() {
    check("a.exp() and a.sum() together");
}

#[test]
fn log_softmax_is_one_kernel() {
    check("log_softmax");
}

#[test]
fn double_matmul_is_two_kernels() {
    check("a @ b @ a");
}

#[test]
fn conv2d_is_one_kernel() {
    check("conv2d");
}

#[test]
fn conv2d_relu_maxpool_is_one_kernel() {
    check("conv2d + relu + maxpool");
}

#[test]
fn attention_is_one_kernel() {
    check("attention");
}

#[test]
fn causal_attention_is_one_kernel() {
    check("causal attention");
}

#[test]
fn cumsum_is_one_kernel() {
    check("cumsum");
}

#[test]
fn gather_is_one_kernel() {
    check("gather by an index tensor");
}

#[test]
fn cat_is_one_kernel() {
    check("cat");
}

#[test]
fn argmax_is_one_kernel() {
    check("argmax");
}

#[test]
fn layernorm_feeding_a_matmul_is_one_kernel() {
    check("layernorm then matmul");
}

#[test]
fn sum_of_a_million_is_two_kernels() {
    check("sum of 2^20");
}

/// How many kernels a program takes when scheduled as for a GPU (no scratch stages).
fn count_gpu(p: &Program) -> usize {
    let nodes: Vec<uop_ir::UOp> = p.outputs.iter().map(Tensor::node).collect();
    let sink = uop_ir::UOp::new(uop_ir::Op::Sink, DType::Void, nodes, uop_ir::Arg::None);
    rangeify::schedule_with(&sink, "CPU", rangeify::StageLimits::NONE)
        .unwrap_or_else(|e| panic!("schedule as for a GPU: {e}"))
        .kernels
        .len()
}

/// The counts as a table: a change in fusion shows up as a snapshot diff to review. The
/// `gpu` column is the schedule a GPU gets (no scratch stages).
#[test]
fn kernel_count_table() {
    common::cpu();
    let mut table = format!(
        "{:<32} {:>7} {:>8} {:>4}  {}\n",
        "program", "kernels", "tinygrad", "gpu", "bound"
    );
    for case in CASES {
        let p = (case.build)(&mut Rng::new(7)).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let n = count(&p);
        assert!(
            n <= case.tinygrad,
            "{}: {n} kernels, tinygrad {}",
            case.name,
            case.tinygrad
        );
        table += &format!(
            "{:<32} {:>7} {:>8} {:>4}  {}\n",
            case.name,
            n,
            case.tinygrad,
            count_gpu(&p),
            case.bound
        );
    }
    insta::assert_snapshot!("kernel_counts", table);
}
