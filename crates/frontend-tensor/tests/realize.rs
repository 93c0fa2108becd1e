//! Realization: realized tensors feeding new graphs, clones seeing a realization,
//! `realize_all` of several outputs, and nodes shared by several consumers of one schedule.

mod common;

use common::{ATOL, F32, Rng, TRANS, check_f32};
use frontend_tensor::Tensor;

#[test]
fn realize_then_reuse() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(14);
    let (a, ra) = rng.tensor(&[13, 5]);
    let e = a.exp().unwrap();
    let s = a.sum(&[1], true).unwrap();
    Tensor::realize_all(&[&e, &s]).unwrap();
    let re = ra.map(f64::exp);
    let rs = ra.sum(&[1], true);
    check_f32(&e, &re, TRANS, ATOL, "exp after realize_all");
    check_f32(&s, &rs, F32, 1e-5, "sum after realize_all");
    // a realized tensor feeds a new graph, and realizing again is a no-op
    let d = e.sub(&s).unwrap();
    d.realize().unwrap();
    d.realize().unwrap();
    check_f32(
        &d,
        &re.zip(&rs, |x, y| x - y),
        TRANS,
        1e-5,
        "realized - realized",
    );
    // the clone of a tensor sees its realization
    let c = d.clone();
    check_f32(&c, &re.zip(&rs, |x, y| x - y), TRANS, 1e-5, "clone");
    // realize_all of an already realized tensor and a new one
    let m = d.mul_scalar(2.0).unwrap();
    Tensor::realize_all(&[&d, &m]).unwrap();
    check_f32(
        &m,
        &re.zip(&rs, |x, y| 2.0 * (x - y)),
        TRANS,
        1e-5,
        "realize_all mixed",
    );
}

#[test]
fn shared_subexpressions() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(16);
    // one node read by an elementwise op, a reduction over each axis and a movement op
    let (a, ra) = rng.tensor(&[13, 7]);
    let x = a.exp().unwrap();
    let rx = ra.map(f64::exp);
    let t = x
        .add(&x.sum(&[0], true).unwrap())
        .unwrap()
        .mul(&x.max(&[1], true).unwrap())
        .unwrap()
        .sub(&x.flip(&[0, 1]).unwrap())
        .unwrap();
    let rt = rx
        .zip(&rx.sum(&[0], true), |v, s| v + s)
        .zip(&rx.max(&[1], true), |v, m| v * m)
        .zip(&rx.flip(&[0, 1]), |v, f| v - f);
    check_f32(&t, &rt, TRANS, 1e-5, "x + sum0(x) * max1(x) - flip(x)");
    // a node read through two different permutations
    let (b, rb) = rng.tensor(&[6, 6]);
    let y = b.mul_scalar(3.0).unwrap();
    let u = y.add(&y.transpose(0, 1).unwrap()).unwrap();
    let ry = rb.map(|v| 3.0 * v);
    check_f32(
        &u,
        &ry.zip(&ry.permute(&[1, 0]), |p, q| p + q),
        F32,
        0.0,
        "y + y.T",
    );
    // several outputs of one schedule that share inputs
    let (c, rc) = rng.tensor(&[5, 9]);
    let o1 = c.sum(&[1], false).unwrap();
    let o2 = c.mul(&c).unwrap().sum(&[1], false).unwrap();
    let o3 = c.sub(&c.mean(&[1], true).unwrap()).unwrap();
    Tensor::realize_all(&[&o1, &o2, &o3]).unwrap();
    check_f32(&o1, &rc.sum(&[1], false), F32, 1e-5, "o1");
    check_f32(&o2, &rc.map(|v| v * v).sum(&[1], false), F32, 1e-5, "o2");
    check_f32(
        &o3,
        &rc.zip(&rc.mean(&[1], true), |v, m| v - m),
        F32,
        1e-5,
        "o3",
    );
    // a reduction of a reduction, and a reduction fed by a broadcast of a reduction
    let (d, rd) = rng.tensor(&[4, 6, 5]);
    let r2 = d.sum(&[2], false).unwrap().max(&[0], false).unwrap();
    check_f32(
        &r2,
        &rd.sum(&[2], false).max(&[0], false),
        F32,
        1e-5,
        "max0(sum2)",
    );
    let v = d.var(&[1], false).unwrap();
    check_f32(
        &v,
        &rd.var(&[1], false),
        1e-4,
        1e-5,
        "var over the middle axis",
    );
}

#[test]
fn realize_all_stats_reports_the_work_done() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(16);
    let (a, ra) = rng.tensor(&[5, 7]);
    // an elementwise op and a reduction of it: two kernels, the first of them new here
    let e = a.mul_scalar(3.25).unwrap().exp().unwrap();
    let s = e.sum(&[1], false).unwrap();
    let stats = Tensor::realize_all_stats(&[&e, &s]).unwrap();
    assert_eq!(stats.kernels, 2, "{stats:?}");
    assert!(stats.compile_time > std::time::Duration::ZERO, "{stats:?}");
    check_f32(
        &s,
        &ra.map(|x| (3.25 * x).exp()).sum(&[1], false),
        TRANS,
        1e-5,
        "sum",
    );
    let again = Tensor::realize_all_stats(&[&e, &s]).unwrap();
    assert_eq!(again.kernels, 0, "already realized: {again:?}");
}
