//! Runs a graph: binds its inputs (checking element types, ranks and dims, and binding
//! symbolic dims), orders its nodes so every input is produced before it is used, and
//! runs each node's op, naming the node in any error. Subgraphs (`If`, `Loop`, `Scan`)
//! run through the same code with a frame that sees the values of the frames around it.

use std::collections::HashMap;

use crate::elem::ElemType;
use crate::error::{OnnxError, Result, invalid};
use crate::graph::{Dim, Graph, Node, ValueInfo, ValueType};
use crate::ops::{self, Inputs, OpCtx};
use crate::value::{TensorValue, Value};

/// Called after every node with its inputs and outputs (for tracing and differential
/// debugging); it may replace outputs (the differ's tests inject faults this way); an
/// error stops the run.
pub type Observer<'a> = dyn FnMut(&Node, &[Option<Value>], &mut [Value]) -> Result<()> + 'a;

/// What every node of one run shares: the device, the imported opsets, the observer.
pub(crate) struct RunCtx<'o> {
    pub device: String,
    pub opsets: std::collections::BTreeMap<String, i64>,
    pub observer: Option<std::cell::RefCell<&'o mut Observer<'o>>>,
}

/// The values visible to a graph's nodes: its own, then those of the graphs around it.
pub(crate) struct Frame<'a> {
    values: HashMap<String, Value>,
    parent: Option<&'a Frame<'a>>,
}

impl<'a> Frame<'a> {
    pub fn new(parent: Option<&'a Frame<'a>>) -> Frame<'a> {
        Frame {
            values: HashMap::new(),
            parent,
        }
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values
            .get(name)
            .or_else(|| self.parent.and_then(|p| p.get(name)))
    }

    pub fn set(&mut self, name: &str, v: Value) {
        self.values.insert(name.to_string(), v);
    }

    fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// Runs `graph` with `frame` holding its inputs (and initializers); returns its outputs
/// in order.
pub(crate) fn run_graph(rc: &RunCtx, graph: &Graph, mut frame: Frame) -> Result<Vec<Value>> {
    for (name, h) in &graph.initializers {
        if !frame.values.contains_key(name) {
            frame.set(name, Value::Tensor(TensorValue::from_host_arc(h.clone())));
        }
    }
    for index in node_order(graph, &frame)? {
        let node = &graph.nodes[index];
        run_node(rc, node, &mut frame).map_err(|e| e.at_node(&node.name, &node.op_type))?;
    }
    graph
        .outputs
        .iter()
        .map(|o| {
            frame.get(&o.name).cloned().ok_or_else(|| {
                OnnxError::Model(format!(
                    "graph '{}': output '{}' is produced by no node, initializer or input",
                    graph.name, o.name
                ))
            })
        })
        .collect()
}

fn run_node(rc: &RunCtx, node: &Node, frame: &mut Frame) -> Result<()> {
    let args: Vec<Option<Value>> =
        node.inputs
            .iter()
            .map(|name| {
                if name.is_empty() {
                    return Ok(None);
                }
                frame.get(name).cloned().map(Some).ok_or_else(|| {
                    invalid!("input '{name}' is produced by nothing before this node")
                })
            })
            .collect::<Result<_>>()?;
    let opset = rc.opsets.get(&node.domain).copied().unwrap_or(0);
    let op = ops::lookup(&node.domain, &node.op_type).ok_or_else(|| OnnxError::Unsupported {
        op: node.op_type.clone(),
        domain: node.domain.clone(),
        version: opset,
    })?;
    let mut outputs = {
        let ctx = OpCtx {
            node,
            opset,
            run: rc,
            frame: &*frame,
        };
        op(&ctx, &Inputs::new(&args))?
    };
    if let Some((k, name)) = node
        .outputs
        .iter()
        .enumerate()
        .skip(outputs.len())
        .find(|(_, name)| !name.is_empty())
    {
        return Err(invalid!(
            "output {k} ('{name}') is not produced by this importer's {} ({} outputs)",
            node.op_type,
            outputs.len()
        ));
    }
    if let Some(obs) = &rc.observer {
        (obs.borrow_mut())(node, &args, &mut outputs)?;
    }
    for (name, v) in node.outputs.iter().zip(outputs) {
        if !name.is_empty() {
            frame.set(name, v);
        }
    }
    Ok(())
}

/// The nodes in an order where each runs after the nodes producing its inputs (the file's
/// order when it already is one, as the standard requires).
fn node_order(graph: &Graph, frame: &Frame) -> Result<Vec<usize>> {
    let mut produced: HashMap<&str, usize> = HashMap::new();
    for (i, n) in graph.nodes.iter().enumerate() {
        for o in n.outputs.iter().filter(|o| !o.is_empty()) {
            produced.insert(o.as_str(), i);
        }
    }
    // the inputs of a node, its subgraphs' outer references included
    let deps = |n: &Node| -> Vec<usize> {
        let mut names: Vec<&str> = n.inputs.iter().map(|s| s.as_str()).collect();
        outer_names(n, &mut names);
        names
            .into_iter()
            .filter(|s| !s.is_empty() && !frame.has(s))
            .filter_map(|s| produced.get(s).copied())
            .collect()
    };
    let n = graph.nodes.len();
    let mut state = vec![0u8; n]; // 0 new, 1 on the stack, 2 done
    let mut order = Vec::with_capacity(n);
    for start in 0..n {
        if state[start] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, Vec<usize>)> = vec![(start, deps(&graph.nodes[start]))];
        state[start] = 1;
        while let Some((node, pending)) = stack.last_mut() {
            match pending.pop() {
                Some(d) if state[d] == 0 => {
                    state[d] = 1;
                    let dd = deps(&graph.nodes[d]);
                    stack.push((d, dd));
                }
                Some(d) if state[d] == 1 => {
                    let n = &graph.nodes[d];
                    return Err(invalid!("the graph has a cycle through this node")
                        .at_node(&n.name, &n.op_type));
                }
                Some(_) => {}
                None => {
                    state[*node] = 2;
                    order.push(*node);
                    stack.pop();
                }
            }
        }
    }
    Ok(order)
}

/// Names a node's subgraphs read from outside themselves.
fn outer_names<'a>(n: &'a Node, names: &mut Vec<&'a str>) {
    use crate::graph::AttrValue;
    for a in &n.attributes {
        let graphs: Vec<&Graph> = match &a.value {
            AttrValue::Graph(g) => vec![g],
            AttrValue::Graphs(gs) => gs.iter().map(|g| &**g).collect(),
            _ => continue,
        };
        for g in graphs {
            for sub in &g.nodes {
                names.extend(sub.inputs.iter().map(|s| s.as_str()));
                outer_names(sub, names);
            }
        }
    }
}

/// Checks a value given for a graph input against its declaration and binds the symbolic
/// dims it has (`dims` keeps them across inputs).
pub(crate) fn bind_input(
    info: &ValueInfo,
    value: &Value,
    dims: &mut HashMap<String, i64>,
) -> Result<()> {
    let bad = |why: String| OnnxError::Input {
        name: info.name.clone(),
        why,
    };
    match (&info.ty, value) {
        (ValueType::Tensor { elem, shape }, Value::Tensor(t)) => {
            let want = ElemType::from_onnx(*elem).map_err(|e| bad(e.to_string()))?;
            if want != t.elem() {
                return Err(bad(format!("expected {want} values, got {}", t.elem())));
            }
            let Some(shape) = shape else { return Ok(()) };
            if shape.len() != t.rank() {
                return Err(bad(format!(
                    "expected rank {} ({}), got shape {:?}",
                    shape.len(),
                    dims_text(shape),
                    t.shape()
                )));
            }
            for (i, (d, &have)) in shape.iter().zip(t.shape()).enumerate() {
                match d {
                    Dim::Fixed(want) if *want != have => {
                        return Err(bad(format!(
                            "dim {i} must be {want} ({}), got shape {:?}",
                            dims_text(shape),
                            t.shape()
                        )));
                    }
                    Dim::Named(name) => match dims.get(name) {
                        Some(&bound) if bound != have => {
                            return Err(bad(format!(
                                "dim {i} ('{name}') is {have}, but another input bound '{name}' to {bound}"
                            )));
                        }
                        _ => {
                            dims.insert(name.clone(), have);
                        }
                    },
                    _ => {}
                }
            }
            Ok(())
        }
        (ValueType::Sequence(_), Value::Sequence(_)) => Ok(()),
        (ValueType::Optional(_), _) => Ok(()),
        (ValueType::Unknown, _) => Ok(()),
        (ty, v) => Err(bad(format!("expected {ty}, got {}", v.kind()))),
    }
}

fn dims_text(shape: &[Dim]) -> String {
    let d: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("[{}]", d.join(", "))
}
