//! Stages "lower movement", "lower compute" and "assign buffers": the rule sets that turn
//! a kernel's root evaluation `INDEX(root, ranges)` into its value expression. Each rule
//! pushes a tensor-level `INDEX(node, i.. [, valid])` (see `ranges.rs`) one node down,
//! so `graph_rewrite` in bottom-up mode walks from the root to the leaves:
//!
//! - movement ops become index math (`Movement::input_index`, as the ranges walk
//!   computed it) and PAD a gate;
//! - elementwise ops take their operands at the same index; a REDUCE takes its source at
//!   the fresh RANGEs the ranges walk opened for it;
//! - a stored node or a BUFFER becomes a LOAD of its buffer (a kernel PARAM), a staged
//!   node a LOAD of its scratch copy (built here: DEFINE_LOCAL, the copy loop, AFTER), a
//!   partial CONTIGUOUS its template.
//!
//! The rules share one context (`LowerCtx`): the placement of every node, the kernel
//! being built, its PARAMs in slot order and the tensor nodes it reads (for ordering).

use std::sync::{Arc, LazyLock};

use uop_ir::{
    Arg, AxisType, ConstValue, DType, Mode, Op, PatternMatcher, UOp, UOpMap, UPat, graph_rewrite,
    linearize,
};

use crate::RangeifyError;
use crate::partial::Partial;
use crate::ranges::{Moves, Place, Ranges, eval_parts, is_eval, source_evals};

/// What the lowering rules read and write.
#[derive(Debug)]
pub struct LowerCtx {
    pub ranges: Arc<Ranges>,
    pub kernel: usize,
    /// The node this kernel stores (lowered as a value, not loaded).
    pub root: UOp,
    /// Stored tensor nodes and the BUFFER holding each.
    pub buffers: Arc<UOpMap<UOp>>,
    /// The kernel's buffer arguments, in slot order (slot 0 is the output).
    pub params: Vec<UOp>,
    /// The tensor-graph nodes this kernel loads: BUFFERs (their contents before the
    /// schedule), stored nodes, and the keys of `redirect` copies used.
    pub reads: Vec<UOp>,
    /// Buffers whose reads go to another buffer instead (a copy of their old contents).
    pub redirect: Arc<UOpMap<(UOp, UOp)>>,
    /// Partial CONTIGUOUS nodes and the template each inlines.
    pub partials: Arc<UOpMap<Partial>>,
    /// The next free RANGE axis of the kernel (for templates' reduce ranges).
    pub next_axis: u32,
}

impl LowerCtx {
    /// Records that the kernel loads what tensor-graph node `n` stores.
    pub fn read(&mut self, n: &UOp) {
        if !self.reads.contains(n) {
            self.reads.push(n.clone());
        }
    }

    /// The PARAM for `buffer`, adding it to the kernel's arguments on first use.
    pub fn param(&mut self, buffer: &UOp) -> UOp {
        let slot = match self.params.iter().position(|b| b == buffer) {
            Some(i) => i,
            None => {
                self.params.push(buffer.clone());
                self.params.len() - 1
            }
        };
        UOp::new(
            Op::Param,
            buffer.dtype(),
            [],
            Arg::Param { slot: slot as u32 },
        )
    }

    /// A load of `buffer` holding a tensor of `shape`, at `idx` (gated by `valid`).
    fn load(&mut self, buffer: &UOp, shape: &[i64], idx: &[UOp], valid: Option<&UOp>) -> UOp {
        let param = self.param(buffer);
        load_at(param, linearize(idx, shape), valid)
    }

    /// `x` (an evaluation) as a load of the buffer it is read from, if it is stored.
    fn load_stored(&mut self, x: &UOp) -> Option<UOp> {
        if !is_eval(x) {
            return None;
        }
        let (n, idx, valid) = eval_parts(x);
        let shape = n.shape()?;
        if n.op() == Op::Buffer {
            return Some(match self.redirect.get(n).cloned() {
                Some((copy_node, copy)) => {
                    self.read(&copy_node);
                    self.load(&copy, shape, idx, valid)
                }
                None => {
                    self.read(n);
                    self.load(n, shape, idx, valid)
                }
            });
        }
        if *n == self.root || !matches!(self.ranges.place.get(n), Some(Place::Global(_))) {
            return None;
        }
        let buffer = self.buffers.get(n)?.clone();
        self.read(n);
        Some(self.load(&buffer, shape, idx, valid))
    }

    /// `x` as a load of its scratch copy, if it is staged (the copy's own evaluation is
    /// left to the value rules).
    fn load_staged(&mut self, x: &UOp) -> Option<UOp> {
        if !is_eval(x) {
            return None;
        }
        let (n, idx, valid) = eval_parts(x);
        let Some(Place::Local(stage)) = self.ranges.place.get(n) else {
            return None;
        };
        if stage.eval == *x || stage.kernel != self.kernel {
            return None;
        }
        let shape = n.shape()?;
        let held_shape: Vec<i64> = stage.held.iter().map(|&d| shape[d]).collect();
        let size: i64 = held_shape.iter().product();
        let local = UOp::new(
            Op::DefineLocal,
            n.dtype(),
            [UOp::int(size)],
            Arg::Param { slot: stage.slot },
        );
        let (_, stage_idx, _) = eval_parts(&stage.eval);
        let copy_ranges: Vec<UOp> = stage.held.iter().map(|&d| stage_idx[d].clone()).collect();
        let at = |rs: &[UOp]| linearize(rs, &held_shape);
        let store = UOp::new(
            Op::Store,
            DType::Void,
            [
                UOp::new(
                    Op::Index,
                    n.dtype(),
                    [local.clone(), at(&copy_ranges)],
                    Arg::None,
                ),
                stage.eval.clone(),
            ],
            Arg::None,
        );
        let copy = copy_ranges.iter().rev().fold(store, |st, r| {
            UOp::new(Op::End, DType::Void, [st, r.clone()], Arg::None)
        });
        let after = UOp::new(Op::After, n.dtype(), [local, copy], Arg::None);
        let read: Vec<UOp> = stage.held.iter().map(|&d| idx[d].clone()).collect();
        Some(load_at(after, at(&read), valid))
    }

    /// `x` as the template of its partial CONTIGUOUS, if it is one.
    fn inline_partial(&mut self, x: &UOp) -> Option<UOp> {
        if !is_eval(x) {
            return None;
        }
        let (n, idx, valid) = eval_parts(x);
        let partials = self.partials.clone();
        let p = partials.get(n)?;
        let (idx, valid) = (idx.to_vec(), valid.cloned());
        Some(p.inline(self, &idx, valid))
    }
}

/// `LOAD(INDEX(buf, offset))`, the offset gated by `valid`.
fn load_at(buf: UOp, offset: UOp, valid: Option<&UOp>) -> UOp {
    let offset = match valid {
        Some(v) => v.where_(&offset, &UOp::invalid()),
        None => offset,
    };
    let dtype = buf.dtype();
    let index = UOp::new(Op::Index, dtype, [buf, offset], Arg::None);
    UOp::new(Op::Load, dtype, [index], Arg::None)
}

/// A tensor-level evaluation, bound to `x`; rule bodies check which node it evaluates.
fn eval() -> UPat {
    UPat::op(Op::Index).named("x")
}

/// The evaluated tensor node of `x`, when `x` is an evaluation of an `op` node.
fn evaluates(x: &UOp, op: impl Fn(Op) -> bool) -> bool {
    is_eval(x) && op(x.src()[0].op())
}

/// Rule set "assign buffers": stored nodes, BUFFERs, staged nodes and partial
/// CONTIGUOUS nodes are read from where they are kept.
pub fn pm_buffers() -> PatternMatcher<LowerCtx> {
    PatternMatcher::new()
        // INDEX(stored x, i..) -> LOAD(INDEX(PARAM(buffer of x), flat(i..)))
        .rule_ctx(
            "INDEX(stored x, i) -> LOAD(buffer[i])",
            eval(),
            |c: &mut LowerCtx, b| c.load_stored(&b["x"]),
        )
        // INDEX(staged x, i..) -> LOAD(INDEX(AFTER(DEFINE_LOCAL, copy), flat(held i..)))
        .rule_ctx(
            "INDEX(staged x, i) -> LOAD(scratch[i])",
            eval(),
            |c: &mut LowerCtx, b| c.load_staged(&b["x"]),
        )
        // INDEX(CONTIGUOUS(x, axes), i..) -> template(i..)
        .rule_ctx(
            "INDEX(partial x, i) -> template(i)",
            eval(),
            |c: &mut LowerCtx, b| c.inline_partial(&b["x"]),
        )
}

/// Rule set "lower movement": a movement op becomes index math on its source.
pub fn pm_movement() -> PatternMatcher<LowerCtx> {
    // INDEX(m(x), i..) -> WHERE(gate, INDEX(x, m^-1(i..)), 0)
    PatternMatcher::new().rule_ctx(
        "INDEX(m(x), i) -> gate ? INDEX(x, m^-1(i)) : 0",
        eval(),
        |c: &mut LowerCtx, b| {
            let x = &b["x"];
            if !evaluates(x, Op::is_movement) {
                return None;
            }
            let (inner, gate) = match c.ranges.moves.through.get(x) {
                Some(done) => done.clone(),
                None => Moves::default().through(x).ok()?,
            };
            Some(match gate {
                Some(g) => g.where_(&inner, &UOp::const_of(inner.dtype(), ConstValue::Int(0))),
                None => inner,
            })
        },
    )
}

/// Rule set "lower compute": values at an index.
pub fn pm_compute() -> PatternMatcher<LowerCtx> {
    PatternMatcher::new()
        // INDEX(c, i..) -> c   (CONST, DEFINE_VAR)
        .rule_ctx("INDEX(c, i) -> c", eval(), |_: &mut LowerCtx, b| {
            let x = &b["x"];
            evaluates(x, |op| matches!(op, Op::Const | Op::DefineVar)).then(|| x.src()[0].clone())
        })
        // INDEX(REDUCE(x, axes), i..) -> REDUCE(INDEX(x, i[axes := r..]), r..)
        .rule_ctx(
            "INDEX(REDUCE(x), i) -> REDUCE(INDEX(x, i'), r)",
            eval(),
            |c: &mut LowerCtx, b| {
                let x = &b["x"];
                if !evaluates(x, |op| op == Op::Reduce) {
                    return None;
                }
                let n = &x.src()[0];
                let recorded = c.ranges.reduce_ranges.get(&(x.clone(), c.kernel)).cloned();
                let next = &mut c.next_axis;
                let mut ranges = Vec::new();
                let srcs = source_evals(
                    x,
                    false,
                    |extents| {
                        ranges = recorded.clone().unwrap_or_else(|| {
                            extents
                                .iter()
                                .filter(|e| **e != 1)
                                .map(|e| {
                                    *next += 1;
                                    UOp::range_of(UOp::int(*e), *next - 1, AxisType::Reduce)
                                })
                                .collect()
                        });
                        ranges.clone()
                    },
                    &mut Moves::default(),
                )
                .ok()?;
                let value = srcs.into_iter().next()?.1;
                if ranges.is_empty() {
                    return Some(value);
                }
                let Arg::Reduce { op, .. } = n.arg() else {
                    return None;
                };
                let mut src = vec![value];
                src.extend(ranges);
                Some(UOp::new(
                    Op::Reduce,
                    n.dtype(),
                    src,
                    Arg::Reduce {
                        op: *op,
                        axes: Vec::new().into(),
                    },
                ))
            },
        )
        // INDEX(op(a, b..), i..) -> op(INDEX(a, i), INDEX(b, i)..)
        .rule_ctx(
            "INDEX(op(a..), i) -> op(INDEX(a, i)..)",
            eval(),
            |_: &mut LowerCtx, b| {
                let x = &b["x"];
                if !evaluates(x, Op::is_elementwise) {
                    return None;
                }
                let srcs = source_evals(x, false, |_| Vec::new(), &mut Moves::default()).ok()?;
                Some(x.src()[0].with_src(srcs.into_iter().map(|(_, e, _)| e).collect::<Vec<_>>()))
            },
        )
        // INDEX(CONTIGUOUS(x), i..) -> INDEX(x, i..); likewise DETACH, and ASSIGN's value
        .rule_ctx(
            "INDEX(CONTIGUOUS(x), i) -> INDEX(x, i)",
            eval(),
            |_: &mut LowerCtx, b| {
                let x = &b["x"];
                if !evaluates(x, |op| {
                    matches!(op, Op::Contiguous | Op::Detach | Op::Assign)
                }) {
                    return None;
                }
                source_evals(x, false, |_| Vec::new(), &mut Moves::default())
                    .ok()?
                    .into_iter()
                    .next()
                    .map(|(_, e, _)| e)
            },
        )
}

/// The three lowering rule sets, in the order they are tried.
pub fn pm_lower() -> PatternMatcher<LowerCtx> {
    pm_buffers().extend(&pm_movement()).extend(&pm_compute())
}

static PM_LOWER: LazyLock<PatternMatcher<LowerCtx>> = LazyLock::new(pm_lower);

/// The value of evaluation `e` in the kernel `ctx` builds.
pub fn lower(e: &UOp, ctx: &mut LowerCtx) -> Result<UOp, RangeifyError> {
    // every op the rules do not lower was refused by the ranges walk already
    Ok(graph_rewrite(e, &PM_LOWER, ctx, Mode::BottomUp)?)
}
