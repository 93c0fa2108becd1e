//! ONNX backend conformance: runs the backend test cases shipped in the onnx 1.19.1 wheel
//! (`onnx/backend/test/data/{node,simple,pytorch-converted,pytorch-operator}`: a
//! `model.onnx` and `test_data_set_*/input_*.pb`, `output_*.pb`) on the CPU and compares
//! every output (see `compare.rs`). Each case runs in a child process (this binary with
//! `--case`), so a hang is cut off after `ONNX_BACKEND_TIMEOUT` seconds (default 120) and
//! a crash fails one case only.
//!
//! Cases named in `excluded.txt` are skipped with the reason given there: that list is
//! the to-do list. The run fails when a case not listed fails. It prints
//! `N passed, M failed, K skipped`, per group and in total.
//!
//! The data: `ONNX_BACKEND_DATA` (the wheel's `onnx/backend/test/data` directory), else
//! `$XDG_CACHE_HOME/ferrograd/onnx-1.19.1/onnx/backend/test/data` (or under
//! `~/.cache`), where `.ci/run` unzips the wheel. Without it the test says why and skips.
//!
//! Other settings: `ONNX_BACKEND_JOBS` (child processes at once, default 2),
//! `ONNX_BACKEND_FILTER` (only cases whose name contains it), `ONNX_BACKEND_ALL=1` (run
//! the excluded cases too, to find those that pass now), `ONNX_BACKEND_REPORT=FILE` (one
//! line per case: group/case, op, status, reason), `ONNX_BACKEND_TABLE=FILE` (the per-op
//! table as markdown, with peers' columns from `ONNX_BACKEND_PEERS=name=FILE,...`, files
//! written by `peers/backend_tests.py`).

mod compare;
mod exclusions;
mod runner;
mod table;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

const GROUPS: &[&str] = &["node", "simple", "pytorch-converted", "pytorch-operator"];

fn data_dir() -> Option<PathBuf> {
    if let Ok(d) = std::env::var("ONNX_BACKEND_DATA") {
        return Some(PathBuf::from(d));
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(cache.join("ferrograd/onnx-1.19.1/onnx/backend/test/data"))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if let Some(k) = args.iter().position(|a| a == "--case") {
        let Some(dir) = args.get(k + 1) else {
            eprintln!("--case needs a directory");
            return ExitCode::FAILURE;
        };
        return runner::child(Path::new(dir));
    }
    // `cargo test` passes filters and flags meant for libtest: a filter that does not name
    // this test (e.g. one for a unit test) means there is nothing to run here
    if args
        .iter()
        .skip(1)
        .any(|a| !a.starts_with('-') && !"backend".contains(a.as_str()))
    {
        return ExitCode::SUCCESS;
    }
    let Some(root) = data_dir().filter(|d| d.join("node").is_dir()) else {
        println!(
            "onnx backend tests: skipped: no test data at {} (set ONNX_BACKEND_DATA to the onnx 1.19.1 wheel's onnx/backend/test/data, or run .ci/run, which unzips it there)",
            data_dir().map_or("<no cache dir>".into(), |d| d.display().to_string())
        );
        return ExitCode::SUCCESS;
    };
    let excluded = match exclusions::load() {
        Ok(e) => e,
        Err(why) => {
            eprintln!("excluded.txt: {why}");
            return ExitCode::FAILURE;
        }
    };
    runner::run_all(&root, GROUPS, &excluded)
}
