//! Kernels built alike are lowered once. The layers of a model give kernels whose fused
//! regions of the tensor graph have the same shape, differing only in the buffers they
//! read and write. A kernel's *signature* hashes everything lowering reads about it: the
//! nodes of its fused region (op, dtype, argument, shape, and which source is which, so
//! shared nodes stay shared), how each is placed, its scratch stages, and its loops. The
//! nodes it loads (BUFFERs and stored nodes) enter by their order of first appearance
//! only. Two kernels with one signature lower to the same AST, with their loaded nodes
//! in corresponding places: the first is lowered, and the others take its AST with their
//! own buffers put in (`Class::instantiate`).
//!
//! Kernels that inline a partial CONTIGUOUS, or read redirected buffers, get no
//! signature and are always lowered. Debug builds lower every kernel anyway and check
//! that the class gives the same kernel.

use std::hash::{Hash, Hasher};

use uop_ir::{Key, Op, StableHasher, UOp, UOpMap};

use crate::Kernel;
use crate::assign::Built;
use crate::ranges::{Place, Ranges, eval_parts};

/// A kernel's signature and the nodes it loads, in order of first appearance.
pub struct Signature {
    pub key: Key,
    pub loaded: Vec<UOp>,
}

/// Where a buffer of a lowered kernel comes from.
#[derive(Clone, Copy, Debug)]
enum Source {
    /// The kernel's output.
    Output,
    /// The buffer of the `i`th loaded node.
    Loaded(usize),
}

/// A lowered kernel as a template for the kernels alike.
pub struct Class {
    ast: UOp,
    buffers: Vec<Source>,
    /// The loaded node each read is, by position.
    reads: Vec<usize>,
}

/// The buffer holding loaded node `n` (a BUFFER holds itself).
fn buffer_of(n: &UOp, buffers: &UOpMap<UOp>) -> Option<UOp> {
    if n.op() == Op::Buffer {
        Some(n.clone())
    } else {
        buffers.get(n).cloned()
    }
}

impl Class {
    /// The template of `built`, the kernel lowered for `sig`; `None` when one of its
    /// buffers or reads is none of the loaded nodes' (it is then not shared).
    pub fn of(built: &Built, sig: &Signature, buffers: &UOpMap<UOp>) -> Option<Class> {
        let output = buffers.get(&built.node)?;
        let loaded: Vec<UOp> = sig
            .loaded
            .iter()
            .map(|n| buffer_of(n, buffers))
            .collect::<Option<_>>()?;
        let sources = built
            .kernel
            .buffers
            .iter()
            .map(|b| match loaded.iter().position(|l| l == b) {
                Some(i) => Some(Source::Loaded(i)),
                None => (b == output).then_some(Source::Output),
            })
            .collect::<Option<_>>()?;
        let reads = built
            .reads
            .iter()
            .map(|r| sig.loaded.iter().position(|l| l == r))
            .collect::<Option<_>>()?;
        Some(Class {
            ast: built.kernel.ast.clone(),
            buffers: sources,
            reads,
        })
    }

    /// The kernel storing `root` whose signature is `sig` (alike this class's).
    pub fn instantiate(&self, root: &UOp, sig: &Signature, buffers: &UOpMap<UOp>) -> Option<Built> {
        let output = buffers.get(root)?;
        let kernel_buffers = self
            .buffers
            .iter()
            .map(|s| match s {
                Source::Output => Some(output.clone()),
                Source::Loaded(i) => buffer_of(&sig.loaded[*i], buffers),
            })
            .collect::<Option<_>>()?;
        Some(Built {
            kernel: Kernel {
                ast: self.ast.clone(),
                buffers: kernel_buffers,
            },
            node: root.clone(),
            reads: self.reads.iter().map(|&i| sig.loaded[i].clone()).collect(),
        })
    }
}

/// The signature of kernel `k` (see the module doc), or `None` when it inlines a partial
/// CONTIGUOUS.
pub fn signature(ranges: &Ranges, k: usize) -> Option<Signature> {
    let kl = &ranges.kernels[k];
    let mut h = StableHasher::default();
    for r in &kl.ranges {
        h.write_key(r.key());
    }
    h.write_u32(kl.next_axis);
    let mut ids: UOpMap<u32> = UOpMap::default();
    let mut loaded = Vec::new();
    // post order: a node is hashed after its sources, naming them by their ids
    let mut stack = vec![(kl.root.clone(), false)];
    while let Some((n, expanded)) = stack.pop() {
        if ids.contains_key(&n) {
            continue;
        }
        let place = ranges.place.get(&n);
        let loads =
            n.op() == Op::Buffer || (n != kl.root && matches!(place, Some(Place::Global(_))));
        let descends = !loads && !matches!(n.op(), Op::Const | Op::DefineVar);
        if descends && !expanded {
            stack.push((n.clone(), true));
            for s in n.src().iter().rev() {
                stack.push((s.clone(), false));
            }
            continue;
        }
        n.dtype().name().hash(&mut h);
        n.shape().hash(&mut h);
        if loads {
            // a loaded node enters by its position only
            h.write_u8(1);
            h.write_usize(loaded.len());
            loaded.push(n.clone());
        } else {
            h.write_u8(2);
            n.op().name().hash(&mut h);
            n.arg().hash(&mut h);
            match place {
                Some(Place::Partial(_)) => return None,
                Some(Place::Local(stage)) => {
                    h.write_u8(3);
                    h.write_u8(u8::from(stage.kernel == k));
                    stage.held.hash(&mut h);
                    h.write_u32(stage.slot);
                    let (_, idx, valid) = eval_parts(&stage.eval);
                    for i in idx.iter().chain(valid) {
                        h.write_key(i.key());
                    }
                }
                _ => h.write_u8(4),
            }
            h.write_usize(n.src().len());
            if descends {
                for s in n.src() {
                    h.write_u32(ids[s]);
                }
            }
        }
        ids.insert(n, ids.len() as u32);
    }
    Some(Signature {
        key: h.key(),
        loaded,
    })
}
