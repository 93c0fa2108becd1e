//! Pushing indices from consumers to producers: the value of a tensor-graph node at an
//! index (one expression per dim) becomes a kernel expression. Movement ops become index
//! math (`uop_ir::Movement::input_index`, the same functions `fuzz-symbolic` checks);
//! PAD adds a validity gate; REDUCE opens fresh ranges for its reduced dims; a realized
//! node becomes a LOAD from its buffer.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use uop_ir::{Arg, AxisType, ConstValue, DType, Op, StableHasher, UOp, UOpMap, linearize};

use crate::RangeifyError;
use crate::partial::Partial;
use crate::shape::movement_of;

/// Lowered values by (node, index, gate), hashed by content keys.
type Memo = HashMap<(UOp, Vec<UOp>, Option<UOp>), UOp, BuildHasherDefault<StableHasher>>;

/// Builds the value expression of one kernel.
pub struct Lowerer<'a> {
    pub shapes: &'a UOpMap<Vec<i64>>,
    /// Realized tensor nodes and the BUFFER holding each.
    pub buffers: &'a UOpMap<UOp>,
    /// The kernel's buffer arguments, in slot order (slot 0 is the output).
    pub params: Vec<UOp>,
    pub next_axis: u32,
    /// Buffers whose reads go to another buffer instead (a copy of their old contents).
    redirect: &'a UOpMap<(UOp, UOp)>,
    /// Partial CONTIGUOUS nodes and the template each inlines.
    partials: &'a UOpMap<Partial>,
    /// The tensor-graph nodes this kernel loads: BUFFERs (their contents before the
    /// schedule), realized nodes, and the keys of `redirect` copies used.
    pub reads: Vec<UOp>,
    /// The kernel's output loops: RANGEs of kind Loop with axis `0..outputs`.
    outputs: u32,
    /// REDUCE nodes this kernel computes whose result cannot be shared across the loops
    /// it is broadcast over (see [`Lowerer::unshared`]).
    unshared: Vec<UOp>,
    /// Whether the node being lowered is read through a broadcast (an EXPAND that grows a
    /// dim) since the last reduction above it.
    broadcast: bool,
    memo: Memo,
}

fn and(a: Option<UOp>, b: Option<UOp>) -> Option<UOp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.and(b)),
        (a, b) => a.or(b),
    }
}

impl<'a> Lowerer<'a> {
    pub fn new(
        shapes: &'a UOpMap<Vec<i64>>,
        buffers: &'a UOpMap<UOp>,
        output: UOp,
        first_axis: u32,
        redirect: &'a UOpMap<(UOp, UOp)>,
        partials: &'a UOpMap<Partial>,
    ) -> Self {
        Lowerer {
            shapes,
            buffers,
            params: vec![output],
            next_axis: first_axis,
            redirect,
            partials,
            reads: Vec::new(),
            outputs: first_axis,
            unshared: Vec::new(),
            broadcast: false,
            memo: Default::default(),
        }
    }

    /// The REDUCE nodes fused into this kernel, read through a broadcast, that would run
    /// again for every trip of a loop they do not depend on: the output loops such a
    /// reduction depends on must be the outermost ones (so that the linearizer runs it
    /// between those and the rest), it must not sit inside another reduction's loop (which
    /// runs inside every output loop), and one broadcast over every output loop is left to
    /// a kernel of its own (where it can be split across threads). The scheduler stores
    /// these and schedules again.
    pub fn unshared(&self) -> &[UOp] {
        &self.unshared
    }

    /// Checks where reduction `n`, lowered at `idx`, would run (see [`Lowerer::unshared`]).
    fn check_shared(&mut self, n: &UOp, idx: &[UOp]) {
        if self.outputs == 0 {
            return;
        }
        let ranges: Vec<UOp> = idx
            .iter()
            .flat_map(uop_ir::toposort)
            .filter(|u| u.op() == Op::Range)
            .collect();
        let nested = ranges
            .iter()
            .any(|r| matches!(r.arg(), Arg::Range { kind, .. } if *kind != AxisType::Loop));
        let mut loops: Vec<u32> = ranges
            .iter()
            .filter_map(|u| match u.arg() {
                Arg::Range {
                    axis,
                    kind: AxisType::Loop,
                } => Some(*axis),
                _ => None,
            })
            .collect();
        loops.sort_unstable();
        loops.dedup();
        let prefix = loops.iter().enumerate().all(|(i, a)| *a == i as u32);
        if (nested || loops.is_empty() || !prefix) && !self.unshared.contains(n) {
            self.unshared.push(n.clone());
        }
    }

    /// Records that the kernel loads what tensor-graph node `n` stores.
    pub fn read(&mut self, n: &UOp) {
        if !self.reads.contains(n) {
            self.reads.push(n.clone());
        }
    }

    fn shape(&self, u: &UOp) -> &'a [i64] {
        self.shapes.get(u).map_or(&[], Vec::as_slice)
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

    /// A load of a stored tensor of `shape` at `idx` (gated by `valid`).
    fn load(&mut self, buffer: &UOp, shape: &[i64], idx: &[UOp], valid: Option<UOp>) -> UOp {
        let param = self.param(buffer);
        let offset = linearize(idx, shape);
        let offset = match valid {
            Some(v) => v.where_(&offset, &UOp::invalid()),
            None => offset,
        };
        let index = UOp::new(Op::Index, buffer.dtype(), [param, offset], Arg::None);
        UOp::new(Op::Load, buffer.dtype(), [index], Arg::None)
    }

    /// The value of `n` at `idx`, where `valid` says whether the point is real.
    /// `root` is lowered as a value even if it is realized (it is the kernel's output).
    pub fn lower(
        &mut self,
        n: &UOp,
        idx: &[UOp],
        valid: Option<UOp>,
        root: bool,
    ) -> Result<UOp, RangeifyError> {
        if n.op() == Op::Reduce && self.broadcast && !root && !self.buffers.contains_key(n) {
            self.check_shared(n, idx);
        }
        let key = (n.clone(), idx.to_vec(), valid.clone());
        if !root && let Some(v) = self.memo.get(&key) {
            return Ok(v.clone());
        }
        let out = self.lower_uncached(n, idx, valid, root)?;
        if !root {
            self.memo.insert(key, out.clone());
        }
        Ok(out)
    }

    fn lower_uncached(
        &mut self,
        n: &UOp,
        idx: &[UOp],
        valid: Option<UOp>,
        root: bool,
    ) -> Result<UOp, RangeifyError> {
        if n.op() == Op::Buffer {
            let shape = self.shape(n);
            return Ok(match self.redirect.get(n).cloned() {
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
        let partials = self.partials;
        if let Some(p) = partials.get(n) {
            return Ok(p.inline(self, idx, valid));
        }
        if !root && let Some(buf) = self.buffers.get(n).cloned() {
            self.read(n);
            return Ok(self.load(&buf, self.shape(n), idx, valid));
        }
        match n.op() {
            Op::Const | Op::DefineVar => Ok(n.clone()),
            op if op.is_movement() => {
                let src = &n.src()[0];
                let src_shape = self.shape(src);
                let m = movement_of(n, src_shape.len()).ok_or_else(|| {
                    RangeifyError::Malformed(format!("{op} without its argument"))
                })?;
                let (src_idx, gate) = m.input_index(src_shape, idx);
                let outer = self.broadcast;
                self.broadcast |= op == Op::Expand && src_shape != self.shape(n);
                let inner = self.lower(src, &src_idx, and(valid, gate.clone()), false);
                self.broadcast = outer;
                let inner = inner?;
                Ok(match gate {
                    Some(g) => g.where_(&inner, &UOp::const_of(inner.dtype(), ConstValue::Int(0))),
                    None => inner,
                })
            }
            Op::Reduce => {
                let Arg::Reduce { op, axes } = n.arg() else {
                    return Err(RangeifyError::Malformed("REDUCE without axes".into()));
                };
                let src = &n.src()[0];
                let src_shape = self.shape(src);
                let mut src_idx = idx.to_vec();
                let mut ranges = Vec::new();
                for &a in axes.iter() {
                    if src_shape[a] == 1 {
                        // one element: no loop
                        src_idx[a] = UOp::int(0);
                        continue;
                    }
                    let r = UOp::range_of(UOp::int(src_shape[a]), self.next_axis, AxisType::Reduce);
                    self.next_axis += 1;
                    src_idx[a] = r.clone();
                    ranges.push(r);
                }
                // the source runs once per element of the reduction's own loops
                let outer = std::mem::replace(&mut self.broadcast, false);
                let value = self.lower(src, &src_idx, valid, false);
                self.broadcast = outer;
                let value = value?;
                if ranges.is_empty() {
                    return Ok(value);
                }
                let mut srcs = vec![value];
                srcs.extend(ranges);
                Ok(UOp::new(
                    Op::Reduce,
                    n.dtype(),
                    srcs,
                    Arg::Reduce {
                        op: *op,
                        axes: Vec::new().into(),
                    },
                ))
            }
            Op::Contiguous | Op::Detach => self.lower(&n.src()[0], idx, valid, false),
            // the value written; the target is where it goes (the kernel's output)
            Op::Assign => self.lower(&n.src()[1], idx, valid, false),
            op if op.is_elementwise() => {
                let mut srcs = Vec::with_capacity(n.src().len());
                for s in n.src() {
                    srcs.push(self.lower(s, idx, valid.clone(), false)?);
                }
                Ok(n.with_src(srcs))
            }
            op => Err(RangeifyError::Unsupported(op)),
        }
    }
}

/// The identity element of a reduction (what an empty reduction gives).
pub fn reduce_identity(op: Op, dtype: DType) -> ConstValue {
    match op {
        Op::Mul => ConstValue::Int(1),
        Op::Max if dtype.is_float() => ConstValue::Float(f64::NEG_INFINITY),
        Op::Max => ConstValue::Int(dtype.int_min().unwrap_or(0)),
        _ => ConstValue::Int(0),
    }
}
