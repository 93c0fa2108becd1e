//! Vector kernels: kernel ASTs linearized with the C target's vectors, compiled and run,
//! against the same ASTs linearized without vectors. Elementwise results and MAX
//! reductions must agree bit for bit (NaN with NaN); reassociated sums closely.

use linearizer::{LinearProgram, LinearizeOptions, Target, linearize};
use renderer::Renderer;
use renderer_c::CRenderer;
use uop_ir::{Arg, AxisType, ConstValue, DType, Op, UOp};

use crate::kernel::{Kernel, skip_without_cc};
use crate::run::{Buf, Rng};

fn param(slot: u32) -> UOp {
    UOp::new(Op::Param, DType::F32, [], Arg::Param { slot })
}

fn range(n: i64, axis: u32, kind: AxisType) -> UOp {
    UOp::range_of(UOp::int(n), axis, kind)
}

fn index(buf: &UOp, off: &UOp) -> UOp {
    UOp::new(Op::Index, DType::F32, [buf.clone(), off.clone()], Arg::None)
}

fn load(buf: &UOp, off: &UOp) -> UOp {
    UOp::new(Op::Load, DType::F32, [index(buf, off)], Arg::None)
}

fn store(buf: &UOp, off: &UOp, v: &UOp) -> UOp {
    UOp::new(
        Op::Store,
        DType::Void,
        [index(buf, off), v.clone()],
        Arg::None,
    )
}

fn reduce(op: Op, v: &UOp, r: &UOp) -> UOp {
    UOp::new(
        Op::Reduce,
        v.dtype(),
        [v.clone(), r.clone()],
        Arg::Reduce {
            op,
            axes: Vec::new().into(),
        },
    )
}

fn sink(stores: &[UOp]) -> UOp {
    UOp::new(Op::Sink, DType::Void, stores.to_vec(), Arg::None)
}

fn program(ast: &UOp, sizes: &[usize], vector: bool) -> LinearProgram {
    let c = CRenderer::with_threads(1).target().clone();
    let target = Target {
        vector: if vector { c.vector.clone() } else { None },
        has_fma: vector && c.has_fma,
        ..Target::default()
    };
    let options = LinearizeOptions {
        optimize: true,
        opts: None,
    };
    linearize(ast, sizes, &target, &options).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs program `p` on `inputs` with an output of `out` (its initial contents).
fn run_program(p: &LinearProgram, out: Vec<f32>, inputs: &[Vec<f32>]) -> Vec<f32> {
    let mut bufs: Vec<Buf> = vec![Buf::f32s(&out)];
    bufs.extend(inputs.iter().map(|v| Buf::f32s(v)));
    let mut refs: Vec<&mut Buf> = bufs.iter_mut().collect();
    Kernel::build(p).run(&mut refs);
    bufs[0].to_f32s()
}

/// Runs `ast` with and without vectors on `inputs`; the outputs as f32.
fn both(ast: &UOp, out_len: usize, inputs: &[Vec<f32>]) -> (Vec<f32>, Vec<f32>) {
    let mut sizes = vec![out_len];
    sizes.extend(inputs.iter().map(Vec::len));
    let run = |vector: bool| {
        let p = program(ast, &sizes, vector);
        assert_eq!(
            p.uops.iter().any(|u| u.lanes() > 1),
            vector,
            "vectorized: {vector}\n{p:?}"
        );
        run_program(&p, vec![0.0; out_len], inputs)
    };
    (run(true), run(false))
}

fn same_bits(a: &[f32], b: &[f32]) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
            "element {i}: vector {x:e}, scalar {y:e}"
        );
    }
}

const SPECIAL: [f32; 10] = [
    f32::NAN,
    f32::INFINITY,
    f32::NEG_INFINITY,
    -200.0,
    200.0,
    -149.7,
    127.9,
    0.0,
    -0.0,
    1e-30,
];

#[test]
fn exp2_and_max_match_the_scalar_kernel_bit_for_bit() {
    if skip_without_cc() {
        return;
    }
    let n = 64;
    let mut rng = Rng::new(7);
    let mut a: Vec<f32> = (0..n).map(|_| rng.float(40.0)).collect();
    let mut b: Vec<f32> = (0..n).map(|_| rng.float(4.0)).collect();
    a[..SPECIAL.len()].copy_from_slice(&SPECIAL);
    b[20] = f32::NAN;
    b[21] = f32::INFINITY;
    let i = range(n as i64, 0, AxisType::Loop);
    let e = UOp::alu(Op::Exp2, [load(&param(1), &i)]);
    let v = UOp::alu(Op::Max, [e, load(&param(2), &i)]);
    let v = &v - &UOp::alu(Op::Neg, [load(&param(2), &i)]);
    let ast = sink(&[store(&param(0), &i, &v)]);
    let (vector, scalar) = both(&ast, n, &[a, b]);
    same_bits(&vector, &scalar);
}

#[test]
fn a_max_over_the_vector_axis_keeps_nan_and_order() {
    if skip_without_cc() {
        return;
    }
    let (rows, cols) = (4usize, 64usize);
    let mut rng = Rng::new(8);
    let mut a: Vec<f32> = (0..rows * cols).map(|_| rng.float(100.0)).collect();
    a[cols + 13] = f32::NAN;
    a[2 * cols + 63] = f32::INFINITY;
    let r = range(rows as i64, 0, AxisType::Loop);
    let c = range(cols as i64, 1, AxisType::Reduce);
    let m = reduce(Op::Max, &load(&param(1), &(&(&r * cols as i64) + &c)), &c);
    let ast = sink(&[store(&param(0), &r, &m)]);
    let (vector, scalar) = both(&ast, rows, &[a]);
    same_bits(&vector, &scalar);
    assert!(vector[1].is_nan());
    assert_eq!(vector[2], f32::INFINITY);
}

#[test]
fn padded_and_strided_loads_are_read_lane_by_lane() {
    if skip_without_cc() {
        return;
    }
    // out[i] = (4 <= i < 36 ? a[i - 4] : 0) + a[(3 * i) % 40]
    let n = 40;
    let mut rng = Rng::new(9);
    let a: Vec<f32> = (0..n).map(|_| rng.float(10.0)).collect();
    let i = range(n as i64, 0, AxisType::Loop);
    let valid = UOp::alu(
        Op::And,
        [
            UOp::alu(Op::CmpLt, [UOp::int(3), i.clone()]),
            UOp::alu(Op::CmpLt, [i.clone(), UOp::int(36)]),
        ],
    );
    let invalid = UOp::const_of(DType::Index, ConstValue::Invalid);
    let off = UOp::alu(Op::Where, [valid, &i - 4, invalid]);
    let padded = load(&param(1), &off);
    let strided = load(&param(1), &(&i * 3).floormod(40));
    let ast = sink(&[store(&param(0), &i, &(&padded + &strided))]);
    let (vector, scalar) = both(&ast, n, std::slice::from_ref(&a));
    same_bits(&vector, &scalar);
    let expect: Vec<f32> = (0..n)
        .map(|i| {
            let p = if (4..36).contains(&i) { a[i - 4] } else { 0.0 };
            p + a[(3 * i) % 40]
        })
        .collect();
    same_bits(&vector, &expect);
}

#[test]
fn a_vectorized_sum_is_close_to_the_scalar_sum() {
    if skip_without_cc() {
        return;
    }
    // out[j] = sum_k a[k] * b[k * 16 + j]: vectors along j, four rows... of k
    let (k_len, n) = (48usize, 16usize);
    let mut rng = Rng::new(10);
    let a: Vec<f32> = (0..k_len).map(|_| rng.float(2.0)).collect();
    let b: Vec<f32> = (0..k_len * n).map(|_| rng.float(2.0)).collect();
    let j = range(n as i64, 0, AxisType::Loop);
    let k = range(k_len as i64, 1, AxisType::Reduce);
    let prod = &load(&param(1), &k) * &load(&param(2), &(&(&k * n as i64) + &j));
    let ast = sink(&[store(&param(0), &j, &reduce(Op::Add, &prod, &k))]);
    let (vector, scalar) = both(&ast, n, &[a, b]);
    for (x, y) in vector.iter().zip(&scalar) {
        assert!((x - y).abs() <= 1e-4 * (1.0 + y.abs()), "{x} vs {y}");
    }
}

/// `ast` linearized with the opts `list` and the C target's vectors, run on `inputs`; the
/// output buffer has `out_len` elements, all NaN before the run.
fn run_with(
    ast: &UOp,
    out_len: usize,
    inputs: &[Vec<f32>],
    list: Vec<linearizer::Opt>,
) -> Vec<f32> {
    let mut sizes = vec![out_len];
    sizes.extend(inputs.iter().map(Vec::len));
    let c = CRenderer::with_threads(2).target().clone();
    let target = Target {
        vector: c.vector.clone(),
        has_fma: c.has_fma,
        ..Target::default()
    };
    let options = LinearizeOptions {
        optimize: false,
        opts: Some(list),
    };
    let p = linearize(ast, &sizes, &target, &options).unwrap_or_else(|e| panic!("{e}"));
    run_program(&p, vec![f32::NAN; out_len], inputs)
}

#[test]
fn padded_loops_write_only_their_elements() {
    if skip_without_cc() {
        return;
    }
    use linearizer::Opt;
    // out[r] = sum_c a[r * 20 + c] + b[r], 13 rows padded to 16, vectors along the rows
    let (rows, cols) = (13usize, 20usize);
    let mut rng = Rng::new(11);
    let a: Vec<f32> = (0..rows * cols).map(|_| rng.float(3.0)).collect();
    let b: Vec<f32> = (0..rows).map(|_| rng.float(3.0)).collect();
    let r = range(rows as i64, 0, AxisType::Loop);
    let c = range(cols as i64, 1, AxisType::Reduce);
    let sum = reduce(Op::Add, &load(&param(1), &(&(&r * cols as i64) + &c)), &c);
    let ast = sink(&[store(&param(0), &r, &(&sum + &load(&param(2), &r)))]);
    // the output buffer has room for 16 rows: the 3 past the end must stay NaN
    let expect: Vec<f32> = (0..rows)
        .map(|i| {
            a[i * cols..(i + 1) * cols]
                .iter()
                .fold(0.0f32, |s, x| s + x)
                + b[i]
        })
        .collect();
    for list in [
        vec![Opt::Padto { axis: 0, amount: 8 }],
        vec![
            Opt::Padto { axis: 0, amount: 8 },
            Opt::Vector { axis: 0, lanes: 8 },
        ],
        vec![
            Opt::Padto { axis: 0, amount: 4 },
            Opt::Thread { axis: 0, amount: 2 },
            Opt::Upcast { axis: 0, amount: 2 },
        ],
    ] {
        let got = run_with(&ast, 16, &[a.clone(), b.clone()], list.clone());
        assert!(
            got[rows..].iter().all(|x| x.is_nan()),
            "{list:?} wrote past the end: {got:?}"
        );
        for (i, (x, y)) in got.iter().zip(&expect).enumerate() {
            assert!(
                (x - y).abs() <= 1e-5 * (1.0 + y.abs()),
                "{list:?} row {i}: {x} vs {y}"
            );
        }
    }
}

#[test]
fn loops_no_lane_count_divides_run_on_masked_vectors() {
    if skip_without_cc() {
        return;
    }
    // out[i] = a[i] * b[i] + 1 over 77 elements: the heuristics pad the loop and the last
    // vector loads and stores lane by lane
    let n = 77usize;
    let mut rng = Rng::new(12);
    let a: Vec<f32> = (0..n).map(|_| rng.float(8.0)).collect();
    let b: Vec<f32> = (0..n).map(|_| rng.float(8.0)).collect();
    let i = range(n as i64, 0, AxisType::Loop);
    let one = UOp::const_of(DType::F32, ConstValue::Float(1.0));
    let v = &(&load(&param(1), &i) * &load(&param(2), &i)) + &one;
    let ast = sink(&[store(&param(0), &i, &v)]);
    let p = program(&ast, &[n, n, n], true);
    let masked = |op: Op| {
        p.uops.iter().any(|u| {
            u.op() == op
                && u.src()
                    .iter()
                    .any(|s| s.op() == Op::Stack && s.dtype() == DType::Bool)
        })
    };
    assert!(masked(Op::Load) && masked(Op::Store), "{p:?}");
    let (vector, scalar) = both(&ast, n, &[a, b]);
    same_bits(&vector, &scalar);
}

#[test]
fn where_selects_lane_by_lane_on_vectors() {
    if skip_without_cc() {
        return;
    }
    // out[i] = a[i] < b[i] ? a[i] : b[i] * 2 over 64 elements, NaN and infinities included
    let n = 64usize;
    let mut rng = Rng::new(13);
    let mut a: Vec<f32> = (0..n).map(|_| rng.float(4.0)).collect();
    let b: Vec<f32> = (0..n).map(|_| rng.float(4.0)).collect();
    a[..SPECIAL.len()].copy_from_slice(&SPECIAL);
    let i = range(n as i64, 0, AxisType::Loop);
    let (x, y) = (load(&param(1), &i), load(&param(2), &i));
    let two = UOp::const_of(DType::F32, ConstValue::Float(2.0));
    let v = x.lt(&y).where_(&x, &(&y * &two));
    let ast = sink(&[store(&param(0), &i, &v)]);
    let p = program(&ast, &[n, n, n], true);
    assert!(
        p.uops.iter().any(|u| u.op() == Op::Where && u.lanes() > 1),
        "{p:?}"
    );
    let (vector, scalar) = both(&ast, n, &[a, b]);
    same_bits(&vector, &scalar);
}
