//! Running the cases: the parent lists them, starts a child process per case (a few at
//! a time), collects the results and prints the counts; a child loads one case, runs
//! every data set through a `Session` on the CPU and prints `PASS` or `FAIL <reason>`.

use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use onnx::{Model, Session, Value, ValueType, read_value_pb, realize_values};

use crate::compare::compare;
use crate::exclusions::Exclusions;
use crate::table;

/// What became of one case.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub group: String,
    pub case: String,
    pub op: String,
    pub status: Status,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail(String),
    Skip(String),
    /// Excluded, run anyway (`ONNX_BACKEND_ALL`), and passed.
    PassExcluded(String),
}

fn register_cpu() {
    device::register("CPU", |name| {
        Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(
            name,
            Box::new(renderer_c::CRenderer::new()),
        )))
    });
}

/// Child: run one case and print its result on stdout.
pub fn child(dir: &Path) -> ExitCode {
    register_cpu();
    match run_case(dir) {
        Ok(()) => println!("PASS"),
        Err(why) => println!("FAIL\t{}", why.replace('\n', " ")),
    }
    ExitCode::SUCCESS
}

fn run_case(dir: &Path) -> Result<(), String> {
    let model = Model::load(dir.join("model.onnx")).map_err(|e| e.to_string())?;
    let inputs: Vec<(String, ValueType)> = model
        .graph
        .required_inputs()
        .map(|i| (i.name.clone(), i.ty.clone()))
        .collect();
    let outputs: Vec<ValueType> = model.graph.outputs.iter().map(|o| o.ty.clone()).collect();
    let session = Session::new(model, "CPU");
    let mut sets: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("test_data_set_"))
        })
        .collect();
    sets.sort();
    for set in sets {
        let read = |name: String, ty: &ValueType| -> Result<Option<Value>, String> {
            let path = set.join(name);
            if !path.exists() {
                return Ok(None);
            }
            let bytes = std::fs::read(&path).map_err(|e| e.to_string())?;
            read_value_pb(&bytes, ty)
                .map(Some)
                .map_err(|e| format!("{}: {e}", path.display()))
        };
        let mut given = Vec::new();
        for (k, (name, ty)) in inputs.iter().enumerate() {
            if let Some(v) = read(format!("input_{k}.pb"), ty)? {
                given.push((name.as_str(), v));
            }
        }
        let got = session.run(&given).map_err(|e| e.to_string())?;
        realize_values(got.iter().map(|(_, v)| v)).map_err(|e| e.to_string())?;
        for (k, ty) in outputs.iter().enumerate() {
            let want =
                read(format!("output_{k}.pb"), ty)?.ok_or_else(|| format!("no output_{k}.pb"))?;
            let (_, g) = &got[k];
            if let Some(why) = compare(&want, g, &format!("output {k}")) {
                return Err(why);
            }
        }
    }
    Ok(())
}

/// Runs one case in a child process, with a time limit.
fn spawn_case(dir: &Path, timeout: Duration) -> Status {
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => return Status::Fail(format!("cannot find the test binary: {e}")),
    };
    let child = Command::new(exe)
        .arg("--case")
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return Status::Fail(format!("cannot start a child process: {e}")),
    };
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                let mut out = String::new();
                if let Some(mut s) = child.stdout.take() {
                    let _ = s.read_to_string(&mut out);
                }
                let line = out.lines().last().unwrap_or_default().to_string();
                if line == "PASS" {
                    return Status::Pass;
                }
                if let Some(why) = line.strip_prefix("FAIL\t") {
                    return Status::Fail(why.to_string());
                }
                let mut err = String::new();
                if let Some(s) = child.stderr.take() {
                    let lines: Vec<String> = std::io::BufReader::new(s)
                        .lines()
                        .map_while(|l| l.ok())
                        .collect();
                    err = lines
                        .iter()
                        .rev()
                        .take(3)
                        .rev()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(" | ");
                }
                return Status::Fail(format!("the case crashed ({status}): {err}"));
            }
            Ok(None) if start.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Status::Fail(format!("timed out after {} s", timeout.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Status::Fail(format!("waiting for the child: {e}")),
        }
    }
}

/// Parent: every case of `groups`, `jobs` at a time; prints the counts and the failures.
pub fn run_all(root: &Path, groups: &[&str], excluded: &Exclusions) -> ExitCode {
    let env = |k: &str| std::env::var(k).ok();
    let jobs: usize = env("ONNX_BACKEND_JOBS")
        .and_then(|v| v.parse().ok())
        .unwrap_or(2)
        .max(1);
    let timeout = Duration::from_secs(
        env("ONNX_BACKEND_TIMEOUT")
            .and_then(|v| v.parse().ok())
            .unwrap_or(120),
    );
    let filter = env("ONNX_BACKEND_FILTER");
    let run_excluded = env("ONNX_BACKEND_ALL").is_some_and(|v| v == "1");
    let mut cases: Vec<(String, PathBuf)> = Vec::new();
    for g in groups {
        let Ok(entries) = std::fs::read_dir(root.join(g)) else {
            continue;
        };
        let mut names: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("model.onnx").exists())
            .collect();
        names.sort();
        cases.extend(names.into_iter().map(|p| (g.to_string(), p)));
    }
    if let Some(f) = &filter {
        cases.retain(|(_, p)| p.to_string_lossy().contains(f.as_str()));
    }
    let ops = table::case_ops(&cases);
    let bar = ProgressBar::new(cases.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} cases, {elapsed} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let queue = Arc::new(Mutex::new(
        cases.clone().into_iter().enumerate().collect::<Vec<_>>(),
    ));
    let results: Arc<Mutex<Vec<Option<Outcome>>>> = Arc::new(Mutex::new(vec![None; cases.len()]));
    std::thread::scope(|s| {
        for _ in 0..jobs {
            let (queue, results, bar, ops) = (queue.clone(), results.clone(), bar.clone(), &ops);
            s.spawn(move || {
                loop {
                    let next = queue.lock().ok().and_then(|mut q| q.pop());
                    let Some((k, (group, dir))) = next else { break };
                    let case = dir
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let status = match excluded.reason(&case) {
                        Some(why) if !run_excluded => Status::Skip(why.to_string()),
                        Some(why) => match spawn_case(&dir, timeout) {
                            Status::Pass => Status::PassExcluded(why.to_string()),
                            _ => Status::Skip(why.to_string()),
                        },
                        None => spawn_case(&dir, timeout),
                    };
                    if let Status::Fail(why) = &status {
                        bar.println(format!("FAIL {group}/{case}: {why}"));
                    }
                    let op = ops.get(k).cloned().unwrap_or_default();
                    if let Ok(mut r) = results.lock() {
                        r[k] = Some(Outcome {
                            group,
                            case,
                            op,
                            status,
                        });
                    }
                    bar.inc(1);
                }
            });
        }
    });
    bar.finish_and_clear();
    let outcomes: Vec<Outcome> = results
        .lock()
        .map(|r| r.iter().flatten().cloned().collect())
        .unwrap_or_default();
    report(&outcomes, groups)
}

fn report(outcomes: &[Outcome], groups: &[&str]) -> ExitCode {
    let count = |g: Option<&str>, f: &dyn Fn(&Status) -> bool| {
        outcomes
            .iter()
            .filter(|o| g.is_none_or(|g| o.group == g) && f(&o.status))
            .count()
    };
    let pass = |s: &Status| matches!(s, Status::Pass);
    let fail = |s: &Status| matches!(s, Status::Fail(_));
    let skip = |s: &Status| matches!(s, Status::Skip(_) | Status::PassExcluded(_));
    // every skip's reason (from excluded.txt) with its cases, and every failure
    let mut reasons: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for o in outcomes {
        if let Status::Skip(why) = &o.status {
            reasons
                .entry(why)
                .or_default()
                .push(format!("{}/{}", o.group, o.case));
        }
    }
    for (why, cases) in &reasons {
        let shown: Vec<&str> = cases.iter().take(3).map(String::as_str).collect();
        let more = if cases.len() > 3 { ", ..." } else { "" };
        println!("skip {:3}: {why} ({}{more})", cases.len(), shown.join(", "));
    }
    for o in outcomes {
        if let Status::Fail(why) = &o.status {
            println!("FAIL {}/{}: {why}", o.group, o.case);
        }
    }
    for o in outcomes {
        if let Status::PassExcluded(why) = &o.status {
            println!(
                "now passes (remove it from excluded.txt): {}/{} (listed as: {why})",
                o.group, o.case
            );
        }
    }
    for g in groups {
        println!(
            "onnx backend tests, {g}: {} passed, {} failed, {} skipped",
            count(Some(g), &pass),
            count(Some(g), &fail),
            count(Some(g), &skip)
        );
    }
    println!(
        "onnx backend tests: {} passed, {} failed, {} skipped",
        count(None, &pass),
        count(None, &fail),
        count(None, &skip)
    );
    if let Ok(path) = std::env::var("ONNX_BACKEND_REPORT") {
        let lines: Vec<String> = outcomes
            .iter()
            .map(|o| {
                let (status, why) = match &o.status {
                    Status::Pass => ("pass", String::new()),
                    Status::Fail(w) => ("fail", w.clone()),
                    Status::Skip(w) => ("skip", w.clone()),
                    Status::PassExcluded(w) => ("pass-excluded", w.clone()),
                };
                format!("{}/{}\t{}\t{status}\t{why}", o.group, o.case, o.op)
            })
            .collect();
        if let Err(e) = std::fs::write(&path, lines.join("\n") + "\n") {
            eprintln!("cannot write {path}: {e}");
        }
    }
    if let Ok(path) = std::env::var("ONNX_BACKEND_TABLE")
        && let Err(e) = std::fs::write(&path, table::markdown(outcomes))
    {
        eprintln!("cannot write {path}: {e}");
    }
    if count(None, &fail) > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
