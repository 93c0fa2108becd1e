//! The `ferrograd` command: run ONNX models, describe them, and find where a model's
//! results start to differ from onnxruntime's.
//!
//! ```text
//! ferrograd run MODEL.onnx [--input name=file.npy ...] [--device cpu|cuda] [--bench N] [--output DIR]
//! ferrograd info MODEL.onnx
//! ferrograd onnx-diff MODEL.onnx [--input name=file.npy ...] [--python python3]
//! ```
//! Inputs not given are random, shaped as the model declares them (a symbolic dim is 1
//! unless `--dim name=value` binds it).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use ferrograd::layers::engine;
use ferrograd::onnx::{
    self, Dim, ElemType, HostTensor, Model, Session, Value, ValueType, diff, read_npy, write_npy,
};
use ferrograd::{DType, Tensor};

#[derive(Parser)]
#[command(
    name = "ferrograd",
    version,
    about = "Run and inspect ONNX models with ferrograd"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(clap::Args)]
struct InputArgs {
    /// An input as `name=file.npy` (repeat for several); inputs not given are random.
    #[arg(long = "input", value_name = "NAME=FILE")]
    inputs: Vec<String>,
    /// Binds a symbolic dim for random inputs, as `name=value` (others are 1).
    #[arg(long = "dim", value_name = "NAME=VALUE")]
    dims: Vec<String>,
    /// The seed of random inputs.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

#[derive(Subcommand)]
enum Cmd {
    /// Runs a model and prints its outputs' shapes and summary values.
    Run {
        model: PathBuf,
        #[command(flatten)]
        inputs: InputArgs,
        /// `cpu`, `cuda`, or any registered device name.
        #[arg(long, default_value = "cpu")]
        device: String,
        /// Runs N more times and prints the median latency and the per-kernel table.
        #[arg(long, value_name = "N")]
        bench: Option<usize>,
        /// Writes each output to DIR/<name>.npy.
        #[arg(long, value_name = "DIR")]
        output: Option<PathBuf>,
    },
    /// Prints a model's inputs, outputs, opsets and op counts (marking unsupported ops).
    Info { model: PathBuf },
    /// Runs a model in ferrograd and in onnxruntime and prints the first node whose
    /// output differs, then every node's error.
    OnnxDiff {
        model: PathBuf,
        #[command(flatten)]
        inputs: InputArgs,
        #[arg(long, default_value = "cpu")]
        device: String,
        /// The Python with onnxruntime (default: $FERROGRAD_PYTHON, else python3).
        #[arg(long)]
        python: Option<String>,
        #[arg(long, default_value_t = 1e-3)]
        rtol: f64,
        #[arg(long, default_value_t = 1e-5)]
        atol: f64,
        /// Adds 1 to this node's first output in ferrograd's run (tests the differ).
        #[arg(long, hide = true)]
        inject_fault: Option<String>,
    },
}

type Fallible<T> = Result<T, String>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    ferrograd::init();
    let result = match cli.command {
        Cmd::Run {
            model,
            inputs,
            device,
            bench,
            output,
        } => run(&model, &inputs, &device, bench, output.as_deref()),
        Cmd::Info { model } => info(&model),
        Cmd::OnnxDiff {
            model,
            inputs,
            device,
            python,
            rtol,
            atol,
            inject_fault,
        } => onnx_diff(
            &model,
            &inputs,
            &device,
            python,
            rtol,
            atol,
            inject_fault.as_deref(),
        ),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `cpu` -> `CPU`, `cuda:1` -> `CUDA:1`; other names as given.
fn device_name(d: &str) -> String {
    let lower = d.to_ascii_lowercase();
    if lower == "cpu" || lower.starts_with("cuda") {
        d.to_ascii_uppercase()
    } else {
        d.to_string()
    }
}

/// A small deterministic generator (xorshift64*) for random inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn parse_pairs(items: &[String], what: &str) -> Fallible<Vec<(String, String)>> {
    items
        .iter()
        .map(|s| {
            s.split_once('=')
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .ok_or_else(|| format!("{what} '{s}' must be NAME=VALUE"))
        })
        .collect()
}

/// The model's required inputs: the files given, random values for the rest.
fn gather_inputs(session: &Session, args: &InputArgs) -> Fallible<Vec<(String, HostTensor)>> {
    let files = parse_pairs(&args.inputs, "--input")?;
    let dims: HashMap<String, i64> = parse_pairs(&args.dims, "--dim")?
        .into_iter()
        .map(|(k, v)| {
            v.parse()
                .map(|n| (k.clone(), n))
                .map_err(|_| format!("--dim {k}={v}: not a number"))
        })
        .collect::<Fallible<_>>()?;
    for (name, _) in &files {
        if !session.inputs().iter().any(|i| &i.name == name) {
            let names: Vec<&str> = session.inputs().iter().map(|i| i.name.as_str()).collect();
            return Err(format!(
                "the model has no input '{name}' (its inputs: {})",
                names.join(", ")
            ));
        }
    }
    let mut rng = Rng(args.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut out = Vec::new();
    for info in session.inputs() {
        if let Some((_, file)) = files.iter().find(|(n, _)| *n == info.name) {
            let bytes = std::fs::read(file).map_err(|e| format!("{file}: {e}"))?;
            out.push((
                info.name.clone(),
                read_npy(&bytes).map_err(|e| format!("{file}: {e}"))?,
            ));
            continue;
        }
        let ValueType::Tensor { elem, shape } = &info.ty else {
            return Err(format!(
                "input '{}' is {}: give it with --input",
                info.name, info.ty
            ));
        };
        let elem = ElemType::from_onnx(*elem).map_err(|e| format!("input '{}': {e}", info.name))?;
        let shape: Vec<i64> = shape
            .as_deref()
            .unwrap_or(&[])
            .iter()
            .map(|d| match d {
                Dim::Fixed(n) => *n,
                Dim::Named(name) => dims.get(name).copied().unwrap_or(1),
                _ => 1,
            })
            .collect();
        let n: i64 = shape.iter().product();
        let d = elem.storage();
        let h = if d.is_float() {
            let vals: Vec<f64> = (0..n).map(|_| rng.unit() * 2.0 - 1.0).collect();
            HostTensor::from_f64s(elem, shape, &vals)
        } else {
            let top = if d == DType::Bool { 2.0 } else { 10.0 };
            let vals: Vec<i64> = (0..n).map(|_| (rng.unit() * top) as i64).collect();
            HostTensor::from_i64s(elem, shape, &vals)
        }
        .map_err(|e| format!("input '{}': {e}", info.name))?;
        out.push((info.name.clone(), h));
    }
    Ok(out)
}

/// Runs the model once: the outputs realized on the host, and the engine's statistics.
fn run_once(
    session: &Session,
    inputs: &[(String, HostTensor)],
) -> Fallible<(Vec<(String, Value)>, engine::RunStats)> {
    let given: Vec<(&str, Value)> = inputs
        .iter()
        .map(|(n, h)| {
            (
                n.as_str(),
                Value::Tensor(onnx::TensorValue::from_host(h.clone())),
            )
        })
        .collect();
    let outputs = session.run(&given).map_err(|e| e.to_string())?;
    let mut lazy: Vec<Tensor> = Vec::new();
    for (_, v) in &outputs {
        let items: Vec<&onnx::TensorValue> = match v {
            Value::Tensor(t) => vec![t],
            Value::Sequence(s) => s.items.iter().collect(),
            Value::None => Vec::new(),
        };
        for t in items {
            if t.host().is_none() {
                lazy.push(t.tensor_on(session.device()).map_err(|e| e.to_string())?);
            }
        }
    }
    let refs: Vec<&Tensor> = lazy.iter().collect();
    let stats = Tensor::realize_all_stats(&refs).map_err(|e| e.to_string())?;
    Ok((outputs, stats))
}

/// `min, max, mean` and the first values.
fn summary(h: &HostTensor) -> String {
    let v = h.to_f64s();
    if v.is_empty() {
        return "(empty)".into();
    }
    let finite: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    let (lo, hi) = finite
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    let mean = finite.iter().sum::<f64>() / finite.len().max(1) as f64;
    let head: Vec<String> = v.iter().take(6).map(|x| format!("{x:.6}")).collect();
    let more = if v.len() > 6 { ", ..." } else { "" };
    format!(
        "min {lo:.6} max {hi:.6} mean {mean:.6}  [{}{more}]",
        head.join(", ")
    )
}

fn file_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn run(
    model: &Path,
    args: &InputArgs,
    device: &str,
    bench: Option<usize>,
    output: Option<&Path>,
) -> Fallible<ExitCode> {
    let session = Session::load(model, &device_name(device)).map_err(|e| e.to_string())?;
    let inputs = gather_inputs(&session, args)?;
    for (name, h) in &inputs {
        println!("input  {name}: {:?} {}", h.shape(), h.elem());
    }
    let start = Instant::now();
    let (outputs, stats) = run_once(&session, &inputs)?;
    let first = start.elapsed();
    if let Some(dir) = output {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    for (name, v) in &outputs {
        match v {
            Value::Tensor(t) => {
                let h = t.to_host().map_err(|e| e.to_string())?;
                println!(
                    "output {name}: {:?} {}  {}",
                    h.shape(),
                    h.elem(),
                    summary(&h)
                );
                if let Some(dir) = output {
                    let path = dir.join(format!("{}.npy", file_name(name)));
                    let bytes = write_npy(&h).map_err(|e| format!("output '{name}': {e}"))?;
                    std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
                    println!("       written to {}", path.display());
                }
            }
            other => println!("output {name}: {}", other.kind()),
        }
    }
    println!(
        "first run: {:.2} ms ({} kernels, {} compiled)",
        first.as_secs_f64() * 1e3,
        stats.kernels,
        stats.compiled
    );
    if let Some(n) = bench {
        let n = n.max(1);
        let mut times: Vec<Duration> = Vec::with_capacity(n);
        engine::reset_profile();
        engine::set_profiling(true);
        let mut kernels = 0;
        for _ in 0..n {
            let t0 = Instant::now();
            let (_, s) = run_once(&session, &inputs)?;
            times.push(t0.elapsed());
            kernels = s.kernels;
        }
        engine::set_profiling(false);
        times.sort();
        let median = times[times.len() / 2];
        println!(
            "bench: {n} runs, median {:.3} ms, min {:.3} ms, {kernels} kernels per run",
            median.as_secs_f64() * 1e3,
            times[0].as_secs_f64() * 1e3
        );
        print!("{}", engine::profile_table(&engine::kernel_profile(), 20));
    }
    Ok(ExitCode::SUCCESS)
}

fn info(path: &Path) -> Fallible<ExitCode> {
    let model = Model::load(path).map_err(|e| e.to_string())?;
    println!(
        "model {}: ir_version {}, producer '{}'",
        path.display(),
        model.ir_version,
        model.producer
    );
    let opsets: Vec<String> = model
        .opsets
        .iter()
        .map(|(d, v)| format!("{d} {v}"))
        .collect();
    println!("opsets: {}", opsets.join(", "));
    let g = &model.graph;
    let inits: std::collections::HashSet<&str> =
        g.initializers.iter().map(|(n, _)| n.as_str()).collect();
    println!("inputs:");
    for i in g.inputs.iter().filter(|i| !inits.contains(i.name.as_str())) {
        println!("  {}: {}", i.name, i.ty);
    }
    println!("outputs:");
    for o in &g.outputs {
        println!("  {}: {}", o.name, o.ty);
    }
    let bytes: usize = g.initializers.iter().map(|(_, h)| h.bytes().len()).sum();
    println!(
        "initializers: {} ({:.2} MB)",
        g.initializers.len(),
        bytes as f64 / 1e6
    );
    let mut counts: BTreeMap<(String, String), usize> = BTreeMap::new();
    g.walk_nodes(&mut |n| {
        *counts
            .entry((n.domain.clone(), n.op_type.clone()))
            .or_default() += 1
    });
    let total: usize = counts.values().sum();
    let unsupported: Vec<&(String, String)> = counts
        .keys()
        .filter(|(d, o)| !onnx::is_supported(d, o))
        .collect();
    println!(
        "ops: {total} nodes, {} kinds, {} unsupported",
        counts.len(),
        unsupported.len()
    );
    for ((domain, op), n) in &counts {
        let mark = if onnx::is_supported(domain, op) {
            ""
        } else {
            "  UNSUPPORTED"
        };
        let dom = if domain == "ai.onnx" {
            String::new()
        } else {
            format!(" ({domain})")
        };
        println!("  {n:6}  {op}{dom}{mark}");
    }
    Ok(ExitCode::SUCCESS)
}

fn onnx_diff(
    model: &Path,
    args: &InputArgs,
    device: &str,
    python: Option<String>,
    rtol: f64,
    atol: f64,
    fault: Option<&str>,
) -> Fallible<ExitCode> {
    let python = python
        .or_else(|| std::env::var("FERROGRAD_PYTHON").ok())
        .unwrap_or_else(|| "python3".into());
    diff::onnxruntime_available(&python)?;
    let session = Session::load(model, &device_name(device)).map_err(|e| e.to_string())?;
    let inputs = gather_inputs(&session, args)?;
    let runs =
        diff::ferrograd_intermediates(&session, &inputs, fault).map_err(|e| e.to_string())?;
    let reference =
        diff::onnxruntime_intermediates(&python, model, &inputs).map_err(|e| e.to_string())?;
    let diffs = diff::compare_runs(&runs, &reference, rtol, atol);
    let first = diffs.iter().find(|d| d.differs());
    match first {
        Some(d) => {
            println!("first difference: node '{}' (op {})", d.node, d.op);
            println!("  inputs: {}", d.inputs.join(", "));
            for o in d.outputs.iter().filter(|o| o.differs.is_some()) {
                println!(
                    "  output '{}' {:?}: max abs error {:.3e}, max rel error {:.3e} ({})",
                    o.name,
                    o.shape,
                    o.max_abs,
                    o.max_rel,
                    o.differs.as_deref().unwrap_or("")
                );
            }
        }
        None => println!(
            "no difference beyond rtol {rtol:e}, atol {atol:e} in {} nodes",
            diffs.len()
        ),
    }
    println!();
    println!(
        "{:<5} {:<28} {:<18} {:<24} {:>11} {:>11}  status",
        "#", "node", "op", "output", "max abs", "max rel"
    );
    for (k, d) in diffs.iter().enumerate() {
        for o in &d.outputs {
            let status = match (&o.differs, &o.unchecked) {
                (Some(why), _) => format!("DIFFERS: {why}"),
                (None, Some(why)) => format!("unchecked: {why}"),
                (None, None) => "ok".into(),
            };
            println!(
                "{k:<5} {:<28} {:<18} {:<24} {:>11.3e} {:>11.3e}  {status}",
                clip(&d.node, 28),
                clip(&d.op, 18),
                clip(&o.name, 24),
                o.max_abs,
                o.max_rel
            );
        }
    }
    Ok(if first.is_some() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let cut: String = s.chars().take(n - 1).collect();
        format!("{cut}~")
    }
}
