//! The per-op table: which op each case tests (the op of a one-op model; an `_expanded`
//! case takes the op of the case it expands; others the longest op name their name
//! starts with), and per op how many cases pass here and in the peers' runs.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use prost::Message;

use crate::runner::{Outcome, Status};

/// `ReduceSum` -> `reducesum`: names compared without case or underscores.
fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| *c != '_')
        .flat_map(|c| c.to_lowercase())
        .collect()
}

/// The op each case tests, in the order of `cases`.
pub fn case_ops(cases: &[(String, PathBuf)]) -> Vec<String> {
    let single: Vec<Option<String>> = cases
        .iter()
        .map(|(_, dir)| {
            let bytes = std::fs::read(dir.join("model.onnx")).ok()?;
            let m = onnx::proto::ModelProto::decode(bytes.as_slice()).ok()?;
            let mut ops: Vec<String> = m
                .graph?
                .node
                .iter()
                .filter_map(|n| n.op_type.clone())
                .filter(|o| o != "Constant")
                .collect();
            ops.dedup();
            (ops.len() == 1).then(|| ops.remove(0))
        })
        .collect();
    let name = |k: usize| {
        cases[k]
            .1
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let by_name: HashMap<String, String> = (0..cases.len())
        .filter_map(|k| single[k].clone().map(|op| (name(k), op)))
        .collect();
    let mut known: Vec<String> = by_name.values().cloned().collect();
    known.sort();
    known.dedup();
    (0..cases.len())
        .map(|k| {
            if let Some(op) = &single[k] {
                return op.clone();
            }
            let n = name(k);
            if let Some(base) = n.split("_expanded").next()
                && let Some(op) = by_name.get(base)
            {
                return op.clone();
            }
            let body = squash(n.trim_start_matches("test_"));
            known
                .iter()
                .filter(|op| body.starts_with(&squash(op)))
                .max_by_key(|op| op.len())
                .cloned()
                .unwrap_or_else(|| "(several ops)".into())
        })
        .collect()
}

/// Peers' results from `ONNX_BACKEND_PEERS=name=file,...` (lines `group/case\tpass|fail`).
fn peers() -> Vec<(String, HashMap<String, bool>)> {
    let Ok(spec) = std::env::var("ONNX_BACKEND_PEERS") else {
        return Vec::new();
    };
    spec.split(',')
        .filter_map(|p| p.split_once('='))
        .map(|(name, file)| {
            let text = std::fs::read_to_string(file).unwrap_or_default();
            let results = text
                .lines()
                .filter_map(|l| {
                    let mut f = l.split('\t');
                    Some((f.next()?.to_string(), f.next()? == "pass"))
                })
                .collect();
            (name.to_string(), results)
        })
        .collect()
}

/// The markdown table: one row per op.
pub fn markdown(outcomes: &[Outcome]) -> String {
    let peers = peers();
    let mut rows: BTreeMap<&str, Vec<&Outcome>> = BTreeMap::new();
    for o in outcomes {
        rows.entry(o.op.as_str()).or_default().push(o);
    }
    let mut out = String::from("| op | cases | ferrograd |");
    for (name, _) in &peers {
        out.push_str(&format!(" {name} |"));
    }
    out.push_str(" not passing here: why |\n|---|---:|---:|");
    for _ in &peers {
        out.push_str("---:|");
    }
    out.push_str("---|\n");
    let mut totals = vec![0usize; 2 + peers.len()];
    for (op, cases) in &rows {
        let pass = cases.iter().filter(|o| o.status == Status::Pass).count();
        out.push_str(&format!("| {op} | {} | {pass} |", cases.len()));
        totals[0] += cases.len();
        totals[1] += pass;
        for (k, (_, results)) in peers.iter().enumerate() {
            let p = cases
                .iter()
                .filter(|o| results.get(&format!("{}/{}", o.group, o.case)) == Some(&true))
                .count();
            totals[2 + k] += p;
            out.push_str(&format!(" {p} |"));
        }
        let mut reasons: Vec<&str> = cases
            .iter()
            .filter_map(|o| match &o.status {
                Status::Skip(w) | Status::Fail(w) => Some(w.as_str()),
                _ => None,
            })
            .collect();
        reasons.sort_unstable();
        reasons.dedup();
        out.push_str(&format!(" {} |\n", reasons.join("; ").replace('|', "\\|")));
    }
    out.push_str(&format!("| **all** | {} | {} |", totals[0], totals[1]));
    for t in &totals[2..] {
        out.push_str(&format!(" {t} |"));
    }
    out.push_str(" |\n");
    out
}
