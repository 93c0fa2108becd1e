//! One case of `fuzz-kernels`: build a program as `ferrograd` tensors, realize its outputs
//! together on the CPU, and compare them element by element (exactly: every value is an
//! integer well inside f32's exact range) with the interpreter.

use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};

use ferrograd::layers::engine;
use ferrograd::{DType, Tensor};
use uop_ir::{Arg, Op, UOp};

use crate::interp;
use crate::program::{BinOp, Node, Program, RedOp, UnOp};

/// What kind of thing went wrong in a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An output differs from the interpreter's.
    Mismatch,
    /// A tensor op, the schedule, the realize or the read-back returned an error.
    Error,
    Panic,
    /// The process running the case died (an abort, a signal): see `fuzz_kernels`' workers.
    Abort,
    /// The interpreter (or the program) is wrong: a harness bug, not a library bug.
    Harness,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Mismatch,
        Kind::Error,
        Kind::Panic,
        Kind::Abort,
        Kind::Harness,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Mismatch => "mismatch",
            Kind::Error => "error",
            Kind::Panic => "panic",
            Kind::Abort => "abort",
            Kind::Harness => "harness-error",
        }
    }

    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// What went wrong in a case, as text (it crosses process boundaries).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub kind: Kind,
    pub message: String,
}

impl Failure {
    pub fn new(kind: Kind, message: impl Into<String>) -> Failure {
        Failure {
            kind,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind.name(), self.message)
    }
}

/// The first disagreeing element of an output.
#[derive(Clone, Debug)]
pub struct Mismatch {
    pub node: usize,
    pub shape: Vec<i64>,
    pub index: usize,
    pub expected: f32,
    pub got: f32,
    /// How many elements of that output differ, of how many.
    pub bad: usize,
    pub total: usize,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "t{} (shape {:?}): {} of {} elements differ; first at flat {} = {:?}: \
             expected {}, got {}",
            self.node,
            self.shape,
            self.bad,
            self.total,
            self.index,
            unravel(&self.shape, self.index),
            self.expected,
            self.got
        )
    }
}

/// The outcome of one case.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    pub kernels: usize,
    /// Kernels the C target's heuristics vectorize.
    pub vectorized: usize,
    /// Kernels with scratch (DEFINE_LOCAL): PACK, or GROUP with `--interpret`.
    pub packed: usize,
    /// Kernels with masked vector loads or stores (a gate per lane).
    pub masked: usize,
    /// Steps (non-input nodes) the outputs depend on.
    pub live_steps: usize,
    pub multi_consumer: bool,
    pub failure: Option<Failure>,
}

/// The realized outputs and the number of kernels their schedule had.
#[derive(Debug)]
pub struct Run {
    pub outputs: Vec<Vec<f32>>,
    pub kernels: usize,
    pub vectorized: usize,
    pub packed: usize,
    pub masked: usize,
}

thread_local! {
    /// Where the last panic on this thread happened (set by [`quiet_panics`]' hook).
    static PANIC_AT: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Replaces the panic hook with one that prints nothing but remembers where a panic
/// happened: a panicking case is reported once, in its repro, with that place.
pub fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!(" (at {}:{})", l.file(), l.line()))
            .unwrap_or_default();
        PANIC_AT.with(|p| *p.borrow_mut() = Some(at));
    }));
}

/// Runs `p` and compares, turning a panic anywhere into a failure.
pub fn run_case(p: &Program) -> Outcome {
    run_case_keeping_outputs(p).0
}

/// [`run_case`], also returning the expected values of every node and the realized
/// outputs (when the run got that far).
pub fn run_case_keeping_outputs(p: &Program) -> (Outcome, Vec<Vec<f32>>, Option<Run>) {
    let mut out = Outcome {
        multi_consumer: p.multi_consumer_nodes() > 0,
        live_steps: p
            .live()
            .iter()
            .zip(&p.nodes)
            .filter(|(live, n)| **live && !matches!(n, Node::Input { .. }))
            .count(),
        ..Default::default()
    };
    let expected = match interp::evaluate(p) {
        Ok(v) => v,
        Err(e) => {
            out.failure = Some(Failure::new(Kind::Harness, e));
            return (out, Vec::new(), None);
        }
    };
    let mut realized = None;
    match catch_unwind(AssertUnwindSafe(|| execute(p))) {
        Ok(Ok(run)) => {
            out.kernels = run.kernels;
            out.vectorized = run.vectorized;
            out.packed = run.packed;
            out.masked = run.masked;
            out.failure = compare(p, &expected, &run.outputs)
                .map(|m| Failure::new(Kind::Mismatch, m.to_string()));
            realized = Some(run);
        }
        Ok(Err(e)) => out.failure = Some(Failure::new(Kind::Error, e)),
        Err(panic) => {
            let msg = crate::check::panic_message(panic.as_ref());
            let at = PANIC_AT.with(|p| p.borrow_mut().take()).unwrap_or_default();
            out.failure = Some(Failure::new(Kind::Panic, format!("{msg}{at}")));
        }
    }
    (out, expected, realized)
}

/// The first output that disagrees with the interpreter, if any.
pub fn compare(p: &Program, expected: &[Vec<f32>], got: &[Vec<f32>]) -> Option<Mismatch> {
    let shapes = p.shapes().ok()?;
    for (&node, got) in p.outputs.iter().zip(got) {
        let want = &expected[node];
        let total = want.len().max(got.len());
        let differs = |i: usize| want.get(i) != got.get(i);
        let bad = (0..total).filter(|&i| differs(i)).count();
        if let Some(index) = (0..total).find(|&i| differs(i)) {
            return Some(Mismatch {
                node,
                shape: shapes[node].clone(),
                index,
                expected: want.get(index).copied().unwrap_or(f32::NAN),
                got: got.get(index).copied().unwrap_or(f32::NAN),
                bad,
                total,
            });
        }
    }
    None
}

/// The seed of `--interpret` mode, when this process runs in it.
static INTERPRET: std::sync::OnceLock<u64> = std::sync::OnceLock::new();

/// Runs every later case in `--interpret` mode with opts drawn from `seed`.
pub fn set_interpret(seed: u64) {
    let _ = INTERPRET.set(seed);
}

/// Builds `p` as tensors, realizes its outputs with one `Tensor::realize_all`, and reads
/// them back; in `--interpret` mode, runs it in the program interpreter instead.
pub fn execute(p: &Program) -> Result<Run, String> {
    if let Some(&seed) = INTERPRET.get() {
        return crate::interpreted::execute_interpreted(p, seed);
    }
    ferrograd::init();
    let mut t: Vec<Tensor> = Vec::with_capacity(p.nodes.len());
    for (i, node) in p.nodes.iter().enumerate() {
        let built = build(node, &t).map_err(|e| format!("building t{i}: {e}"))?;
        t.push(built);
    }
    let outs: Vec<&Tensor> = p.outputs.iter().map(|&o| &t[o]).collect();
    let (kernels, [vectorized, packed, masked]) =
        count_kernels(&outs).map_err(|e| format!("schedule: {e}"))?;
    Tensor::realize_all(&outs).map_err(|e| format!("realize_all: {e}"))?;
    let outputs = p
        .outputs
        .iter()
        .map(|&o| {
            t[o].to_vec::<f32>()
                .map_err(|e| format!("to_vec of t{o}: {e}"))
        })
        .collect::<Result<_, _>>()?;
    Ok(Run {
        outputs,
        kernels,
        vectorized,
        packed,
        masked,
    })
}

pub fn build(node: &Node, t: &[Tensor]) -> ferrograd::Result<Tensor> {
    Ok(match node {
        Node::Input { shape, data } => Tensor::from_slice(data, shape)?,
        Node::Move { src, chain } => {
            let mut x = t[*src].clone();
            for m in chain {
                x = match m {
                    uop_ir::Movement::Reshape(s) => x.reshape(s)?,
                    uop_ir::Movement::Permute(p) => x.permute(p)?,
                    uop_ir::Movement::Expand(s) => x.expand(s)?,
                    uop_ir::Movement::Pad(p) => x.pad(p)?,
                    uop_ir::Movement::Shrink(s) => x.shrink(s)?,
                    uop_ir::Movement::Flip(f) => {
                        let axes: Vec<usize> = (0..f.len()).filter(|&a| f[a]).collect();
                        x.flip(&axes)?
                    }
                };
            }
            x
        }
        Node::Binary { op, a, b } => {
            let (a, b) = (&t[*a], &t[*b]);
            match op {
                BinOp::Add => a.add(b)?,
                BinOp::Sub => a.sub(b)?,
                BinOp::Mul => a.mul(b)?,
                BinOp::Maximum => a.maximum(b)?,
            }
        }
        Node::Unary { op, src } => {
            let x = &t[*src];
            match *op {
                UnOp::Neg => x.neg(),
                UnOp::Relu => x.relu()?,
                UnOp::MaxConst(c) => x.maximum(&Tensor::full(&[], f64::from(c), DType::F32)?)?,
                UnOp::MulScalar(c) => x.mul_scalar(f64::from(c))?,
                UnOp::AddScalar(c) => x.add_scalar(f64::from(c))?,
            }
        }
        Node::Reduce {
            op,
            src,
            axes,
            keepdim,
        } => {
            let axes: Vec<isize> = axes.iter().map(|&a| a as isize).collect();
            match op {
                RedOp::Sum => t[*src].sum(&axes, *keepdim)?,
                RedOp::Max => t[*src].max(&axes, *keepdim)?,
            }
        }
    })
}

/// The kernels `Tensor::realize_all(outs)` will run (the same sink, scheduled alone), and
/// how many of them the C target's heuristics vectorize, pack, and mask.
fn count_kernels(outs: &[&Tensor]) -> Result<(usize, [usize; 3]), String> {
    let nodes: Vec<UOp> = outs
        .iter()
        .map(|t| {
            let n = t.node();
            if t.shape().is_empty() {
                UOp::new(Op::Reshape, n.dtype(), [n], Arg::Shape(vec![1].into()))
            } else {
                n
            }
        })
        .collect();
    let sink = UOp::new(Op::Sink, DType::Void, nodes, Arg::None);
    let sched = engine::schedule(&sink, "CPU").map_err(|e| e.to_string())?;
    let target = renderer::Renderer::target(&renderer_c::CRenderer::with_threads(1)).clone();
    let options = linearizer::LinearizeOptions {
        optimize: true,
        opts: None,
    };
    let mut counts = [0usize; 3];
    for k in &sched.kernels {
        let sizes = k.buffer_sizes();
        let p =
            linearizer::linearize(&k.ast, &sizes, &target, &options).map_err(|e| e.to_string())?;
        let c = coverage(&p);
        counts.iter_mut().zip(c).for_each(|(n, x)| *n += x);
    }
    Ok((sched.kernels.len(), counts))
}

/// Whether a program is vectorized, has scratch, and masks vector accesses (0 or 1 each).
pub fn coverage(p: &linearizer::LinearProgram) -> [usize; 3] {
    let has = |f: &dyn Fn(&UOp) -> bool| usize::from(p.uops.iter().any(f));
    [
        has(&|u| u.lanes() > 1),
        has(&|u| u.op() == Op::DefineLocal),
        has(&|u| u.op() == Op::Stack && u.dtype() == DType::Bool),
    ]
}

/// The row-major point of flat index `i` in `shape`.
pub fn unravel(shape: &[i64], mut i: usize) -> Vec<i64> {
    let mut point = vec![0i64; shape.len()];
    for (x, &d) in point.iter_mut().zip(shape).rev() {
        *x = (i % d as usize) as i64;
        i /= d as usize;
    }
    point
}
