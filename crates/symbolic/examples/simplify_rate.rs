//! Expressions simplified per second on the benchmark corpus (a quick check; the
//! criterion benchmark `simplify` is the measurement of record).
use std::time::Instant;

use symbolic::corpus::{SplitMix, random_expr, random_vars};

fn main() {
    let mut rng = SplitMix(0x5eed);
    let corpus: Vec<_> = (0..10_000)
        .map(|_| {
            let vars = random_vars(&mut rng);
            random_expr(&mut rng, &vars, 6)
        })
        .collect();
    for round in 0..3 {
        let t = Instant::now();
        for e in &corpus {
            let _ = symbolic::simplify(e);
        }
        let s = t.elapsed().as_secs_f64();
        println!(
            "round {round}: {:.0} expressions/s",
            corpus.len() as f64 / s
        );
    }
}
