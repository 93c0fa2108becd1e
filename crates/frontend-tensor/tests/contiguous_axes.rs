//! `Tensor::contiguous_axes`: the work that depends only on the listed axes gets a buffer
//! of the listed dims; the rest stays in the consumer's kernel. Checked against the plain
//! reference, with kernel counts and the size of the materialized buffer.

mod common;

use common::{Rng, check_f32};
use frontend_tensor::{Tensor, TensorError};
use uop_ir::Arg;

/// Element counts of the kernels' output buffers, in schedule order.
fn output_sizes(tensors: &[&Tensor]) -> Vec<usize> {
    let sched = Tensor::schedule(tensors).expect("schedule");
    sched
        .kernels
        .iter()
        .map(|k| match k.buffers[0].arg() {
            Arg::Buffer { size, .. } => *size,
            _ => 0,
        })
        .collect()
}

#[test]
fn a_broadcast_is_stored_once_per_listed_value() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(11);
    let (a, ra) = rng.tensor(&[7]);
    let (b, rb) = rng.tensor(&[7, 9]);
    let x = a.exp().unwrap().reshape(&[7, 1]).unwrap();
    let x = x.expand(&[7, 9]).unwrap();
    let rx = ra.map(f64::exp).reshape(&[7, 1]).broadcast_to(&[7, 9]);
    // fused, exp runs per output element: one kernel
    let fused = x.mul(&b).unwrap();
    assert_eq!(output_sizes(&[&fused]), vec![63]);
    let y = x.contiguous_axes(&[0]).unwrap().mul(&b).unwrap();
    assert_eq!(
        output_sizes(&[&y]),
        vec![7, 63],
        "exp(a) over axis 0, then y"
    );
    check_f32(&y, &rx.zip(&rb, |p, q| p * q), 1e-6, 1e-6, "y");
}

#[test]
fn work_along_an_unlisted_axis_stays_in_the_consumer() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(12);
    let (p, rp) = rng.tensor_in(&[2, 3, 1], -1.0, 1.0);
    let (q, rq) = rng.tensor(&[1, 1, 5]);
    let t = p
        .exp()
        .unwrap()
        .expand(&[2, 3, 5])
        .unwrap()
        .mul(&q.expand(&[2, 3, 5]).unwrap())
        .unwrap();
    let rt = rp
        .map(f64::exp)
        .broadcast_to(&[2, 3, 5])
        .zip(&rq.broadcast_to(&[2, 3, 5]), |x, y| x * y);
    // the consumer permutes and pads: the inlined loads are indexed and gated
    let consume = |u: &Tensor| -> Tensor {
        u.permute(&[2, 0, 1])
            .unwrap()
            .pad(&[(1, 0), (0, 1), (0, 0)])
            .unwrap()
            .add_scalar(1.0)
            .unwrap()
    };
    let want = rt
        .permute(&[2, 0, 1])
        .pad(&[(1, 0), (0, 1), (0, 0)])
        .map(|v| v + 1.0);
    let y = consume(&t.contiguous_axes(&[0, 1]).unwrap());
    assert_eq!(
        output_sizes(&[&y]),
        vec![6, 6 * 3 * 3],
        "exp(p) over [2, 3]"
    );
    check_f32(&y, &want, 1e-6, 1e-6, "listed [0, 1]");
    // axis 2 alone: q is a bare load (not copied) and exp(p) varies along unlisted axes
    let z = consume(&t.contiguous_axes(&[2]).unwrap());
    assert_eq!(output_sizes(&[&z]), vec![6 * 3 * 3]);
    check_f32(&z, &want, 1e-6, 1e-6, "listed [2]");
    // every axis: contiguous()
    let w = consume(&t.contiguous_axes(&[2, 0, 1]).unwrap());
    assert_eq!(output_sizes(&[&w]), vec![30, 6 * 3 * 3]);
    check_f32(&w, &want, 1e-6, 1e-6, "every axis");
}

#[test]
fn a_stored_reduction_is_not_copied_again() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(13);
    let (m, rm) = rng.tensor(&[4, 6]);
    let (b, rb) = rng.tensor(&[4, 5]);
    // row sums broadcast along a new axis, plus b: the sums depend on axis 0 only
    let s = m.sum(&[1], true).unwrap().expand(&[4, 5]).unwrap();
    let y = s
        .add(&b)
        .unwrap()
        .contiguous_axes(&[0])
        .unwrap()
        .mul_scalar(2.0);
    let y = y.unwrap();
    // a broadcast reduction has a buffer already: the piece would be a bare load of it
    assert_eq!(output_sizes(&[&y]), vec![4, 20]);
    let rs = rm.sum(&[1], true).broadcast_to(&[4, 5]);
    check_f32(&y, &rs.zip(&rb, |x, v| 2.0 * (x + v)), 1e-5, 1e-5, "y");
}

#[test]
fn realized_itself_it_is_stored_whole() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(14);
    let (a, ra) = rng.tensor(&[3, 4]);
    let x = a.mul_scalar(3.0).unwrap().contiguous_axes(&[1]).unwrap();
    assert_eq!(output_sizes(&[&x]), vec![12]);
    check_f32(&x, &ra.map(|v| 3.0 * v), 1e-6, 1e-6, "x");
}

#[test]
fn a_bad_axis_is_an_error() {
    if !common::cpu() {
        return;
    }
    let a = Tensor::rand(&[3, 4]).unwrap();
    let e = a.contiguous_axes(&[0, 2]).unwrap_err();
    assert!(
        matches!(
            e,
            TensorError::Axis {
                op: "contiguous_axes",
                axis: 2,
                ref shape
            } if shape == &[3, 4]
        ),
        "{e}"
    );
    assert!(e.to_string().starts_with("contiguous_axes:"), "{e}");
}
