//! Kernel dedup: kernels that compute the same thing over different buffers have one AST
//! key, so the engine compiles them once, within a schedule and across schedules. Shapes
//! here are used by no other test, so the process-wide compile cache starts cold for them.

mod common;

use frontend_tensor::{DType, Tensor};
use uop_ir::{Arg, Op, UOp};

fn sink(tensors: &[&Tensor]) -> UOp {
    let nodes: Vec<UOp> = tensors.iter().map(|t| t.node()).collect();
    UOp::new(Op::Sink, DType::Void, nodes, Arg::None)
}

#[test]
fn identical_kernels_share_a_key_and_compile_once() {
    if !common::cpu() {
        return;
    }
    let mut rng = common::Rng::new(41);
    let (a, ra) = rng.tensor(&[37, 53]);
    let (b, rb) = rng.tensor(&[37, 53]);
    // the same math; one output has an extra size-1 dim (its loops are numbered alike)
    let x = a.reshape(&[37, 1, 53]).unwrap().mul_scalar(3.0).unwrap();
    let x = x.add_scalar(1.0).unwrap();
    let y = b.mul_scalar(3.0).unwrap().add_scalar(1.0).unwrap();
    let sched = Tensor::schedule(&[&x, &y]).unwrap();
    assert_eq!(sched.kernels.len(), 2);
    assert_eq!(sched.kernels[0].ast.key(), sched.kernels[1].ast.key());
    assert_ne!(sched.kernels[0].buffers, sched.kernels[1].buffers);

    let (_, stats) = engine::realize(&sink(&[&x, &y]), "CPU").unwrap();
    assert_eq!((stats.kernels, stats.compiled), (2, 1));
    // a later schedule over other buffers finds the program in the cache
    let (c, rc) = rng.tensor(&[37, 53]);
    let z = c.mul_scalar(3.0).unwrap().add_scalar(1.0).unwrap();
    let (_, stats) = engine::realize(&sink(&[&z]), "CPU").unwrap();
    assert_eq!((stats.kernels, stats.compiled), (1, 0));

    let want = |r: &common::Ref| r.map(|v| v * 3.0 + 1.0);
    let x = x.reshape(&[37, 53]).unwrap();
    for (name, t, r) in [("x", &x, &ra), ("y", &y, &rb), ("z", &z, &rc)] {
        common::check_f32(t, &want(r), 1e-6, 1e-6, name);
    }
}

#[test]
fn a_dead_load_leaves_no_argument() {
    if !common::cpu() {
        return;
    }
    let mut rng = common::Rng::new(42);
    let (a, _) = rng.tensor(&[29, 31]);
    let (b, rb) = rng.tensor(&[29, 31]);
    let (c, _) = rng.tensor(&[29, 31]);
    // `where(false, a, b)` folds to `b`: a is lowered but never read
    let never = Tensor::full(&[29, 31], 0.0, DType::Bool).unwrap();
    let x = never.where_(&a, &b).unwrap().add_scalar(2.0).unwrap();
    let y = c.add_scalar(2.0).unwrap();
    let sched = Tensor::schedule(&[&x, &y]).unwrap();
    assert_eq!(sched.kernels.len(), 2);
    assert_eq!(sched.kernels[0].buffers.len(), 2, "output and b only");
    assert_eq!(sched.kernels[0].ast.key(), sched.kernels[1].ast.key());
    common::check_f32(&x, &rb.map(|v| v + 2.0), 1e-6, 1e-6, "x");
}

/// One transformer-like layer: layernorm, a matmul, attention scores, softmax, and a
/// residual ReLU MLP.
fn layer(x: &Tensor, w: &[Tensor]) -> frontend_tensor::Result<Tensor> {
    let h = x.layernorm(-1, 1e-5)?;
    let q = h.matmul(&w[0])?;
    let p = q.matmul(&h.transpose(0, 1)?)?.softmax(-1)?;
    let a = p.matmul(&h)?;
    x.add(&a.matmul(&w[1])?.relu()?)
}

#[test]
fn layers_alike_lower_once_and_compute_as_one_at_a_time() {
    if !common::cpu() {
        return;
    }
    let mut rng = common::Rng::new(43);
    let (x, _) = rng.tensor(&[12, 20]);
    let weights: Vec<Vec<Tensor>> = (0..4)
        .map(|_| (0..2).map(|_| rng.tensor(&[20, 20]).0).collect())
        .collect();
    // all layers in one schedule: the kernels of layers 2-4 are those of layer 1 over
    // other buffers (debug builds also lower each and compare)
    let all = weights.iter().fold(x.clone(), |h, w| layer(&h, w).unwrap());
    let sched = Tensor::schedule(&[&all]).unwrap();
    let distinct: std::collections::HashSet<_> =
        sched.kernels.iter().map(|k| k.ast.key()).collect();
    assert!(
        distinct.len() * 2 < sched.kernels.len(),
        "{} kernels, {} distinct",
        sched.kernels.len(),
        distinct.len()
    );
    let got: Vec<f32> = all.to_vec().unwrap();
    // one layer per schedule: no two kernels of a schedule alike
    let mut h = x.clone();
    for w in &weights {
        h = layer(&h, w).unwrap();
        h.realize().unwrap();
    }
    let want: Vec<f32> = h.to_vec().unwrap();
    assert_eq!(got, want);
}
