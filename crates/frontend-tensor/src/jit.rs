//! `Jit`: runs a function of tensors (a training step) normally on its first call, captures
//! the kernels it launches on its second, and from then on replays them: later calls build
//! no graph, schedule nothing and allocate no device memory; they bind the new inputs'
//! buffers in place of the captured ones and launch the captured kernels in order (as
//! tinygrad's `TinyJit` does). Each distinct signature of the inputs (shapes, dtypes,
//! devices) is captured on its own: a call with new shapes runs normally, the next one with
//! those shapes captures.
//!
//! What a replay does is what the captured call did on the device, so the function must
//! compute everything that changes from call to call from its inputs or from device state:
//! parameters and optimizer state written with `assign` are (the optimizers here keep their
//! learning rate and step counts on the device for this), but a value the function reads
//! back to the host, or makes on the host, on each call (`to_vec`, `from_slice`) is fixed
//! at its captured value. Host-side effects of the function (its Rust code) run only on the
//! first two calls.
//!
//! The outputs of a replay are views of the buffers the capture wrote: the next call
//! overwrites them, so read a value before calling again. They carry no gradient graph.

use std::fmt;

use device::Buffer;
use dtype::DType;
use uop_ir::{Op, UOp};

use crate::error::{Result, TensorError};
use crate::tensor::Tensor;

/// What the JIT knows of an input: calls with equal kinds share a capture.
#[derive(Clone, Debug, PartialEq, Eq)]
struct InputKind {
    shape: Vec<i64>,
    dtype: DType,
    device: String,
}

impl InputKind {
    fn of(t: &Tensor) -> InputKind {
        InputKind {
            shape: t.shape().to_vec(),
            dtype: t.dtype(),
            device: t.device().to_string(),
        }
    }

    fn matches(&self, t: &Tensor) -> bool {
        self.shape == t.shape() && self.dtype == t.dtype() && self.device == t.device()
    }
}

/// An output of a captured call.
enum Output {
    /// The input at this position, returned as it is.
    Input(usize),
    /// A view of a buffer the capture wrote (or read).
    View {
        node: UOp,
        shape: Vec<i64>,
        device: String,
    },
}

/// A captured call: its replay and its outputs.
struct Captured {
    replay: engine::Replay,
    outputs: Vec<Output>,
}

enum State {
    /// Ran once: the next call with this signature captures.
    Ran,
    Captured(Box<Captured>),
}

/// A function of tensors whose kernels are captured on its second call and replayed on
/// later calls.
pub struct Jit<F> {
    f: F,
    entries: Vec<(Vec<InputKind>, State)>,
}

impl<F> fmt::Debug for Jit<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let captured = self
            .entries
            .iter()
            .filter(|(_, s)| matches!(s, State::Captured(_)))
            .count();
        f.debug_struct("Jit")
            .field("signatures", &self.entries.len())
            .field("captured", &captured)
            .finish()
    }
}

/// The memory of a realized tensor's buffer.
fn memory_of(t: &Tensor, index: usize) -> Result<Buffer> {
    let n = t.node();
    let buffer = match n.src().first() {
        Some(b) if n.op() == Op::Reshape && b.op() == Op::Buffer => b,
        _ => {
            return Err(TensorError::Jit(format!(
                "input {index} ({:?} {}) is not a realized buffer",
                t.shape(),
                t.dtype()
            )));
        }
    };
    engine::store::get(buffer).ok_or_else(|| {
        TensorError::Jit(format!(
            "input {index}: buffer {} has no memory",
            buffer.arg()
        ))
    })
}

impl<F> Jit<F>
where
    F: FnMut(&[Tensor]) -> Result<Vec<Tensor>>,
{
    /// A JIT of `f`, which takes the inputs and returns the outputs.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
    /// let mut double = Jit::new(|x: &[Tensor]| Ok(vec![x[0].mul_scalar(2.0)?]));
    /// let x = Tensor::from_slice(&[1.0f32, 2.0], &[2])?;
    /// let y = double.call(&[x])?;
    /// assert_eq!(y[0].to_vec::<f32>()?, [2.0, 4.0]);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn new(f: F) -> Jit<F> {
        Jit {
            f,
            entries: Vec::new(),
        }
    }

    /// Calls the function on `inputs` (realized first, if lazy): normally the first time
    /// for their signature, capturing the second time, replaying after that.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
    /// let mut double = Jit::new(|x: &[Tensor]| Ok(vec![x[0].mul_scalar(2.0)?]));
    /// let x = Tensor::from_slice(&[1.0f32, 2.0], &[2])?;
    /// for _ in 0..3 {
    ///     // runs, captures, then replays
    ///     let y = double.call(&[x.clone()])?;
    ///     assert_eq!(y[0].to_vec::<f32>()?, [2.0, 4.0]);
    /// }
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn call(&mut self, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        let refs: Vec<&Tensor> = inputs.iter().collect();
        Tensor::realize_all(&refs)?;
        let found = self.entries.iter().position(|(kinds, _)| {
            kinds.len() == inputs.len() && kinds.iter().zip(inputs).all(|(k, t)| k.matches(t))
        });
        let Some(at) = found else {
            let outputs = self.call_eagerly(inputs)?;
            self.entries
                .push((inputs.iter().map(InputKind::of).collect(), State::Ran));
            return Ok(outputs);
        };
        let memories = inputs
            .iter()
            .enumerate()
            .map(|(i, t)| memory_of(t, i))
            .collect::<Result<Vec<_>>>()?;
        if let State::Captured(captured) = &mut self.entries[at].1 {
            captured.replay.run(&memories)?;
            return Ok(captured
                .outputs
                .iter()
                .map(|o| match o {
                    Output::Input(i) => inputs[*i].clone(),
                    Output::View {
                        node,
                        shape,
                        device,
                    } => Tensor::from_node(node.clone(), shape.clone(), device),
                })
                .collect());
        }
        let f = &mut self.f;
        let (outputs, capture) = engine::capture(|| -> Result<Vec<Tensor>> {
            let outputs = f(inputs)?;
            Tensor::realize_all(&outputs.iter().collect::<Vec<_>>())?;
            Ok(outputs)
        })?;
        let outputs = outputs?;
        let replay = capture.into_replay(&memories)?;
        let kept = outputs
            .iter()
            .map(|o| output_of(o, inputs))
            .collect::<Result<Vec<_>>>()?;
        self.entries[at].1 = State::Captured(Box::new(Captured {
            replay,
            outputs: kept,
        }));
        Ok(outputs)
    }

    /// Runs the function as it is and realizes its outputs, without capturing or
    /// replaying (what `call` does the first time for a signature).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let mut double = Jit::new(|x: &[Tensor]| Ok(vec![x[0].mul_scalar(2.0)?]));
    /// let y = double.call_eagerly(&[Tensor::from_slice(&[1.0f32, 2.0], &[2])?])?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn call_eagerly(&mut self, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        let outputs = (self.f)(inputs)?;
        Tensor::realize_all(&outputs.iter().collect::<Vec<_>>())?;
        Ok(outputs)
    }

    /// How many kernels a call with inputs like these replays (None before the capture).
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
    /// let mut double = Jit::new(|x: &[Tensor]| Ok(vec![x[0].mul_scalar(2.0)?]));
    /// let x = Tensor::from_slice(&[1.0f32, 2.0], &[2])?;
    /// assert_eq!(double.captured_kernels(&[x.clone()]), None);
    /// double.call(&[x.clone()])?; // runs
    /// double.call(&[x.clone()])?; // captures
    /// assert!(double.captured_kernels(&[x]).is_some());
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn captured_kernels(&self, inputs: &[Tensor]) -> Option<usize> {
        self.entries.iter().find_map(|(kinds, state)| match state {
            State::Captured(c)
                if kinds.len() == inputs.len()
                    && kinds.iter().zip(inputs).all(|(k, t)| k.matches(t)) =>
            {
                Some(c.replay.items().len())
            }
            _ => None,
        })
    }

    /// Forgets every capture (and its memory): the next call runs normally.
    ///
    /// ```
    /// # use frontend_tensor::*;
    /// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
    /// let mut double = Jit::new(|x: &[Tensor]| Ok(vec![x[0].mul_scalar(2.0)?]));
    /// let x = Tensor::from_slice(&[1.0f32, 2.0], &[2])?;
    /// double.call(&[x.clone()])?;
    /// double.call(&[x.clone()])?;
    /// double.reset();
    /// assert_eq!(double.captured_kernels(&[x]), None);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn reset(&mut self) {
        self.entries.clear();
    }
}

/// How a captured call's output is returned by replays: the input it is, or its view.
fn output_of(o: &Tensor, inputs: &[Tensor]) -> Result<Output> {
    let node = o.node();
    if let Some(i) = inputs.iter().position(|t| t.node() == node) {
        return Ok(Output::Input(i));
    }
    if node.op() != Op::Reshape || node.src().first().map(UOp::op) != Some(Op::Buffer) {
        return Err(TensorError::Jit(format!(
            "an output ({:?} {}) was not realized into a buffer",
            o.shape(),
            o.dtype()
        )));
    }
    crate::autograd::forget_origin(&node);
    Ok(Output::View {
        node,
        shape: o.shape().to_vec(),
        device: o.device().to_string(),
    })
}
