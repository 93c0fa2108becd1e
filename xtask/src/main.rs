//! `cargo xtask`: ferrograd's developer harnesses. The command line is parsed here; each
//! harness lives in its own module.
//!
//! `fuzz-symbolic` cross-checks the symbolic index simplifier against the `view-ref` oracle
//! on random movement-op chains (see `fuzz.rs`). `fuzz-kernels` realizes random tensor
//! programs on the CPU and compares them with a plain interpreter (see `fuzz_kernels.rs`;
//! `DEV=CUDA` with the `cuda` feature runs them on a GPU). `bench-gpu` gathers the GPU
//! benchmark and its peers into a folder to run on a GPU machine (see `bench_gpu.rs`).

mod bench_gpu;
mod cases;
mod check;
mod execute;
mod fuzz;
mod fuzz_kernels;
mod interp;
mod interpreted;
mod matrix;
mod parse;
mod program;
mod reference;
mod workers;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask fuzz-symbolic [--seed S] [--iters N] [--case I] [--threads T] [--repros K]
                                 [--show-larger K]

  --seed S     run seed (default 0)
  --iters N    number of cases (default 20000)
  --case I     replay case I of the seed alone, printing everything about it
  --threads T  worker threads (default: all cores); results do not depend on it
  --repros K   print at most K failing cases (default 10)
  --show-larger K
               print the K smallest cases whose simplified expression is larger than
               the reference (default 0)

usage: cargo xtask bench-gpu [DIR]     build the GPU benchmark into DIR (default .gpu/bench)

usage: cargo xtask fuzz-kernels [--seed S] [--iters N] [--first I] [--case I] [--threads T]
                                [--repros K] [--in-process] [--interpret] [--program FILE]

  --seed S     run seed (default 0)
  --iters N    number of random tensor programs (default 500)
  --first I    start at case I: runs cases I..I+N (default 0)
  --case I     replay case I of the seed alone, printing the program, data and outputs
  --threads T  worker processes at a time (default: all cores); results do not depend on it
  --repros K   print at most K failing cases, minimized (default 8)
  --in-process run the cases on threads of this process instead of in worker processes
               (a case that aborts then ends the run, and compiled kernels accumulate)
  --interpret  run each kernel with a random list of opts (LOCAL and GROUP included) in
               linearizer::interpret instead of compiling it as C
  --program FILE
               run the program written in FILE (as a repro prints it, editable) instead";

/// Options of `fuzz-symbolic`.
#[derive(Debug, Clone)]
pub struct FuzzArgs {
    pub seed: u64,
    pub iters: u64,
    pub case: Option<u64>,
    pub threads: usize,
    pub repros: usize,
    pub show_larger: usize,
}

/// Options of `fuzz-kernels`.
#[derive(Debug, Clone)]
pub struct KernelArgs {
    pub seed: u64,
    pub iters: u64,
    pub case: Option<u64>,
    pub threads: usize,
    pub repros: usize,
    pub first: u64,
    pub program: Option<String>,
    pub in_process: bool,
    /// Run kernels with random opts in the program interpreter (`interpreted.rs`).
    pub interpret: bool,
    /// Internal: run the cases here and print one line each (see `workers.rs`).
    pub worker: bool,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("fuzz-symbolic") => match parse_fuzz(&args[1..]) {
            Ok(Some(a)) => fuzz::main(&a),
            Ok(None) => {
                println!("{USAGE}");
                ExitCode::SUCCESS
            }
            Err(msg) => usage_error(&msg),
        },
        Some("fuzz-kernels") => match parse_kernels(&args[1..]) {
            Ok(Some(a)) => fuzz_kernels::main(&a),
            Ok(None) => {
                println!("{USAGE}");
                ExitCode::SUCCESS
            }
            Err(msg) => usage_error(&msg),
        },
        Some("bench-gpu") => bench_gpu::main(&args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => usage_error(&format!("unknown command `{other}`")),
        None => usage_error("no command given"),
    }
}

fn usage_error(msg: &str) -> ExitCode {
    eprintln!("error: {msg}\n\n{USAGE}");
    ExitCode::from(2)
}

fn all_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The options of `fuzz-symbolic`, or `None` for `--help`.
fn parse_fuzz(args: &[String]) -> Result<Option<FuzzArgs>, String> {
    let mut a = FuzzArgs {
        seed: 0,
        iters: 20_000,
        case: None,
        threads: all_cores(),
        repros: 10,
        show_larger: 0,
    };
    let allowed = [
        "--seed",
        "--iters",
        "--case",
        "--threads",
        "--repros",
        "--show-larger",
    ];
    let Some(values) = parse_numbers(args, "fuzz-symbolic", &allowed)? else {
        return Ok(None);
    };
    for (name, n) in values {
        match name {
            "--seed" => a.seed = n,
            "--iters" => a.iters = n,
            "--case" => a.case = Some(n),
            "--threads" => a.threads = usize::try_from(n).map_err(|e| e.to_string())?,
            "--repros" => a.repros = usize::try_from(n).map_err(|e| e.to_string())?,
            _ => a.show_larger = usize::try_from(n).map_err(|e| e.to_string())?,
        }
    }
    Ok(Some(a))
}

/// The options of `fuzz-kernels`, or `None` for `--help`.
fn parse_kernels(args: &[String]) -> Result<Option<KernelArgs>, String> {
    let mut a = KernelArgs {
        seed: 0,
        iters: 500,
        case: None,
        threads: all_cores(),
        repros: 8,
        first: 0,
        program: None,
        in_process: false,
        interpret: false,
        worker: false,
    };
    let mut rest = Vec::new();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if let Some(file) = flag.strip_prefix("--program=") {
            a.program = Some(file.to_string());
        } else if flag == "--in-process" {
            a.in_process = true;
        } else if flag == "--interpret" {
            a.interpret = true;
        } else if flag == "--worker" {
            a.worker = true;
        } else if flag == "--program" {
            let file = it.next().ok_or("`--program` needs a file")?;
            a.program = Some(file.clone());
        } else {
            rest.push(flag.clone());
        }
    }
    let allowed = [
        "--seed",
        "--iters",
        "--first",
        "--case",
        "--threads",
        "--repros",
    ];
    let Some(values) = parse_numbers(&rest, "fuzz-kernels", &allowed)? else {
        return Ok(None);
    };
    for (name, n) in values {
        match name {
            "--seed" => a.seed = n,
            "--iters" => a.iters = n,
            "--first" => a.first = n,
            "--case" => a.case = Some(n),
            "--threads" => a.threads = usize::try_from(n).map_err(|e| e.to_string())?,
            _ => a.repros = usize::try_from(n).map_err(|e| e.to_string())?,
        }
    }
    Ok(Some(a))
}

/// `--name N` or `--name=N` pairs, each name one of `allowed`; `None` for `--help`.
fn parse_numbers<'a>(
    args: &[String],
    command: &str,
    allowed: &[&'a str],
) -> Result<Option<Vec<(&'a str, u64)>>, String> {
    let mut out = Vec::new();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (flag.as_str(), None),
        };
        if matches!(name, "-h" | "--help") {
            return Ok(None);
        }
        let Some(&name) = allowed.iter().find(|a| **a == name) else {
            return Err(format!("unknown option `{flag}` for {command}"));
        };
        let value = match inline {
            Some(v) => v,
            None => it
                .next()
                .cloned()
                .ok_or_else(|| format!("`{name}` needs a value"))?,
        };
        let n: u64 = value
            .parse()
            .map_err(|_| format!("`{name}` takes a non-negative integer, not `{value}`"))?;
        if name == "--threads" && n == 0 {
            return Err("`--threads` must be at least 1".into());
        }
        out.push((name, n));
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Option<FuzzArgs>, String> {
        let v: Vec<String> = s.split_whitespace().map(String::from).collect();
        parse_fuzz(&v)
    }

    #[test]
    fn options_parse() {
        let a = parse("--seed 7 --iters=100 --case 3")
            .expect("valid")
            .expect("not help");
        assert_eq!((a.seed, a.iters, a.case), (7, 100, Some(3)));
        assert!(parse("--help").expect("valid").is_none());
    }

    #[test]
    fn bad_options_say_why() {
        assert_eq!(
            parse("--iters -5").expect_err("negative"),
            "`--iters` takes a non-negative integer, not `-5`"
        );
        assert_eq!(
            parse("--seed").expect_err("no value"),
            "`--seed` needs a value"
        );
        assert!(parse("--speed 3").expect_err("unknown").contains("--speed"));
        assert!(parse("--threads 0").is_err());
    }

    #[test]
    fn kernel_options_parse() {
        let v: Vec<String> = "--seed=3 --iters 10 --repros 2"
            .split_whitespace()
            .map(String::from)
            .collect();
        let a = parse_kernels(&v).expect("valid").expect("not help");
        assert_eq!((a.seed, a.iters, a.case, a.repros), (3, 10, None, 2));
        let v = vec!["--program=r.txt".to_string(), "--seed".into(), "1".into()];
        let a = parse_kernels(&v).expect("valid").expect("not help");
        assert_eq!((a.program.as_deref(), a.seed), (Some("r.txt"), 1));
        let bad = vec!["--show-larger".to_string(), "1".to_string()];
        assert!(
            parse_kernels(&bad)
                .expect_err("not an option of fuzz-kernels")
                .contains("fuzz-kernels")
        );
    }
}
