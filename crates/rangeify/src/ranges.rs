//! Stage "ranges": every node of the tensor graph gets the indices at which it is
//! evaluated, consumer to producer, and is placed once, with those indices in hand.
//!
//! An evaluation is a tensor-level `INDEX(node, i_0 .. i_{r-1} [, valid])` in one kernel:
//! `i_d` is an index expression over the kernel's RANGEs for dim `d` of `node`, and `valid`
//! (when present) says where the point is real (inside padding it is not). A realized
//! node's kernel evaluates it at fresh output RANGEs, one per dim (size-1 dims at `0`);
//! from there indices flow to sources as lowering will push them (`crate::lower`):
//! through a movement op by `Movement::input_index` (the function `fuzz-symbolic` checks),
//! unchanged through elementwise ops, and into a REDUCE's source with fresh reduce RANGEs
//! for its reduced dims.
//!
//! Nodes are visited in reverse topological order, so when a node is reached every
//! evaluation its consumers make of it is known, and the cost function (`cost.rs`)
//! places it: fused into its consumers (its evaluations stand), stored by a kernel of its
//! own (fresh ranges, consumers load), staged in scratch memory of the one kernel that
//! uses it (`Place::Local`), or split by `contiguous_axes` (`partial.rs`). Each node is
//! decided once; nothing is scheduled again.
//!
//! This is a walk, not a rule set: a node can be decided only after all its consumers
//! (a dataflow against the edges of the graph), while a rewrite rule sees one node and
//! its sources.

use std::collections::HashMap;
use std::sync::Arc;

use uop_ir::{Arg, AxisType, DType, Movement, Op, UOp, UOpMap, hoist_depth, toposort};

use crate::RangeifyError;
use crate::cost::{self, Choice};
use crate::partial::listed_axes;

/// The most bytes one scratch stage may hold, and all stages of one kernel together, on
/// a device that stages (`StageLimits::CPU`).
pub const LOCAL_MAX_BYTES: usize = 64 << 10;
pub const LOCAL_KERNEL_MAX_BYTES: usize = 128 << 10;

/// How much scratch memory the kernels of a device may stage values in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StageLimits {
    /// The most bytes of one stage.
    pub stage: usize,
    /// The most bytes of all stages of one kernel.
    pub kernel: usize,
}

impl StageLimits {
    /// A CPU: a stage is a stack array of each call.
    pub const CPU: StageLimits = StageLimits {
        stage: LOCAL_MAX_BYTES,
        kernel: LOCAL_KERNEL_MAX_BYTES,
    };
    /// No stages: what would be staged is stored, or recomputed. A GPU's kernels get
    /// this: a copy loop is not split across the threads of a workgroup, so a kernel
    /// that stages runs one thread per workgroup.
    pub const NONE: StageLimits = StageLimits {
        stage: 0,
        kernel: 0,
    };
}

/// Where a node's value is computed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// In its consumers' kernels, at each of its evaluations.
    Fused,
    /// By kernel `k` of its own, into a buffer.
    Global(usize),
    /// Into scratch memory of one kernel, once per trip of its outer output loops.
    Local(Stage),
    /// A partial CONTIGUOUS: kernel `k` builds the template consumers inline.
    Partial(usize),
}

/// A node staged in scratch memory (`Place::Local`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stage {
    pub kernel: usize,
    /// The evaluation the copy loop computes: the outer dims at the consumers' index, the
    /// held dims at the copy's own RANGEs (kind `Stage`).
    pub eval: UOp,
    /// The dims the scratch holds (whole), in order.
    pub held: Vec<usize>,
    /// Its DEFINE_LOCAL slot in the kernel.
    pub slot: u32,
}

/// One kernel's loops.
#[derive(Clone, Debug)]
pub struct KernelLoops {
    /// The realized node it stores.
    pub root: UOp,
    /// One per dim of the root: a RANGE, or `0` for a size-1 dim.
    pub ranges: Vec<UOp>,
    /// The axes of its output loops, in nesting order.
    pub loops: Vec<u32>,
    pub next_axis: u32,
    pub locals: u32,
    pub local_bytes: usize,
}

impl KernelLoops {
    fn extent(&self, axis: u32) -> i64 {
        self.ranges
            .iter()
            .find(|r| matches!(r.arg(), Arg::Range { axis: a, .. } if *a == axis))
            .and_then(|r| r.src()[0].const_int())
            .map_or(1, |e| e as i64)
    }
}

/// What the walk decided: each node's place, the kernels, and the fresh RANGEs each
/// reduction evaluation opened.
#[derive(Debug, Default)]
pub struct Ranges {
    pub place: UOpMap<Place>,
    pub kernels: Vec<KernelLoops>,
    /// `(evaluation of a REDUCE, kernel)` -> the RANGEs of its reduced dims (none for a
    /// size-1 dim).
    pub reduce_ranges: HashMap<(UOp, usize), Vec<UOp>>,
    pub moves: Moves,
}

/// An evaluation and what the cost function asks of it.
#[derive(Clone, Debug)]
pub struct Eval {
    pub index: UOp,
    pub kernel: usize,
    /// Read through a broadcast (an EXPAND that grows a dim) since the last reduction.
    pub bcast: bool,
    /// How many of the kernel's outer output loops it runs inside.
    pub depth: usize,
}

/// A tensor-level evaluation node: `INDEX(node, idx.., valid?)`.
pub fn eval_node(node: &UOp, idx: &[UOp], valid: Option<&UOp>) -> UOp {
    let mut src = Vec::with_capacity(idx.len() + 2);
    src.push(node.clone());
    src.extend(idx.iter().cloned());
    src.extend(valid.cloned());
    UOp::new(Op::Index, node.dtype(), src, Arg::None)
}

/// The parts of an evaluation node: the tensor node, its index, its validity.
pub fn eval_parts(e: &UOp) -> (&UOp, &[UOp], Option<&UOp>) {
    let node = &e.src()[0];
    let rank = node.shape().map_or(0, <[i64]>::len);
    let idx = &e.src()[1..=rank.min(e.src().len() - 1)];
    (node, idx, e.src().get(rank + 1))
}

/// Whether an INDEX node is a tensor-level evaluation (its first source is a
/// tensor-graph node, not a buffer of a kernel).
pub fn is_eval(e: &UOp) -> bool {
    e.op() == Op::Index && e.src().first().is_some_and(|n| n.shape().is_some())
}

/// A node that is storage already, or a value with no storage of its own.
pub fn is_leaf(u: &UOp) -> bool {
    matches!(u.op(), Op::Buffer | Op::Const | Op::DefineVar)
}

/// `a AND b` of two optional conditions.
pub fn and(a: Option<&UOp>, b: Option<UOp>) -> Option<UOp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.and(b)),
        (a, b) => a.cloned().or(b),
    }
}

/// Index math through movement ops: each evaluation of a movement op and the evaluation
/// of its source it makes, with the gate of a PAD. A RESHAPE's index is simplified
/// (`symbolic`) so that equal indices compare equal and an index uses only the loops it
/// really depends on; results are remembered, and lowering reads them back.
#[derive(Debug, Default)]
pub struct Moves {
    simplified: UOpMap<UOp>,
    /// The source index and gate of a movement (op, argument, source shape) at an index,
    /// whichever node it is: the layers of a model move alike.
    math: HashMap<MoveKey, (Vec<UOp>, Option<UOp>)>,
    pub through: UOpMap<(UOp, Option<UOp>)>,
}

/// A movement op, its argument, its source's shape and the index it is evaluated at.
type MoveKey = (Op, Arg, Vec<i64>, Vec<UOp>);

impl Moves {
    /// The source evaluation that evaluation `e` of a movement op makes, and its gate.
    pub fn through(&mut self, e: &UOp) -> Result<(UOp, Option<UOp>), RangeifyError> {
        if let Some(done) = self.through.get(e) {
            return Ok(done.clone());
        }
        let (n, idx, valid) = eval_parts(e);
        let src = &n.src()[0];
        let src_shape = src.shape().unwrap_or(&[]);
        let key: MoveKey = (n.op(), n.arg().clone(), src_shape.to_vec(), idx.to_vec());
        let (src_idx, gate) = match self.math.get(&key) {
            Some(done) => done.clone(),
            None => {
                let done = self.index_math(n, src_shape, idx)?;
                self.math.insert(key, done.clone());
                done
            }
        };
        let done = (
            eval_node(src, &src_idx, and(valid, gate.clone()).as_ref()),
            gate,
        );
        self.through.insert(e.clone(), done.clone());
        Ok(done)
    }

    /// The source index of movement op `n` at `idx` and its gate, a RESHAPE's simplified.
    fn index_math(
        &mut self,
        n: &UOp,
        src_shape: &[i64],
        idx: &[UOp],
    ) -> Result<(Vec<UOp>, Option<UOp>), RangeifyError> {
        let m = Movement::of(n, src_shape.len())
            .ok_or_else(|| RangeifyError::Malformed(format!("{} without its argument", n.op())))?;
        let (mut src_idx, gate) = m.input_index(src_shape, idx);
        if n.op() == Op::Reshape {
            for i in &mut src_idx {
                *i = match self.simplified.get(i) {
                    Some(s) => s.clone(),
                    None => {
                        let s = symbolic::simplify(i)?;
                        self.simplified.insert(i.clone(), s.clone());
                        s
                    }
                };
            }
        }
        Ok((src_idx, gate))
    }
}

/// The evaluations of `n`'s sources that evaluation `e` of `n` makes: (source index,
/// evaluation node, read through a broadcast). A REDUCE's fresh ranges come from
/// `fresh` (given the reduced dims' extents; it returns one RANGE per dim longer than 1).
pub fn source_evals(
    e: &UOp,
    bcast: bool,
    mut fresh: impl FnMut(&[i64]) -> Vec<UOp>,
    moves: &mut Moves,
) -> Result<Vec<(usize, UOp, bool)>, RangeifyError> {
    let (n, idx, valid) = eval_parts(e);
    let shape = n.shape().unwrap_or(&[]);
    let mut out = Vec::with_capacity(n.src().len());
    match n.op() {
        op if op.is_movement() => {
            let src_shape = n.src()[0].shape().unwrap_or(&[]);
            let grows = op == Op::Expand && src_shape != shape;
            out.push((0, moves.through(e)?.0, bcast || grows));
        }
        Op::Reduce => {
            let Arg::Reduce { axes, .. } = n.arg() else {
                return Err(RangeifyError::Malformed("REDUCE without axes".into()));
            };
            let src = &n.src()[0];
            let src_shape = src.shape().unwrap_or(&[]);
            let extents: Vec<i64> = axes.iter().map(|&a| src_shape[a]).collect();
            let ranges = fresh(&extents);
            let mut src_idx = idx.to_vec();
            let mut it = ranges.into_iter();
            for &a in axes.iter() {
                src_idx[a] = if src_shape[a] == 1 {
                    UOp::int(0)
                } else {
                    it.next().unwrap_or_else(|| UOp::int(0))
                };
            }
            out.push((0, eval_node(src, &src_idx, valid), false));
        }
        // the value written; the target is the kernel's output buffer
        Op::Assign => out.push((1, eval_node(&n.src()[1], idx, valid), bcast)),
        Op::Contiguous | Op::Detach => out.push((0, eval_node(&n.src()[0], idx, valid), bcast)),
        op if op.is_elementwise() => {
            for (i, s) in n.src().iter().enumerate() {
                // a scalar operand broadcasts: it has no dims to index
                let s_idx: &[UOp] = if s.shape().is_some_and(<[i64]>::is_empty) {
                    &[]
                } else {
                    idx
                };
                out.push((i, eval_node(s, s_idx, valid), bcast));
            }
        }
        Op::Buffer | Op::Const | Op::DefineVar => {}
        op => return Err(RangeifyError::Unsupported(op)),
    }
    Ok(out)
}

/// The RANGEs an expression depends on.
fn ranges_in(u: &UOp) -> Vec<UOp> {
    toposort(u)
        .into_iter()
        .filter(|r| r.op() == Op::Range)
        .collect()
}

/// The RANGEs of each index expression the walk has asked about: it asks of the same
/// expressions again and again (every evaluation at a kernel's output loops, every layer
/// of a model).
#[derive(Default)]
struct RangeSets(UOpMap<Arc<[UOp]>>);

impl RangeSets {
    fn of(&mut self, u: &UOp) -> Arc<[UOp]> {
        if let Some(done) = self.0.get(u) {
            return done.clone();
        }
        let done: Arc<[UOp]> = ranges_in(u).into();
        self.0.insert(u.clone(), done.clone());
        done
    }

    /// Whether `u` depends on an output loop.
    fn uses_loop(&mut self, u: &UOp) -> bool {
        self.of(u)
            .iter()
            .any(|r| matches!(range_axis(r), Some((_, AxisType::Loop))))
    }
}

fn range_axis(r: &UOp) -> Option<(u32, AxisType)> {
    match r.arg() {
        Arg::Range { axis, kind } => Some((*axis, *kind)),
        _ => None,
    }
}

/// What `cost` needs to know of one evaluation of a node of shape `shape`.
fn view(e: &Eval, k: &KernelLoops, shape: &[i64], sets: &mut RangeSets) -> cost::EvalView {
    let (_, idx, _) = eval_parts(&e.index);
    let mut loops = Vec::new();
    let mut nested = false;
    let mut reduces = false;
    for i in idx {
        for r in sets.of(i).iter() {
            match range_axis(r) {
                Some((a, AxisType::Loop)) => loops.push(a),
                Some((_, AxisType::Reduce)) => {
                    nested = true;
                    reduces = true;
                }
                _ => nested = true,
            }
        }
    }
    let repeats = k.loops[..e.depth.min(k.loops.len())]
        .iter()
        .filter(|a| !loops.contains(a))
        .map(|a| k.extent(*a))
        .product();
    cost::EvalView {
        kernel: e.kernel,
        bcast: e.bcast,
        hoist: if nested {
            None
        } else {
            hoist_depth(&k.loops, &loops)
        },
        repeats,
        recomputed_in_reduction: reduces
            && idx
                .iter()
                .zip(shape)
                .any(|(i, &n)| revisits(i, &sets.of(i), n)),
    }
}

/// Whether the index `i` (over `ranges`) of a dim of `n` elements (its span where bounds
/// are unknown) takes some value on several trips of its ranges: their trips outnumber
/// the values it spans (as `oh + kh`, a window that overlaps the next; `2 * oh + kh` over
/// windows of 2 does not, nor does `r - 3` over a padded dim, whose values outside `0..n`
/// are never read).
fn revisits(i: &UOp, ranges: &[UOp], n: i64) -> bool {
    let trips = ranges
        .iter()
        .map(|r| r.src()[0].const_int().unwrap_or(1))
        .fold(1i128, |a, b| a.saturating_mul(b));
    let span = i.bounds().map_or(i128::from(n), |b| b.max - b.min + 1);
    trips > span
}

/// Places every node under `sink` (a SINK of tensor-graph nodes); `order` is its
/// `toposort`.
pub fn ranges(sink: &UOp, order: &[UOp], limits: StageLimits) -> Result<Ranges, RangeifyError> {
    let forced = |n: &UOp| {
        matches!(n.op(), Op::Contiguous | Op::Assign) || (sink.src().contains(n) && !is_leaf(n))
    };
    let stats = cost::subgraphs(order, &forced);
    let mut sets = RangeSets::default();
    let mut evals: UOpMap<Vec<Eval>> = Default::default();
    let mut out = Ranges::default();
    for n in order.iter().rev() {
        if n.op() == Op::Sink {
            continue;
        }
        let mine = evals.remove(n).unwrap_or_default();
        let shape = n.shape().unwrap_or(&[]).to_vec();
        let place = if is_leaf(n) {
            Place::Fused
        } else if listed_axes(n).is_some() && !sink.src().contains(n) {
            Place::Partial(new_kernel(&mut out, n, &shape, true))
        } else if forced(n) {
            Place::Global(new_kernel(&mut out, n, &shape, false))
        } else {
            let views: Vec<cost::EvalView> = mine
                .iter()
                .map(|e| view(e, &out.kernels[e.kernel], &shape, &mut sets))
                .collect();
            let sub = stats.get(n).cloned().unwrap_or_default();
            match cost::choose(n, &sub, &views) {
                Choice::Fuse => Place::Fused,
                Choice::Store => Place::Global(new_kernel(&mut out, n, &shape, false)),
                Choice::Stage { or_store } => {
                    // staging instead of storing pays where the buffer is the larger
                    let numel = |u: &UOp| u.shape().map_or(1, |s| s.iter().product::<i64>());
                    let pays = !or_store
                        || mine.first().is_some_and(|e| {
                            cost::stage_over_store(numel(n), numel(&out.kernels[e.kernel].root))
                        });
                    match pays
                        .then(|| stage(&mut out, n, &mine, &mut sets, limits))
                        .flatten()
                    {
                        Some(s) => Place::Local(s),
                        None if or_store => Place::Global(new_kernel(&mut out, n, &shape, false)),
                        None => Place::Fused,
                    }
                }
            }
        };
        let computed: Vec<Eval> = match &place {
            Place::Fused => mine,
            Place::Global(k) | Place::Partial(k) => {
                let kl = &out.kernels[*k];
                if shape.contains(&0) {
                    // no elements: no kernel runs
                    Vec::new()
                } else {
                    vec![Eval {
                        index: eval_node(n, &kl.ranges, None),
                        kernel: *k,
                        bcast: false,
                        depth: kl.loops.len(),
                    }]
                }
            }
            Place::Local(s) => {
                let depth = stage_depth(&out.kernels[s.kernel], &s.eval, &mut sets);
                vec![Eval {
                    index: s.eval.clone(),
                    kernel: s.kernel,
                    bcast: false,
                    depth,
                }]
            }
        };
        out.place.insert(n.clone(), place);
        for e in computed {
            let depth = source_depth(n, &e, &out.kernels[e.kernel], &mut sets);
            let kernel = &mut out.kernels[e.kernel];
            let mut opened = Vec::new();
            let srcs = source_evals(
                &e.index,
                e.bcast,
                |extents| {
                    let rs: Vec<UOp> = extents
                        .iter()
                        .filter(|x| **x != 1)
                        .map(|x| {
                            kernel.next_axis += 1;
                            UOp::range_of(UOp::int(*x), kernel.next_axis - 1, AxisType::Reduce)
                        })
                        .collect();
                    opened = rs.clone();
                    rs
                },
                &mut out.moves,
            )?;
            if n.op() == Op::Reduce {
                out.reduce_ranges
                    .insert((e.index.clone(), e.kernel), opened);
            }
            for (i, index, bcast) in srcs {
                let list = evals.entry(n.src()[i].clone()).or_default();
                match list
                    .iter_mut()
                    .find(|x| x.index == index && x.kernel == e.kernel)
                {
                    Some(x) => {
                        x.bcast |= bcast;
                        x.depth = x.depth.max(depth);
                    }
                    None => list.push(Eval {
                        index,
                        kernel: e.kernel,
                        bcast,
                        depth,
                    }),
                }
            }
        }
    }
    Ok(out)
}

/// How many outer loops the sources of evaluation `e` of `n` run inside: a reduction's
/// source runs once per trip of the loops it is hoisted to, others where `e` runs.
fn source_depth(n: &UOp, e: &Eval, k: &KernelLoops, sets: &mut RangeSets) -> usize {
    if n.op() != Op::Reduce {
        return e.depth;
    }
    let (_, idx, _) = eval_parts(&e.index);
    let mut loops = Vec::new();
    for r in idx.iter().flat_map(|i| sets.of(i).to_vec()) {
        match range_axis(&r) {
            Some((a, AxisType::Loop)) => loops.push(a),
            _ => return e.depth,
        }
    }
    hoist_depth(&k.loops, &loops).map_or(e.depth, |d| d.min(e.depth))
}

/// A new kernel storing `n` of `shape`: one RANGE per dim longer than 1, numbered in
/// order (Placeholder ranges for the dims a partial CONTIGUOUS does not list).
fn new_kernel(out: &mut Ranges, n: &UOp, shape: &[i64], partial: bool) -> usize {
    let listed = listed_axes(n).unwrap_or(&[]);
    let mut axis = 0u32;
    let mut loops = Vec::new();
    let ranges = shape
        .iter()
        .enumerate()
        .map(|(d, &s)| {
            if s == 1 {
                return UOp::int(0);
            }
            axis += 1;
            let kind = if partial && !listed.contains(&d) {
                AxisType::Placeholder
            } else {
                loops.push(axis - 1);
                AxisType::Loop
            };
            UOp::range_of(UOp::int(s), axis - 1, kind)
        })
        .collect();
    out.kernels.push(KernelLoops {
        root: n.clone(),
        ranges,
        loops,
        next_axis: axis,
        locals: if partial { u32::MAX } else { 0 },
        local_bytes: 0,
    });
    out.kernels.len() - 1
}

/// How many outer loops a stage evaluation runs inside (the loops its outer dims use).
fn stage_depth(k: &KernelLoops, eval: &UOp, sets: &mut RangeSets) -> usize {
    let (_, idx, _) = eval_parts(eval);
    let loops: Vec<u32> = idx
        .iter()
        .flat_map(|i| sets.of(i).to_vec())
        .filter_map(|r| match range_axis(&r) {
            Some((a, AxisType::Loop)) => Some(a),
            _ => None,
        })
        .collect();
    hoist_depth(&k.loops, &loops).unwrap_or(k.loops.len())
}

/// A scratch stage for `n`, if its evaluations allow one: all in one kernel, each dim's
/// index either the same expression of outer output loops in every evaluation (within
/// bounds, nothing but output loops, a prefix of them: `hoist_depth`) or free of output
/// loops (those dims are held whole), and the held dims within the scratch budget.
fn stage(
    out: &mut Ranges,
    n: &UOp,
    evals: &[Eval],
    sets: &mut RangeSets,
    limits: StageLimits,
) -> Option<Stage> {
    let kernel = evals.first()?.kernel;
    let shape = n.shape()?;
    if evals.iter().any(|e| e.kernel != kernel) || out.kernels[kernel].locals == u32::MAX {
        return None;
    }
    let (_, first, _) = eval_parts(&evals[0].index);
    let outer: Vec<usize> = (0..shape.len())
        .filter(|&d| sets.uses_loop(&first[d]))
        .collect();
    let mut loops = Vec::new();
    for &d in &outer {
        for r in sets.of(&first[d]).iter() {
            match range_axis(r) {
                Some((a, AxisType::Loop)) => loops.push(a),
                _ => return None,
            }
        }
        let b = first[d].bounds()?;
        if b.min < 0 || b.max >= shape[d] as i128 {
            return None;
        }
    }
    for e in &evals[1..] {
        let (_, idx, _) = eval_parts(&e.index);
        let same = (0..shape.len()).all(|d| {
            if outer.contains(&d) {
                idx[d] == first[d]
            } else {
                !sets.uses_loop(&idx[d])
            }
        });
        if !same {
            return None;
        }
    }
    let k = &mut out.kernels[kernel];
    let depth = hoist_depth(&k.loops, &loops)?;
    let held: Vec<usize> = (0..shape.len())
        .filter(|d| !outer.contains(d) && shape[*d] > 1)
        .collect();
    // the copy is filled once per trip of the loops it runs inside: all fills together
    // may compute each element of `n` only a few times
    let fills: i64 = k.loops[..depth].iter().map(|&a| k.extent(a)).product();
    let held_elements: i64 = held.iter().map(|&d| shape[d]).product();
    let numel: i64 = shape.iter().product();
    if !cost::stage_fills_pay(fills, held_elements, numel) {
        return None;
    }
    let bytes = held_elements as usize * itemsize(n.dtype());
    if held.is_empty() || bytes > limits.stage || k.local_bytes + bytes > limits.kernel {
        return None;
    }
    let idx: Vec<UOp> = (0..shape.len())
        .map(|d| {
            if outer.contains(&d) {
                first[d].clone()
            } else if held.contains(&d) {
                k.next_axis += 1;
                UOp::range_of(UOp::int(shape[d]), k.next_axis - 1, AxisType::Stage)
            } else {
                UOp::int(0)
            }
        })
        .collect();
    k.local_bytes += bytes;
    k.locals += 1;
    Some(Stage {
        kernel,
        eval: eval_node(n, &idx, None),
        held,
        slot: k.locals - 1,
    })
}

fn itemsize(d: DType) -> usize {
    d.itemsize().max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(extent: i64, axis: u32) -> UOp {
        UOp::range_of(UOp::int(extent), axis, AxisType::Reduce)
    }

    #[test]
    fn overlapping_windows_revisit_and_disjoint_ones_do_not() {
        let (oh, kh) = (range(4, 0), range(3, 1));
        // oh + kh: 12 trips over 6 values
        let revisits = |i: UOp, n| revisits(&i, &ranges_in(&i), n);
        assert!(revisits(&oh + &kh, 6));
        // 2 * oh + kh over windows of 2: 8 trips, 8 values
        let kw = range(2, 2);
        assert!(!revisits(&(&oh * 2) + &kw, 8));
        // r - 3 over a padded dim of 1: the values outside are never read
        assert!(!revisits(&range(7, 3) - 3, 1));
    }
}
