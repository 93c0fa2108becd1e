//! `cargo xtask fuzz-kernels`: random tensor programs (`program.rs`) realized end to end on
//! the CPU and compared with a plain interpreter (`interp.rs`). Runs the cases in worker
//! processes on every core (`workers.rs`; or on threads with `--in-process`), prints a
//! repro for each of the first failing cases (with the program cut down by [`minimize`]),
//! the failure classes and the totals; exits 1 on any failure. Cases are handed out in
//! chunks and their outcomes sorted back by index, so the output does not depend on the
//! thread count.
//! `--case I` replays one case and prints everything about it; `--program FILE` runs a
//! program written as a repro prints it (`parse.rs`), so a repro can be cut down by hand.

use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crate::KernelArgs;
use crate::cases;
use crate::execute::{self, Failure, Kind, Outcome, unravel};
use crate::parse::parse_program;
use crate::program::{Node, Program, random_program};
use crate::workers;

const CHUNK: u64 = 8;
/// Inputs with at most this many values have them printed in repros.
const SHOW_DATA: usize = 256;
/// Outputs with at most this many values are printed whole by `--case`.
const SHOW_OUTPUT: usize = 48;

/// Which backend runs the kernels: the interpreter, or the CPU device's renderer (the
/// C compiler, or LLVM with `CPU_LLVM=1`).
fn backend(args: &KernelArgs) -> String {
    if args.interpret {
        return "kernels in the program interpreter".into();
    }
    ferrograd::init();
    match ferrograd::layers::device::open("CPU") {
        Ok(dev) => format!("kernels rendered by {}", dev.renderer().target().name),
        Err(e) => format!("no CPU device: {e}"),
    }
}

pub fn main(args: &KernelArgs) -> ExitCode {
    execute::quiet_panics();
    if args.interpret {
        execute::set_interpret(args.seed);
    }
    if args.worker {
        return workers::serve(args.seed, args.first, args.iters);
    }
    if let Some(file) = &args.program {
        let program = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read {file}: {e}"))
            .and_then(|text| parse_program(&text).map_err(|e| format!("{file}: {e}")));
        return match program {
            Ok(p) => {
                println!("program from {file}");
                show(&p)
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        };
    }
    match args.case {
        Some(index) => {
            println!(
                "case {index} of seed {} (case seed {:#018x})",
                args.seed,
                cases::case_seed(args.seed, index)
            );
            show(&random_program(args.seed, index))
        }
        None => run(args),
    }
}

fn run(args: &KernelArgs) -> ExitCode {
    let end = args.first + args.iters;
    println!(
        "fuzz-kernels: seed {}, cases {}..{end}, {} {}, {}",
        args.seed,
        args.first,
        args.threads,
        if args.in_process {
            "threads"
        } else {
            "worker processes"
        },
        backend(args)
    );
    let start = Instant::now();
    let outcomes = if args.in_process {
        run_in_process(args)
    } else {
        workers::run_all(args)
    };
    let secs = start.elapsed().as_secs_f64();

    let failing: Vec<usize> = (0..outcomes.len())
        .filter(|&i| outcomes[i].failure.is_some())
        .collect();
    for &i in failing.iter().take(args.repros) {
        print_repro(args.seed, args.first + i as u64, &outcomes[i]);
    }
    if failing.len() > args.repros {
        println!(
            "... {} more failing cases not shown\n",
            failing.len() - args.repros
        );
    }
    if !failing.is_empty() && args.repros > 0 {
        println!(
            "(a program with its `data:` lines, saved to a file, runs alone with \
             `cargo xtask fuzz-kernels --program FILE`)\n"
        );
    }

    print_classes(args.first, &outcomes);
    let count = |kind: Kind| {
        outcomes
            .iter()
            .filter(|o| o.failure.as_ref().is_some_and(|f| f.kind == kind))
            .count()
    };
    let kernels: usize = outcomes.iter().map(|o| o.kernels).sum();
    let multi = outcomes.iter().filter(|o| o.multi_consumer).count();
    let live: usize = outcomes.iter().map(|o| o.live_steps).sum();
    println!("cases:            {}", args.iters);
    println!(
        "failures:         {} ({} mismatches, {} errors, {} panics, {} aborts, {} harness errors)",
        failing.len(),
        count(Kind::Mismatch),
        count(Kind::Error),
        count(Kind::Panic),
        count(Kind::Abort),
        count(Kind::Harness)
    );
    println!(
        "kernels run:      {kernels} ({:.2} per case)",
        kernels as f64 / args.iters.max(1) as f64
    );
    let vectorized: usize = outcomes.iter().map(|o| o.vectorized).sum();
    println!(
        "vectorized:       {vectorized} kernels ({:.1}%)",
        100.0 * vectorized as f64 / kernels.max(1) as f64
    );
    let masked: usize = outcomes.iter().map(|o| o.masked).sum();
    println!(
        "masked vectors:   {masked} kernels ({:.1}%) (a padded loop's loads and stores)",
        100.0 * masked as f64 / kernels.max(1) as f64
    );
    let packed: usize = outcomes.iter().map(|o| o.packed).sum();
    println!(
        "with scratch:     {packed} kernels ({:.1}%) (PACK, or GROUP with --interpret)",
        100.0 * packed as f64 / kernels.max(1) as f64
    );
    println!(
        "steps realized:   {:.2} per case (the steps the outputs depend on)",
        live as f64 / args.iters.max(1) as f64
    );
    println!(
        "multi-consumer:   {multi} cases ({:.1}%) realize a node that two others use",
        100.0 * multi as f64 / args.iters.max(1) as f64
    );
    println!(
        "time:             {secs:.2} s, {:.1} cases/s",
        args.iters as f64 / secs.max(1e-9)
    );
    if failing.is_empty() {
        println!("ok: 0 mismatches");
        ExitCode::SUCCESS
    } else {
        println!("FAILED: {} failing cases", failing.len());
        ExitCode::FAILURE
    }
}

/// The failures grouped by their message with numbers blanked out, most frequent first,
/// each with its first case.
fn print_classes(first: u64, outcomes: &[Outcome]) {
    let mut classes: Vec<(String, usize, u64)> = Vec::new();
    for (i, o) in outcomes.iter().enumerate() {
        let Some(f) = &o.failure else { continue };
        let class = failure_class(f);
        match classes.iter_mut().find(|(c, _, _)| *c == class) {
            Some((_, n, _)) => *n += 1,
            None => classes.push((class, 1, first + i as u64)),
        }
    }
    if classes.is_empty() {
        return;
    }
    classes.sort_by_key(|(_, n, case)| (usize::MAX - n, *case));
    println!("failure classes (numbers blanked; count, first case):");
    for (class, n, first) in &classes {
        println!("  {n:>6}  case {first:<6} {class}");
    }
    println!();
}

/// A failure's message with every run of digits replaced by `#`; a mismatch is one class.
fn failure_class(f: &Failure) -> String {
    if f.kind == Kind::Mismatch {
        return "mismatch".to_string();
    }
    let mut out = String::new();
    for c in f.to_string().chars() {
        if c.is_ascii_digit() {
            if !out.ends_with('#') {
                out.push('#');
            }
        } else {
            out.push(c);
        }
    }
    // kernel names: `r_#_#_#` and `r_#` are one class
    while out.contains("#_#") {
        out = out.replace("#_#", "#");
    }
    out
}

/// The outcomes of the cases, run on `args.threads` threads of this process.
fn run_in_process(args: &KernelArgs) -> Vec<Outcome> {
    let (seed, iters) = (args.seed, args.first + args.iters);
    let next = AtomicU64::new(args.first);
    let done: Mutex<Vec<(u64, Outcome)>> = Mutex::new(Vec::with_capacity(iters as usize));
    std::thread::scope(|s| {
        for _ in 0..args.threads.max(1) {
            s.spawn(|| {
                let mut mine = Vec::new();
                loop {
                    let lo = next.fetch_add(CHUNK, Ordering::Relaxed);
                    if lo >= iters {
                        break;
                    }
                    for i in lo..(lo + CHUNK).min(iters) {
                        mine.push((i, execute::run_case(&random_program(seed, i))));
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

fn print_repro(seed: u64, index: u64, outcome: &Outcome) {
    let p = random_program(seed, index);
    let kind = outcome.failure.as_ref().map_or("?", |f| f.kind.name());
    println!("--- failing case: seed {seed}, case {index} [{kind}]");
    println!("replay:    cargo xtask fuzz-kernels --seed {seed} --case {index}");
    println!("program:\n{p}");
    if let Some(f) = &outcome.failure {
        println!("{f}");
        // a case that took its worker down would take this process down too
        if f.kind != Kind::Abort {
            print_minimized(&p, f);
        }
    }
    println!();
}

fn print_minimized(p: &Program, f: &Failure) {
    let small = minimize(p, f);
    if small != *p {
        println!("minimized:\n{small}");
        print_data(&small);
        if let Some(f) = execute::run_case(&small).failure {
            println!("{f}");
        }
    }
}

/// The inputs' data as `tN data: [...]` lines (`--program` reads them back); an input
/// with more than [`SHOW_DATA`] values gets a comment instead (and `--program` its own
/// values).
fn print_data(p: &Program) {
    for (i, n) in p.nodes.iter().enumerate() {
        if let Node::Input { data, .. } = n {
            if data.len() <= SHOW_DATA {
                println!("  t{i} data: {data:?}");
            } else {
                println!(
                    "  # t{i}: {} values, first {:?} ...",
                    data.len(),
                    &data[..16]
                );
            }
        }
    }
}

/// `p` cut down for as long as it still fails the same way (the same [`failure_class`]):
/// fewer outputs, an earlier output, steps bypassed, movement ops and reduce axes dropped,
/// smaller inputs; dead nodes removed.
pub fn minimize(p: &Program, failure: &Failure) -> Program {
    let class = failure_class(failure);
    let fails = |q: &Program| {
        q.shapes().is_ok()
            && execute::run_case(q)
                .failure
                .is_some_and(|f| failure_class(&f) == class)
    };
    let mut best = p.without_dead();
    if !fails(&best) {
        return p.clone();
    }
    'outer: loop {
        for cand in candidates(&best) {
            let cand = cand.without_dead();
            if cand.nodes.len() <= best.nodes.len() && cand != best && fails(&cand) {
                best = cand;
                continue 'outer;
            }
        }
        return best;
    }
}

/// Smaller variants of `p`, the most promising first.
fn candidates(p: &Program) -> Vec<Program> {
    let mut out = Vec::new();
    let with_outputs = |outputs: Vec<usize>| Program {
        nodes: p.nodes.clone(),
        outputs,
    };
    // one output alone, then any single earlier step as the output
    if p.outputs.len() > 1 {
        for &o in &p.outputs {
            out.push(with_outputs(vec![o]));
        }
    }
    for (j, n) in p.nodes.iter().enumerate() {
        if !matches!(n, Node::Input { .. }) && !p.outputs.contains(&j) {
            out.push(with_outputs(vec![j]));
        }
    }
    let shapes = p.shapes().unwrap_or_default();
    for (j, n) in p.nodes.iter().enumerate() {
        match n {
            Node::Unary { src, .. } => out.push(p.replace_uses(j, *src)),
            Node::Binary { op, a, b } => {
                out.push(p.replace_uses(j, *a));
                out.push(p.replace_uses(j, *b));
                for (x, y) in [(*a, *a), (*b, *b)] {
                    let mut q = p.clone();
                    q.nodes[j] = Node::Binary {
                        op: *op,
                        a: x,
                        b: y,
                    };
                    out.push(q);
                }
            }
            Node::Move { src, chain } => {
                if shapes.get(j) == shapes.get(*src) {
                    out.push(p.replace_uses(j, *src));
                }
                if chain.len() > 1 {
                    for k in 0..chain.len() {
                        let mut q = p.clone();
                        let mut c = chain.clone();
                        c.remove(k);
                        q.nodes[j] = Node::Move {
                            src: *src,
                            chain: c,
                        };
                        out.push(q);
                    }
                }
            }
            Node::Reduce {
                op,
                src,
                axes,
                keepdim,
            } => {
                if axes.len() > 1 {
                    for k in 0..axes.len() {
                        let mut q = p.clone();
                        let mut a = axes.clone();
                        a.remove(k);
                        q.nodes[j] = Node::Reduce {
                            op: *op,
                            src: *src,
                            axes: a,
                            keepdim: *keepdim,
                        };
                        out.push(q);
                    }
                }
            }
            Node::Input { .. } => {}
        }
    }
    // smaller inputs (a dim cut to 2, to half, or by one; the data cycled to fit), where
    // the rest of the program still fits
    for (j, n) in p.nodes.iter().enumerate() {
        let Node::Input { shape, data } = n else {
            continue;
        };
        for (k, &d) in shape.iter().enumerate() {
            let mut sizes = vec![2, d / 2, d - 1];
            sizes.sort_unstable();
            sizes.dedup();
            for s in sizes.into_iter().filter(|&s| s >= 2 && s < d) {
                let mut new_shape = shape.clone();
                new_shape[k] = s;
                let len = new_shape.iter().product::<i64>() as usize;
                let mut q = p.clone();
                q.nodes[j] = Node::Input {
                    shape: new_shape,
                    data: data.iter().copied().cycle().take(len).collect(),
                };
                out.push(q);
            }
        }
    }
    out
}

/// Runs one program, printing everything about it.
fn show(p: &Program) -> ExitCode {
    println!("program:\n{p}");
    print_data(p);
    println!("(DEBUG=4 prints each kernel's source, DEBUG=2 a line per kernel run)");
    let (outcome, expected, run) = execute::run_case_keeping_outputs(p);
    println!("kernels:   {}", outcome.kernels);
    if let Some(run) = run {
        let shapes = p.shapes().unwrap_or_default();
        for (&o, got) in p.outputs.iter().zip(&run.outputs) {
            show_output(o, &shapes[o], &expected[o], got);
        }
    }
    match &outcome.failure {
        None => {
            println!("ok: every output agrees with the interpreter");
            ExitCode::SUCCESS
        }
        Some(f) => {
            println!("{f}");
            print_minimized(p, f);
            ExitCode::FAILURE
        }
    }
}

fn show_output(node: usize, shape: &[i64], want: &[f32], got: &[f32]) {
    println!("t{node} {shape:?}:");
    if want.len() <= SHOW_OUTPUT {
        println!("  expected {want:?}");
        println!("  got      {got:?}");
        return;
    }
    let bad: Vec<usize> = (0..want.len().max(got.len()))
        .filter(|&i| want.get(i) != got.get(i))
        .collect();
    println!("  {} values, {} differ", want.len(), bad.len());
    for &i in bad.iter().take(8) {
        println!(
            "  at {:?}: expected {:?}, got {:?}",
            unravel(shape, i),
            want.get(i),
            got.get(i)
        );
    }
}
