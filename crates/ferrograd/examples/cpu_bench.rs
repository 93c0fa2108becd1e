//! CPU benchmark rows of issue 3: elementwise, sum, softmax, matmul. Each row builds the
//! Tensor program anew and realizes it (schedule + run; kernels compile once, in the
//! warm-up), and reports the median of several runs. Also, per row, the time from building
//! the Tensor program to the first result with cold compile caches (in process, and on
//! disk: the run uses a fresh `FERROGRAD_CACHE` directory unless `FERROGRAD_CACHE` or
//! `DISABLE_COMPILER_CACHE` is set), split into schedule and compile time, and the time to
//! schedule alone (a fresh graph each time, best of 9).
use std::path::PathBuf;
use std::time::{Duration, Instant};

use ferrograd::{Tensor, init};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn row(
    name: &str,
    bytes: f64,
    flops: f64,
    f: &dyn Fn() -> ferrograd::Result<Tensor>,
) -> ferrograd::Result<()> {
    let t0 = Instant::now();
    let cold = Tensor::realize_all_stats(&[&f()?])?;
    let first = t0.elapsed();
    let runs: Vec<Duration> = (0..9)
        .map(|_| {
            let t = Instant::now();
            let r = f().and_then(|x| x.realize().map(|_| ()));
            r.map(|_| t.elapsed())
        })
        .collect::<ferrograd::Result<_>>()?;
    let m = median(runs).as_secs_f64();
    // scheduling alone (a fresh graph each time), best of 9
    let mut sched = Duration::MAX;
    for _ in 0..9 {
        let t = f()?;
        let t0 = Instant::now();
        Tensor::schedule(&[&t])?;
        sched = sched.min(t0.elapsed());
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{name:<20} {:>9.3} ms {:>8.2} GB/s {:>8.2} GFLOP/s | first result {:>8.1} ms \
         (schedule {:>6.2} ms, compile {:>7.1} ms) | schedule alone {:>7.1} us",
        m * 1e3,
        bytes / m / 1e9,
        flops / m / 1e9,
        ms(first),
        ms(cold.schedule_time),
        ms(cold.compile_time),
        sched.as_secs_f64() * 1e6
    );
    Ok(())
}

/// Points the disk cache of compiled kernels at a fresh directory, unless the environment
/// already chose one (or none); returns the directory to remove afterwards.
fn fresh_disk_cache() -> Option<PathBuf> {
    if ["FERROGRAD_CACHE", "DISABLE_COMPILER_CACHE"]
        .iter()
        .any(|k| std::env::var_os(k).is_some())
    {
        return None;
    }
    let dir = std::env::temp_dir().join(format!("ferrograd-bench-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // SAFETY: called first thing in `main`, before any other thread exists.
    unsafe { std::env::set_var("FERROGRAD_CACHE", &dir) };
    Some(dir)
}

fn main() -> ferrograd::Result<()> {
    let fresh = fresh_disk_cache();
    init();
    match &fresh {
        Some(dir) => println!("cold compile cache: {}", dir.display()),
        None => println!("compile cache as the environment says (first results may be warm)"),
    }
    let result = rows();
    if let Some(dir) = fresh {
        let _ = std::fs::remove_dir_all(dir);
    }
    result
}

fn rows() -> ferrograd::Result<()> {
    let n = 1i64 << 22;
    let a = Tensor::rand(&[n])?;
    let b = Tensor::rand(&[n])?;
    Tensor::realize_all(&[&a, &b])?;
    row("a*b+1, 2^22 f32", 12.0 * n as f64, 2.0 * n as f64, &|| {
        a.mul(&b)?.add_scalar(1.0)
    })?;
    row("sum, 2^22 f32", 4.0 * n as f64, n as f64, &|| {
        a.sum(&[], false)
    })?;
    let s = Tensor::rand(&[2048, 2048])?;
    s.realize()?;
    row(
        "softmax 2048x2048",
        8.0 * 2048.0 * 2048.0,
        5.0 * 2048.0 * 2048.0,
        &|| s.softmax(-1),
    )?;
    // 512^3 is the row; the larger ones check that it is not a lucky size
    for m in [512i64, 1024, 2048] {
        let x = Tensor::rand(&[m, m])?;
        let y = Tensor::rand(&[m, m])?;
        Tensor::realize_all(&[&x, &y])?;
        let mf = m as f64;
        row(
            &format!("matmul {m}^3 f32"),
            12.0 * mf * mf,
            2.0 * mf.powi(3),
            &|| x.matmul(&y),
        )?;
    }
    Ok(())
}
