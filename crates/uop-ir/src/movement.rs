//! Movement ops as pure functions on index expressions. Given the index of a point of a
//! movement op's output (one expression per output dim), `input_index` returns the index
//! into its input and the condition under which that point is real (not padding). Ranges
//! flow from consumers to producers: a chain of movement ops is walked backwards. Rangeify
//! and `cargo xtask fuzz-symbolic` both use exactly these functions.

use std::fmt;

use thiserror::Error;

use crate::uop::UOp;

/// A movement op with its static argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Movement {
    /// Same elements, new shape (row-major).
    Reshape(Vec<i64>),
    /// Output dim `i` is input dim `p[i]`.
    Permute(Vec<usize>),
    /// Size-1 dims broadcast to the new sizes; the rank stays.
    Expand(Vec<i64>),
    /// `(before, after)` zeros around each dim.
    Pad(Vec<(i64, i64)>),
    /// Keep `begin..end` of each dim.
    Shrink(Vec<(i64, i64)>),
    /// Reverse the dims marked true.
    Flip(Vec<bool>),
}

/// A movement op that does not fit its input, or a shape that is not a shape.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ShapeError {
    #[error("shape {shape:?} has a dim of size {dim}: dims cannot be negative")]
    NegativeDim { shape: Vec<i64>, dim: i64 },
    #[error("shape {0:?} has more elements than fit in an i64")]
    Overflow(Vec<i64>),
    #[error("{op} has {got} entries for a tensor of rank {rank}")]
    RankMismatch {
        op: &'static str,
        got: usize,
        rank: usize,
    },
    #[error("reshape from {from:?} to {to:?} changes the number of elements")]
    ReshapeSize { from: Vec<i64>, to: Vec<i64> },
    #[error("permute {0:?} is not a permutation of the axes")]
    NotAPermutation(Vec<usize>),
    #[error("expand from {from:?} to {to:?}: only size-1 dims can grow")]
    BadExpand { from: Vec<i64>, to: Vec<i64> },
    #[error("pad {0:?} has a negative amount")]
    NegativePad(Vec<(i64, i64)>),
    #[error("shrink {arg:?} does not fit inside shape {shape:?}")]
    BadShrink {
        arg: Vec<(i64, i64)>,
        shape: Vec<i64>,
    },
}

/// The number of elements of `shape`, after checking that no dim is negative and the
/// total fits in an i64. A dim of size 0 is legal (the tensor has no elements).
pub fn checked_numel(shape: &[i64]) -> Result<i64, ShapeError> {
    if let Some(&dim) = shape.iter().find(|d| **d < 0) {
        return Err(ShapeError::NegativeDim {
            shape: shape.to_vec(),
            dim,
        });
    }
    shape
        .iter()
        .try_fold(1i64, |acc, d| acc.checked_mul(*d))
        .ok_or_else(|| ShapeError::Overflow(shape.to_vec()))
}

/// Row-major strides of a contiguous tensor of this shape.
pub fn contiguous_strides(shape: &[i64]) -> Vec<i64> {
    let mut strides = vec![1i64; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        strides[i] = strides[i + 1].saturating_mul(shape[i + 1]);
    }
    strides
}

impl Movement {
    fn name(&self) -> &'static str {
        match self {
            Movement::Reshape(_) => "reshape",
            Movement::Permute(_) => "permute",
            Movement::Expand(_) => "expand",
            Movement::Pad(_) => "pad",
            Movement::Shrink(_) => "shrink",
            Movement::Flip(_) => "flip",
        }
    }

    fn check_rank(&self, got: usize, rank: usize) -> Result<(), ShapeError> {
        if got == rank {
            Ok(())
        } else {
            Err(ShapeError::RankMismatch {
                op: self.name(),
                got,
                rank,
            })
        }
    }

    /// The output shape for an input of `shape`, or why the op does not apply.
    pub fn output_shape(&self, shape: &[i64]) -> Result<Vec<i64>, ShapeError> {
        checked_numel(shape)?;
        let out = match self {
            Movement::Reshape(new) => {
                if checked_numel(new)? != checked_numel(shape)? {
                    return Err(ShapeError::ReshapeSize {
                        from: shape.to_vec(),
                        to: new.clone(),
                    });
                }
                new.clone()
            }
            Movement::Permute(p) => {
                self.check_rank(p.len(), shape.len())?;
                let mut seen = vec![false; p.len()];
                for &a in p {
                    if a >= p.len() || std::mem::replace(&mut seen[a], true) {
                        return Err(ShapeError::NotAPermutation(p.clone()));
                    }
                }
                p.iter().map(|&a| shape[a]).collect()
            }
            Movement::Expand(new) => {
                self.check_rank(new.len(), shape.len())?;
                if shape.iter().zip(new).any(|(s, n)| s != n && *s != 1) {
                    return Err(ShapeError::BadExpand {
                        from: shape.to_vec(),
                        to: new.clone(),
                    });
                }
                checked_numel(new)?;
                new.clone()
            }
            Movement::Pad(p) => {
                self.check_rank(p.len(), shape.len())?;
                if p.iter().any(|(b, a)| *b < 0 || *a < 0) {
                    return Err(ShapeError::NegativePad(p.clone()));
                }
                let out: Option<Vec<i64>> = shape
                    .iter()
                    .zip(p)
                    .map(|(s, (b, a))| s.checked_add(*b)?.checked_add(*a))
                    .collect();
                let out = out.ok_or_else(|| ShapeError::Overflow(shape.to_vec()))?;
                checked_numel(&out)?;
                out
            }
            Movement::Shrink(arg) => {
                self.check_rank(arg.len(), shape.len())?;
                if shape
                    .iter()
                    .zip(arg)
                    .any(|(s, (b, e))| *b < 0 || e < b || e > s)
                {
                    return Err(ShapeError::BadShrink {
                        arg: arg.clone(),
                        shape: shape.to_vec(),
                    });
                }
                arg.iter().map(|(b, e)| e - b).collect()
            }
            Movement::Flip(f) => {
                self.check_rank(f.len(), shape.len())?;
                shape.to_vec()
            }
        };
        Ok(out)
    }

    /// The input index for output index `out` (one expression per output dim), and the
    /// condition (if any) under which the point is not padding. `shape` is the input shape;
    /// the op must fit it (see `output_shape`).
    pub fn input_index(&self, shape: &[i64], out: &[UOp]) -> (Vec<UOp>, Option<UOp>) {
        match self {
            Movement::Reshape(new) => {
                let flat = linearize(out, new);
                let strides = contiguous_strides(shape);
                let idx = (0..shape.len())
                    .map(|j| {
                        let q = if strides[j] == 1 {
                            flat.clone()
                        } else {
                            flat.floordiv(strides[j])
                        };
                        if j == 0 { q } else { q.floormod(shape[j]) }
                    })
                    .collect();
                (idx, None)
            }
            Movement::Permute(p) => {
                let mut idx = vec![UOp::int(0); shape.len()];
                for (i, &a) in p.iter().enumerate() {
                    idx[a] = out[i].clone();
                }
                (idx, None)
            }
            Movement::Expand(new) => {
                let idx = shape
                    .iter()
                    .zip(new)
                    .zip(out)
                    .map(|((s, n), o)| if s == n { o.clone() } else { UOp::int(0) })
                    .collect();
                (idx, None)
            }
            Movement::Pad(p) => {
                let mut valid: Option<UOp> = None;
                let mut idx = Vec::with_capacity(shape.len());
                for ((o, (b, a)), s) in out.iter().zip(p).zip(shape) {
                    if *b > 0 {
                        valid = and_opt(valid, o.ge(*b));
                    }
                    if *a > 0 {
                        valid = and_opt(valid, o.lt(b + s));
                    }
                    idx.push(if *b > 0 { o - *b } else { o.clone() });
                }
                (idx, valid)
            }
            Movement::Shrink(arg) => (
                out.iter()
                    .zip(arg)
                    .map(|(o, (b, _))| if *b > 0 { o + *b } else { o.clone() })
                    .collect(),
                None,
            ),
            Movement::Flip(f) => {
                let idx = out
                    .iter()
                    .zip(f)
                    .zip(shape)
                    .map(|((o, fl), s)| if *fl { UOp::int(s - 1) - o } else { o.clone() })
                    .collect();
                (idx, None)
            }
        }
    }
}

fn and_opt(a: Option<UOp>, b: UOp) -> Option<UOp> {
    Some(match a {
        Some(a) => a.and(b),
        None => b,
    })
}

/// `Σ idx[i] * stride[i]` for a contiguous tensor of `shape` (size-1 dims skipped).
pub fn linearize(idx: &[UOp], shape: &[i64]) -> UOp {
    let strides = contiguous_strides(shape);
    let mut terms = idx
        .iter()
        .zip(shape)
        .zip(&strides)
        .filter(|((_, s), _)| **s != 1)
        .map(|((i, _), st)| if *st == 1 { i.clone() } else { i * *st });
    let first = terms.next().unwrap_or_else(|| UOp::int(0));
    terms.fold(first, |acc, t| acc + t)
}

/// The gated flat offset into a contiguous buffer of `base` shape at the point `out` of
/// the result of applying `chain` to it: `valid.where(offset, Invalid)`, or the plain
/// offset when nothing pads. Also returns the shape after each op (`shapes[0] == base`).
pub fn index_through(
    base: &[i64],
    chain: &[Movement],
    out: &[UOp],
) -> Result<(UOp, Vec<Vec<i64>>), ShapeError> {
    let mut shapes = vec![base.to_vec()];
    for m in chain {
        let next = m.output_shape(shapes.last().map_or(&[][..], Vec::as_slice))?;
        shapes.push(next);
    }
    let mut idx = out.to_vec();
    let mut valid: Option<UOp> = None;
    for (m, shape) in chain.iter().zip(&shapes).rev() {
        let (i, v) = m.input_index(shape, &idx);
        idx = i;
        if let Some(v) = v {
            valid = and_opt(valid, v);
        }
    }
    let offset = linearize(&idx, base);
    let gated = match valid {
        Some(v) => v.where_(&offset, &UOp::invalid()),
        None => offset,
    };
    Ok((gated, shapes))
}

impl fmt::Display for Movement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Movement::Reshape(a) | Movement::Expand(a) => write!(f, "{}{a:?}", self.name()),
            Movement::Permute(a) => write!(f, "permute{a:?}"),
            Movement::Pad(a) | Movement::Shrink(a) => write!(f, "{}{a:?}", self.name()),
            Movement::Flip(a) => write!(f, "flip{a:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::Evaluator;

    fn offsets(base: &[i64], chain: &[Movement]) -> Vec<Option<i128>> {
        let mut shapes = vec![base.to_vec()];
        for m in chain {
            shapes.push(
                m.output_shape(shapes.last().expect("non-empty"))
                    .expect("fits"),
            );
        }
        let out_shape = shapes.last().expect("non-empty").clone();
        let ranges: Vec<UOp> = out_shape
            .iter()
            .enumerate()
            .map(|(i, s)| UOp::range(*s, i as u32))
            .collect();
        let (e, _) = index_through(base, chain, &ranges).expect("fits");
        let mut ev = Evaluator::new(&e).expect("flattens");
        let n = checked_numel(&out_shape).expect("positive");
        (0..n)
            .map(|flat| {
                let point: Vec<i128> = out_shape
                    .iter()
                    .zip(contiguous_strides(&out_shape))
                    .map(|(s, st)| ((flat / st) % s) as i128)
                    .collect();
                let values: Vec<i128> = ev
                    .leaves()
                    .iter()
                    .map(|l| match l.arg() {
                        crate::arg::Arg::Range { axis, .. } => point[*axis as usize],
                        _ => 0,
                    })
                    .collect();
                ev.eval(&values).ok().and_then(|v| v.as_int())
            })
            .collect()
    }

    #[test]
    fn permute_and_flip() {
        let got = offsets(
            &[2, 3],
            &[
                Movement::Permute(vec![1, 0]),
                Movement::Flip(vec![true, false]),
            ],
        );
        let expect = [2, 5, 1, 4, 0, 3].map(Some);
        assert_eq!(got, expect);
    }

    #[test]
    fn pad_marks_padding_invalid() {
        let got = offsets(&[2], &[Movement::Pad(vec![(1, 2)])]);
        assert_eq!(got, vec![None, Some(0), Some(1), None, None]);
    }

    #[test]
    fn reshape_expand_shrink() {
        let got = offsets(
            &[6],
            &[
                Movement::Reshape(vec![2, 1, 3]),
                Movement::Expand(vec![2, 2, 3]),
                Movement::Shrink(vec![(1, 2), (0, 2), (1, 3)]),
            ],
        );
        assert_eq!(got, [4, 5, 4, 5].map(Some));
    }

    #[test]
    fn bad_arguments_are_errors() {
        assert!(matches!(
            checked_numel(&[3, -1]),
            Err(ShapeError::NegativeDim { dim: -1, .. })
        ));
        assert_eq!(checked_numel(&[3, 0]), Ok(0));
        assert!(matches!(
            checked_numel(&[1 << 40, 1 << 40]),
            Err(ShapeError::Overflow(_))
        ));
        assert!(Movement::Permute(vec![0, 0]).output_shape(&[2, 2]).is_err());
        assert!(Movement::Reshape(vec![5]).output_shape(&[2, 2]).is_err());
        assert!(Movement::Expand(vec![4]).output_shape(&[2]).is_err());
        assert!(Movement::Shrink(vec![(2, 1)]).output_shape(&[2]).is_err());
        assert_eq!(
            Movement::Shrink(vec![(1, 1)]).output_shape(&[2]),
            Ok(vec![0])
        );
        assert!(Movement::Pad(vec![(-1, 0)]).output_shape(&[2]).is_err());
        assert!(Movement::Flip(vec![true]).output_shape(&[2, 2]).is_err());
    }
}
