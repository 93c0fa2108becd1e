//! Reductions (sum, max, min, mean, var) over every axis and random axes, of floats,
//! integers and bools, and at shapes large enough for upcast, unroll and thread splits.

mod common;

use common::prop::shape;
use common::{F32, Rng, SHAPES, TRANS, check_f32, check_i32};
use frontend_tensor::{DType, Tensor};
use proptest::prelude::*;

#[test]
fn reductions_every_axis() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(10);
    for shape in SHAPES {
        let rank = shape.len() as isize;
        let (a, ra) = rng.tensor(shape);
        let n: usize = shape.iter().product();
        let sum_tol = 1e-6 * n as f64 * 2.0;
        // each axis, given positive and negative, and all axes
        let mut cases: Vec<Vec<isize>> = (0..rank).map(|d| vec![d]).collect();
        cases.extend((0..rank).map(|d| vec![d - rank]));
        cases.push(vec![]);
        if rank >= 2 {
            cases.push(vec![0, rank - 1]);
        }
        for axes in cases {
            let ax: Vec<usize> = axes
                .iter()
                .map(|&d| {
                    if d < 0 {
                        (d + rank) as usize
                    } else {
                        d as usize
                    }
                })
                .collect();
            for keepdim in [false, true] {
                let what = |op: &str| format!("{op} {shape:?} axes {axes:?} keepdim {keepdim}");
                check_f32(
                    &a.sum(&axes, keepdim).unwrap(),
                    &ra.sum(&ax, keepdim),
                    F32,
                    sum_tol,
                    &what("sum"),
                );
                check_f32(
                    &a.max(&axes, keepdim).unwrap(),
                    &ra.max(&ax, keepdim),
                    0.0,
                    0.0,
                    &what("max"),
                );
                check_f32(
                    &a.min(&axes, keepdim).unwrap(),
                    &ra.min(&ax, keepdim),
                    0.0,
                    0.0,
                    &what("min"),
                );
                check_f32(
                    &a.mean(&axes, keepdim).unwrap(),
                    &ra.mean(&ax, keepdim),
                    F32,
                    sum_tol,
                    &what("mean"),
                );
                check_f32(
                    &a.var(&axes, keepdim).unwrap(),
                    &ra.var(&ax, keepdim),
                    1e-4,
                    sum_tol,
                    &what("var"),
                );
            }
        }
    }
}

#[test]
fn reductions_of_integers_and_bools() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(11);
    for shape in SHAPES {
        let (a, ra) = rng.tensor_i32(shape, 50);
        let last = shape.len() - 1;
        let what = |op: &str, axes: &[usize]| format!("i32 {op} {shape:?} axes {axes:?}");
        for keepdim in [false, true] {
            let s = a.sum(&[-1], keepdim).unwrap();
            assert_eq!(s.dtype(), DType::I64, "integer sums are i64, as in PyTorch");
            check_i32(&s, &ra.sum(&[last], keepdim), &what("sum", &[last]));
            check_i32(
                &a.max(&[0], keepdim).unwrap(),
                &ra.max(&[0], keepdim),
                &what("max", &[0]),
            );
            let m = a.mean(&[0], keepdim).unwrap();
            assert_eq!(m.dtype(), DType::F32);
            check_f32(&m, &ra.mean(&[0], keepdim), F32, 1e-5, &what("mean", &[0]));
            check_i32(
                &a.min(&[], keepdim).unwrap(),
                &ra.min(&[], keepdim),
                &what("min", &[]),
            );
        }
        // counting trues: a bool sum is i64
        let pos = a.gt(&Tensor::zeros(&[1], DType::I32).unwrap()).unwrap();
        let count = pos.sum(&[], false).unwrap();
        assert_eq!(count.dtype(), DType::I64);
        let want = ra.map(|v| f64::from(u8::from(v > 0.0))).sum(&[], false);
        check_i32(&count, &want, &what("bool count", &[]));
    }
}

#[test]
fn larger_shapes_exercise_opts() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(15);
    // big enough for upcast, unroll and thread splits; sizes that divide nothing evenly
    let (a, ra) = rng.tensor(&[517, 33]);
    let (b, rb) = rng.tensor(&[33]);
    check_f32(
        &a.mul(&b).unwrap(),
        &ra.zip(&rb, |x, y| x * y),
        F32,
        0.0,
        "[517,33] * [33]",
    );
    let (c, rc) = rng.tensor(&[300, 257]);
    for axis in [0usize, 1] {
        check_f32(
            &c.sum(&[axis as isize], false).unwrap(),
            &rc.sum(&[axis], false),
            F32,
            1e-4,
            &format!("sum [300,257] axis {axis}"),
        );
        check_f32(
            &c.max(&[axis as isize], true).unwrap(),
            &rc.max(&[axis], true),
            0.0,
            0.0,
            &format!("max [300,257] axis {axis}"),
        );
    }
    check_f32(
        &c.sum(&[], false).unwrap(),
        &rc.sum(&[], false),
        F32,
        2e-3,
        "sum all",
    );
    let (d, rd) = rng.tensor(&[1024, 64]);
    check_f32(
        &d.sum(&[1], false).unwrap(),
        &rd.sum(&[1], false),
        F32,
        1e-4,
        "sum [1024,64]",
    );
    let (x, rx) = rng.tensor(&[65, 67]);
    let (y, ry) = rng.tensor(&[67, 31]);
    check_f32(
        &x.matmul(&y).unwrap(),
        &rx.matmul(&ry),
        F32,
        1e-4,
        "matmul 65x67x31",
    );
    let (p, rp) = rng.tensor(&[128, 128]);
    let (q, rq) = rng.tensor(&[128, 128]);
    check_f32(
        &p.matmul(&q).unwrap(),
        &rp.matmul(&rq),
        F32,
        2e-4,
        "matmul 128^3",
    );
    let (s, rs) = rng.tensor(&[64, 1000]);
    check_f32(
        &s.softmax(-1).unwrap(),
        &rs.softmax(1),
        TRANS,
        1e-6,
        "softmax [64,1000]",
    );
    check_f32(
        &s.layernorm(-1, 1e-5).unwrap(),
        &rs.layernorm(1, 1e-5),
        1e-4,
        1e-4,
        "layernorm [64,1000]",
    );
    // prime lengths, reduced along and across the contiguous axis
    let (t, rt) = rng.tensor(&[3, 100_003]);
    check_f32(
        &t.sum(&[1], false).unwrap(),
        &rt.sum(&[1], false),
        F32,
        1e-2,
        "sum prime",
    );
    let tt = t.transpose(0, 1).unwrap();
    check_f32(
        &tt.sum(&[0], false).unwrap(),
        &rt.sum(&[1], false),
        F32,
        1e-2,
        "sum prime T",
    );
    let (x, rx) = rng.tensor(&[1, 4099]);
    let (y, ry) = rng.tensor(&[4099, 3]);
    check_f32(
        &x.matmul(&y).unwrap(),
        &rx.matmul(&ry),
        F32,
        1e-3,
        "matmul 1x4099x3",
    );
    let (i, ri) = rng.tensor_i32(&[333, 129], 100);
    check_i32(
        &i.sum(&[0], false).unwrap(),
        &ri.sum(&[0], false),
        "i32 sum [333,129]",
    );
    check_i32(
        &i.sum(&[1], false).unwrap(),
        &ri.sum(&[1], false),
        "i32 sum axis 1",
    );
}

proptest! {
    #![proptest_config(common::prop::config())]

    #[test]
    fn prop_reduce_random_axes(
        shape in shape(),
        mask in any::<u8>(),
        negative in any::<bool>(),
        keepdim in any::<bool>(),
        op in 0..4usize,
        seed in any::<u64>(),
    ) {
        if !common::cpu() {
            return Ok(());
        }
        let rank = shape.len();
        let ax: Vec<usize> = (0..rank).filter(|d| mask & (1 << d) != 0).collect();
        let axes: Vec<isize> = ax
            .iter()
            .map(|&d| if negative { d as isize - rank as isize } else { d as isize })
            .collect();
        let mut rng = Rng::new(seed);
        let (a, ra) = rng.tensor(&shape);
        let n: usize = shape.iter().product();
        let what = format!("op {op} {shape:?} axes {axes:?} keepdim {keepdim} seed {seed}");
        let (t, r, tol) = match op {
            0 => (a.sum(&axes, keepdim), ra.sum(&ax, keepdim), 2e-6 * n as f64),
            1 => (a.max(&axes, keepdim), ra.max(&ax, keepdim), 0.0),
            2 => (a.min(&axes, keepdim), ra.min(&ax, keepdim), 0.0),
            _ => (a.mean(&axes, keepdim), ra.mean(&ax, keepdim), 2e-6 * n as f64),
        };
        check_f32(&t.unwrap(), &r, F32, tol, &what);
    }
}
