//! `cargo xtask`: ferrograd's developer harnesses. The command line is parsed here; each
//! harness lives in its own module.
//!
//! `fuzz-symbolic` cross-checks the symbolic index simplifier against the `view-ref` oracle
//! on random movement-op chains (see `fuzz.rs`).

mod cases;
mod check;
mod fuzz;
mod matrix;
mod reference;

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
               the reference (default 0)";

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

/// The options, or `None` for `--help`.
fn parse_fuzz(args: &[String]) -> Result<Option<FuzzArgs>, String> {
    let mut a = FuzzArgs {
        seed: 0,
        iters: 20_000,
        case: None,
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        repros: 10,
        show_larger: 0,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (flag.as_str(), None),
        };
        if matches!(name, "-h" | "--help") {
            return Ok(None);
        }
        if !matches!(
            name,
            "--seed" | "--iters" | "--case" | "--threads" | "--repros" | "--show-larger"
        ) {
            return Err(format!("unknown option `{flag}` for fuzz-symbolic"));
        }
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
        match name {
            "--seed" => a.seed = n,
            "--iters" => a.iters = n,
            "--case" => a.case = Some(n),
            "--threads" if n == 0 => return Err("`--threads` must be at least 1".into()),
            "--threads" => a.threads = usize::try_from(n).map_err(|e| e.to_string())?,
            "--repros" => a.repros = usize::try_from(n).map_err(|e| e.to_string())?,
            _ => a.show_larger = usize::try_from(n).map_err(|e| e.to_string())?,
        }
    }
    Ok(Some(a))
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
}
