//! `symbolic::simplify` over a fixed corpus of 10,000 random index expressions (depth 6,
//! four bounded variables, fresh variable bounds per expression). One iteration simplifies
//! the whole corpus; throughput is reported in expressions per second. The peer figure
//! (tinygrad) comes from `tinygrad_symbolic.py` beside this file; both go to docs/perf.md.
//!
//! UOps are interned, so the corpus is built once, outside the timed loop. The rewrite
//! memo lives for one `simplify` call: no state carries between iterations except the
//! interner. The interner holds weak references, so what stays interned is what is alive:
//! the corpus and one simplified copy of it (kept for the node counts, as the tinygrad
//! script keeps its first round); intermediate nodes are rebuilt and freed every iteration.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use symbolic::corpus::{SplitMix, random_expr, random_vars};
use uop_ir::{UOp, node_count};

const CORPUS: usize = 10_000;
const DEPTH: u32 = 6;
const SEED: u64 = 0x5eed;

fn corpus() -> Vec<UOp> {
    let mut rng = SplitMix(SEED);
    (0..CORPUS)
        .map(|_| {
            let vars = random_vars(&mut rng);
            random_expr(&mut rng, &vars, DEPTH)
        })
        .collect()
}

fn average_nodes<'a>(exprs: impl Iterator<Item = &'a UOp>) -> f64 {
    let (sum, n) = exprs.fold((0usize, 0usize), |(s, n), e| (s + node_count(e), n + 1));
    sum as f64 / n.max(1) as f64
}

fn simplify_corpus(c: &mut Criterion) {
    let exprs = corpus();
    let simplified: Vec<UOp> = exprs
        .iter()
        .filter_map(|e| symbolic::simplify(e).ok())
        .collect();
    eprintln!(
        "corpus: {} expressions (seed {SEED:#x}, depth {DEPTH}), {} simplified without error; \
         average nodes {:.2} before, {:.2} after",
        exprs.len(),
        simplified.len(),
        average_nodes(exprs.iter()),
        average_nodes(simplified.iter()),
    );

    let mut group = c.benchmark_group("symbolic");
    group.throughput(Throughput::Elements(CORPUS as u64));
    group.sample_size(10);
    group.bench_function("simplify_10k_depth6", |b| {
        b.iter(|| {
            for e in &exprs {
                // An Err is a result too (the fuzz target reports them); time it alike.
                let _ = black_box(symbolic::simplify(black_box(e)));
            }
        });
    });
    group.finish();
}

criterion_group!(benches, simplify_corpus);
criterion_main!(benches);
