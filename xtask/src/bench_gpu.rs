//! `cargo xtask bench-gpu [DIR]`: builds the GPU benchmark (`ferrograd`'s `bench_gpu`
//! example, with the `cuda` feature) and gathers what a GPU machine without a Rust
//! toolchain needs to run it into DIR (default `.gpu/bench`): the binary, the peers'
//! script (`gpu_peers.py`: PyTorch and tinygrad), tinygrad 0.14's wheel (pure Python,
//! fetched with pip when it is not there yet) and `run.sh`, which installs the wheel into
//! a temporary folder and runs the benchmark with its peers, printing one table.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const TINYGRAD: &str = "tinygrad==0.14.0";

const RUN_SH: &str = r#"#!/usr/bin/env bash
# Runs the GPU benchmark with its peers (PyTorch from the machine, tinygrad from the wheel).
set -euo pipefail
cd "$(dirname "$0")"
python3 -m pip install -q --no-index --no-deps --target /tmp/tinygrad-site tinygrad-*.whl
export PYTHONPATH=/tmp/tinygrad-site${PYTHONPATH:+:$PYTHONPATH}
./bench_gpu --peers gpu_peers.py "$@"
"#;

fn run(cmd: &mut Command) -> Result<(), String> {
    let status = cmd.status().map_err(|e| format!("{cmd:?}: {e}"))?;
    status
        .success()
        .then_some(())
        .ok_or_else(|| format!("{cmd:?} failed: {status}"))
}

fn build(dir: &Path) -> Result<(), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    run(Command::new(env!("CARGO"))
        .current_dir(&root)
        .args([
            "build",
            "--release",
            "-p",
            "ferrograd",
            "--features",
            "cuda",
        ])
        .args(["--example", "bench_gpu"]))?;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let copy = |from: PathBuf, name: &str| {
        std::fs::copy(&from, dir.join(name))
            .map(|_| ())
            .map_err(|e| format!("copying {}: {e}", from.display()))
    };
    copy(root.join("target/release/examples/bench_gpu"), "bench_gpu")?;
    copy(
        root.join("crates/ferrograd/benches/gpu_peers.py"),
        "gpu_peers.py",
    )?;
    std::fs::write(dir.join("run.sh"), RUN_SH).map_err(|e| e.to_string())?;
    run(Command::new("chmod").arg("+x").arg(dir.join("run.sh")))?;
    let have_wheel = std::fs::read_dir(dir)
        .map_err(|e| e.to_string())?
        .flatten()
        .any(|e| e.file_name().to_string_lossy().starts_with("tinygrad-"));
    if !have_wheel {
        run(Command::new("python3")
            .args([
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary=:all:",
                "-d",
            ])
            .arg(dir)
            .arg(TINYGRAD))?;
    }
    Ok(())
}

pub fn main(args: &[String]) -> ExitCode {
    let dir = PathBuf::from(args.first().map_or(".gpu/bench", String::as_str));
    match build(&dir) {
        Ok(()) => {
            println!(
                "ready: copy {} to the GPU machine and run {}/run.sh there",
                dir.display(),
                dir.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
