//! `onnx-diff`: where ferrograd's run of a model starts to differ from onnxruntime's.
//!
//! ferrograd runs the model with an observer that realizes every node's outputs;
//! onnxruntime runs it in a Python child process (`peers/ort_intermediates.py`, written
//! to a temporary directory) with every node output of the main graph exposed and graph
//! optimizations off. Tensors cross as `.npy` files. Each node's outputs are compared
//! with the conformance test's tolerance (`|got - want| <= atol + rtol * |want|`), in the
//! order ferrograd ran the nodes, which is a topological order.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use crate::error::{OnnxError, Result, invalid};
use crate::host::HostTensor;
use crate::npy::{read_npy, write_npy};
use crate::session::Session;
use crate::value::{TensorValue, Value};

const SCRIPT: &str = include_str!("../peers/ort_intermediates.py");

/// One node as ferrograd ran it: its inputs' shapes and element types, and its outputs'
/// values (`None` for a sequence or an empty optional).
#[derive(Clone, Debug)]
pub struct NodeRun {
    pub node: String,
    pub op: String,
    pub inputs: Vec<String>,
    pub outputs: Vec<(String, Option<Arc<HostTensor>>)>,
}

/// How one output compares.
#[derive(Clone, Debug)]
pub struct OutputDiff {
    pub name: String,
    pub shape: Vec<i64>,
    pub max_abs: f64,
    pub max_rel: f64,
    /// Why the output differs (out of tolerance, shape, type), or `None` when it matches.
    pub differs: Option<String>,
    /// Set when onnxruntime gave no value to compare with.
    pub unchecked: Option<String>,
}

/// How one node's outputs compare.
#[derive(Clone, Debug)]
pub struct NodeDiff {
    pub node: String,
    pub op: String,
    pub inputs: Vec<String>,
    pub outputs: Vec<OutputDiff>,
}

impl NodeDiff {
    pub fn differs(&self) -> bool {
        self.outputs.iter().any(|o| o.differs.is_some())
    }
}

/// `[1, 3] f32`.
fn describe(v: &Option<Value>) -> String {
    match v {
        None => "(omitted)".into(),
        Some(Value::Tensor(t)) => format!("{:?} {}", t.shape(), t.elem()),
        Some(other) => other.kind(),
    }
}

/// Runs `session` on `inputs`, realizing and keeping every node's outputs. With `fault`,
/// the node of that name has 1 added to its first output (to test the differ).
pub fn ferrograd_intermediates(
    session: &Session,
    inputs: &[(String, HostTensor)],
    fault: Option<&str>,
) -> Result<Vec<NodeRun>> {
    let device = session.device().to_string();
    let mut runs: Vec<NodeRun> = Vec::new();
    let mut observer =
        |node: &crate::graph::Node, args: &[Option<Value>], outs: &mut [Value]| -> Result<()> {
            if fault == Some(node.name.as_str())
                && let Some(Value::Tensor(t)) = outs.first()
            {
                let d = t.tensor_on(&device)?;
                let one = frontend_tensor::Tensor::full(&[], 1.0, d.dtype())?;
                outs[0] = Value::Tensor(TensorValue::from_tensor_as(d.add(&one)?, t.elem())?);
            }
            let mut values = Vec::new();
            for (name, v) in node.outputs.iter().zip(outs.iter()) {
                let host = match v {
                    Value::Tensor(t) => Some(t.to_host()?),
                    _ => None,
                };
                values.push((name.clone(), host));
            }
            runs.push(NodeRun {
                node: node.name.clone(),
                op: node.op_type.clone(),
                inputs: args.iter().map(describe).collect(),
                outputs: values,
            });
            Ok(())
        };
    let given: Vec<(&str, Value)> = inputs
        .iter()
        .map(|(n, h)| (n.as_str(), Value::Tensor(TensorValue::from_host(h.clone()))))
        .collect();
    session.run_observed(&given, &mut observer)?;
    Ok(runs)
}

/// A fresh temporary directory.
fn temp_dir() -> Result<PathBuf> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!(
        "ferrograd-onnx-diff-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).map_err(|source| OnnxError::Io {
        path: dir.clone(),
        source,
    })?;
    Ok(dir)
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|source| OnnxError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| OnnxError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Every node output onnxruntime computes for `model` on `inputs`, by name, run by
/// `python` (which must have `onnxruntime`, `onnx` and `numpy`).
pub fn onnxruntime_intermediates(
    python: &str,
    model: &Path,
    inputs: &[(String, HostTensor)],
) -> Result<HashMap<String, HostTensor>> {
    let dir = temp_dir()?;
    let result = (|| {
        let script = dir.join("ort_intermediates.py");
        write(&script, SCRIPT.as_bytes())?;
        let mut list = String::new();
        for (k, (name, h)) in inputs.iter().enumerate() {
            let file = format!("in_{k}.npy");
            write(&dir.join(&file), &write_npy(h)?)?;
            list.push_str(&format!("{name}\t{file}\n"));
        }
        write(&dir.join("inputs.tsv"), list.as_bytes())?;
        let out = Command::new(python)
            .arg(&script)
            .arg(model)
            .arg(&dir)
            .output()
            .map_err(|e| invalid!("cannot run {python}: {e}"))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let last = err
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("");
            return Err(invalid!("onnxruntime ({python}) failed: {last}"));
        }
        let listing = String::from_utf8_lossy(&read(&dir.join("outputs.tsv"))?).into_owned();
        let mut values = HashMap::new();
        for line in listing.lines() {
            let (name, file) = line
                .split_once('\t')
                .ok_or_else(|| invalid!("malformed outputs.tsv line '{line}'"))?;
            values.insert(name.to_string(), read_npy(&read(&dir.join(file))?)?);
        }
        Ok(values)
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Whether `python` can import onnxruntime (and why not).
pub fn onnxruntime_available(python: &str) -> std::result::Result<(), String> {
    let out = Command::new(python)
        .args(["-c", "import onnxruntime, onnx, numpy"])
        .output()
        .map_err(|e| format!("cannot run {python}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        Err(format!(
            "{python} cannot import onnxruntime: {}",
            err.lines().last().unwrap_or("").trim()
        ))
    }
}

/// Compares one output: its max abs and rel errors and whether it is out of tolerance.
fn compare_output(
    name: &str,
    got: &HostTensor,
    want: &HostTensor,
    rtol: f64,
    atol: f64,
) -> OutputDiff {
    let mut d = OutputDiff {
        name: name.to_string(),
        shape: got.shape().to_vec(),
        max_abs: 0.0,
        max_rel: 0.0,
        differs: None,
        unchecked: None,
    };
    if got.shape() != want.shape() {
        d.differs = Some(format!(
            "shape {:?}, onnxruntime {:?}",
            got.shape(),
            want.shape()
        ));
        return d;
    }
    let (g, w) = (got.to_f64s(), want.to_f64s());
    let mut bad = 0usize;
    for (&a, &b) in g.iter().zip(&w) {
        if a.is_nan() || b.is_nan() {
            if a.is_nan() != b.is_nan() {
                bad += 1;
                d.max_abs = f64::INFINITY;
            }
            continue;
        }
        if a == b {
            continue;
        }
        let err = (a - b).abs();
        d.max_abs = d.max_abs.max(err);
        if b != 0.0 {
            d.max_rel = d.max_rel.max(err / b.abs());
        } else {
            d.max_rel = f64::INFINITY;
        }
        if err > atol + rtol * b.abs() {
            bad += 1;
        }
    }
    if bad > 0 {
        d.differs = Some(format!("{bad} of {} values out of tolerance", g.len()));
    }
    d
}

/// Every node's comparison, in ferrograd's order.
pub fn compare_runs(
    runs: &[NodeRun],
    reference: &HashMap<String, HostTensor>,
    rtol: f64,
    atol: f64,
) -> Vec<NodeDiff> {
    runs.iter()
        .map(|r| NodeDiff {
            node: r.node.clone(),
            op: r.op.clone(),
            inputs: r.inputs.clone(),
            outputs: r
                .outputs
                .iter()
                .filter(|(name, _)| !name.is_empty())
                .map(|(name, got)| match (got, reference.get(name)) {
                    (Some(g), Some(w)) => compare_output(name, g, w, rtol, atol),
                    (g, w) => OutputDiff {
                        name: name.clone(),
                        shape: g.as_ref().map(|g| g.shape().to_vec()).unwrap_or_default(),
                        max_abs: 0.0,
                        max_rel: 0.0,
                        differs: None,
                        unchecked: Some(if g.is_none() {
                            "not a tensor".into()
                        } else if w.is_none() {
                            "onnxruntime gave no value".into()
                        } else {
                            String::new()
                        }),
                    },
                })
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use dtype::DType;

    use super::*;
    use crate::elem::ElemType;

    fn f32s(v: &[f64]) -> HostTensor {
        HostTensor::from_f64s(ElemType::Native(DType::F32), vec![v.len() as i64], v).unwrap()
    }

    #[test]
    fn flags_values_out_of_tolerance_only() {
        let want = f32s(&[1.0, 100.0, f64::NAN]);
        let close = f32s(&[1.000_001, 100.05, f64::NAN]);
        let d = compare_output("y", &close, &want, 1e-3, 1e-5);
        assert!(d.differs.is_none(), "{:?}", d.differs);
        let far = f32s(&[1.0, 101.0, f64::NAN]);
        let d = compare_output("y", &far, &want, 1e-3, 1e-5);
        assert!(d.differs.is_some());
        assert!((d.max_abs - 1.0).abs() < 1e-9);
        let nan = f32s(&[1.0, 100.0, 0.0]);
        assert!(
            compare_output("y", &nan, &want, 1e-3, 1e-5)
                .differs
                .is_some()
        );
        let shape = f32s(&[1.0, 100.0]);
        assert!(
            compare_output("y", &shape, &want, 1e-3, 1e-5)
                .differs
                .is_some()
        );
    }
}
