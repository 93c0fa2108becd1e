//! `DEBUG`, `NOOPT` and the per-kernel lines. `DEBUG=1` prints the schedule summary,
//! `DEBUG=2` one line per kernel run, `DEBUG=4` the generated source.

use std::sync::LazyLock;
use std::time::Duration;

use device::{LinearProgram, Roofline};

/// The `DEBUG` level from the environment (0 when unset or not a number).
pub fn level() -> u32 {
    static LEVEL: LazyLock<u32> = LazyLock::new(|| {
        std::env::var("DEBUG")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    });
    *LEVEL
}

/// `NOOPT=1` turns off kernel optimizations.
pub fn noopt() -> bool {
    static NOOPT: LazyLock<bool> = LazyLock::new(|| std::env::var("NOOPT").is_ok_and(|v| v != "0"));
    *NOOPT
}

/// One `DEBUG=2` line: name, threads, time, GFLOP/s, GB/s and the roofline fraction.
/// `bytes` are this launch's buffers (a cached program may have been compiled for a kernel
/// with the same AST over buffers of other sizes).
pub fn kernel_line(
    index: usize,
    p: &LinearProgram,
    bytes: u64,
    time: Duration,
    roof: Roofline,
) -> String {
    let secs = time.as_secs_f64().max(1e-9);
    let gflops = p.ops as f64 / secs / 1e9;
    let gbs = bytes as f64 / secs / 1e9;
    // the fraction of the roofline bound: attainable = min(peak flops, intensity * bandwidth)
    let intensity = p.ops as f64 / (bytes as f64).max(1.0);
    let attainable = roof.gflops.min(intensity * roof.gbs).max(1e-9);
    let frac = if p.ops > 0 {
        gflops / attainable
    } else {
        gbs / roof.gbs.max(1e-9)
    };
    format!(
        "*** kernel {index:4} {:<24} threads {:>3}  tm {:>10.2}us  {:>8.2} GFLOPS {:>8.2} GB/s  {:>5.1}% of roofline",
        p.name,
        p.threads,
        secs * 1e6,
        gflops,
        gbs,
        frac * 100.0
    )
}
