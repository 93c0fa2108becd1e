//! The size matrix of `fuzz-symbolic`: for each combination of op families (and for each
//! single family, and in total), how many cases simplified to an expression no larger
//! (in distinct nodes) than the reference view expression.

use std::collections::HashMap;
use std::fmt::Write;

use crate::cases::{Family, families_name};
use crate::check::Outcome;

/// Combinations shown before the rest are summed into an "other" row.
const TOP_ROWS: usize = 25;

/// Counts for one row.
#[derive(Clone, Copy, Debug, Default)]
struct Row {
    cases: u64,
    no_larger: u64,
    simplified_nodes: u64,
    reference_nodes: u64,
}

impl Row {
    fn add(&mut self, o: &Outcome) {
        self.cases += 1;
        self.no_larger += u64::from(o.no_larger());
        self.simplified_nodes += o.simplified_nodes as u64;
        self.reference_nodes += o.reference_nodes as u64;
    }

    fn merge(&mut self, r: &Row) {
        self.cases += r.cases;
        self.no_larger += r.no_larger;
        self.simplified_nodes += r.simplified_nodes;
        self.reference_nodes += r.reference_nodes;
    }

    fn line(&self, out: &mut String, name: &str, width: usize) {
        let n = self.cases.max(1) as f64;
        let _ = writeln!(
            out,
            "{name:<width$} | {:>7} | {:>10.1}% | {:>10.1} | {:>9.1}",
            self.cases,
            100.0 * self.no_larger as f64 / n,
            self.simplified_nodes as f64 / n,
            self.reference_nodes as f64 / n,
        );
    }
}

/// The tables for these outcomes (cases that failed to build count as larger).
pub fn render(outcomes: &[Outcome]) -> String {
    let mut combos: HashMap<u8, Row> = HashMap::new();
    let mut singles = [Row::default(); Family::ALL.len()];
    let mut total = Row::default();
    for o in outcomes {
        combos.entry(o.families).or_default().add(o);
        for (i, f) in Family::ALL.iter().enumerate() {
            if o.families & f.bit() != 0 {
                singles[i].add(o);
            }
        }
        total.add(o);
    }
    let mut rows: Vec<(String, Row)> = combos
        .into_iter()
        .map(|(set, r)| (families_name(set), r))
        .collect();
    rows.sort_by(|a, b| b.1.cases.cmp(&a.1.cases).then_with(|| a.0.cmp(&b.0)));
    let width = rows
        .iter()
        .take(TOP_ROWS)
        .map(|(name, _)| name.len())
        .chain(["family combination".len(), "other (NN combinations)".len()])
        .max()
        .unwrap_or(20);

    let mut out = String::new();
    header(&mut out, "family combination", width);
    for (name, row) in rows.iter().take(TOP_ROWS) {
        row.line(&mut out, name, width);
    }
    if rows.len() > TOP_ROWS {
        let mut other = Row::default();
        rows[TOP_ROWS..].iter().for_each(|(_, r)| other.merge(r));
        let name = format!("other ({} combinations)", rows.len() - TOP_ROWS);
        other.line(&mut out, &name, width);
    }
    separator(&mut out, width);
    total.line(&mut out, "total", width);
    out.push('\n');
    header(&mut out, "cases containing", width);
    for (f, row) in Family::ALL.iter().zip(&singles) {
        row.line(&mut out, f.name(), width);
    }
    separator(&mut out, width);
    total.line(&mut out, "total", width);
    out
}

fn header(out: &mut String, first: &str, width: usize) {
    let _ = writeln!(
        out,
        "{first:<width$} | {:>7} | {:>11} | {:>10} | {:>9}",
        "cases", "no-larger", "simp nodes", "ref nodes"
    );
    separator(out, width);
}

fn separator(out: &mut String, width: usize) {
    let _ = writeln!(
        out,
        "{}-|-{}-|-{}-|-{}-|-{}",
        "-".repeat(width),
        "-".repeat(7),
        "-".repeat(11),
        "-".repeat(10),
        "-".repeat(9)
    );
}
