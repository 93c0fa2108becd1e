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

/// One `DEBUG=2` line: name (the kernel's shape), global size (workgroups, or CPU threads:
/// `core_id`s) and local size (threads of a workgroup), time, GFLOP/s, GB/s and the
/// roofline fraction.
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
        "*** kernel {index:4} {:<24} global {:>3} local {:>3}  tm {:>10.2}us  {:>8.2} GFLOPS {:>8.2} GB/s  {:>5.1}% of roofline",
        p.name,
        p.dims.global_size(),
        p.dims.local_size(),
        secs * 1e6,
        gflops,
        gbs,
        frac * 100.0
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_lines_read_the_same() {
        let p = LinearProgram {
            name: "r_512_512_512".into(),
            uops: Vec::new(),
            params: Vec::new(),
            dims: device::LaunchDims {
                global: [2, 1, 1],
                ..Default::default()
            },
            ops: 2 * 512 * 512 * 512,
            bytes: 3 * 512 * 512 * 4,
        };
        let roof = Roofline {
            gflops: 400.0,
            gbs: 20.0,
        };
        let line = kernel_line(3, &p, p.bytes, Duration::from_micros(2000), roof);
        insta::assert_snapshot!(line, @"*** kernel    3 r_512_512_512            global   2 local   1  tm    2000.00us    134.22 GFLOPS     1.57 GB/s   33.6% of roofline");
    }
}
