//! Dispatch overhead: host time per call of programs whose kernels take almost no time,
//! so what is measured is building the graph, scheduling, planning memory, finding the
//! compiled kernels and launching them. Rows (µs per call, median of rounds):
//!
//! - `a*b+1` on 1,024 f32, the graph built anew each call, then realized; also over 512
//!   pairs of inputs in turn (no graph repeats: each call's graph is new);
//! - `Tensor::schedule` alone of that graph, and of a small MLP's forward and backward;
//! - an eager training step of the small MLP (64 -> 128 -> 10, ReLU, batch 32, MSE loss,
//!   SGD): zero_grad, forward, backward, step; also per kernel launched;
//! - the same step through `Jit` (replayed after its second call): per step and per kernel;
//! - a `Jit` replay of a chain of 16 kernels of 16 elements: the host time per kernel.
//!
//! The peer script `crates/ferrograd/benches/dispatch_peers.py` runs the same programs in
//! numpy and PyTorch (CPU). Usage: `cargo run --release -p ferrograd --example
//! dispatch_bench [rounds]`.

use std::time::Instant;

use ferrograd::nn::{Linear, Module, ReLU, Sequential};
use ferrograd::optim::{Optimizer, SGD};
use ferrograd::{Reduction, Tensor, init, manual_seed};

/// µs per call of `f`: the median over `rounds` rounds of `calls` calls each.
fn per_call(rounds: usize, calls: usize, mut f: impl FnMut()) -> f64 {
    for _ in 0..calls {
        f();
    }
    let mut times: Vec<f64> = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..calls {
                f();
            }
            t.elapsed().as_secs_f64() * 1e6 / calls as f64
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

struct Mlp {
    model: Sequential,
    x: Tensor,
    y: Tensor,
}

fn mlp() -> ferrograd::Result<Mlp> {
    manual_seed(0);
    let model = Sequential::new()
        .with(Linear::new(64, 128)?)
        .with(ReLU)
        .with(Linear::new(128, 10)?);
    let x = Tensor::rand(&[32, 64])?;
    let y = Tensor::rand(&[32, 10])?;
    Tensor::realize_all(&[&x, &y])?;
    Ok(Mlp { model, x, y })
}

fn loss(m: &Mlp, x: &Tensor, y: &Tensor) -> ferrograd::Result<Tensor> {
    m.model.forward(x)?.mse_loss(y, Reduction::Mean)
}

fn train_step(m: &Mlp, opt: &mut SGD, x: &Tensor, y: &Tensor) -> ferrograd::Result<Tensor> {
    opt.zero_grad()?;
    let l = loss(m, x, y)?;
    l.backward()?;
    opt.step()?;
    Ok(l)
}

fn main() -> ferrograd::Result<()> {
    init();
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|r| r.parse().ok())
        .unwrap_or(15);

    let a = Tensor::rand(&[1024])?;
    let b = Tensor::rand(&[1024])?;
    Tensor::realize_all(&[&a, &b])?;
    let tiny = || -> ferrograd::Result<Tensor> { a.mul(&b)?.add_scalar(1.0) };
    let eager = per_call(rounds, 2000, || {
        tiny().and_then(|c| c.realize().map(|_| ())).expect("a*b+1");
    });
    println!("eager a*b+1, 1024 f32             {eager:>9.2} us/call");
    // the same program over 512 pairs of inputs in turn: no graph repeats soon enough to
    // be found as a whole (each is matched by its structure)
    let pairs: Vec<(Tensor, Tensor)> = (0..512)
        .map(|_| Ok((Tensor::rand(&[1024])?, Tensor::rand(&[1024])?)))
        .collect::<ferrograd::Result<_>>()?;
    for (x, y) in &pairs {
        Tensor::realize_all(&[x, y])?;
    }
    let mut next = 0;
    let rotating = per_call(rounds, 2048, || {
        let (x, y) = &pairs[next % pairs.len()];
        next += 1;
        x.mul(y)
            .and_then(|c| c.add_scalar(1.0))
            .and_then(|c| c.realize().map(|_| ()))
            .expect("a*b+1");
    });
    println!("eager a*b+1 over 512 input pairs  {rotating:>9.2} us/call");
    let sched = per_call(rounds, 2000, || {
        let c = tiny().expect("a*b+1");
        Tensor::schedule(&[&c]).expect("schedule");
    });
    println!("schedule a*b+1                    {sched:>9.2} us/call");

    let m = mlp()?;
    let params = m.model.parameters();
    let sched_mlp = per_call(rounds, 20, || {
        let l = loss(&m, &m.x, &m.y).expect("loss");
        let refs: Vec<&Tensor> = params.iter().collect();
        let mut grads = l.gradient(&refs).expect("gradient");
        grads.push(l);
        let refs: Vec<&Tensor> = grads.iter().collect();
        Tensor::schedule(&refs).expect("schedule");
    });
    println!("schedule MLP forward+backward     {sched_mlp:>9.2} us/call");

    let mut opt = SGD::new(params.clone(), 1e-3)?;
    let step = per_call(rounds, 50, || {
        train_step(&m, &mut opt, &m.x, &m.y).expect("step");
    });
    let kernels = kernels_of(|| train_step(&m, &mut opt, &m.x, &m.y).map(|_| ()))?;
    println!(
        "eager MLP SGD step                {step:>9.2} us/step, {kernels} kernels, {:.2} us/kernel",
        step / kernels as f64
    );
    jit_rows(&m, rounds)?;
    Ok(())
}

/// Kernels launched by `f`.
fn kernels_of(f: impl FnOnce() -> ferrograd::Result<()>) -> ferrograd::Result<u64> {
    let before = ferrograd::layers::engine::kernels_launched();
    f()?;
    Ok(ferrograd::layers::engine::kernels_launched() - before)
}

fn jit_rows(m: &Mlp, rounds: usize) -> ferrograd::Result<()> {
    use ferrograd::Jit;
    let mut opt = SGD::new(m.model.parameters(), 1e-3)?;
    let mut step =
        Jit::new(|inputs: &[Tensor]| Ok(vec![train_step(m, &mut opt, &inputs[0], &inputs[1])?]));
    let inputs = [m.x.clone(), m.y.clone()];
    for _ in 0..3 {
        step.call(&inputs)?;
    }
    let kernels = step.captured_kernels(&inputs).unwrap_or(0);
    let replay = per_call(rounds, 200, || {
        step.call(&inputs).expect("jit step");
    });
    println!(
        "JIT MLP SGD step (replayed)       {replay:>9.2} us/step, {kernels} kernels, {:.2} us/kernel",
        replay / kernels.max(1) as f64
    );
    // host time per replayed kernel: a chain of 16 kernels of 16 elements each
    let mut chain = Jit::new(|inputs: &[Tensor]| {
        let mut y = inputs[0].clone();
        for _ in 0..16 {
            y = y.mul_scalar(0.5)?.add_scalar(1.0)?.contiguous();
        }
        Ok(vec![y])
    });
    let x = [Tensor::rand(&[16])?];
    Tensor::realize_all(&[&x[0]])?;
    for _ in 0..3 {
        chain.call(&x)?;
    }
    let kernels = chain.captured_kernels(&x).unwrap_or(0);
    let replay = per_call(rounds, 500, || {
        chain.call(&x).expect("jit chain");
    });
    println!(
        "JIT chain of tiny kernels         {replay:>9.2} us/call, {kernels} kernels, {:.2} us/kernel",
        replay / kernels.max(1) as f64
    );
    Ok(())
}
