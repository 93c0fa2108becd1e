//! Opts as data (`Opt`, `apply_opt`, `LinearizeOptions::opts`): what each does to a kernel, and the
//! errors that name an opt that does not apply.

mod common;

use common::*;
use linearizer::{LinearizeError, Opt, Target, VectorTarget, apply_opt, linearize};
use uop_ir::{Arg, AxisType, DType, Op, UOp, toposort};

/// `out[r]` = sum_c a[r * 20 + c] over 13 rows of 20.
fn row_sums() -> UOp {
    let f = DType::F32;
    let r = range(13, 0, AxisType::Loop);
    let c = range(20, 1, AxisType::Reduce);
    let v = load(&param(1, f), &(&(&r * 20) + &c));
    let sum = UOp::new(
        Op::Reduce,
        f,
        [v, c],
        Arg::Reduce {
            op: Op::Add,
            axes: Vec::new().into(),
        },
    );
    sink(&[store(&param(0, f), &r, &sum)])
}

fn why(e: LinearizeError) -> String {
    match e {
        LinearizeError::Opt { opt, why } => format!("{opt}: {why}"),
        other => panic!("not an opt error: {other}"),
    }
}

#[test]
fn errors_name_the_opt_and_the_reason() {
    let ast = row_sums();
    let e = apply_opt(
        &ast,
        &Opt::Upcast { axis: 9, amount: 4 },
        &Target::default(),
    )
    .unwrap_err();
    assert_eq!(why(e), "UPCAST(axis 9, 4): no such range");
    let e = apply_opt(
        &ast,
        &Opt::Upcast { axis: 1, amount: 4 },
        &Target::default(),
    )
    .unwrap_err();
    assert_eq!(why(e), "UPCAST(axis 1, 4): not an output loop");
    let e = apply_opt(
        &ast,
        &Opt::Unroll { axis: 0, amount: 2 },
        &Target::default(),
    )
    .unwrap_err();
    assert_eq!(why(e), "UNROLL(axis 0, 2): not a reduce range");
    let e = apply_opt(
        &ast,
        &Opt::Upcast { axis: 0, amount: 4 },
        &Target::default(),
    )
    .unwrap_err();
    assert!(why(e).contains("does not divide"));
    let e = apply_opt(&ast, &Opt::Vector { axis: 1, lanes: 4 }, &Target::default()).unwrap_err();
    assert_eq!(why(e), "VECTOR(axis 1, 4 lanes): the target has no vectors");
    // a reduction may be padded: its extra trips fold in the identity
    assert!(apply_opt(&ast, &Opt::Padto { axis: 1, amount: 8 }, &Target::default()).is_ok());
}

/// A target with 32-byte f32 vectors that add.
fn vectors() -> Target {
    Target {
        vector: Some(VectorTarget {
            bytes: 32,
            dtypes: vec![DType::F32],
            alu: vec![(Op::Add, DType::F32)],
            aligned: false,
        }),
        ..Default::default()
    }
}

#[test]
fn padto_gates_the_extra_trips() {
    let ast = row_sums();
    let padded = apply_opt(&ast, &Opt::Padto { axis: 0, amount: 8 }, &Target::default()).unwrap();
    let nodes = toposort(&padded);
    let ends: Vec<i128> = nodes
        .iter()
        .filter(|u| u.op() == Op::Range)
        .filter_map(|r| r.src()[0].const_int())
        .collect();
    assert!(ends.contains(&16) && !ends.contains(&13), "{ends:?}");
    // the store and the load are gated by r < 13
    let store = &padded.src()[0];
    assert_eq!(store.src().len(), 3);
    assert!(
        nodes
            .iter()
            .any(|u| u.op() == Op::Load && u.src().len() == 3)
    );
    // already a multiple: nothing to pad
    let e = apply_opt(
        &ast,
        &Opt::Padto {
            axis: 0,
            amount: 13,
        },
        &Target::default(),
    )
    .unwrap_err();
    assert!(why(e).starts_with("PADTO(axis 0, 13)"));
}

#[test]
fn padto_refuses_integer_division_by_a_loaded_value() {
    let i = DType::I32;
    let r = range(13, 0, AxisType::Loop);
    let q = UOp::alu(Op::CDiv, [load(&param(1, i), &r), load(&param(2, i), &r)]);
    let ast = sink(&[store(&param(0, i), &r, &q)]);
    assert!(apply_opt(&ast, &Opt::Padto { axis: 0, amount: 4 }, &Target::default()).is_err());
}

#[test]
fn an_opt_list_replaces_the_heuristics() {
    let ast = row_sums();
    let p = linearize(
        &ast,
        &[13, 260],
        &vectors(),
        &with_opts(vec![
            Opt::Padto { axis: 0, amount: 8 },
            Opt::Thread { axis: 0, amount: 2 },
            Opt::Vector { axis: 1, lanes: 4 },
        ]),
    )
    .unwrap();
    assert_eq!(p.dims.global, [2, 1, 1]);
    assert!(p.uops.iter().any(|u| u.lanes() == 4));
    assert!(
        p.uops
            .iter()
            .any(|u| u.op() == Op::Store && u.src().len() == 3)
    );
    // the name is the kernel's shape before opts
    assert_eq!(p.name, "r_13_20");
}

#[test]
fn swap_reorders_loops() {
    let f = DType::F32;
    let (a, b) = (range(3, 0, AxisType::Loop), range(5, 1, AxisType::Loop));
    let v = load(&param(1, f), &(&(&a * 5) + &b));
    let ast = sink(&[store(&param(0, f), &(&(&a * 5) + &b), &v)]);
    let extents = |list: Vec<Opt>| -> Vec<i128> {
        let p = linearize(&ast, &[15, 15], &vectors(), &with_opts(list)).unwrap();
        p.ranges().filter_map(|r| r.src()[0].const_int()).collect()
    };
    assert_eq!(extents(vec![]), vec![3, 5]);
    assert_eq!(extents(vec![Opt::Swap { a: 0, b: 1 }]), vec![5, 3]);
}

#[test]
fn ops_count_every_thread() {
    let f = DType::F32;
    let i = range(32, 0, AxisType::Loop);
    let v = &load(&param(1, f), &i) * &load(&param(1, f), &i);
    let ast = sink(&[store(&param(0, f), &i, &v)]);
    let one = linearize(&ast, &[32, 32], &vectors(), &with_opts(vec![])).unwrap();
    let two = linearize(
        &ast,
        &[32, 32],
        &vectors(),
        &with_opts(vec![Opt::Thread { axis: 0, amount: 2 }]),
    )
    .unwrap();
    assert_eq!((one.dims.global[0], two.dims.global[0]), (1, 2));
    assert_eq!((one.ops, two.ops), (32, 32));
}
