//! Scheduling scale: the forward pass of a 48-layer transformer-like graph (layernorm from
//! mean/var, attention from broadcast matmuls + causal mask + softmax, a ReLU MLP), batch 4,
//! 128 tokens, width 256, scheduled without running. Prints kernels and microseconds per
//! scheduled kernel; `SHOW=1` also prints the first 30 kernels' buffer sizes and
//! reduction counts (to see what fused).
use std::time::Instant;

use ferrograd::{DType, Tensor, init};

const B: i64 = 4;
const T: i64 = 128;
const D: i64 = 256;
const LAYERS: usize = 48;

fn linear(x: &Tensor, w: &Tensor) -> ferrograd::Result<Tensor> {
    // [B, T, D_in] @ [D_in, D_out]
    let (din, dout) = (w.shape()[0], w.shape()[1]);
    x.reshape(&[B * T, din])?.matmul(w)?.reshape(&[B, T, dout])
}

fn block(x: &Tensor, w: &[Tensor], mask: &Tensor) -> ferrograd::Result<Tensor> {
    let h = x.layernorm(-1, 1e-5)?;
    let (q, k, v) = (linear(&h, &w[0])?, linear(&h, &w[1])?, linear(&h, &w[2])?);
    let scores = q
        .reshape(&[B, T, 1, D])?
        .expand(&[B, T, T, D])?
        .mul(&k.reshape(&[B, 1, T, D])?.expand(&[B, T, T, D])?)?
        .sum(&[-1], false)?
        .mul_scalar(1.0 / (D as f64).sqrt())?
        .add(mask)?;
    let p = scores.softmax(-1)?;
    let att = p
        .reshape(&[B, T, T, 1])?
        .expand(&[B, T, T, D])?
        .mul(&v.reshape(&[B, 1, T, D])?.expand(&[B, T, T, D])?)?
        .sum(&[2], false)?;
    let x = x.add(&linear(&att, &w[3])?)?;
    let h = x.layernorm(-1, 1e-5)?;
    x.add(&linear(&linear(&h, &w[4])?.relu()?, &w[5])?)
}

fn main() -> ferrograd::Result<()> {
    init();
    let mask: Vec<f32> = (0..T * T)
        .map(|i| if i % T > i / T { -1e9 } else { 0.0 })
        .collect();
    let mask = Tensor::from_slice(&mask, &[T, T])?;
    let mut x = Tensor::rand(&[B, T, D])?;
    for _ in 0..LAYERS {
        let w = vec![
            Tensor::rand(&[D, D])?,
            Tensor::rand(&[D, D])?,
            Tensor::rand(&[D, D])?,
            Tensor::rand(&[D, D])?,
            Tensor::rand(&[D, 4 * D])?,
            Tensor::rand(&[4 * D, D])?,
        ];
        x = block(&x, &w, &mask)?;
    }
    let _ = DType::F32;
    // best of 3 (or of `RUNS`, e.g. for a profiler): the first run also warms the allocator
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let mut best = None;
    let mut sched = None;
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        sched = Some(Tensor::schedule(&[&x])?);
        let took = t.elapsed();
        best = Some(best.map_or(took, |b: std::time::Duration| b.min(took)));
    }
    let (Some(sched), Some(took)) = (sched, best) else {
        return Ok(());
    };
    let n = sched.kernels.len();
    let distinct: std::collections::HashSet<_> =
        sched.kernels.iter().map(|k| k.ast.key()).collect();
    println!(
        "{LAYERS} layers, batch {B}, {T} tokens, width {D}: {n} kernels ({} distinct ASTs) scheduled in {:.1} ms, {:.1} us per kernel",
        distinct.len(),
        took.as_secs_f64() * 1e3,
        took.as_secs_f64() * 1e6 / n.max(1) as f64
    );
    if std::env::var("SHOW").is_ok() {
        for k in sched.kernels.iter().take(30) {
            let sizes = k.buffer_sizes();
            let reduces = uop_ir::toposort(&k.ast)
                .iter()
                .filter(|u| u.op() == uop_ir::Op::Reduce)
                .count();
            println!(
                "out {:>8} reads {:?} reduces {reduces}",
                sizes[0],
                &sizes[1..]
            );
        }
    }
    Ok(())
}
