//! `fuzz-kernels` runs its cases in worker processes (this same binary with `--worker`),
//! [`PROCESS_CASES`] cases each, `--threads` of them at a time. A case that takes its
//! process down (an abort, a signal, running out of memory maps) is then reported as an
//! `abort` failure of that case, and the run goes on in a fresh worker from the next case.
//! Fresh processes also keep one run's compiled kernels from piling up in one address
//! space. A worker prints one line per case ([`encode`]); the parent reads them back.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::KernelArgs;
use crate::execute::{self, Failure, Kind, Outcome};
use crate::program::random_program;

/// Cases per worker process.
pub const PROCESS_CASES: u64 = 400;
/// Lines of a dead worker's stderr kept in its abort message.
const STDERR_LINES: usize = 4;

/// The worker side: runs cases `first..first + n` of `seed` here, one line each on stdout.
pub fn serve(seed: u64, first: u64, n: u64) -> ExitCode {
    for i in first..first + n {
        let o = execute::run_case(&random_program(seed, i));
        println!("{}", encode(i, &o));
    }
    ExitCode::SUCCESS
}

/// `case <i> <kernels> <vectorized> <packed> <masked> <live steps> <multi 0/1> <kind or ok>
/// <message>`,
/// tab-separated.
pub fn encode(i: u64, o: &Outcome) -> String {
    let (kind, message) = match &o.failure {
        Some(f) => (f.kind.name(), f.message.replace(['\n', '\t'], " ")),
        None => ("ok", String::new()),
    };
    format!(
        "case\t{i}\t{}\t{}\t{}\t{}\t{}\t{}\t{kind}\t{message}",
        o.kernels,
        o.vectorized,
        o.packed,
        o.masked,
        o.live_steps,
        u8::from(o.multi_consumer)
    )
}

pub fn decode(line: &str) -> Option<(u64, Outcome)> {
    let mut f = line.splitn(10, '\t');
    if f.next()? != "case" {
        return None;
    }
    let i = f.next()?.parse().ok()?;
    let kernels = f.next()?.parse().ok()?;
    let vectorized = f.next()?.parse().ok()?;
    let packed = f.next()?.parse().ok()?;
    let masked = f.next()?.parse().ok()?;
    let live_steps = f.next()?.parse().ok()?;
    let multi_consumer = f.next()? == "1";
    let kind = f.next()?;
    let message = f.next().unwrap_or("");
    let failure = match kind {
        "ok" => None,
        k => Some(Failure::new(Kind::from_name(k)?, message)),
    };
    Some((
        i,
        Outcome {
            kernels,
            vectorized,
            packed,
            masked,
            live_steps,
            multi_consumer,
            failure,
        },
    ))
}

/// The outcomes of cases `args.first..args.first + args.iters`, in order, run by worker
/// processes.
pub fn run_all(args: &KernelArgs) -> Vec<Outcome> {
    let end = args.first + args.iters;
    let next = AtomicU64::new(args.first);
    let done: Mutex<Vec<(u64, Outcome)>> = Mutex::new(Vec::with_capacity(args.iters as usize));
    std::thread::scope(|s| {
        for _ in 0..args.threads.max(1) {
            s.spawn(|| {
                let mut mine = Vec::new();
                loop {
                    let lo = next.fetch_add(PROCESS_CASES, Ordering::Relaxed);
                    if lo >= end {
                        break;
                    }
                    let hi = (lo + PROCESS_CASES).min(end);
                    let mut from = lo;
                    while from < hi {
                        let (got, died) = run_worker(args, from, hi - from);
                        from = got.last().map_or(from, |(i, _)| i + 1);
                        mine.extend(got);
                        if from < hi {
                            let failure = Failure::new(Kind::Abort, died);
                            mine.push((
                                from,
                                Outcome {
                                    failure: Some(failure),
                                    ..Default::default()
                                },
                            ));
                            from += 1;
                        }
                    }
                }
                done.lock().unwrap_or_else(|p| p.into_inner()).extend(mine);
            });
        }
    });
    let mut done = done.into_inner().unwrap_or_else(|p| p.into_inner());
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, o)| o).collect()
}

/// Runs one worker on cases `first..first + n`: the outcomes it reported, in order, and,
/// should it stop early, why.
fn run_worker(args: &KernelArgs, first: u64, n: u64) -> (Vec<(u64, Outcome)>, String) {
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => return (Vec::new(), format!("cannot find this program: {e}")),
    };
    let child = Command::new(exe)
        .args(["fuzz-kernels", "--worker"])
        .args(["--seed", &args.seed.to_string()])
        .args(args.interpret.then_some("--interpret"))
        .args(["--first", &first.to_string()])
        .args(["--iters", &n.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return (Vec::new(), format!("cannot start a worker process: {e}")),
    };
    let (Some(stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return (Vec::new(), "worker process without pipes".into());
    };
    let mut got = Vec::new();
    let mut err_text = String::new();
    std::thread::scope(|s| {
        let err_reader = s.spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some((i, o)) = decode(&line) {
                got.push((i, o));
            }
        }
        err_text = err_reader.join().unwrap_or_default();
    });
    let status = child
        .wait()
        .map_or_else(|e| format!("unknown ({e})"), |s| s.to_string());
    let tail: Vec<&str> = err_text.lines().rev().take(STDERR_LINES).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    let why = format!(
        "the worker process died running this case ({status}); its stderr ends: {}",
        if tail.is_empty() {
            "(empty)".to_string()
        } else {
            tail.join(" | ")
        }
    );
    (got, why)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip() {
        let o = Outcome {
            kernels: 3,
            vectorized: 2,
            packed: 1,
            masked: 4,
            live_steps: 5,
            multi_consumer: true,
            failure: Some(Failure::new(Kind::Error, "bad\tthing\nhere")),
        };
        let (i, back) = decode(&encode(42, &o)).expect("decodes");
        assert_eq!(i, 42);
        assert_eq!(
            (
                back.kernels,
                back.vectorized,
                back.packed,
                back.masked,
                back.live_steps
            ),
            (3, 2, 1, 4, 5)
        );
        assert!(back.multi_consumer);
        assert_eq!(
            back.failure,
            Some(Failure::new(Kind::Error, "bad thing here"))
        );
        let ok = Outcome::default();
        assert!(
            decode(&encode(0, &ok))
                .expect("decodes")
                .1
                .failure
                .is_none()
        );
        assert!(decode("case 1").is_none());
    }
}
