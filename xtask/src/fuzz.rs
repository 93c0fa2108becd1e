//! `cargo xtask fuzz-symbolic`: runs the random cases on every core, prints a repro for
//! each of the first failing cases (with its chain cut down by `check::minimize`), the size
//! matrix and the totals; exits 1 on any failure. Cases are handed out in chunks and their
//! outcomes sorted back by index, so the output does not depend on the thread count.
//! `--case I` replays one case and prints everything built for it.

use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use uop_ir::{ConstValue, expr_string};

use crate::FuzzArgs;
use crate::cases::{self, Case, families_name};
use crate::check::{self, BadPoint, Comparison, Outcome};
use crate::matrix;

const CHUNK: u64 = 64;

pub fn main(args: &FuzzArgs) -> ExitCode {
    match args.case {
        Some(index) => replay(args.seed, index),
        None => run(args),
    }
}

fn run(args: &FuzzArgs) -> ExitCode {
    println!(
        "fuzz-symbolic: seed {}, {} cases, {} threads",
        args.seed, args.iters, args.threads
    );
    let start = Instant::now();
    let outcomes = run_all(args.seed, args.iters, args.threads);
    let elapsed = start.elapsed();

    let failing: Vec<u64> = (0..args.iters)
        .filter(|&i| outcomes[i as usize].failed())
        .collect();
    for &i in failing.iter().take(args.repros) {
        print_repro(args.seed, i, &outcomes[i as usize]);
    }
    if failing.len() > args.repros {
        println!(
            "... {} more failing cases not shown\n",
            failing.len() - args.repros
        );
    }

    show_larger(args, &outcomes);
    println!("{}", matrix::render(&outcomes));
    let sum = |f: fn(&Outcome) -> u64| outcomes.iter().map(f).sum::<u64>();
    let points = sum(|o| o.points);
    let bad = sum(|o| o.simplified.bad);
    let bad_cases = sum(|o| u64::from(o.simplified.bad > 0));
    let ref_bad = sum(|o| o.reference.bad);
    let errors = sum(|o| u64::from(o.error.is_some()));
    let multi = sum(|o| u64::from(o.views > 1));
    let simplify: Duration = outcomes.iter().map(|o| o.simplify_time).sum();
    let secs = elapsed.as_secs_f64();
    println!("points checked:   {points}");
    println!("mismatches:       {bad} points in {bad_cases} cases (simplified vs view-ref)");
    println!("reference errors: {ref_bad} points (reference expression vs view-ref)");
    println!("case errors:      {errors} (simplify/build/eval errors and panics)");
    println!(
        "multi-view stacks: {multi} of {} cases ({:.1}%)",
        args.iters,
        100.0 * multi as f64 / (args.iters.max(1)) as f64
    );
    println!(
        "time:             {secs:.2} s total, {:.0} cases/s ({:.2} s in simplify, summed over threads)",
        args.iters as f64 / secs.max(1e-9),
        simplify.as_secs_f64()
    );
    if failing.is_empty() {
        println!("ok: 0 mismatches");
        ExitCode::SUCCESS
    } else {
        println!("FAILED: {} failing cases", failing.len());
        ExitCode::FAILURE
    }
}

fn run_all(seed: u64, iters: u64, threads: usize) -> Vec<Outcome> {
    let next = AtomicU64::new(0);
    let done: Mutex<Vec<(u64, Outcome)>> = Mutex::new(Vec::with_capacity(iters as usize));
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| {
                let mut mine = Vec::new();
                loop {
                    let lo = next.fetch_add(CHUNK, Ordering::Relaxed);
                    if lo >= iters {
                        break;
                    }
                    for i in lo..(lo + CHUNK).min(iters) {
                        mine.push((i, check::run_case(&cases::random_case(seed, i))));
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

/// The `args.show_larger` cases with the smallest reference among those whose simplified
/// expression is larger than it (ties by index).
fn show_larger(args: &FuzzArgs, outcomes: &[Outcome]) {
    let mut larger: Vec<(usize, u64)> = (0..args.iters)
        .filter(|&i| {
            let o = &outcomes[i as usize];
            !o.failed() && !o.no_larger()
        })
        .map(|i| (outcomes[i as usize].reference_nodes, i))
        .collect();
    larger.sort_unstable();
    for &(_, i) in larger.iter().take(args.show_larger) {
        let case = cases::random_case(args.seed, i);
        let Ok(b) = check::build(&case) else { continue };
        let o = &outcomes[i as usize];
        println!(
            "--- larger: seed {}, case {i} [{}]",
            args.seed,
            families_name(o.families)
        );
        println!("case:       {case}");
        println!(
            "simplified ({:>3} nodes): {}",
            o.simplified_nodes,
            expr_string(&b.simplified)
        );
        println!(
            "reference  ({:>3} nodes): {}",
            o.reference_nodes,
            expr_string(&b.reference)
        );
        println!();
    }
}

fn print_repro(seed: u64, index: u64, outcome: &Outcome) {
    let case = cases::random_case(seed, index);
    println!(
        "--- failing case: seed {seed}, case {index} [{}]",
        families_name(outcome.families)
    );
    println!("replay:    cargo xtask fuzz-symbolic --seed {seed} --case {index}");
    println!("case:      {case}");
    let small = check::minimize(&case);
    if small != case {
        println!("minimized: {small}");
    }
    let o = check::run_case(&small);
    describe_failure(&small, &o);
    println!();
}

fn describe_failure(case: &Case, o: &Outcome) {
    if let Some(e) = &o.error {
        println!("error:     {e}");
        return;
    }
    report("simplified", &o.simplified, o.points);
    report("reference", &o.reference, o.points);
    if let Ok(b) = check::build(case) {
        println!(
            "simplified expr ({} nodes): {}",
            o.simplified_nodes,
            expr_string(&b.simplified)
        );
        if o.reference.bad > 0 {
            println!(
                "reference expr ({} nodes): {}",
                o.reference_nodes,
                expr_string(&b.reference)
            );
            println!("view stack: {:?}", b.stack.views);
        }
    }
}

fn report(what: &str, c: &Comparison, points: u64) {
    if c.bad == 0 {
        return;
    }
    println!(
        "{what} expression disagrees with view-ref at {} of {points} points:",
        c.bad
    );
    for p in c.kept.iter().take(3) {
        println!("  {}", point_line(p));
    }
}

fn point_line(p: &BadPoint) -> String {
    let show = |v: ConstValue| match v {
        ConstValue::Invalid => "Invalid".to_string(),
        v => v.to_string(),
    };
    let expected = p.expected.map_or("Invalid".to_string(), |e| e.to_string());
    let raw = p.raw.map_or("(eval error)".to_string(), show);
    let blame = if p.raw.is_some_and(|r| check::agrees(p.expected, r)) {
        "simplifier"
    } else {
        "movement index (unsimplified already wrong)"
    };
    format!(
        "at {:?}: expected {expected}, got {}; unsimplified gives {raw} -> {blame}",
        p.point,
        show(p.got)
    )
}

fn replay(seed: u64, index: u64) -> ExitCode {
    let case = cases::random_case(seed, index);
    println!(
        "case {index} of seed {seed} (case seed {:#018x})",
        cases::case_seed(seed, index)
    );
    println!("families:  {}", families_name(case.families()));
    println!("case:      {case}");
    let b = match check::build(&case) {
        Ok(b) => b,
        Err(e) => {
            println!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("shapes:    {:?}", b.shapes);
    println!("view stack ({} views, bottom first):", b.stack.views.len());
    for v in &b.stack.views {
        println!(
            "  shape {:?} strides {:?} offset {} mask {:?}",
            v.shape, v.strides, v.offset, v.mask
        );
    }
    let o = check::run_case(&case);
    println!(
        "raw        ({:>3} nodes): {}",
        o.raw_nodes,
        expr_string(&b.raw)
    );
    println!(
        "simplified ({:>3} nodes): {}",
        o.simplified_nodes,
        expr_string(&b.simplified)
    );
    println!(
        "reference  ({:>3} nodes): {}",
        o.reference_nodes,
        expr_string(&b.reference)
    );
    println!(
        "size:      {} (simplify took {:.3} ms)",
        if o.no_larger() {
            "no larger than the reference"
        } else {
            "LARGER than the reference"
        },
        b.simplify_time.as_secs_f64() * 1e3
    );
    if o.failed() {
        if let Some(e) = &o.error {
            println!("error:     {e}");
        }
        for (what, c) in [("simplified", &o.simplified), ("reference", &o.reference)] {
            if c.bad > 0 {
                println!(
                    "{what} expression disagrees at {} of {} points:",
                    c.bad, o.points
                );
                c.kept.iter().for_each(|p| println!("  {}", point_line(p)));
            }
        }
        ExitCode::FAILURE
    } else {
        println!("ok: all {} points agree", o.points);
        ExitCode::SUCCESS
    }
}
