//! ferrograd's main job: train a small CNN on the UCI optdigits images that ship inside the
//! crate (1,797 images of 8x8 pixels; see docs/data.md), report test accuracy, print where
//! the time went per kernel, and save the weights as safetensors.
//!
//! Network: Conv2d(1, 16, 3, pad 1) -> ReLU -> MaxPool2d(2) -> Conv2d(16, 32, 3, pad 1) ->
//! ReLU -> MaxPool2d(2) -> flatten -> Linear(128, 10); cross entropy; Adam, lr 1e-2;
//! batches of 64 (the last partial batch of an epoch is dropped); 15 epochs. The PyTorch
//! and tinygrad peers (`benches/train_digits_{torch,tinygrad}.py`) train the same network
//! on the same batches.
//!
//! The training step runs through `Jit`: its kernels are captured on the second step and
//! replayed after that (no graph building or scheduling per step); `--no-jit` runs every
//! step eagerly instead (the same numbers, more host time).
//!
//! `cargo run --release --example train_digits -- [--epochs N] [--out FILE] [--quiet] [--no-jit]`

use std::path::PathBuf;
use std::time::{Duration, Instant};

use ferrograd::datasets::{self, Split};
use ferrograd::layers::engine;
use ferrograd::nn::{Conv2d, Flatten, Linear, MaxPool2d, Module, ReLU, Sequential};
use ferrograd::optim::{Adam, Optimizer};
use ferrograd::{Conv2dOpts, CrossEntropyOpts, Jit, Tensor};
use indicatif::{ProgressBar, ProgressStyle};

const BATCH: usize = 64;
const LR: f64 = 1e-2;
const SEED: u64 = 0;

struct Args {
    epochs: u64,
    out: PathBuf,
    quiet: bool,
    jit: bool,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        epochs: 15,
        out: PathBuf::from("digits_cnn.safetensors"),
        quiet: false,
        jit: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--epochs" => {
                let v = it.next().ok_or("--epochs needs a number")?;
                a.epochs = v
                    .parse()
                    .map_err(|_| format!("--epochs {v}: not a number"))?;
            }
            "--out" => a.out = it.next().ok_or("--out needs a file name")?.into(),
            "--quiet" => a.quiet = true,
            "--no-jit" => a.jit = false,
            other => {
                return Err(format!(
                    "unknown argument {other} (known: --epochs N, --out FILE, --quiet, --no-jit)"
                ));
            }
        }
    }
    Ok(a)
}

fn model() -> ferrograd::Result<Sequential> {
    let conv = |cin, cout| Conv2d::with_options(cin, cout, (3, 3), Conv2dOpts::padded(1), true);
    Ok(Sequential::new()
        .with(conv(1, 16)?)
        .with(ReLU)
        .with(MaxPool2d::new(2))
        .with(conv(16, 32)?)
        .with(ReLU)
        .with(MaxPool2d::new(2))
        .with(Flatten::default())
        .with(Linear::new(32 * 2 * 2, 10)?))
}

/// The fraction of `split` the model labels right.
fn accuracy(model: &Sequential, split: &Split) -> ferrograd::Result<f64> {
    model.eval();
    let all = split.all();
    let predicted = ferrograd::no_grad(|| model.forward(&split.images(&all)?)?.argmax(1, false))?
        .to_vec::<i64>()?;
    model.train();
    let right = predicted
        .iter()
        .zip(&split.labels)
        .filter(|(p, l)| p == l)
        .count();
    Ok(right as f64 / split.len() as f64)
}

fn run(a: &Args) -> Result<(), Box<dyn std::error::Error>> {
    ferrograd::init();
    let data = datasets::digits()?;
    ferrograd::manual_seed(SEED);
    let start = Instant::now();
    let net = model()?;
    let mut opt = Adam::new(net.parameters(), LR)?;
    let steps = data.train.len() / BATCH;
    println!(
        "digits: {} train / {} test images of 8x8; {} parameters; {} epochs of {steps} steps of {BATCH}",
        data.train.len(),
        data.test.len(),
        net.parameters().iter().map(Tensor::numel).sum::<i64>(),
        a.epochs
    );
    let bar = if a.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(a.epochs * steps as u64)
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} steps  epoch {prefix}  {msg}")
            .map_err(|e| e.to_string())?,
    );
    // one training step: forward, loss, backward, Adam's update; the loss comes back
    let mut jit = Jit::new(|xy: &[Tensor]| -> ferrograd::Result<Vec<Tensor>> {
        opt.zero_grad()?;
        let loss = net
            .forward(&xy[0])?
            .cross_entropy(&xy[1], &CrossEntropyOpts::default())?;
        loss.backward()?;
        opt.step_with(&[&loss])?;
        Ok(vec![loss])
    });
    let mut first_step: Option<Duration> = None;
    let mut epoch_times = Vec::new();
    let mut last_loss = f32::NAN;
    for epoch in 0..a.epochs {
        bar.set_prefix(format!("{}", epoch + 1));
        let t0 = Instant::now();
        let order = datasets::epoch_order(data.train.len(), SEED, epoch);
        if epoch == 1 {
            // profile a full epoch after the first (compiles are done)
            engine::reset_profile();
            engine::set_profiling(true);
        }
        for batch in order.chunks_exact(BATCH) {
            let xy = [data.train.images(batch)?, data.train.labels(batch)?];
            let loss = if a.jit {
                jit.call(&xy)?.remove(0)
            } else {
                jit.call_eagerly(&xy)?.remove(0)
            };
            last_loss = loss.to_vec::<f32>()?[0];
            first_step.get_or_insert_with(|| start.elapsed());
            bar.inc(1);
            let seen = (bar.position() as usize - epoch as usize * steps) * BATCH;
            bar.set_message(format!(
                "loss {last_loss:.4}  {:.0} images/s",
                seen as f64 / t0.elapsed().as_secs_f64()
            ));
        }
        if epoch == 1 {
            engine::set_profiling(false);
        }
        epoch_times.push(t0.elapsed());
    }
    bar.finish_and_clear();
    drop(jit);
    let test = accuracy(&net, &data.test)?;
    let train = accuracy(&net, &data.train)?;
    let later = &epoch_times[1.min(epoch_times.len())..];
    let per_epoch = later.iter().sum::<Duration>().as_secs_f64() / later.len().max(1) as f64;
    println!(
        "time to the first step {:.1} ms; per epoch after the first {:.1} ms ({:.0} images/s)",
        first_step.unwrap_or_default().as_secs_f64() * 1e3,
        per_epoch * 1e3,
        (steps * BATCH) as f64 / per_epoch.max(1e-9)
    );
    let profile = engine::kernel_profile();
    if !profile.is_empty() {
        println!("kernels of epoch 2 ({} steps):", steps);
        print!("{}", engine::profile_table(&profile, 12));
    }
    net.save(&a.out)?;
    println!(
        "saved {} tensors to {}",
        net.state_dict().len(),
        a.out.display()
    );
    println!(
        "final loss {last_loss:.4}; train accuracy {:.2}%",
        train * 100.0
    );
    println!("test accuracy: {:.2}%", test * 100.0);
    Ok(())
}

fn main() {
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("train_digits: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(&a) {
        eprintln!("train_digits: {e}");
        std::process::exit(1);
    }
}
