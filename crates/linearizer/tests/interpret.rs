//! The program interpreter, and the property it exists for: any list of opts leaves what a
//! kernel computes unchanged (checked with integer-valued data, so that reassociated
//! sums are exact).

mod common;

use common::*;
use linearizer::{
    LinearProgram, LinearizeError, Opt, Target, apply_opt, candidate_opts, interpret, linearize,
};
use proptest::prelude::*;
use uop_ir::{Arg, AxisType, ConstValue, DType, Op, UOp};

/// A target with vectors and scratch, and workgroups when `gpu` (without, PACK applies).
fn target_of(gpu: bool) -> Target {
    Target {
        vector: Some(avx2()),
        scratch_bytes: 1 << 16,
        max_local_size: if gpu { 64 } else { 0 },
        max_local_dims: if gpu { [64, 64, 64] } else { [0; 3] },
        has_fma: true,
        ..Default::default()
    }
}

fn gpu() -> Target {
    target_of(true)
}

/// Runs `p` on `inputs` (slots 1..) with an output of `out` elements (slot 0) filled with
/// a value no kernel here computes, and returns every buffer after the run.
fn run(p: &LinearProgram, out: usize, inputs: &[Vec<f64>]) -> Vec<Vec<ConstValue>> {
    let mut bufs = vec![vec![ConstValue::Float(-12345.0); out]];
    bufs.extend(
        inputs
            .iter()
            .map(|v| v.iter().map(|x| ConstValue::Float(*x)).collect()),
    );
    interpret(p, &mut bufs).unwrap_or_else(|e| panic!("{e}\n{p:?}"));
    bufs
}

fn floats(v: &[ConstValue]) -> Vec<f64> {
    v.iter().map(|c| c.as_f64().unwrap_or(f64::NAN)).collect()
}

#[test]
fn a_matmul_runs_as_written() {
    let (m, n, k) = (3, 5, 4);
    let a: Vec<f64> = (0..m * k).map(|x| x as f64).collect();
    let b: Vec<f64> = (0..k * n).map(|x| (x % 7) as f64 - 3.0).collect();
    let p = linearize(
        &matmul(m as i64, n as i64, k as i64),
        &[15, 12, 20],
        &gpu(),
        &with_opts(vec![]),
    )
    .unwrap();
    let got = floats(&run(&p, m * n, &[a.clone(), b.clone()])[0]);
    for i in 0..m {
        for j in 0..n {
            let want: f64 = (0..k).map(|r| a[i * k + r] * b[r * n + j]).sum();
            assert_eq!(got[i * n + j], want, "c[{i}, {j}]");
        }
    }
}

#[test]
fn reads_out_of_bounds_are_errors() {
    let i = range(4, 0, AxisType::Loop);
    let ast = sink(&[store(&param(0, F32), &i, &load(&param(1, F32), &(&i + 1)))]);
    let p = linearize(&ast, &[4, 4], &gpu(), &with_opts(vec![])).unwrap();
    let mut bufs = vec![
        vec![ConstValue::Float(0.0); 4],
        vec![ConstValue::Float(1.0); 4],
    ];
    let e = interpret(&p, &mut bufs).unwrap_err();
    assert!(
        matches!(&e, LinearizeError::Run { why, .. } if why.contains("element 4")),
        "{e}"
    );
}

#[test]
fn a_group_reduces_across_the_workgroup() {
    // sums of 4 rows of 32, each row's reduction split over 8 threads
    let r = range(4, 0, AxisType::Loop);
    let c = range(32, 1, AxisType::Reduce);
    let v = load(&param(1, F32), &(&(&r * 32) + &c));
    let ast = sink(&[store(&param(0, F32), &r, &reduce(Op::Add, &v, &[c]))]);
    let data: Vec<f64> = (0..128).map(|x| (x % 11) as f64).collect();
    let want: Vec<f64> = (0..4)
        .map(|i| data[i * 32..i * 32 + 32].iter().sum())
        .collect();
    for opt in [
        Opt::Group { axis: 1, amount: 8 },
        Opt::GroupTop { axis: 1, amount: 8 },
    ] {
        let p = linearize(&ast, &[4, 128], &gpu(), &with_opts(vec![opt])).unwrap();
        assert_eq!(p.dims.local, [8, 1, 1]);
        assert_eq!(
            p.uops.iter().filter(|u| u.op() == Op::Barrier).count(),
            2,
            "{p:?}"
        );
        assert_eq!(
            floats(&run(&p, 4, std::slice::from_ref(&data))[0]),
            want,
            "{opt}"
        );
    }
    // the C target has no workgroups
    let e = apply_opt(&ast, &Opt::Group { axis: 1, amount: 8 }, &Target::default()).unwrap_err();
    assert!(e.to_string().contains("no workgroups"), "{e}");
}

#[test]
fn workgroups_stay_within_the_targets_dimensions() {
    let ast = matmul(8, 8, 4);
    let narrow = Target {
        max_local_dims: [64, 2, 0],
        ..gpu()
    };
    let apply = |ast: &UOp, opt: Opt| apply_opt(ast, &opt, &narrow);
    let one = apply(&ast, Opt::Local { axis: 0, amount: 2 }).unwrap();
    let e = apply(&one, Opt::Local { axis: 1, amount: 4 }).unwrap_err();
    assert!(e.to_string().contains("dimension 1 is over"), "{e}");
    let two = apply(&one, Opt::Local { axis: 1, amount: 2 }).unwrap();
    let e = apply(&two, Opt::Group { axis: 2, amount: 2 }).unwrap_err();
    assert!(e.to_string().contains("at most 2 dimensions"), "{e}");
}

#[test]
fn local_splits_outputs_across_the_workgroup() {
    let (ast, m, n, k) = (matmul(8, 8, 4), 8, 8, 4);
    let list = vec![
        Opt::Local { axis: 0, amount: 4 },
        Opt::Local { axis: 1, amount: 8 },
    ];
    let p = linearize(&ast, &[64, 32, 32], &gpu(), &with_opts(list)).unwrap();
    assert_eq!(p.dims.local, [4, 8, 1]);
    let a: Vec<f64> = (0..m * k).map(|x| (x % 5) as f64).collect();
    let b: Vec<f64> = (0..k * n).map(|x| (x % 3) as f64).collect();
    let base = linearize(&ast, &[64, 32, 32], &gpu(), &with_opts(vec![])).unwrap();
    assert_eq!(
        run(&p, m * n, &[a.clone(), b.clone()]),
        run(&base, m * n, &[a, b])
    );
    // 4 x 8 x 4 threads: over the target's 64
    let over = with_opts(vec![
        Opt::Local { axis: 0, amount: 4 },
        Opt::Local { axis: 1, amount: 8 },
        Opt::Group { axis: 2, amount: 4 },
    ]);
    let e = linearize(&ast, &[64, 32, 32], &gpu(), &over).unwrap_err();
    assert!(e.to_string().contains("128 threads"), "{e}");
}

/// The kernels the property draws from: (AST, buffer sizes, output size).
fn kernels() -> Vec<(UOp, Vec<usize>)> {
    let mut out = Vec::new();
    for (m, n, k) in [(8, 16, 8), (4, 12, 6), (16, 16, 4), (1, 8, 16), (6, 1, 4)] {
        out.push((
            matmul(m, n, k),
            vec![(m * n) as usize, (m * k) as usize, (k * n) as usize],
        ));
    }
    // row max of 12 rows of 16, and `a[i] * b[i] + 1` over 24
    let r = range(12, 0, AxisType::Loop);
    let c = range(16, 1, AxisType::Reduce);
    let v = load(&param(1, F32), &(&(&r * 16) + &c));
    out.push((
        sink(&[store(&param(0, F32), &r, &reduce(Op::Max, &v, &[c]))]),
        vec![12, 192],
    ));
    let i = range(24, 0, AxisType::Loop);
    let v = &(&load(&param(1, F32), &i) * &load(&param(2, F32), &i)) + &f32c(1.0);
    out.push((sink(&[store(&param(0, F32), &i, &v)]), vec![24, 24, 24]));
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(160))]

    #[test]
    fn opts_keep_what_a_kernel_computes(which in 0usize..7, picks in prop::collection::vec(0usize..1000, 1..6), seed in 0u64..1000, gpu: bool) {
        let (ast, sizes) = kernels().swap_remove(which);
        let mut cur = ast.clone();
        let mut list = Vec::new();
        for pick in picks {
            let all = candidate_opts(&cur);
            let Some(&opt) = all.get(pick % all.len().max(1)) else {
                break;
            };
            match apply_opt(&cur, &opt, &target_of(gpu)) {
                Ok(next) => {
                    cur = next;
                    list.push(opt);
                }
                Err(LinearizeError::Opt { .. }) => {}
                Err(e) => panic!("{opt} after {list:?}: {e}"),
            }
        }
        let inputs: Vec<Vec<f64>> = sizes[1..]
            .iter()
            .enumerate()
            .map(|(b, &n)| (0..n).map(|x| ((x as u64 * 7 + seed + b as u64 * 3) % 9) as f64 - 4.0).collect())
            .collect();
        let base = linearize(&ast, &sizes, &target_of(gpu), &with_opts(vec![])).unwrap();
        let opted = linearize(&ast, &sizes, &target_of(gpu), &with_opts(list.clone()))
            .unwrap_or_else(|e| panic!("{list:?}: {e}"));
        prop_assert_eq!(run(&opted, sizes[0], &inputs), run(&base, sizes[0], &inputs), "opts {:?}", list);
    }
}

#[test]
fn integer_kernels_run_exactly() {
    let i = range(6, 0, AxisType::Loop);
    let p = |slot| UOp::new(Op::Param, DType::I32, [], Arg::Param { slot });
    let idx = |b: &UOp| UOp::new(Op::Index, DType::I32, [b.clone(), i.clone()], Arg::None);
    let v = UOp::new(Op::Load, DType::I32, [idx(&p(1))], Arg::None);
    let q = UOp::alu(
        Op::CDiv,
        [v.clone(), UOp::const_of(DType::I32, ConstValue::Int(-4))],
    );
    let ast = sink(&[UOp::new(Op::Store, DType::Void, [idx(&p(0)), q], Arg::None)]);
    let prog = linearize(&ast, &[6, 6], &gpu(), &with_opts(vec![])).unwrap();
    let mut bufs = vec![
        vec![ConstValue::Int(0); 6],
        [-9, -4, -1, 0, 5, 13].map(ConstValue::Int).to_vec(),
    ];
    interpret(&prog, &mut bufs).unwrap();
    assert_eq!(bufs[0], [2, 1, 0, 0, -1, -3].map(ConstValue::Int).to_vec());
}

/// Found by `fuzz-kernels --interpret` (seed 701, case 17238): a store whose value is a
/// vector along one axis and whose address runs along a second vectorized axis was split
/// into lanes of that second axis, reading lanes the value does not have. The second
/// split is refused now.
#[test]
fn a_second_vector_axis_never_splits_a_vector() {
    // out[i, j] = a[j] + 1 over 8 x 4: the value does not depend on i
    let (i, j) = (range(8, 0, AxisType::Loop), range(4, 1, AxisType::Loop));
    let v = &load(&param(1, F32), &j) + &f32c(1.0);
    let ast = sink(&[store(&param(0, F32), &(&(&i * 4) + &j), &v)]);
    let cpu = target_of(false);
    let once = apply_opt(&ast, &Opt::Vector { axis: 1, lanes: 4 }, &cpu).unwrap();
    let twice = apply_opt(&once, &Opt::Vector { axis: 0, lanes: 8 }, &cpu);
    assert!(
        matches!(twice, Err(LinearizeError::Opt { .. })),
        "{twice:?}"
    );
    // the first split alone computes what the kernel does
    let a: Vec<f64> = vec![3.0, -1.0, 7.0, 2.0];
    let base = linearize(&ast, &[32, 4], &cpu, &with_opts(vec![])).unwrap();
    let one = linearize(
        &ast,
        &[32, 4],
        &cpu,
        &with_opts(vec![Opt::Vector { axis: 1, lanes: 4 }]),
    )
    .unwrap();
    assert_eq!(
        run(&one, 32, std::slice::from_ref(&a)),
        run(&base, 32, &[a])
    );
}

/// Found by `fuzz-kernels --interpret` (seed 53, case 140): a padded reduction gave its
/// identity as the alternative of a load that had a gate of its own (a tensor PAD whose
/// zeros the max must see), so `max(-3, 0, 0)` was -3.
#[test]
fn padding_a_reduction_keeps_a_loads_own_alternative() {
    // out[0] = max over r < 3 of (r < 1 ? a[r] : 0)
    let r = range(3, 0, AxisType::Reduce);
    let idx = index(&param(1, F32), &r);
    let gated = UOp::new(Op::Load, F32, [idx, r.lt(1), f32c(0.0)], Arg::None);
    let ast = sink(&[store(
        &param(0, F32),
        &UOp::int(0),
        &reduce(Op::Max, &gated, &[r]),
    )]);
    let a = vec![-3.0];
    let base = linearize(&ast, &[1, 1], &target_of(false), &with_opts(vec![])).unwrap();
    let padded = linearize(
        &ast,
        &[1, 1],
        &target_of(false),
        &with_opts(vec![Opt::Padto { axis: 0, amount: 4 }]),
    )
    .unwrap();
    let want = run(&base, 1, std::slice::from_ref(&a));
    assert_eq!(floats(&want[0]), vec![0.0]);
    assert_eq!(run(&padded, 1, &[a]), want);
}
