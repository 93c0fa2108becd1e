//! `bench_gpu`: ferrograd on a CUDA GPU next to PyTorch and tinygrad measured in the same
//! run, printed as one table (see docs/perf.md). Built by `cargo xtask bench-gpu`, which
//! puts this binary, the peers' script and tinygrad's wheel in one folder to carry to the
//! GPU machine. Every row: fresh random inputs, warm-up, CUDA-event timing, the median of
//! many repetitions, and a check of the output against a float64 reference (whole, or a
//! sample of its elements for the matrix products).
//!
//! `bench_gpu [--peers SCRIPT] [--quick]`; `bench_gpu --first-result` is the fresh
//! process that the first-result row starts.

mod harness;
mod rows;

use std::process::Command;
use std::sync::Arc;

use ferrograd::cuda::CudaDevice;

/// One line of the table.
#[derive(Clone, Debug)]
pub struct Row {
    pub name: String,
    pub unit: &'static str,
    pub ours: f64,
    /// Relative error of our output, or NaN where no output is checked.
    pub error: f64,
    pub note: String,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    ferrograd::init();
    if args.iter().any(|a| a == "--first-result") {
        rows::first_result_child();
        return;
    }
    if let Some(why) = ferrograd::cuda::unavailable() {
        eprintln!("no CUDA device: {why}");
        std::process::exit(2);
    }
    let quick = args.iter().any(|a| a == "--quick");
    let device: Arc<CudaDevice> =
        Arc::new(ferrograd::cuda::open_device("CUDA").expect("open CUDA"));
    let props = device.props().clone();
    println!(
        "device: {} ({} SMs, cc {}.{}, {:.0} GB/s peak by clocks)",
        props.name,
        props.multiprocessors,
        props.compute_capability.0,
        props.compute_capability.1,
        props.peak_gbs()
    );
    if quick {
        // the rows keep their names (the peers' script matches them) at smaller sizes
        println!(
            "--quick: smaller sizes under the same row names: 2^24 elements, softmax \
             1024x8192, matmul 1024^3, conv2d 4x64x56x56, attention 1x4x512x64"
        );
    }
    let rows = rows::all(&device, quick);
    let peers_script = args
        .iter()
        .position(|a| a == "--peers")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let peers = peers_script
        .map(|s| run_peers(&s, quick))
        .unwrap_or_default();
    print_table(&rows, &peers);
}

/// The peers' figures: lines `row<TAB>peer<TAB>value` that the script prints.
fn run_peers(script: &str, quick: bool) -> Vec<(String, String, f64)> {
    let mut cmd = Command::new("python3");
    cmd.arg(script);
    if quick {
        cmd.arg("--quick");
    }
    let out = match cmd.output() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("peers not run: {e}");
            return Vec::new();
        }
    };
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut it = l.split('\t');
            let (row, peer, v) = (it.next()?, it.next()?, it.next()?);
            Some((row.to_string(), peer.to_string(), v.parse().ok()?))
        })
        .collect()
}

fn print_table(rows: &[Row], peers: &[(String, String, f64)]) {
    let peer = |row: &str, who: &str| {
        peers
            .iter()
            .find(|(r, p, _)| r == row && p == who)
            .map_or("-".to_string(), |(_, _, v)| format!("{v:.1}"))
    };
    println!(
        "\n| row | unit | ferrograd | PyTorch | tinygrad 0.14 | ferrograd rel. error | notes |"
    );
    println!("|---|---|---|---|---|---|---|");
    for r in rows {
        let err = if r.error.is_nan() {
            "-".to_string()
        } else {
            format!("{:.1e}", r.error)
        };
        println!(
            "| {} | {} | {:.1} | {} | {} | {} | {} |",
            r.name,
            r.unit,
            r.ours,
            peer(&r.name, "torch"),
            peer(&r.name, "tinygrad"),
            err,
            r.note
        );
    }
}
