//! Mutated model bytes never make the importer panic: a proptest over models built here
//! (elementwise chains, shape folding, a convolution with raw initializer data, `If`
//! subgraphs) and, when the backend test data is present, a sample of the official
//! models. Half the cases apply 1 to 8 byte mutations (bit flips, byte overwrites,
//! truncation, insertion, deletion, chunk duplication), the other half change decoded
//! fields (an op swapped, an attribute or dim set to 0, -1, huge or i64::MIN, a type
//! code, an input added or dropped, the opset) and re-encode; then the bytes are decoded; a model that
//! still loads also builds its graph on inputs of its declared types (lazily: nothing
//! is compiled). An error is fine; a panic fails with the shrunk mutation list.
//!
//! `ONNX_FUZZ_CASES` sets the number of cases (default 100,000).

use std::path::PathBuf;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use dtype::DType;
use onnx::proto::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto,
    TensorShapeProto, TypeProto, ValueInfoProto, attribute_proto, tensor_shape_proto, type_proto,
};
use onnx::{Dim, ElemType, HostTensor, Model, Session, TensorValue, Value, ValueType};
use proptest::prelude::*;
use prost::Message;

fn info(name: &str, elem: i32, dims: &[i64]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|&d| tensor_shape_proto::Dimension {
            value: Some(if d < 0 {
                tensor_shape_proto::dimension::Value::DimParam("n".into())
            } else {
                tensor_shape_proto::dimension::Value::DimValue(d)
            }),
            ..Default::default()
        })
        .collect();
    ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(elem),
                shape: Some(TensorShapeProto { dim }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn node(op: &str, inputs: &[&str], outputs: &[&str], attrs: Vec<AttributeProto>) -> NodeProto {
    NodeProto {
        op_type: Some(op.into()),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: outputs.iter().map(|s| s.to_string()).collect(),
        attribute: attrs,
        ..Default::default()
    }
}

fn ints_attr(name: &str, v: &[i64]) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(attribute_proto::AttributeType::Ints as i32),
        ints: v.to_vec(),
        ..Default::default()
    }
}

fn int_attr(name: &str, v: i64) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(attribute_proto::AttributeType::Int as i32),
        i: Some(v),
        ..Default::default()
    }
}

fn graph_attr(name: &str, g: GraphProto) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(attribute_proto::AttributeType::Graph as i32),
        g: Some(g),
        ..Default::default()
    }
}

fn i64_tensor(name: &str, dims: &[i64], v: &[i64]) -> TensorProto {
    TensorProto {
        name: Some(name.into()),
        dims: dims.to_vec(),
        data_type: Some(7),
        int64_data: v.to_vec(),
        ..Default::default()
    }
}

fn model(g: GraphProto) -> Vec<u8> {
    ModelProto {
        ir_version: Some(8),
        opset_import: vec![OperatorSetIdProto {
            domain: Some(String::new()),
            version: Some(17),
        }],
        graph: Some(g),
        ..Default::default()
    }
    .encode_to_vec()
}

/// The models mutated: built here, plus a sample of the backend test models.
static SEEDS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    let mut seeds = vec![
        // x -> Relu -> Sigmoid -> Add(x)
        model(GraphProto {
            name: Some("chain".into()),
            node: vec![
                node("Relu", &["x"], &["r"], vec![]),
                node("Sigmoid", &["r"], &["s"], vec![]),
                node("Add", &["s", "x"], &["y"], vec![]),
            ],
            input: vec![info("x", 1, &[2, 3])],
            output: vec![info("y", 1, &[2, 3])],
            ..Default::default()
        }),
        // a symbolic batch: Shape -> Gather -> Concat -> Reshape
        model(GraphProto {
            name: Some("shapes".into()),
            node: vec![
                node("Shape", &["x"], &["s"], vec![]),
                node("Gather", &["s", "zero"], &["n"], vec![]),
                node("Unsqueeze", &["n", "zero1"], &["n1"], vec![]),
                node(
                    "Concat",
                    &["n1", "minus1"],
                    &["shape"],
                    vec![int_attr("axis", 0)],
                ),
                node("Reshape", &["x", "shape"], &["y"], vec![]),
            ],
            initializer: vec![
                i64_tensor("zero", &[], &[0]),
                i64_tensor("zero1", &[1], &[0]),
                i64_tensor("minus1", &[1], &[-1]),
            ],
            input: vec![info("x", 1, &[-1, 3, 4])],
            output: vec![info("y", 1, &[-1, 12])],
            ..Default::default()
        }),
        // a convolution with raw-data weights, then a max pool
        model(GraphProto {
            name: Some("conv".into()),
            node: vec![
                node(
                    "Conv",
                    &["x", "w"],
                    &["c"],
                    vec![ints_attr("pads", &[1, 1, 1, 1])],
                ),
                node(
                    "MaxPool",
                    &["c"],
                    &["y"],
                    vec![ints_attr("kernel_shape", &[2, 2])],
                ),
            ],
            initializer: vec![TensorProto {
                name: Some("w".into()),
                dims: vec![2, 1, 3, 3],
                data_type: Some(1),
                raw_data: Some(
                    (0..18)
                        .flat_map(|k| (k as f32 * 0.1).to_le_bytes())
                        .collect(),
                ),
                ..Default::default()
            }],
            input: vec![info("x", 1, &[1, 1, 6, 6])],
            output: vec![info("y", 1, &[1, 2, 3, 3])],
            ..Default::default()
        }),
        // If with two subgraphs reading an outer value
        model(GraphProto {
            name: Some("if".into()),
            node: vec![
                node("ReduceSum", &["x"], &["s"], vec![]),
                node("Greater", &["s", "zerof"], &["c"], vec![]),
                node(
                    "If",
                    &["c"],
                    &["y"],
                    vec![
                        graph_attr(
                            "then_branch",
                            GraphProto {
                                name: Some("then".into()),
                                node: vec![node("Neg", &["x"], &["t"], vec![])],
                                output: vec![info("t", 1, &[2, 2])],
                                ..Default::default()
                            },
                        ),
                        graph_attr(
                            "else_branch",
                            GraphProto {
                                name: Some("else".into()),
                                node: vec![node("Abs", &["x"], &["e"], vec![])],
                                output: vec![info("e", 1, &[2, 2])],
                                ..Default::default()
                            },
                        ),
                    ],
                ),
            ],
            initializer: vec![TensorProto {
                name: Some("zerof".into()),
                data_type: Some(1),
                float_data: vec![0.0],
                ..Default::default()
            }],
            input: vec![info("x", 1, &[2, 2])],
            output: vec![info("y", 1, &[2, 2])],
            ..Default::default()
        }),
    ];
    let data = std::env::var_os("ONNX_BACKEND_DATA")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| {
                PathBuf::from(h).join(".cache/ferrograd/onnx-1.19.1/onnx/backend/test/data")
            })
        });
    if let Some(dir) = data.map(|d| d.join("node"))
        && let Ok(entries) = std::fs::read_dir(&dir)
    {
        let mut cases: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        cases.sort();
        for case in cases.iter().step_by(16) {
            if let Ok(bytes) = std::fs::read(case.join("model.onnx"))
                && bytes.len() <= 1 << 16
            {
                seeds.push(bytes);
            }
        }
    }
    seeds
});

/// One mutation: what, where (scaled to the length), and a byte.
#[derive(Clone, Debug)]
struct Mutation {
    kind: u8,
    at: u32,
    byte: u8,
}

/// Ops a structural mutation may swap in (the importer's common ones, with other
/// arities and attributes than the node had).
const OPS: &[&str] = &[
    "Relu",
    "Add",
    "MatMul",
    "Conv",
    "Reshape",
    "Gather",
    "Slice",
    "Concat",
    "Transpose",
    "ReduceSum",
    "Resize",
    "Pad",
    "Expand",
    "Tile",
    "Split",
    "Squeeze",
    "Unsqueeze",
    "Cast",
    "TopK",
    "CumSum",
    "ScatterND",
    "GatherND",
    "MaxPool",
    "LSTM",
    "Einsum",
    "Range",
    "OneHot",
    "Where",
    "Softmax",
    "LayerNormalization",
    "Attention",
    "GridSample",
    "DFT",
    "If",
];

/// A change to the decoded model's fields (an op, an attribute, a dim, a type, an input
/// name), so that the mutated bytes still decode and the ops see odd values.
fn mutate_fields(m: &mut ModelProto, mu: &Mutation) {
    let Some(g) = m.graph.as_mut() else { return };
    let pick = |n: usize| if n == 0 { 0 } else { mu.at as usize % n };
    let wild = [0i64, 1, -1, 2, 3, -7, 64, 1 << 20, i64::MAX, i64::MIN][usize::from(mu.byte) % 10];
    match mu.kind % 7 {
        0 if !g.node.is_empty() => {
            let k = pick(g.node.len());
            g.node[k].op_type = Some(OPS[usize::from(mu.byte) % OPS.len()].into());
        }
        1 if !g.node.is_empty() => {
            let k = pick(g.node.len());
            if let Some(a) = g.node[k].attribute.first_mut() {
                a.i = Some(wild);
                if let Some(v) = a.ints.first_mut() {
                    *v = wild;
                }
            }
        }
        2 if !g.initializer.is_empty() => {
            let k = pick(g.initializer.len());
            let t = &mut g.initializer[k];
            if let Some(d) = t.dims.first_mut() {
                *d = wild;
            } else {
                t.dims.push(wild);
            }
        }
        3 if !g.initializer.is_empty() => {
            let k = pick(g.initializer.len());
            g.initializer[k].data_type = Some(i32::from(mu.byte % 26));
        }
        4 if !g.input.is_empty() => {
            let k = pick(g.input.len());
            if let Some(type_proto::Value::TensorType(t)) =
                g.input[k].r#type.as_mut().and_then(|t| t.value.as_mut())
            {
                if mu.byte.is_multiple_of(2) {
                    t.elem_type = Some(i32::from(mu.byte % 26));
                } else if let Some(d) = t.shape.as_mut().and_then(|s| s.dim.first_mut()) {
                    d.value = Some(tensor_shape_proto::dimension::Value::DimValue(wild % 100));
                }
            }
        }
        5 if !g.node.is_empty() => {
            let k = pick(g.node.len());
            let n = &mut g.node[k];
            if mu.byte.is_multiple_of(2) {
                n.input.pop();
            } else {
                n.input.push(n.input.first().cloned().unwrap_or_default());
            }
        }
        _ => {
            if let Some(o) = m.opset_import.first_mut() {
                o.version = Some(i64::from(mu.byte % 30));
            }
        }
    }
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    if bytes.is_empty() {
        bytes.push(m.byte);
        return;
    }
    let at = m.at as usize % bytes.len();
    match m.kind % 6 {
        0 => bytes[at] ^= 1 << (m.byte % 8),
        1 => bytes[at] = m.byte,
        2 => bytes.truncate(at),
        3 => bytes.insert(at, m.byte),
        4 => {
            bytes.remove(at);
        }
        _ => {
            let end = (at + usize::from(m.byte) + 1).min(bytes.len());
            let chunk = bytes[at..end].to_vec();
            let to = (m.at as usize / 7) % bytes.len();
            bytes.splice(to..to, chunk);
        }
    }
}

/// A small input of `ty` (symbolic dims are 2), or `None` when it is too large or not a
/// numeric tensor.
fn input_for(ty: &ValueType) -> Option<Value> {
    let ValueType::Tensor { elem, shape } = ty else {
        return None;
    };
    let elem = ElemType::from_onnx(*elem).ok()?;
    let shape: Vec<i64> = shape
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .map(|d| match d {
            Dim::Fixed(n) => *n,
            _ => 2,
        })
        .collect();
    if shape.iter().any(|&d| !(0..=64).contains(&d)) || shape.iter().product::<i64>() > 4096 {
        return None;
    }
    let n: i64 = shape.iter().product();
    let vals: Vec<i64> = (0..n).map(|k| k % 5 - 2).collect();
    let h = match elem.storage() {
        d if d.is_float() || d.is_int() || d == DType::Bool => {
            HostTensor::from_i64s(elem, shape, &vals).ok()?
        }
        _ => return None,
    };
    Some(Value::Tensor(TensorValue::from_host(h)))
}

fn register_cpu() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        device::register("CPU", |name| {
            Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(
                name,
                Box::new(renderer_c::CRenderer::new()),
            )))
        });
    });
}

/// Decodes `bytes`; a model that loads builds its graph once (without compiling).
fn exercise(bytes: &[u8]) {
    register_cpu();
    RAN.fetch_add(1, Ordering::Relaxed);
    let Ok(model) = Model::from_bytes(bytes, None) else {
        return;
    };
    LOADED.fetch_add(1, Ordering::Relaxed);
    let mut loops = false;
    model.graph.walk_nodes(&mut |n| {
        loops |= matches!(n.op_type.as_str(), "Loop" | "Scan" | "NonZero" | "Unique")
    });
    if loops {
        // data-dependent trip counts and host reads realize values: decoding is the test
        return;
    }
    let session = Session::new(model, "CPU");
    let inputs: Option<Vec<(String, Value)>> = session
        .inputs()
        .iter()
        .map(|i| input_for(&i.ty).map(|v| (i.name.clone(), v)))
        .collect();
    let Some(inputs) = inputs else {
        return;
    };
    let given: Vec<(&str, Value)> = inputs
        .iter()
        .map(|(n, v)| (n.as_str(), v.clone()))
        .collect();
    if session.run(&given).is_ok() {
        BUILT.fetch_add(1, Ordering::Relaxed);
    }
}

fn cases() -> u32 {
    std::env::var("ONNX_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

static RAN: AtomicUsize = AtomicUsize::new(0);
static LOADED: AtomicUsize = AtomicUsize::new(0);
static BUILT: AtomicUsize = AtomicUsize::new(0);

#[test]
fn mutated_models_never_panic() {
    let config = ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let strategy = (
        any::<prop::sample::Index>(),
        prop::collection::vec((any::<u8>(), any::<u32>(), any::<u8>()), 1..8),
    );
    let mut runner = proptest::test_runner::TestRunner::new(config);
    let result = runner.run(&strategy, |(seed, muts)| {
        let mut bytes = seed.get(&SEEDS).clone();
        let structural = muts.first().is_some_and(|m| m.0 % 2 == 0);
        match ModelProto::decode(bytes.as_slice()) {
            Ok(mut proto) if structural => {
                // fields changed, the bytes re-encoded: a model that decodes with odd values
                for (kind, at, byte) in muts {
                    mutate_fields(
                        &mut proto,
                        &Mutation {
                            kind: kind / 2,
                            at,
                            byte,
                        },
                    );
                }
                bytes = proto.encode_to_vec();
            }
            _ => {
                for (kind, at, byte) in muts {
                    apply(&mut bytes, &Mutation { kind, at, byte });
                }
            }
        }
        exercise(&bytes);
        Ok(())
    });
    println!(
        "mutated models: {} inputs from {} seeds, {} loaded, {} built their graph, {}",
        RAN.load(Ordering::Relaxed),
        SEEDS.len(),
        LOADED.load(Ordering::Relaxed),
        BUILT.load(Ordering::Relaxed),
        if result.is_ok() {
            "0 panics"
        } else {
            "a panic"
        }
    );
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn the_seeds_load_and_build_unmutated() {
    // the built-in seeds are valid models: a mutation test of broken seeds tests nothing
    register_cpu();
    for bytes in SEEDS.iter().take(4) {
        let model = Model::from_bytes(bytes, None).expect("a built-in seed loads");
        let session = Session::new(model, "CPU");
        let inputs: Vec<(String, Value)> = session
            .inputs()
            .iter()
            .map(|i| (i.name.clone(), input_for(&i.ty).expect("a small input")))
            .collect();
        let given: Vec<(&str, Value)> = inputs
            .iter()
            .map(|(n, v)| (n.as_str(), v.clone()))
            .collect();
        session.run(&given).expect("a built-in seed runs");
    }
}
