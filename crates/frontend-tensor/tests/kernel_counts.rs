//! Fusion quality, pinned: how many kernels each canonical program schedules into
//! (`Tensor::schedule(..).kernels.len()`), with an explicit bound per program and an
//! `insta` table of the actual counts. Each program is also run and compared with
//! `common::Ref`, so that a fusion which drops work cannot pass.
//!
//! Scheduling needs only the registered device, not a C compiler; running does.

mod common;

use common::{Ref, Rng, check_f32};
use frontend_tensor::{Result, Tensor};

/// The most kernels a program may take.
#[derive(Clone, Copy, Debug)]
enum Bound {
    Exactly(usize),
    AtMost(usize),
}

impl Bound {
    fn holds(self, n: usize) -> bool {
        match self {
            Bound::Exactly(b) => n == b,
            Bound::AtMost(b) => n <= b,
        }
    }
}

impl std::fmt::Display for Bound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Bound::Exactly(b) => write!(f, "= {b}"),
            Bound::AtMost(b) => write!(f, "<= {b}"),
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
    build: fn(&mut Rng) -> Result<Program>,
}

const CASES: &[Case] = &[
    Case {
        name: "elementwise chain",
        bound: Bound::Exactly(1),
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
        bound: Bound::AtMost(2),
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
        bound: Bound::AtMost(3),
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
        name: "softmax",
        bound: Bound::AtMost(3),
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
        bound: Bound::AtMost(2),
        build: |rng| {
            let (a, ra) = rng.tensor(&[16, 8]);
            Ok(Program {
                outputs: vec![a.exp()?, a.sum(&[], false)?],
                refs: vec![ra.map(f64::exp), ra.sum(&[], false)],
                tol: (3e-5, 1e-5),
            })
        },
    },
];

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
        check_f32(t, r, p.tol.0, p.tol.1, &format!("{} output {i}", case.name));
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
fn subtract_row_sum_is_at_most_two_kernels() {
    check("a - a.sum(1, keepdim)");
}

#[test]
fn layernorm_is_at_most_three_kernels() {
    check("layernorm (no affine)");
}

#[test]
fn softmax_is_at_most_three_kernels() {
    check("softmax");
}

#[test]
fn matmul_bias_relu_is_one_kernel() {
    check("(a @ b + bias).relu()");
}

#[test]
fn exp_and_sum_together_are_at_most_two_kernels() {
    check("a.exp() and a.sum() together");
}

/// The counts as a table: a change in fusion shows up as a snapshot diff to review.
#[test]
fn kernel_count_table() {
    common::cpu();
    let mut table = format!("{:<32} {:>7}  {}\n", "program", "kernels", "bound");
    for case in CASES {
        let p = (case.build)(&mut Rng::new(7)).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        table += &format!("{:<32} {:>7}  {}\n", case.name, count(&p), case.bound);
    }
    insta::assert_snapshot!("kernel_counts", table);
}
