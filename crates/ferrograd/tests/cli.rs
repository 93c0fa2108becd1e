//! The `ferrograd` command on small models built here: `info` names unsupported ops,
//! `run` reads `.npy` inputs and writes `.npy` outputs with the right values, a corrupt
//! model is an error (not a crash), and `onnx-diff` names the node where a fault was
//! injected (skipped, with the reason printed, where onnxruntime is not installed).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ferrograd::DType;
use ferrograd::onnx::proto::{
    GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorShapeProto, TypeProto,
    ValueInfoProto, tensor_shape_proto, type_proto,
};
use ferrograd::onnx::{ElemType, HostTensor, read_npy, write_npy};
use prost::Message;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_ferrograd")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ferrograd-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).expect("a temporary directory");
    d
}

fn float_info(name: &str, dims: &[i64]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|&d| tensor_shape_proto::Dimension {
            value: Some(tensor_shape_proto::dimension::Value::DimValue(d)),
            ..Default::default()
        })
        .collect();
    ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(1),
                shape: Some(TensorShapeProto { dim }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn node(name: &str, op: &str, domain: &str, inputs: &[&str], outputs: &[&str]) -> NodeProto {
    NodeProto {
        name: Some(name.into()),
        op_type: Some(op.into()),
        domain: Some(domain.into()),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: outputs.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

/// A one-input, one-output model of `nodes` over `x: float[2, 3]` giving `y`.
fn model(dir: &Path, nodes: Vec<NodeProto>, extra_domain: Option<&str>) -> PathBuf {
    let mut opset_import = vec![OperatorSetIdProto {
        domain: Some(String::new()),
        version: Some(17),
    }];
    if let Some(d) = extra_domain {
        opset_import.push(OperatorSetIdProto {
            domain: Some(d.into()),
            version: Some(1),
        });
    }
    let m = ModelProto {
        ir_version: Some(8),
        opset_import,
        graph: Some(GraphProto {
            name: Some("g".into()),
            node: nodes,
            input: vec![float_info("x", &[2, 3])],
            output: vec![float_info("y", &[2, 3])],
            ..Default::default()
        }),
        ..Default::default()
    };
    let path = dir.join("model.onnx");
    std::fs::write(&path, m.encode_to_vec()).expect("the model is written");
    path
}

/// x -> Relu (relu) -> Sigmoid (sig) -> Add with x (add) -> y.
fn chain(dir: &Path) -> PathBuf {
    model(
        dir,
        vec![
            node("relu", "Relu", "", &["x"], &["r"]),
            node("sig", "Sigmoid", "", &["r"], &["s"]),
            node("add", "Add", "", &["s", "x"], &["y"]),
        ],
        None,
    )
}

fn run(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .output()
        .expect("the ferrograd binary runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn info_lists_ops_and_marks_unsupported_ones() {
    let dir = tmp("info");
    let path = model(
        &dir,
        vec![
            node("a", "Relu", "", &["x"], &["r"]),
            node("b", "Frobnicate", "com.example", &["r"], &["y"]),
        ],
        Some("com.example"),
    );
    let o = run(&["info", path.to_str().unwrap()]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("x: float[2, 3]"), "{t}");
    assert!(t.contains("2 nodes, 2 kinds, 1 unsupported"), "{t}");
    assert!(t.contains("Frobnicate (com.example)  UNSUPPORTED"), "{t}");
    assert!(!t.contains("Relu  UNSUPPORTED"), "{t}");
}

#[test]
fn run_reads_npy_inputs_and_writes_npy_outputs() {
    let dir = tmp("run");
    let path = chain(&dir);
    let xs = [-2.0, -0.5, 0.0, 0.5, 1.0, 3.0];
    let x = HostTensor::from_f64s(ElemType::Native(DType::F32), vec![2, 3], &xs).unwrap();
    let xfile = dir.join("x.npy");
    std::fs::write(&xfile, write_npy(&x).unwrap()).unwrap();
    let out = dir.join("out");
    let o = run(&[
        "run",
        path.to_str().unwrap(),
        "--input",
        &format!("x={}", xfile.display()),
        "--output",
        out.to_str().unwrap(),
        "--bench",
        "2",
    ]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("output y: [2, 3] float"), "{t}");
    assert!(t.contains("bench: 2 runs, median"), "{t}");
    let y = read_npy(&std::fs::read(out.join("y.npy")).unwrap()).unwrap();
    assert_eq!(y.shape(), &[2, 3]);
    for (got, &x) in y.to_f64s().iter().zip(&xs) {
        let want = 1.0 / (1.0 + (-f64::max(x, 0.0)).exp()) + x;
        assert!((got - want).abs() < 1e-5, "{got} vs {want}");
    }
}

#[test]
fn random_inputs_when_none_are_given() {
    let dir = tmp("random");
    let path = chain(&dir);
    let o = run(&["run", path.to_str().unwrap()]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("input  x: [2, 3] float"), "{t}");
}

#[test]
fn corrupt_models_and_bad_inputs_are_errors_not_crashes() {
    let dir = tmp("corrupt");
    let path = chain(&dir);
    let bytes = std::fs::read(&path).unwrap();
    let cut = dir.join("cut.onnx");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    for args in [
        vec!["run", cut.to_str().unwrap()],
        vec!["info", cut.to_str().unwrap()],
        vec!["run", path.to_str().unwrap(), "--input", "nope=x.npy"],
        vec![
            "run",
            path.to_str().unwrap(),
            "--input",
            "x=/no/such/file.npy",
        ],
    ] {
        let o = run(&args);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {t}");
        assert!(t.contains("error:"), "{args:?}: {t}");
    }
}

#[test]
fn onnx_diff_names_the_node_with_an_injected_fault() {
    let python = std::env::var("FERROGRAD_PYTHON").unwrap_or_else(|_| "python3".into());
    if let Err(why) = ferrograd::onnx::diff::onnxruntime_available(&python) {
        println!(
            "onnx-diff test skipped: {why} (set FERROGRAD_PYTHON to a Python with onnxruntime)"
        );
        return;
    }
    let dir = tmp("diff");
    let path = chain(&dir);
    let p = path.to_str().unwrap();
    let clean = run(&["onnx-diff", p, "--python", &python]);
    let t = text(&clean);
    assert!(clean.status.success(), "{t}");
    assert!(t.contains("no difference"), "{t}");
    let faulty = run(&["onnx-diff", p, "--python", &python, "--inject-fault", "sig"]);
    let t = text(&faulty);
    assert_eq!(faulty.status.code(), Some(1), "{t}");
    assert!(
        t.contains("first difference: node 'sig' (op Sigmoid)"),
        "{t}"
    );
    // the node before it matches, the one after differs too
    assert!(
        t.lines().any(|l| l.contains("relu") && l.ends_with("ok")),
        "{t}"
    );
    assert!(
        t.lines()
            .any(|l| l.contains(" add ") && l.contains("DIFFERS")),
        "{t}"
    );
}
