//! `fuzz-kernels --interpret`: each kernel of a program's schedule is linearized with a
//! random list of opts (`linearizer::candidate_opts`, kept where `apply_opt` takes them),
//! for a CPU-like target (vectors, scratch for PACK) or a GPU-like one (workgroups for
//! LOCAL and GROUP), and run by `linearizer::interpret` instead of the C compiler. So the
//! opts meet the kernels rangeify makes (gates, pads, several stores), including the ones
//! no CPU target has, and a wrong opt shows as a mismatch with the plain interpreter.
//! A third of the kernels instead get the GPU heuristics and the grid stage for a CUDA
//! device's target (`renderer_cuda::cuda_target`), as they would on a GPU; and a third of
//! the programs are scheduled as for a GPU (`StageLimits::NONE`: no scratch stages) and
//! all their kernels get the GPU heuristics.
//! The opts of a kernel depend only on the run seed and the kernel's content key.

use std::collections::HashMap;

use ferrograd::Tensor;
use ferrograd::layers::engine;
use linearizer::{LinearizeError, LinearizeOptions, Opt, Target, apply_opt, candidate_opts};
use symbolic::corpus::{Entropy, SplitMix};
use uop_ir::{Arg, ConstValue, DType, Op, UOp};

use crate::execute::{Run, build};
use crate::program::{Node, Program};

/// The most opts tried on one kernel.
const MAX_OPTS: u64 = 6;

/// The target a kernel is linearized for: the C target's 32-byte vectors and ALU ops
/// (MULACC and WHERE included); `gpu` adds workgroups, the other allows PACK.
fn target(gpu: bool) -> Target {
    let c = renderer_c::CRenderer::with_vectors(1, 32, true);
    Target {
        vector: renderer::Renderer::target(&c).vector.clone(),
        scratch_bytes: 1 << 16,
        max_local_size: if gpu { 128 } else { 0 },
        max_local_dims: if gpu { [128, 128, 64] } else { [0; 3] },
        has_fma: true,
        ..Target::default()
    }
}

/// A random list of opts that apply to `ast` one after the other.
fn random_opts(ast: &UOp, rng: &mut SplitMix, gpu: bool) -> Result<Vec<Opt>, String> {
    let mut cur = ast.clone();
    let mut list = Vec::new();
    for _ in 0..rng.below(MAX_OPTS + 1) {
        let all = candidate_opts(&cur);
        if all.is_empty() {
            break;
        }
        let opt = all[rng.below(all.len() as u64) as usize];
        match apply_opt(&cur, &opt, &target(gpu)) {
            Ok(next) => {
                cur = next;
                list.push(opt);
            }
            Err(LinearizeError::Opt { .. }) => {}
            Err(e) => return Err(format!("{opt} after {list:?}: {e}")),
        }
    }
    Ok(list)
}

fn zero(dtype: DType) -> ConstValue {
    if dtype.is_float() {
        ConstValue::Float(0.0)
    } else if dtype == DType::Bool {
        ConstValue::Bool(false)
    } else {
        ConstValue::Int(0)
    }
}

/// The BUFFER behind an input tensor (a RESHAPE of it, or itself).
fn input_buffer(t: &Tensor) -> Option<UOp> {
    let n = t.node();
    match n.op() {
        Op::Buffer => Some(n),
        Op::Reshape if n.src()[0].op() == Op::Buffer => Some(n.src()[0].clone()),
        _ => None,
    }
}

/// Builds `p`, schedules its outputs, and runs every kernel with random opts in the
/// interpreter (see the module doc).
pub fn execute_interpreted(p: &Program, seed: u64) -> Result<Run, String> {
    ferrograd::init();
    let mut t: Vec<Tensor> = Vec::with_capacity(p.nodes.len());
    let mut memory: HashMap<UOp, Vec<ConstValue>> = HashMap::new();
    for (i, node) in p.nodes.iter().enumerate() {
        let built = build(node, &t).map_err(|e| format!("building t{i}: {e}"))?;
        if let Node::Input { data, .. } = node {
            let b = input_buffer(&built).ok_or_else(|| format!("t{i} is not a buffer"))?;
            memory.insert(
                b,
                data.iter()
                    .map(|x| ConstValue::Float(f64::from(*x)))
                    .collect(),
            );
        }
        t.push(built);
    }
    let nodes: Vec<UOp> = p.outputs.iter().map(|&o| t[o].node()).collect();
    let sink = UOp::new(Op::Sink, DType::Void, nodes.clone(), Arg::None);
    let as_gpu = SplitMix(seed ^ sink.key().0[0]).below(3) == 0;
    let sched = if as_gpu {
        rangeify::schedule_with(&sink, "CPU", rangeify::StageLimits::NONE)
            .map_err(|e| format!("schedule as for a GPU: {e}"))?
    } else {
        engine::schedule(&sink, "CPU").map_err(|e| format!("schedule: {e}"))?
    };
    let mut counts = [0usize; 3];
    for k in &sched.kernels {
        let key = k.ast.key();
        let mut rng = SplitMix(seed ^ key.0[0] ^ key.0[1].rotate_left(17));
        let mode = if as_gpu { 2 } else { rng.below(3) };
        let gpu = mode == 0;
        let (options, target, list) = if mode == 2 {
            // the GPU heuristics and grid, for a CUDA device's target
            let options = LinearizeOptions {
                optimize: true,
                opts: None,
            };
            let cuda = renderer_cuda::cuda_target(&renderer_cuda::CudaArch::h100());
            (options, cuda, Vec::new())
        } else {
            let lowered = linearizer::lower_gates(&k.ast).map_err(|e| e.to_string())?;
            let list = random_opts(&lowered, &mut rng, gpu)?;
            let options = LinearizeOptions {
                optimize: false,
                opts: Some(list.clone()),
            };
            (options, target(gpu), list)
        };
        let program = linearizer::linearize(&k.ast, &k.buffer_sizes(), &target, &options)
            .map_err(|e| format!("linearize with {list:?} (mode {mode}): {e}"))?;
        let c = crate::execute::coverage(&program);
        counts.iter_mut().zip(c).for_each(|(n, x)| *n += x);
        let mut bufs: Vec<Vec<ConstValue>> = k
            .buffers
            .iter()
            .zip(k.buffer_sizes())
            .map(|(b, n)| memory.remove(b).unwrap_or_else(|| vec![zero(b.dtype()); n]))
            .collect();
        let ran = linearizer::interpret(&program, &mut bufs)
            .map_err(|e| format!("interpret with {list:?}: {e}"));
        for (b, v) in k.buffers.iter().zip(bufs) {
            memory.insert(b.clone(), v);
        }
        ran?;
    }
    let outputs = nodes
        .iter()
        .map(|n| {
            let b = sched.buffer_of(n).or_else(|| match n.op() {
                Op::Reshape => sched.buffer_of(&n.src()[0]),
                _ => None,
            });
            let values = b
                .and_then(|b| memory.get(&b))
                .ok_or("an output has no buffer")?;
            Ok(values
                .iter()
                .map(|c| c.as_f64().unwrap_or(f64::NAN) as f32)
                .collect())
        })
        .collect::<Result<_, String>>()?;
    Ok(Run {
        outputs,
        kernels: sched.kernels.len(),
        vectorized: counts[0],
        packed: counts[1],
        masked: counts[2],
    })
}
