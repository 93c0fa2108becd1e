//! Blocked accumulation: a float sum that folds many elements into each output becomes a
//! chain of sums that each fold at most `SUM_BLOCK` elements, so no accumulator adds more
//! than `SUM_BLOCK` terms and the rounding error grows with the number of levels (about
//! `log(n) / log(SUM_BLOCK)`) instead of with `n`. A sum of 2^33 ones in one f32
//! accumulator stops growing at 2^24; blocked, every level is exact.
//!
//! `REDUCE(x, axes)` -> `REDUCE(RESHAPE(REDUCE(RESHAPE(x, .., n/q, q, ..), [a+1]), ..), ..)`
//!
//! Reduced axes are folded one at a time, innermost first; an axis longer than
//! `SUM_BLOCK` is split into `(n/q, q)` with `q` the largest divisor of `n` in
//! `SUM_BLOCK/4..=SUM_BLOCK` (or padded with zeros to a multiple of `SUM_BLOCK` when it
//! has none), its inner part folded, and its outer part split again while it is still
//! too long. Every level stays in the same kernel: rangeify fuses a reduction into the
//! reduction that reads it, and the linearizer gives each level its own accumulator.
//! Other reductions (MAX, integer sums: exact) and sums of at most `SUM_BLOCK` elements
//! per output are left alone.

use uop_ir::{Arg, DType, Op, UOp};

/// The most terms one accumulator adds.
pub const SUM_BLOCK: i64 = 1024;

/// Whether a reduction by `op` of `dtype` values is blocked when it is long.
pub fn needs_blocking(op: Op, dtype: DType) -> bool {
    op == Op::Add && dtype.is_float()
}

/// `REDUCE(x, axes)` (x of `shape`, kept dims of size 1), blocked as the module doc says
/// when it sums floats and folds more than `SUM_BLOCK` elements per output; else the
/// plain REDUCE.
pub fn blocked_reduce(op: Op, x: &UOp, shape: &[i64], axes: &[usize]) -> UOp {
    let reduced: i64 = axes.iter().map(|&a| shape[a]).product();
    if !needs_blocking(op, x.dtype()) || reduced <= SUM_BLOCK {
        return reduce(op, x.clone(), axes.to_vec());
    }
    let mut value = x.clone();
    let mut shape = shape.to_vec();
    for &a in axes.iter().rev() {
        while shape[a] > SUM_BLOCK {
            let n = shape[a];
            let q = (SUM_BLOCK / 4..=SUM_BLOCK).rev().find(|q| n % q == 0);
            let (q, padded) = match q {
                Some(q) => (q, n),
                None => (SUM_BLOCK, (n + SUM_BLOCK - 1) / SUM_BLOCK * SUM_BLOCK),
            };
            if padded != n {
                let mut pads = vec![(0, 0); shape.len()];
                pads[a] = (0, padded - n);
                value = movement(Op::Pad, value, Arg::Pairs(pads.into()));
            }
            let mut split = shape[..a].to_vec();
            split.extend([padded / q, q]);
            split.extend_from_slice(&shape[a + 1..]);
            value = movement(Op::Reshape, value, Arg::Shape(split.into()));
            value = reduce(op, value, vec![a + 1]);
            shape[a] = padded / q;
            value = movement(Op::Reshape, value, Arg::Shape(shape.clone().into()));
        }
        value = reduce(op, value, vec![a]);
        shape[a] = 1;
    }
    value
}

fn reduce(op: Op, x: UOp, axes: Vec<usize>) -> UOp {
    UOp::new(
        Op::Reduce,
        x.dtype(),
        [x],
        Arg::Reduce {
            op,
            axes: axes.into(),
        },
    )
}

fn movement(op: Op, x: UOp, arg: Arg) -> UOp {
    UOp::new(op, x.dtype(), [x], arg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use uop_ir::toposort;

    fn input(shape: &[i64], dtype: DType) -> UOp {
        let n: i64 = shape.iter().product();
        let b = UOp::new_buffer(dtype, n as usize, "CPU");
        movement(Op::Reshape, b, Arg::Shape(shape.to_vec().into()))
    }

    /// The most terms any REDUCE in `r` folds per output.
    fn widest_fold(r: &UOp) -> i64 {
        toposort(r)
            .iter()
            .filter(|n| n.op() == Op::Reduce)
            .map(|n| match (n.arg(), n.src()[0].shape()) {
                (Arg::Reduce { axes, .. }, Some(s)) => axes.iter().map(|&a| s[a]).product::<i64>(),
                _ => 0,
            })
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn long_float_sums_fold_at_most_a_block_per_level() {
        for (shape, axes) in [
            (vec![1i64 << 22], vec![0usize]),
            (vec![3, 5000, 7], vec![1]),
            (vec![40, 30, 1000], vec![0, 2]),
            (vec![1_000_003], vec![0]), // prime: padded
            (vec![2048, 2048], vec![0, 1]),
        ] {
            let x = input(&shape, DType::F32);
            let r = blocked_reduce(Op::Add, &x, &shape, &axes);
            let widest = widest_fold(&r);
            assert!(widest <= SUM_BLOCK, "{shape:?} {axes:?}: {widest}");
            let mut kept = shape.clone();
            axes.iter().for_each(|&a| kept[a] = 1);
            assert_eq!(r.shape(), Some(&kept[..]), "{shape:?} {axes:?}");
        }
    }

    #[test]
    fn short_sums_maxes_and_integer_sums_stay_one_reduce() {
        for (op, dtype, shape) in [
            (Op::Add, DType::F32, vec![32i64, 32]),
            (Op::Max, DType::F32, vec![1 << 20, 1]),
            (Op::Add, DType::I64, vec![1 << 20, 1]),
        ] {
            let x = input(&shape, dtype);
            let r = blocked_reduce(op, &x, &shape, &[0, 1]);
            assert_eq!(r, reduce(op, x, vec![0, 1]));
        }
    }
}
