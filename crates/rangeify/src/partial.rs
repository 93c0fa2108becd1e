//! Partial contiguous: `CONTIGUOUS` with `Arg::Axes(listed)` (a tensor's
//! `contiguous_axes`). The listed axes are materialized, the others stay loops of the
//! consumer's kernel:
//!
//! - The source is lowered over its shape with a RANGE per dim, where the unlisted dims
//!   get placeholder ranges (`AxisType::Placeholder`), and simplified.
//! - Every largest subexpression whose free ranges are all listed-axis ranges and that
//!   loads something (it is work that depends on the listed axes only) is stored by a
//!   kernel of its own into a buffer of `prod(listed dims)` elements: it is computed once
//!   per value of the listed axes. A bare load is not copied.
//! - What is left (a template over all ranges, loading those buffers) is inlined into each
//!   consumer at the consumer's index, like any fused producer.
//!
//! So when the source does not vary along the unlisted axes (a broadcast), the buffer holds
//! it whole and the consumer only indexes it; when it does, the part that varies is
//! recomputed in the consumer. Listing every axis is `contiguous()`. A partial
//! `CONTIGUOUS` that is itself a requested output is realized whole.

use uop_ir::{Arg, AxisType, Op, UOp, UOpMap, UOpSet, linearize, substitute, toposort};

use crate::RangeifyError;
use crate::assign::Built;
use crate::lower::{LowerCtx, lower};
use crate::ranges::eval_node;

/// The inlinable rest of a partial `CONTIGUOUS`.
#[derive(Clone, Debug)]
pub struct Partial {
    /// Its value over `ranges`, loading `params[slot]` at PARAM `slot`.
    pub template: UOp,
    /// One per dim: a RANGE, or `0` for a size-1 dim.
    pub ranges: Vec<UOp>,
    pub params: Vec<UOp>,
    /// The tensor-graph nodes its kernels and template read (for ordering).
    pub reads: Vec<UOp>,
}

/// The listed axes of a partial `CONTIGUOUS`, or `None` for a whole one.
pub fn listed_axes(n: &UOp) -> Option<&[usize]> {
    match (n.op(), n.arg()) {
        (Op::Contiguous, Arg::Axes(axes)) => Some(axes),
        _ => None,
    }
}

/// Range nodes a node depends on, less those its own REDUCEs loop over.
fn free_ranges(value: &UOp) -> UOpMap<UOpSet> {
    let mut free: UOpMap<UOpSet> = Default::default();
    for n in toposort(value) {
        let mut f: UOpSet = Default::default();
        if n.op() == Op::Range {
            f.insert(n.clone());
        }
        for s in n.src() {
            f.extend(free[s].iter().cloned());
        }
        if n.op() == Op::Reduce {
            for r in &n.src()[1..] {
                f.remove(r);
            }
        }
        free.insert(n, f);
    }
    free
}

/// The kernels materializing the listed-axes part of partial `CONTIGUOUS` `n` (each with
/// the buffer it stores), and the template consumers inline. `low` is the context of its
/// kernel (`ranges`: one per dim, Loop ranges for the listed dims, Placeholder ranges for
/// the others, `0` for size-1 dims).
pub fn build(
    n: &UOp,
    ranges: &[UOp],
    low: &mut LowerCtx,
    device: &str,
) -> Result<(Partial, Vec<(UOp, Built)>), RangeifyError> {
    let shape = n.shape().unwrap_or(&[]);
    let listed = listed_axes(n).unwrap_or(&[]);
    if let Some(&axis) = listed.iter().find(|a| **a >= shape.len()) {
        return Err(RangeifyError::BadAxis {
            axis,
            rank: shape.len(),
        });
    }
    let mut kept_ranges = Vec::new();
    let mut kept_shape = Vec::new();
    for (r, &s) in ranges.iter().zip(shape) {
        if matches!(
            r.arg(),
            Arg::Range {
                kind: AxisType::Loop,
                ..
            }
        ) {
            kept_ranges.push(r.clone());
            kept_shape.push(s);
        }
    }
    let ranges = ranges.to_vec();
    let value = symbolic::simplify(&lower(&eval_node(&n.src()[0], &ranges, None), low)?)?;
    let kept: UOpSet = kept_ranges.iter().cloned().collect();
    let free = free_ranges(&value);
    let mut loads: UOpSet = Default::default();
    for u in toposort(&value) {
        if u.op() == Op::Load || u.src().iter().any(|s| loads.contains(s)) {
            loads.insert(u);
        }
    }
    let worth = |u: &UOp| {
        !matches!(u.op(), Op::Load | Op::Index | Op::Const | Op::Range)
            && u.dtype() != uop_ir::DType::Index
            && loads.contains(u)
            && free[u].is_subset(&kept)
    };
    // the largest such subexpressions, from the root down
    let mut pieces: Vec<UOp> = Vec::new();
    let mut seen: UOpSet = Default::default();
    let mut stack = vec![value.clone()];
    while let Some(u) = stack.pop() {
        if !seen.insert(u.clone()) {
            continue;
        }
        if worth(&u) {
            pieces.push(u);
        } else {
            stack.extend(u.src().iter().rev().cloned());
        }
    }
    let numel: i64 = kept_shape.iter().product();
    let at = linearize(&kept_ranges, &kept_shape);
    let mut params = low.params.clone();
    let mut replace: UOpMap<UOp> = Default::default();
    let mut kernels = Vec::new();
    let mut reads = low.reads.clone();
    for (j, piece) in pieces.iter().enumerate() {
        let buffer = UOp::new_buffer(piece.dtype(), numel as usize, device);
        let key = UOp::new(
            Op::Contiguous,
            piece.dtype(),
            [n.clone(), UOp::int(j as i64)],
            Arg::None,
        );
        // its own kernel: the piece's buffer is slot 0 (the template's slot 0 is unused)
        let out = UOp::new(Op::Param, piece.dtype(), [], Arg::Param { slot: 0 });
        let index = UOp::new(Op::Index, piece.dtype(), [out, at.clone()], Arg::None);
        let store = UOp::new(
            Op::Store,
            uop_ir::DType::Void,
            [index, piece.clone()],
            Arg::None,
        );
        let ast = symbolic::simplify(&UOp::new(Op::Sink, uop_ir::DType::Void, [store], Arg::None))?;
        let mut bufs = low.params.clone();
        bufs[0] = buffer.clone();
        let (ast, bufs) = crate::normalize::normalize(ast, bufs)?;
        kernels.push((
            buffer.clone(),
            Built {
                kernel: crate::Kernel { ast, buffers: bufs },
                node: key.clone(),
                reads: low.reads.clone(),
            },
        ));
        // the template loads it instead
        let slot = params.len() as u32;
        params.push(buffer);
        let param = UOp::new(Op::Param, piece.dtype(), [], Arg::Param { slot });
        let index = UOp::new(Op::Index, piece.dtype(), [param, at.clone()], Arg::None);
        replace.insert(
            piece.clone(),
            UOp::new(Op::Load, piece.dtype(), [index], Arg::None),
        );
        reads.push(key);
    }
    let partial = Partial {
        template: substitute(&value, &replace),
        ranges,
        params,
        reads,
    };
    Ok((partial, kernels))
}

impl Partial {
    /// The value at `idx` inside the kernel `low` builds (gated by `valid`).
    pub fn inline(&self, low: &mut LowerCtx, idx: &[UOp], valid: Option<UOp>) -> UOp {
        let mut map: UOpMap<UOp> = Default::default();
        for (r, i) in self.ranges.iter().zip(idx) {
            if r.op() == Op::Range {
                map.insert(r.clone(), i.clone());
            }
        }
        for u in toposort(&self.template) {
            match u.arg() {
                Arg::Param { slot } if u.op() == Op::Param => {
                    if let Some(b) = self.params.get(*slot as usize) {
                        map.insert(u.clone(), low.param(b));
                    }
                }
                Arg::Range {
                    kind: AxisType::Reduce,
                    ..
                } if u.op() == Op::Range => {
                    let r = UOp::range_of(u.src()[0].clone(), low.next_axis, AxisType::Reduce);
                    low.next_axis += 1;
                    map.insert(u.clone(), r);
                }
                _ => {}
            }
        }
        for r in &self.reads {
            low.read(r);
        }
        let value = substitute(&self.template, &map);
        let Some(valid) = valid else {
            return value;
        };
        // loads happen only where the point is real
        let gates: UOpMap<UOp> = toposort(&value)
            .into_iter()
            .filter(|u| u.op() == Op::Index && u.src().len() == 2)
            .map(|u| {
                let off = valid.where_(&u.src()[1], &UOp::invalid());
                let gated = u.with_src([u.src()[0].clone(), off]);
                (u, gated)
            })
            .collect();
        substitute(&value, &gates)
    }
}
