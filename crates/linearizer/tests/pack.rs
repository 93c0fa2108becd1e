//! The PACK opt and its heuristic: where the copy into scratch runs, what it copies, and
//! when it refuses.

mod common;

use common::*;
use linearizer::{
    LinearProgram, LinearizeError, LinearizeOptions, Opt, Target, apply_opt, linearize,
};
use uop_ir::{Arg, AxisType, Op, UOp};

/// A CPU-like target with AVX2-like vectors and `scratch_bytes` of scratch.
fn cpu(scratch_bytes: usize) -> Target {
    Target {
        vector: Some(avx2()),
        scratch_bytes,
        has_fma: true,
        ..Default::default()
    }
}

/// The heuristics, or the opts of `list` when there is one.
fn options(list: Option<Vec<Opt>>) -> LinearizeOptions {
    LinearizeOptions {
        optimize: true,
        opts: list,
    }
}

fn kind(u: &UOp) -> Option<AxisType> {
    match u.arg() {
        Arg::Range { kind, .. } => Some(*kind),
        _ => None,
    }
}

fn position(p: &LinearProgram, f: impl Fn(&UOp) -> bool) -> usize {
    p.uops
        .iter()
        .position(f)
        .unwrap_or_else(|| panic!("not in the program:\n{p:?}"))
}

#[test]
fn the_copy_runs_between_the_loop_and_the_loops_inside_it() {
    // after the swap, j (extent 64) is axis 0 and the outer loop, i (extent 16) axis 1
    let list = vec![Opt::Swap { a: 0, b: 1 }, Opt::Pack { slot: 2, axis: 0 }];
    let p = linearize(
        &matmul(16, 64, 32),
        &[1024, 512, 2048],
        &cpu(1 << 10),
        &options(Some(list)),
    )
    .unwrap();
    let local = position(&p, |u| u.op() == Op::DefineLocal);
    assert_eq!(p.uops[local].src()[0].const_int(), Some(32));
    let outer = position(&p, |u| u.op() == Op::Range);
    let copy = position(&p, |u| kind(u) == Some(AxisType::Stage));
    let copy_end = position(&p, |u| {
        u.op() == Op::End && kind(&u.src()[1]) == Some(AxisType::Stage)
    });
    let inner = position(&p, |u| {
        u.op() == Op::Range && u.src()[0].const_int() == Some(16)
    });
    assert!(
        local < outer && outer < copy && copy < copy_end && copy_end < inner,
        "{p:?}"
    );
    assert_eq!(p.uops[outer].src()[0].const_int(), Some(64));
    // B is read only by the copy; the product reads the scratch
    let reads_b = p
        .uops
        .iter()
        .filter(|u| u.op() == Op::Load && u.src()[0].src()[0] == param(2, F32))
        .count();
    assert_eq!(reads_b, 1);
    assert!(p.uops.iter().any(|u| u.op() == Op::Load
        && u.src()[0].src()[0].op() == Op::After
        && u.src()[0].src()[0].src()[0].op() == Op::DefineLocal));
}

fn why(e: LinearizeError) -> String {
    match e {
        LinearizeError::Opt { opt, why } => format!("{opt}: {why}"),
        other => panic!("not an opt error: {other}"),
    }
}

#[test]
fn pack_refuses_what_it_cannot_copy() {
    let ast = matmul(16, 64, 32);
    let pack = |slot, axis, scratch| apply_opt(&ast, &Opt::Pack { slot, axis }, &cpu(scratch));
    assert_eq!(
        why(pack(2, 0, 0).unwrap_err()),
        "PACK(buffer 2, axis 0): the target has no scratch memory"
    );
    assert!(why(pack(0, 0, 1 << 10).unwrap_err()).contains("writes that buffer"));
    // B inside i: a 32 x 64 panel of 8 KiB
    assert!(why(pack(2, 0, 1 << 10).unwrap_err()).contains("8192 bytes"));
    assert!(pack(2, 0, 8192).is_ok());
    assert!(why(pack(2, 2, 1 << 10).unwrap_err()).contains("not an output loop"));
    // A's loads inside j depend only on k: a 32-element strip
    assert!(pack(1, 1, 1 << 10).is_ok());
}

#[test]
fn the_heuristic_packs_a_strided_operand_that_is_read_again() {
    let has_local = |ast: &UOp, scratch| {
        let p = linearize(ast, &[4096, 4096, 4096], &cpu(scratch), &options(None)).unwrap();
        p.uops.iter().any(|u| u.op() == Op::DefineLocal)
    };
    // B's rows are 256 bytes apart and every row of A reads the strip again
    assert!(has_local(&matmul(64, 64, 64), 1 << 16));
    assert!(!has_local(&matmul(64, 64, 64), 0));
    // not enough scratch for one strip
    assert!(!has_local(&matmul(64, 64, 64), 64));
    // a single row of A reads every strip once: nothing to gain
    assert!(!has_local(&matmul(1, 64, 64), 1 << 16));
}
