//! The split-reduce rule, applied to the tensor graph before scheduling: a reduction of
//! many elements into few outputs has no output loop worth spreading over threads, so it
//! becomes two reductions (as tinygrad's `split_reduceop` does):
//!
//! `REDUCE(x, axes)` -> `RESHAPE(REDUCE(CONTIGUOUS(REDUCE(RESHAPE(x, .., d, n/d, ..),
//! axes')), [a]), out_shape)`
//!
//! where `a` is the longest reduced axis (extent `n`), `d` the largest divisor of `n` in
//! `SPLIT_PARTS`, and `axes'` the reduced axes with `a` replaced by its inner half. The
//! first kernel computes `d` partial results per output (an output loop of `d` the THREAD
//! opt can split), the second combines them. It applies when the reduction folds at least
//! `SPLIT_MIN_REDUCED` elements into at most `SPLIT_MAX_OUTPUTS` outputs. Float sums are
//! reassociated, as every parallel sum is. Every float sum, split or not, is also blocked
//! (`block_reduce.rs`) so that no accumulator adds more than `SUM_BLOCK` terms.

use std::collections::HashMap;

use std::sync::LazyLock;

use uop_ir::{Arg, Mode, Op, PatternMatcher, UOp, UPat, graph_rewrite};

use crate::RangeifyError;
use crate::block_reduce::blocked_reduce;

/// Reductions folding fewer elements than this stay one kernel.
pub const SPLIT_MIN_REDUCED: i64 = 1 << 15;
/// Reductions with more outputs than this stay one kernel (their output loop is split
/// across threads instead).
pub const SPLIT_MAX_OUTPUTS: i64 = 16;
/// The partial counts tried, largest first.
pub const SPLIT_PARTS: std::ops::RangeInclusive<i64> = 8..=256;

/// The nodes the rules replaced, as each was when its rule fired (old -> new).
#[derive(Debug, Default)]
pub struct Replaced(pub HashMap<UOp, UOp>);

/// Rule set "split reductions".
pub fn pm_split_reduce() -> PatternMatcher<Replaced> {
    PatternMatcher::new()
        // REDUCE(x, axes) -> RESHAPE(REDUCE(CONTIGUOUS(REDUCE(RESHAPE(x), axes')), a))
        // when it folds many elements into few outputs
        .rule_ctx(
            "REDUCE(x) -> REDUCE(CONTIGUOUS(partials))",
            UPat::op(Op::Reduce).named("r"),
            |c: &mut Replaced, b| {
                let r = &b["r"];
                let new = split_one(r, r.src()[0].shape()?, r.shape()?)?;
                c.0.insert(r.clone(), new.clone());
                Some(new)
            },
        )
        // REDUCE_ADD(x: float, axes) -> REDUCE(RESHAPE(REDUCE(RESHAPE(x), inner))) when it
        // folds more than SUM_BLOCK elements per output
        .rule_ctx(
            "REDUCE_ADD(x) -> blocked levels",
            UPat::op(Op::Reduce).named("r"),
            |c: &mut Replaced, b| {
                let r = &b["r"];
                let Arg::Reduce { op, axes } = r.arg() else {
                    return None;
                };
                let op: &Op = op;
                let new = blocked_reduce(*op, &r.src()[0], r.src()[0].shape()?, &axes[..]);
                (new != *r).then(|| {
                    c.0.insert(r.clone(), new.clone());
                    new
                })
            },
        )
}

static PM_SPLIT: LazyLock<PatternMatcher<Replaced>> = LazyLock::new(pm_split_reduce);

/// Whether a rule of `pm_split_reduce` applies to a REDUCE of `order` (a toposort of the
/// graph). When none does, `split_reductions` would give the graph back unchanged (the
/// rules see only REDUCE nodes, and no source of one would change).
pub fn any_split(order: &[UOp]) -> Result<bool, RangeifyError> {
    let mut scratch = Replaced::default();
    for n in order.iter().filter(|n| n.op() == Op::Reduce) {
        let fired = PM_SPLIT
            .rewrite(&mut scratch, n)
            .map_err(|f| RangeifyError::Malformed(format!("{}: {}", f.rule, f.message)))?;
        if fired.is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// `sink` with every qualifying REDUCE split in two (or blocked), and the replaced
/// nodes (old -> new).
pub fn split_reductions(sink: &UOp) -> Result<(UOp, HashMap<UOp, UOp>), RangeifyError> {
    let mut replaced = Replaced::default();
    let out = graph_rewrite(sink, &PM_SPLIT, &mut replaced, Mode::PostOrder)?;
    Ok((out, replaced.0))
}

/// The two-step form of `red` (see the module doc), or `None` when it does not qualify.
fn split_one(red: &UOp, src_shape: &[i64], out_shape: &[i64]) -> Option<UOp> {
    let Arg::Reduce { op, axes } = red.arg() else {
        return None;
    };
    let reduced: i64 = axes.iter().map(|&a| src_shape[a]).product();
    let outputs: i64 = out_shape.iter().product();
    if reduced < SPLIT_MIN_REDUCED || outputs > SPLIT_MAX_OUTPUTS {
        return None;
    }
    let &a = axes.iter().max_by_key(|&&a| (src_shape[a], a))?;
    let n = src_shape[a];
    let d = SPLIT_PARTS.rev().find(|d| n % d == 0 && n / d >= 2)?;
    let mut split_shape = src_shape[..a].to_vec();
    split_shape.extend([d, n / d]);
    split_shape.extend_from_slice(&src_shape[a + 1..]);
    let inner_axes: Vec<usize> = axes
        .iter()
        .map(|&x| if x < a { x } else { x + 1 })
        .collect();
    let dtype = red.dtype();
    let x = UOp::new(
        Op::Reshape,
        dtype,
        [red.src()[0].clone()],
        Arg::Shape(split_shape.clone().into()),
    );
    let partial = blocked_reduce(*op, &x, &split_shape, &inner_axes);
    let mut partial_shape = split_shape;
    inner_axes.iter().for_each(|&i| partial_shape[i] = 1);
    let partial = UOp::new(Op::Contiguous, dtype, [partial], Arg::None);
    let combined = blocked_reduce(*op, &partial, &partial_shape, &[a]);
    Some(UOp::new(
        Op::Reshape,
        dtype,
        [combined],
        Arg::Shape(out_shape.to_vec().into()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use uop_ir::DType;

    fn buffer(shape: &[i64]) -> UOp {
        let n: i64 = shape.iter().product();
        let b = UOp::new_buffer(DType::F32, n as usize, "CPU");
        UOp::new(
            Op::Reshape,
            DType::F32,
            [b],
            Arg::Shape(shape.to_vec().into()),
        )
    }

    fn reduce(x: &UOp, op: Op, axes: &[usize]) -> UOp {
        UOp::new(
            Op::Reduce,
            DType::F32,
            [x.clone()],
            Arg::Reduce {
                op,
                axes: axes.to_vec().into(),
            },
        )
    }

    fn sink(x: &UOp) -> UOp {
        UOp::new(Op::Sink, DType::Void, [x.clone()], Arg::None)
    }

    #[test]
    fn a_large_full_reduction_becomes_partials_then_their_reduction() {
        let r = reduce(&buffer(&[1 << 16]), Op::Add, &[0]);
        let (out, replaced) = split_reductions(&sink(&r)).unwrap();
        let new = &replaced[&r];
        assert_eq!(&out.src()[0], new);
        // RESHAPE(REDUCE(CONTIGUOUS(REDUCE(RESHAPE(x, [256, 256]), [1])), [0]), [1])
        assert_eq!(new.op(), Op::Reshape);
        let combined = &new.src()[0];
        assert_eq!(
            combined.arg(),
            &Arg::Reduce {
                op: Op::Add,
                axes: vec![0].into()
            }
        );
        let partial = &combined.src()[0];
        assert_eq!(partial.op(), Op::Contiguous);
        let inner = &partial.src()[0];
        assert_eq!(
            inner.arg(),
            &Arg::Reduce {
                op: Op::Add,
                axes: vec![1].into()
            }
        );
        assert_eq!(inner.src()[0].arg(), &Arg::Shape(vec![256, 256].into()));
        assert_eq!(new.shape(), Some(&[1][..]));
    }

    #[test]
    fn the_longest_reduced_axis_is_split_and_other_axes_shift() {
        // (4, 3, 40000) reduced over 0 and 2: 40000 = 250 * 160
        let r = reduce(&buffer(&[4, 3, 40000]), Op::Max, &[0, 2]);
        let (_, replaced) = split_reductions(&sink(&r)).unwrap();
        let inner = &replaced[&r].src()[0].src()[0].src()[0];
        assert_eq!(
            inner.arg(),
            &Arg::Reduce {
                op: Op::Max,
                axes: vec![0, 3].into()
            }
        );
        assert_eq!(
            inner.src()[0].arg(),
            &Arg::Shape(vec![4, 3, 250, 160].into())
        );
    }

    #[test]
    fn small_or_wide_reductions_stay_whole() {
        for (shape, axes) in [
            (vec![1 << 14], vec![0]),     // too few elements
            (vec![64, 1 << 15], vec![1]), // too many outputs
            (vec![32771], vec![0]),       // a prime extent has no divisor in 8..=256
        ] {
            // (a MAX: a float sum this long would be blocked, see `block_reduce`)
            let r = reduce(&buffer(&shape), Op::Max, &axes);
            let (out, replaced) = split_reductions(&sink(&r)).unwrap();
            assert!(replaced.is_empty(), "{shape:?}");
            assert_eq!(out.src()[0], r);
        }
    }
}
