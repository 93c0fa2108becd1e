//! The operator set: one file per family, each listing its ops in a table of
//! `(domain, name, function)`. An op function gets the node's context (attributes,
//! opset version, device, the enclosing frame for subgraphs) and its inputs, and returns
//! its outputs. Shape computations on small integer tensors known on the host are folded
//! there (`fold`), so a dynamic-shape model needs no kernel to find its shapes.

mod activation;
mod args;
mod attention;
mod control;
mod elementwise;
mod fold;
mod gather;
mod grid;
mod layout;
mod logic;
mod loss;
mod matmul;
mod nn;
mod quantize;
mod reduce;
mod resize;
mod rnn;
mod shape;
mod signal;
mod training;

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use frontend_tensor::Tensor;

pub(crate) use args::Inputs;

use crate::elem::ElemType;
use crate::error::{OnnxError, Result};
use crate::exec::{Frame, RunCtx, run_graph};
use crate::graph::{AttrValue, Graph, Node, wrong_kind};
use crate::host::HostTensor;
use crate::value::{TensorValue, Value};

/// An op's implementation.
pub(crate) type OpFn = fn(&OpCtx, &Inputs) -> Result<Vec<Value>>;

/// One row of a family's table.
pub(crate) struct OpDef {
    pub domain: &'static str,
    pub name: &'static str,
    pub run: OpFn,
}

/// A row of the default domain.
pub(crate) const fn onnx(name: &'static str, run: OpFn) -> OpDef {
    OpDef {
        domain: "ai.onnx",
        name,
        run,
    }
}

static REGISTRY: LazyLock<HashMap<(&'static str, &'static str), OpFn>> = LazyLock::new(|| {
    let families: [&[OpDef]; 18] = [
        signal::OPS,
        training::OPS,
        grid::OPS,
        rnn::OPS,
        control::OPS,
        attention::OPS,
        loss::OPS,
        resize::OPS,
        nn::OPS,
        activation::OPS,
        elementwise::OPS,
        gather::OPS,
        layout::OPS,
        logic::OPS,
        matmul::OPS,
        quantize::OPS,
        reduce::OPS,
        shape::OPS,
    ];
    families
        .iter()
        .flat_map(|f| f.iter())
        .map(|d| ((d.domain, d.name), d.run))
        .collect()
});

/// The implementation of `op` of `domain` (normalized), if the importer has one.
pub(crate) fn lookup(domain: &str, op: &str) -> Option<OpFn> {
    REGISTRY.get(&(domain, op)).copied()
}

/// Whether the importer runs `op` of `domain` (`""` or `ai.onnx` for the default).
pub fn is_supported(domain: &str, op: &str) -> bool {
    lookup(crate::graph::normalize_domain(domain), op).is_some()
}

/// Every `(domain, op)` the importer runs, sorted.
pub fn supported_ops() -> Vec<(&'static str, &'static str)> {
    let mut v: Vec<_> = REGISTRY.keys().copied().collect();
    v.sort_unstable();
    v
}

/// What an op sees of the node it runs.
pub(crate) struct OpCtx<'a, 'o> {
    pub node: &'a Node,
    /// The imported version of the node's domain.
    pub opset: i64,
    pub run: &'a RunCtx<'o>,
    pub frame: &'a Frame<'a>,
}

impl OpCtx<'_, '_> {
    pub fn device(&self) -> &str {
        &self.run.device
    }

    /// The device tensor of an input.
    pub fn t(&self, v: &TensorValue) -> Result<Tensor> {
        v.tensor_on(self.device())
    }

    fn attr(&self, name: &str) -> Option<&AttrValue> {
        self.node.attr(name)
    }

    pub fn has_attr(&self, name: &str) -> bool {
        self.attr(name).is_some()
    }

    pub fn int_opt(&self, name: &str) -> Result<Option<i64>> {
        match self.attr(name) {
            None => Ok(None),
            Some(AttrValue::Int(i)) => Ok(Some(*i)),
            Some(other) => Err(wrong_kind(name, "an int", other)),
        }
    }

    pub fn int(&self, name: &str, default: i64) -> Result<i64> {
        Ok(self.int_opt(name)?.unwrap_or(default))
    }

    pub fn float_opt(&self, name: &str) -> Result<Option<f32>> {
        match self.attr(name) {
            None => Ok(None),
            Some(AttrValue::Float(f)) => Ok(Some(*f)),
            Some(AttrValue::Int(i)) => Ok(Some(*i as f32)),
            Some(other) => Err(wrong_kind(name, "a float", other)),
        }
    }

    pub fn float(&self, name: &str, default: f32) -> Result<f32> {
        Ok(self.float_opt(name)?.unwrap_or(default))
    }

    pub fn ints(&self, name: &str) -> Result<Option<Vec<i64>>> {
        match self.attr(name) {
            None => Ok(None),
            Some(AttrValue::Ints(v)) => Ok(Some(v.clone())),
            Some(AttrValue::Int(i)) => Ok(Some(vec![*i])),
            Some(other) => Err(wrong_kind(name, "ints", other)),
        }
    }

    pub fn floats(&self, name: &str) -> Result<Option<Vec<f32>>> {
        match self.attr(name) {
            None => Ok(None),
            Some(AttrValue::Floats(v)) => Ok(Some(v.clone())),
            Some(AttrValue::Float(f)) => Ok(Some(vec![*f])),
            Some(other) => Err(wrong_kind(name, "floats", other)),
        }
    }

    pub fn string_opt(&self, name: &str) -> Result<Option<String>> {
        match self.attr(name) {
            None => Ok(None),
            Some(AttrValue::String(s)) => Ok(Some(String::from_utf8_lossy(s).into_owned())),
            Some(other) => Err(wrong_kind(name, "a string", other)),
        }
    }

    pub fn string(&self, name: &str, default: &str) -> Result<String> {
        Ok(self
            .string_opt(name)?
            .unwrap_or_else(|| default.to_string()))
    }

    pub fn strings(&self, name: &str) -> Result<Option<Vec<String>>> {
        match self.attr(name) {
            None => Ok(None),
            Some(AttrValue::Strings(v)) => Ok(Some(
                v.iter()
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .collect(),
            )),
            Some(other) => Err(wrong_kind(name, "strings", other)),
        }
    }

    pub fn tensor_attr(&self, name: &str) -> Result<Option<Arc<HostTensor>>> {
        match self.attr(name) {
            None => Ok(None),
            Some(AttrValue::Tensor(t)) => Ok(Some(t.clone())),
            Some(other) => Err(wrong_kind(name, "a tensor", other)),
        }
    }

    pub fn graph(&self, name: &str) -> Result<Arc<Graph>> {
        match self.attr(name) {
            Some(AttrValue::Graph(g)) => Ok(g.clone()),
            Some(other) => Err(wrong_kind(name, "a graph", other)),
            None => Err(OnnxError::Attribute {
                name: name.to_string(),
                why: "is required".into(),
            }),
        }
    }

    /// Runs a subgraph with `inputs` bound to its declared inputs in order; it sees every
    /// value visible to this node.
    pub fn run_subgraph(&self, g: &Graph, inputs: Vec<Value>) -> Result<Vec<Value>> {
        let mut frame = Frame::new(Some(self.frame));
        for (info, v) in g.inputs.iter().zip(inputs) {
            frame.set(&info.name, v);
        }
        run_graph(self.run, g, frame)
    }
}

/// The most elements an op builds on the host (index tables, weight matrices): a
/// malformed model asking for more gets an error rather than an allocation failure.
pub(crate) const HOST_LIMIT: i64 = 1 << 26;

/// `n` elements of `what` on the host, or why not.
pub(crate) fn host_budget(n: i64, what: &str) -> Result<usize> {
    if !(0..=HOST_LIMIT).contains(&n) {
        return Err(crate::error::invalid!(
            "{what} would need {n} host elements (at most {HOST_LIMIT})"
        ));
    }
    Ok(n as usize)
}

/// A tensor result.
pub(crate) fn out(t: Tensor) -> Value {
    Value::Tensor(TensorValue::from_tensor(t))
}

/// A tensor result of an element type held widened (4-bit types, E8M0).
pub(crate) fn out_as(t: Tensor, elem: ElemType) -> Result<Value> {
    Ok(Value::Tensor(TensorValue::from_tensor_as(t, elem)?))
}

/// A host result.
pub(crate) fn out_host(h: HostTensor) -> Value {
    Value::Tensor(TensorValue::from_host(h))
}

/// One tensor result.
pub(crate) fn one(t: Tensor) -> Result<Vec<Value>> {
    Ok(vec![out(t)])
}

/// The axis `axis` (negative counts from the end) of rank `rank`, or why not.
pub(crate) fn axis(axis: i64, rank: usize) -> Result<usize> {
    let r = rank as i64;
    let a = if axis < 0 { axis + r } else { axis };
    if a < 0 || a >= r {
        return Err(crate::error::invalid!(
            "axis {axis} is out of range for rank {rank}"
        ));
    }
    Ok(a as usize)
}
