//! `Session`: a loaded model ready to run on a device. Each run binds the inputs, builds
//! the lazy Tensor graph node by node (shape computations folded on the host), and
//! returns the outputs unrealized, so the caller realizes them in one schedule.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use frontend_tensor::Tensor;

use crate::error::{OnnxError, Result};
use crate::exec::{Frame, Observer, RunCtx, bind_input, run_graph};
use crate::graph::{Graph, ValueInfo};
use crate::model::Model;
use crate::value::{TensorValue, Value};

/// A model bound to a device. Initializers are uploaded once and shared by every run.
#[derive(Debug)]
pub struct Session {
    model: Arc<Model>,
    device: String,
    initializers: Vec<(String, TensorValue)>,
}

impl Session {
    /// A session running `model` on `device` (`"CPU"`, ...).
    pub fn new(model: Model, device: &str) -> Session {
        let initializers = model
            .graph
            .initializers
            .iter()
            .map(|(n, h)| (n.clone(), TensorValue::from_host_arc(h.clone())))
            .collect();
        Session {
            model: Arc::new(model),
            device: device.to_string(),
            initializers,
        }
    }

    /// Loads the model at `path` into a session on `device`.
    pub fn load(path: impl AsRef<Path>, device: &str) -> Result<Session> {
        Ok(Session::new(Model::load(path)?, device))
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    pub fn graph(&self) -> &Graph {
        &self.model.graph
    }

    pub fn device(&self) -> &str {
        &self.device
    }

    /// The inputs a run must be given (graph inputs without an initializer).
    pub fn inputs(&self) -> Vec<&ValueInfo> {
        self.model.graph.required_inputs().collect()
    }

    pub fn outputs(&self) -> &[ValueInfo] {
        &self.model.graph.outputs
    }

    /// Runs the model on `inputs` (by name); returns the outputs by name, in the graph's
    /// order, as lazy values.
    pub fn run(&self, inputs: &[(&str, Value)]) -> Result<Vec<(String, Value)>> {
        self.run_inner(inputs, None)
    }

    /// `run`, calling `observer` after every node with its inputs and outputs.
    pub fn run_observed<'a>(
        &self,
        inputs: &[(&str, Value)],
        observer: &'a mut Observer<'a>,
    ) -> Result<Vec<(String, Value)>> {
        self.run_inner(inputs, Some(RefCell::new(observer)))
    }

    fn run_inner<'a>(
        &self,
        inputs: &[(&str, Value)],
        observer: Option<RefCell<&'a mut Observer<'a>>>,
    ) -> Result<Vec<(String, Value)>> {
        let graph = &self.model.graph;
        let mut frame = Frame::new(None);
        for (name, v) in &self.initializers {
            frame.set(name, Value::Tensor(v.clone()));
        }
        let mut dims = HashMap::new();
        for (name, _) in inputs {
            if !graph.inputs.iter().any(|i| i.name == *name) {
                return Err(OnnxError::Input {
                    name: name.to_string(),
                    why: "the model has no input of this name".into(),
                });
            }
        }
        for info in &graph.inputs {
            match inputs.iter().find(|(n, _)| *n == info.name) {
                Some((_, v)) => {
                    bind_input(info, v, &mut dims)?;
                    frame.set(&info.name, v.clone());
                }
                None if self.initializers.iter().any(|(n, _)| *n == info.name) => {}
                None if matches!(info.ty, crate::graph::ValueType::Optional(_)) => {
                    frame.set(&info.name, Value::None);
                }
                None => {
                    return Err(OnnxError::Input {
                        name: info.name.clone(),
                        why: "is required".into(),
                    });
                }
            }
        }
        let rc = RunCtx {
            device: self.device.clone(),
            opsets: self.model.opsets.clone(),
            observer,
        };
        let outputs = run_graph(&rc, graph, frame)?;
        Ok(graph
            .outputs
            .iter()
            .map(|o| o.name.clone())
            .zip(outputs)
            .collect())
    }
}

/// Realizes every tensor among `values` (sequence items included) in one schedule.
pub fn realize_values<'a>(values: impl IntoIterator<Item = &'a Value>) -> Result<()> {
    let mut tensors: Vec<Tensor> = Vec::new();
    let mut device = None;
    for v in values {
        let items: Vec<&TensorValue> = match v {
            Value::Tensor(t) => vec![t],
            Value::Sequence(s) => s.items.iter().collect(),
            Value::None => Vec::new(),
        };
        for t in items {
            if t.host().is_none() {
                let d = device.get_or_insert_with(|| "CPU".to_string()).clone();
                tensors.push(t.tensor_on(&d)?);
            }
        }
    }
    let refs: Vec<&Tensor> = tensors.iter().collect();
    Tensor::realize_all(&refs)?;
    Ok(())
}
