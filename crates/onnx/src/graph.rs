//! The model as the importer uses it: graphs of nodes with decoded attributes, initializers
//! as host tensors, and typed inputs and outputs, converted once from the protobuf
//! messages. Conversion validates what it can without running anything: attribute kinds,
//! tensor data, value types.

use std::path::Path;
use std::sync::Arc;

use crate::elem::ElemType;
use crate::error::{OnnxError, Result};
use crate::host::HostTensor;
use crate::proto;
use crate::tensor_proto::decode_tensor;

/// One (sub)graph.
#[derive(Debug)]
pub struct Graph {
    pub name: String,
    pub nodes: Vec<Node>,
    pub initializers: Vec<(String, Arc<HostTensor>)>,
    /// Every declared input, initializers with a default value included.
    pub inputs: Vec<ValueInfo>,
    pub outputs: Vec<ValueInfo>,
}

/// A node of a graph.
#[derive(Debug)]
pub struct Node {
    /// Its name, or `#<index>` when it has none.
    pub name: String,
    pub op_type: String,
    /// The op's domain, `ai.onnx` for the default (empty) one.
    pub domain: String,
    /// Input names in order; an empty name is an omitted optional input.
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    pub attributes: Vec<Attribute>,
}

#[derive(Debug)]
pub struct Attribute {
    pub name: String,
    pub value: AttrValue,
}

#[derive(Debug)]
pub enum AttrValue {
    Float(f32),
    Int(i64),
    String(Vec<u8>),
    Tensor(Arc<HostTensor>),
    Graph(Arc<Graph>),
    Floats(Vec<f32>),
    Ints(Vec<i64>),
    Strings(Vec<Vec<u8>>),
    Tensors(Vec<Arc<HostTensor>>),
    Graphs(Vec<Arc<Graph>>),
    /// A kind the importer has no use for (sparse tensors, type protos).
    Unsupported(&'static str),
}

impl AttrValue {
    /// The kind's name, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            AttrValue::Float(_) => "float",
            AttrValue::Int(_) => "int",
            AttrValue::String(_) => "string",
            AttrValue::Tensor(_) => "tensor",
            AttrValue::Graph(_) => "graph",
            AttrValue::Floats(_) => "floats",
            AttrValue::Ints(_) => "ints",
            AttrValue::Strings(_) => "strings",
            AttrValue::Tensors(_) => "tensors",
            AttrValue::Graphs(_) => "graphs",
            AttrValue::Unsupported(kind) => kind,
        }
    }
}

/// A named, typed value of a graph's interface.
#[derive(Clone, Debug)]
pub struct ValueInfo {
    pub name: String,
    pub ty: ValueType,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ValueType {
    /// A tensor: its ONNX element-type code (kept raw so unsupported types still load)
    /// and its dims, if declared.
    Tensor {
        elem: i32,
        shape: Option<Vec<Dim>>,
    },
    Sequence(Box<ValueType>),
    Optional(Box<ValueType>),
    /// No type given, or one the importer does not run (maps, sparse tensors).
    Unknown,
}

/// One dim of a declared shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dim {
    Fixed(i64),
    /// A symbolic dim (`batch`), bound by the first input that has it.
    Named(String),
    Any,
}

impl std::fmt::Display for Dim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dim::Fixed(d) => write!(f, "{d}"),
            Dim::Named(n) => f.write_str(n),
            Dim::Any => f.write_str("?"),
        }
    }
}

impl std::fmt::Display for ValueType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ValueType::Tensor { elem, shape } => {
                let name = ElemType::from_onnx(*elem)
                    .map(|e| e.name())
                    .unwrap_or(match elem {
                        8 => "string",
                        14 => "complex64",
                        15 => "complex128",
                        _ => "?",
                    });
                write!(f, "{name}")?;
                match shape {
                    Some(dims) => {
                        let dims: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
                        write!(f, "[{}]", dims.join(", "))
                    }
                    None => f.write_str("[..]"),
                }
            }
            ValueType::Sequence(t) => write!(f, "sequence<{t}>"),
            ValueType::Optional(t) => write!(f, "optional<{t}>"),
            ValueType::Unknown => f.write_str("?"),
        }
    }
}

/// Normalizes a domain: the default domain is `ai.onnx` however it is spelled.
pub fn normalize_domain(domain: &str) -> &str {
    if domain.is_empty() { "ai.onnx" } else { domain }
}

impl Graph {
    /// Converts a graph; `dir` is where external data files are.
    pub fn from_proto(g: &proto::GraphProto, dir: Option<&Path>) -> Result<Graph> {
        let name = g.name.clone().unwrap_or_default();
        if !g.sparse_initializer.is_empty() {
            return Err(OnnxError::Model(format!(
                "graph '{name}': sparse initializers are not supported"
            )));
        }
        let initializers = g
            .initializer
            .iter()
            .map(|t| {
                let tname = t.name.clone().unwrap_or_default();
                if tname.is_empty() {
                    return Err(OnnxError::Model(format!(
                        "graph '{name}': an initializer has no name"
                    )));
                }
                Ok((tname, Arc::new(decode_tensor(t, dir)?)))
            })
            .collect::<Result<Vec<_>>>()?;
        let nodes = g
            .node
            .iter()
            .enumerate()
            .map(|(i, n)| Node::from_proto(n, i, dir))
            .collect::<Result<Vec<_>>>()?;
        Ok(Graph {
            name,
            nodes,
            initializers,
            inputs: g.input.iter().map(ValueInfo::from_proto).collect(),
            outputs: g.output.iter().map(ValueInfo::from_proto).collect(),
        })
    }

    /// The inputs a caller must give: those without an initializer.
    pub fn required_inputs(&self) -> impl Iterator<Item = &ValueInfo> {
        self.inputs
            .iter()
            .filter(|i| !self.initializers.iter().any(|(n, _)| n == &i.name))
    }

    /// Every node of this graph and of its subgraphs, depth first.
    pub fn walk_nodes<'a>(&'a self, visit: &mut dyn FnMut(&'a Node)) {
        for n in &self.nodes {
            visit(n);
            for a in &n.attributes {
                match &a.value {
                    AttrValue::Graph(g) => g.walk_nodes(visit),
                    AttrValue::Graphs(gs) => gs.iter().for_each(|g| g.walk_nodes(visit)),
                    _ => {}
                }
            }
        }
    }
}

impl Node {
    fn from_proto(n: &proto::NodeProto, index: usize, dir: Option<&Path>) -> Result<Node> {
        let name = match n.name.as_deref() {
            Some(s) if !s.is_empty() => s.to_string(),
            _ => format!("#{index}"),
        };
        let op_type = n.op_type.clone().unwrap_or_default();
        let attributes = n
            .attribute
            .iter()
            .map(|a| Attribute::from_proto(a, dir))
            .collect::<Result<Vec<_>>>()
            .map_err(|e| e.at_node(&name, &op_type))?;
        if op_type.is_empty() {
            return Err(OnnxError::Model(format!("node {name} has no op_type")));
        }
        Ok(Node {
            name,
            op_type,
            domain: normalize_domain(n.domain.as_deref().unwrap_or_default()).to_string(),
            inputs: n.input.clone(),
            outputs: n.output.clone(),
            attributes,
        })
    }

    pub fn attr(&self, name: &str) -> Option<&AttrValue> {
        self.attributes
            .iter()
            .find(|a| a.name == name)
            .map(|a| &a.value)
    }
}

impl Attribute {
    fn from_proto(a: &proto::AttributeProto, dir: Option<&Path>) -> Result<Attribute> {
        use proto::attribute_proto::AttributeType as T;
        let name = a.name.clone().unwrap_or_default();
        let bad = |why: String| OnnxError::Attribute {
            name: name.clone(),
            why,
        };
        if a.ref_attr_name.is_some() {
            return Err(bad(
                "refers to a function attribute outside a function".into()
            ));
        }
        let kind = match a.r#type {
            Some(t) => T::try_from(t).map_err(|_| bad(format!("unknown attribute type {t}")))?,
            None => infer_kind(a),
        };
        let graph = |g: &proto::GraphProto| -> Result<Arc<Graph>> {
            Ok(Arc::new(Graph::from_proto(g, dir)?))
        };
        let value = match kind {
            T::Float => AttrValue::Float(a.f.ok_or_else(|| bad("a float without a value".into()))?),
            T::Int => AttrValue::Int(a.i.ok_or_else(|| bad("an int without a value".into()))?),
            T::String => AttrValue::String(a.s.clone().unwrap_or_default()),
            T::Tensor => AttrValue::Tensor(Arc::new(decode_tensor(
                a.t.as_ref()
                    .ok_or_else(|| bad("a tensor without a value".into()))?,
                dir,
            )?)),
            T::Graph => AttrValue::Graph(graph(
                a.g.as_ref()
                    .ok_or_else(|| bad("a graph without a value".into()))?,
            )?),
            T::Floats => AttrValue::Floats(a.floats.clone()),
            T::Ints => AttrValue::Ints(a.ints.clone()),
            T::Strings => AttrValue::Strings(a.strings.clone()),
            T::Tensors => AttrValue::Tensors(
                a.tensors
                    .iter()
                    .map(|t| decode_tensor(t, dir).map(Arc::new))
                    .collect::<Result<_>>()?,
            ),
            T::Graphs => AttrValue::Graphs(a.graphs.iter().map(graph).collect::<Result<_>>()?),
            T::SparseTensor | T::SparseTensors => AttrValue::Unsupported("sparse tensor"),
            T::TypeProto | T::TypeProtos => AttrValue::Unsupported("type proto"),
            T::Undefined => return Err(bad("the attribute type is undefined".into())),
        };
        Ok(Attribute { name, value })
    }
}

/// The kind of an attribute written without `type` (IR version 1): whichever field is set.
fn infer_kind(a: &proto::AttributeProto) -> proto::attribute_proto::AttributeType {
    use proto::attribute_proto::AttributeType as T;
    if a.f.is_some() {
        T::Float
    } else if a.i.is_some() {
        T::Int
    } else if a.s.is_some() {
        T::String
    } else if a.t.is_some() {
        T::Tensor
    } else if a.g.is_some() {
        T::Graph
    } else if !a.floats.is_empty() {
        T::Floats
    } else if !a.ints.is_empty() {
        T::Ints
    } else if !a.strings.is_empty() {
        T::Strings
    } else if !a.tensors.is_empty() {
        T::Tensors
    } else if !a.graphs.is_empty() {
        T::Graphs
    } else {
        T::Undefined
    }
}

impl ValueInfo {
    fn from_proto(v: &proto::ValueInfoProto) -> ValueInfo {
        ValueInfo {
            name: v.name.clone().unwrap_or_default(),
            ty: v.r#type.as_ref().map_or(ValueType::Unknown, value_type),
        }
    }
}

fn value_type(t: &proto::TypeProto) -> ValueType {
    use proto::type_proto::Value;
    match &t.value {
        Some(Value::TensorType(tt)) => ValueType::Tensor {
            elem: tt.elem_type.unwrap_or(0),
            shape: tt.shape.as_ref().map(|s| {
                s.dim
                    .iter()
                    .map(|d| {
                        use proto::tensor_shape_proto::dimension::Value as D;
                        match &d.value {
                            Some(D::DimValue(v)) => Dim::Fixed(*v),
                            Some(D::DimParam(p)) if !p.is_empty() => Dim::Named(p.clone()),
                            _ => Dim::Any,
                        }
                    })
                    .collect()
            }),
        },
        Some(Value::SequenceType(s)) => ValueType::Sequence(Box::new(
            s.elem_type
                .as_deref()
                .map_or(ValueType::Unknown, value_type),
        )),
        Some(Value::OptionalType(o)) => ValueType::Optional(Box::new(
            o.elem_type
                .as_deref()
                .map_or(ValueType::Unknown, value_type),
        )),
        _ => ValueType::Unknown,
    }
}

/// The error of an attribute of another kind than an op expects.
pub(crate) fn wrong_kind(name: &str, want: &str, have: &AttrValue) -> OnnxError {
    OnnxError::Attribute {
        name: name.to_string(),
        why: format!("expected {want}, found {}", have.kind()),
    }
}
