//! The vector opt on hand-built kernel ASTs: which axis it picks, what loads, stores and
//! reductions become, and when it refuses.

use std::collections::HashSet;

mod common;

use common::*;
use linearizer::{
    LinearProgram, LinearizeOptions, Target, choose_vector_axis, linearize, vectorize,
};
use uop_ir::{Arg, AxisType, DType, Op, UOp, toposort};

/// `out[i]` = `a[i]` * `b[i]` + 1 over 32 elements.
fn elementwise() -> (UOp, UOp) {
    let i = range(32, 0, AxisType::Loop);
    let v = &(&load(&param(1, F32), &i) * &load(&param(2, F32), &i)) + &f32c(1.0);
    (sink(&[store(&param(0, F32), &i, &v)]), i)
}

fn vector_nodes(ast: &UOp, op: Op) -> Vec<UOp> {
    toposort(ast)
        .into_iter()
        .filter(|u| u.op() == op && u.lanes() > 1)
        .collect()
}

#[test]
fn contiguous_loads_and_stores_become_vectors() {
    let (ast, i) = elementwise();
    let v = vectorize(&ast, &i, 8, &avx2()).unwrap().unwrap();
    assert_eq!(vector_nodes(&v, Op::Load).len(), 2);
    assert_eq!(vector_nodes(&v, Op::Mul).len(), 1);
    assert_eq!(vector_nodes(&v, Op::Add).len(), 1);
    let store = &v.src()[0];
    assert_eq!(store.op(), Op::Store);
    assert_eq!(store.src()[1].lanes(), 8);
    // the loop runs 32/8 times
    let ranges: Vec<UOp> = toposort(&v)
        .into_iter()
        .filter(|u| u.op() == Op::Range)
        .collect();
    assert_eq!(ranges.len(), 1);
    assert_eq!(ranges[0].src()[0].const_int(), Some(4));
}

#[test]
fn a_strided_load_is_gathered_lane_by_lane() {
    let i = range(16, 0, AxisType::Loop);
    let v = load(&param(1, F32), &(&i * 3));
    let ast = sink(&[store(&param(0, F32), &i, &v)]);
    let out = vectorize(&ast, &i, 8, &avx2()).unwrap().unwrap();
    assert!(vector_nodes(&out, Op::Load).is_empty());
    let stacks = vector_nodes(&out, Op::Stack);
    assert_eq!(stacks.len(), 1);
    // lane k reads element 3 * (8 r' + k): eight distinct scalar loads
    let loads: HashSet<UOp> = stacks[0].src().iter().cloned().collect();
    assert_eq!(loads.len(), 8);
    assert!(loads.iter().all(|l| l.op() == Op::Load && l.lanes() == 1));
}

#[test]
fn a_reduction_over_the_vector_axis_ends_with_a_horizontal_combine() {
    // out[r] = sum_c a[r*64 + c]
    let r = range(4, 0, AxisType::Loop);
    let c = range(64, 1, AxisType::Reduce);
    let sum = reduce(
        Op::Add,
        &load(&param(1, F32), &(&(&r * 64) + &c)),
        std::slice::from_ref(&c),
    );
    let ast = sink(&[store(&param(0, F32), &r, &sum)]);
    let (axis, lanes) = choose_vector_axis(&ast, &avx2()).unwrap();
    assert_eq!((axis.clone(), lanes), (c.clone(), 8));
    let out = vectorize(&ast, &c, 8, &avx2()).unwrap().unwrap();
    let reds = vector_nodes(&out, Op::Reduce);
    assert_eq!(reds.len(), 1);
    // the stored value is scalar: the eight lanes added together
    let value = &out.src()[0].src()[1];
    assert_eq!(value.lanes(), 1);
    let geps = toposort(value)
        .into_iter()
        .filter(|u| u.op() == Op::Gep)
        .count();
    assert_eq!(geps, 8);
}

#[test]
fn matmul_vectorizes_the_contiguous_output_axis() {
    // c[i, j] = sum_k a[i, k] * b[k, j], 16x16x16
    let i = range(16, 0, AxisType::Loop);
    let j = range(16, 1, AxisType::Loop);
    let k = range(16, 2, AxisType::Reduce);
    let a = load(&param(1, F32), &(&(&i * 16) + &k));
    let b = load(&param(2, F32), &(&(&k * 16) + &j));
    let sum = reduce(Op::Add, &(&a * &b), &[k]);
    let ast = sink(&[store(&param(0, F32), &(&(&i * 16) + &j), &sum)]);
    assert_eq!(choose_vector_axis(&ast, &avx2()), Some((j, 8)));
}

#[test]
fn ops_without_vector_form_are_devectorized() {
    let i = range(8, 0, AxisType::Loop);
    let x = load(&param(1, F32), &i);
    let v = UOp::alu(Op::Exp2, [x]);
    let ast = sink(&[store(&param(0, F32), &i, &v)]);
    let out = vectorize(&ast, &i, 8, &avx2()).unwrap().unwrap();
    assert!(vector_nodes(&out, Op::Exp2).is_empty());
    let scalar_exp2 = toposort(&out)
        .into_iter()
        .filter(|u| u.op() == Op::Exp2 && u.lanes() == 1)
        .count();
    assert_eq!(scalar_exp2, 8);
}

#[test]
fn it_refuses_extents_the_lanes_do_not_divide() {
    let i = range(12, 0, AxisType::Loop);
    let ast = sink(&[store(&param(0, F32), &i, &load(&param(1, F32), &i))]);
    assert_eq!(vectorize(&ast, &i, 8, &avx2()).unwrap(), None);
    // 12 takes vectors of 4 lanes; 7 none at all
    assert_eq!(choose_vector_axis(&ast, &avx2()), Some((i, 4)));
    let odd = range(7, 0, AxisType::Loop);
    let ast = sink(&[store(&param(0, F32), &odd, &load(&param(1, F32), &odd))]);
    assert_eq!(choose_vector_axis(&ast, &avx2()), None);
}

#[test]
fn no_vector_dtype_no_vector_axis() {
    let i = range(16, 0, AxisType::Loop);
    let p = |slot| UOp::new(Op::Param, DType::I32, [], Arg::Param { slot });
    let idx = |b: &UOp| UOp::new(Op::Index, DType::I32, [b.clone(), i.clone()], Arg::None);
    let v = UOp::new(Op::Load, DType::I32, [idx(&p(1))], Arg::None);
    let st = UOp::new(Op::Store, DType::Void, [idx(&p(0)), v], Arg::None);
    assert_eq!(choose_vector_axis(&sink(&[st]), &avx2()), None);
}

fn linear(ast: &UOp, vector: bool) -> LinearProgram {
    let target = Target {
        vector: vector.then(avx2),
        has_fma: vector,
        ..Default::default()
    };
    let options = LinearizeOptions {
        optimize: true,
        opts: None,
    };
    linearize(ast, &[32, 32, 32], &target, &options).expect("linearize")
}

#[test]
fn linearized_vector_programs_count_lanes_in_their_ops() {
    let (ast, _) = elementwise();
    let scalar = linear(&ast, false);
    let vector = linear(&ast, true);
    // a mul and an add per element of 32
    assert_eq!((scalar.ops, vector.ops), (64, 64));
    assert!(vector.uops.iter().any(|u| u.lanes() == 8));
    assert!(scalar.uops.iter().all(|u| u.lanes() == 1));
    // the accumulator of a vector reduction is a vector register
    let r = range(4, 0, AxisType::Loop);
    let c = range(64, 1, AxisType::Reduce);
    let sum = reduce(Op::Add, &load(&param(1, F32), &(&(&r * 64) + &c)), &[c]);
    let p = linear(&sink(&[store(&param(0, F32), &r, &sum)]), true);
    assert!(
        p.uops
            .iter()
            .any(|u| u.op() == Op::DefineReg && u.lanes() == 8)
    );
}
