//! `View::reshape`: reinterpret the row-major order of a view's points under a new shape,
//! when the result is again one view.
//!
//! Size-1 axes carry nothing and are dropped on both sides. The remaining old and new axes
//! are cut into the smallest *groups* whose sizes multiply to the same number, walking
//! from the innermost axis; each group is handled on its own, in two steps:
//!
//! 1. *Merge* the group's old axes into one flat axis `f`. This needs the valid points to
//!    form one interval `[lo, last]` of `f`, and the offset to be affine in `f` there:
//!    every axis outside the outermost varying axis `q` is then fixed to one point, every
//!    axis inside `q` is full, and the axes from `q` inwards must chain
//!    (`strideⱼ = sizeⱼ₊₁·strideⱼ₊₁`; zero-stride runs chain too). The offset is then
//!    `c + s·f` with `s` the innermost stride and `c = Σ beginⱼ·strideⱼ − s·lo`.
//! 2. *Split* `f` into the group's new axes. `f ↦ (yₖ)` is row-major, so strides are
//!    `s·placeₖ`. The interval must be a box in the new coordinates: the digitwise
//!    minimum and maximum are those of `lo` and `last`, and the box between them must
//!    hold exactly `last − lo + 1` points; otherwise the reshape would cut the mask.
//!
//! Anything else returns `None` (the caller then stacks a new view), as does any
//! intermediate `i64` overflow: the result is exact or absent.

use crate::error::{Result, ViewError};
use crate::views::{View, place_values, shape_size, unravel};

/// One old axis of a group: its size, stride and valid range `[begin, end)`.
#[derive(Debug, Clone, Copy)]
struct Axis {
    size: i64,
    stride: i64,
    begin: i64,
    end: i64,
}

/// A merged group: valid flat interval `[lo, last]` and offset `c + s·f` on it.
#[derive(Debug, Clone, Copy)]
struct Merged {
    lo: i64,
    last: i64,
    c: i64,
    s: i64,
}

impl View {
    /// This view's points reinterpreted under `new_shape` in row-major order, or
    /// `Ok(None)` when no single view expresses the result.
    ///
    /// Errors: a negative or overflowing `new_shape`, or another element count.
    pub fn reshape(&self, new_shape: &[i64]) -> Result<Option<View>> {
        let v = self.canonical()?;
        let count = shape_size(new_shape)?;
        if count != shape_size(&v.shape)? {
            return Err(ViewError::ReshapeCount {
                from: v.shape,
                to: new_shape.to_vec(),
            });
        }
        if v.shape == new_shape {
            return Ok(Some(v));
        }
        if count == 0 || v.contiguous {
            return View::contiguous_of(new_shape).map(Some);
        }
        if v.has_no_valid_point() {
            return Ok(Some(View::all_invalid(new_shape.to_vec())));
        }
        match reshape_groups(&v, new_shape) {
            Some((strides, offset, mask)) => {
                View::create(new_shape.to_vec(), strides, offset, Some(mask)).map(Some)
            }
            None => Ok(None),
        }
    }
}

/// Strides, offset and mask of a reshaped view.
type Parts = (Vec<i64>, i64, Vec<(i64, i64)>);

/// The parts of canonical `v` (with at least one valid point) reshaped to `new_shape`,
/// group by group.
fn reshape_groups(v: &View, new_shape: &[i64]) -> Option<Parts> {
    let valid = v.valid_box();
    let old: Vec<Axis> = v
        .shape
        .iter()
        .zip(&v.strides)
        .zip(&valid)
        .filter(|&((&size, _), _)| size != 1)
        .map(|((&size, &stride), &(begin, end))| Axis {
            size,
            stride,
            begin,
            end,
        })
        .collect();
    let new: Vec<usize> = (0..new_shape.len())
        .filter(|&a| new_shape.get(a) != Some(&1))
        .collect();
    let mut strides = vec![0; new_shape.len()];
    let mut mask: Vec<(i64, i64)> = new_shape.iter().map(|&dim| (0, dim)).collect();
    let mut offset = v.offset;
    let (mut i, mut j) = (old.len(), new.len());
    while i > 0 && j > 0 {
        let (old_end, new_end) = (i, j);
        i -= 1;
        j -= 1;
        let mut old_size = old.get(i)?.size;
        let mut new_size = *new_shape.get(*new.get(j)?)?;
        while old_size != new_size {
            if old_size < new_size {
                i = i.checked_sub(1)?;
                old_size = old_size.checked_mul(old.get(i)?.size)?;
            } else {
                j = j.checked_sub(1)?;
                new_size = new_size.checked_mul(*new_shape.get(*new.get(j)?)?)?;
            }
        }
        let merged = merge_group(old.get(i..old_end)?)?;
        offset = offset.checked_add(merged.c)?;
        let group = new.get(j..new_end)?;
        let sizes: Vec<i64> = group
            .iter()
            .map(|&a| new_shape.get(a).copied())
            .collect::<Option<_>>()?;
        for (&a, (stride, range)) in group.iter().zip(split_group(merged, &sizes)?) {
            *strides.get_mut(a)? = stride;
            *mask.get_mut(a)? = range;
        }
    }
    (i == 0 && j == 0).then_some((strides, offset, mask))
}

/// Step 1: the group's old axes as one flat axis, if its valid points are an interval on
/// which the offset is affine.
fn merge_group(axes: &[Axis]) -> Option<Merged> {
    let sizes: Vec<i64> = axes.iter().map(|a| a.size).collect();
    let places = place_values(&sizes)?;
    let (mut lo, mut last, mut count, mut base) = (0i64, 0i64, 1i64, 0i64);
    for (a, &place) in axes.iter().zip(&places) {
        lo = lo.checked_add(a.begin.checked_mul(place)?)?;
        last = last.checked_add((a.end - 1).checked_mul(place)?)?;
        count = count.checked_mul(a.end - a.begin)?;
        base = base.checked_add(a.begin.checked_mul(a.stride)?)?;
    }
    // `[lo, last]` is the box's digitwise min and max, so it is the box iff sizes agree.
    if last.checked_sub(lo)?.checked_add(1)? != count {
        return None;
    }
    let s = match axes.iter().position(|a| a.end - a.begin > 1) {
        None => 0,
        Some(q) => {
            let chained = axes.get(q..)?.windows(2).all(|w| match w {
                [outer, inner] => inner.size.checked_mul(inner.stride) == Some(outer.stride),
                _ => false,
            });
            if !chained {
                return None;
            }
            axes.last()?.stride
        }
    };
    let c = base.checked_sub(s.checked_mul(lo)?)?;
    Some(Merged { lo, last, c, s })
}

/// Step 2: stride and valid range of each new axis of a group, if the merged interval is
/// a box in the new coordinates.
fn split_group(merged: Merged, sizes: &[i64]) -> Option<Vec<(i64, (i64, i64))>> {
    let places = place_values(sizes)?;
    let first = unravel(sizes, merged.lo)?;
    let last = unravel(sizes, merged.last)?;
    let mut count: i64 = 1;
    for (&b, &e) in first.iter().zip(&last) {
        if e < b {
            return None;
        }
        count = count.checked_mul(e - b + 1)?;
    }
    if count != merged.last - merged.lo + 1 {
        return None;
    }
    places
        .iter()
        .zip(first.iter().zip(&last))
        .map(|(&place, (&b, &e))| Some((merged.s.checked_mul(place)?, (b, e + 1))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(shape: &[i64]) -> View {
        View::contiguous_of(shape).expect("valid shape")
    }

    fn reshaped(v: &View, shape: &[i64]) -> Option<View> {
        v.reshape(shape).expect("valid reshape")
    }

    #[test]
    fn contiguous_reshape_stays_contiguous() {
        let v = reshaped(&base(&[2, 3, 4]), &[6, 4]).expect("fits");
        assert!(v.contiguous);
    }

    #[test]
    fn unit_axes_come_and_go() {
        let v = base(&[4, 3]).permute(&[1, 0]).expect("permute");
        let r = reshaped(&v, &[1, 3, 1, 4, 1]).expect("fits");
        assert_eq!(r.strides, vec![0, 1, 0, 3, 0]);
    }

    #[test]
    fn permuted_axes_split_but_do_not_merge() {
        let v = base(&[4, 6]).permute(&[1, 0]).expect("permute");
        let r = reshaped(&v, &[2, 3, 2, 2]).expect("fits");
        assert_eq!(r.strides, vec![3, 1, 12, 6]);
        assert_eq!(reshaped(&v, &[24]), None);
    }

    #[test]
    fn broadcast_runs_merge() {
        let v = base(&[1, 1, 5]).expand(&[3, 4, 5]).expect("expand");
        let r = reshaped(&v, &[12, 5]).expect("fits");
        assert_eq!(r.strides, vec![0, 1]);
        assert_eq!(reshaped(&v, &[60]), None);
    }

    #[test]
    fn padded_rows_split_along_the_mask() {
        let v = base(&[3]).pad(&[(3, 3)]).expect("pad");
        let r = reshaped(&v, &[3, 3]).expect("fits");
        assert_eq!(r.mask, Some(vec![(1, 2), (0, 3)]));
        assert_eq!(r.index_at(&[1, 2]), Some(2));
        let v = base(&[4]).pad(&[(1, 1)]).expect("pad");
        assert_eq!(reshaped(&v, &[2, 3]), None);
    }

    #[test]
    fn single_row_mask_merges_across_axes() {
        let v = base(&[6])
            .reshape(&[1, 6])
            .expect("reshape")
            .expect("fits")
            .pad(&[(1, 2), (0, 0)])
            .expect("pad");
        let r = reshaped(&v, &[24]).expect("fits");
        assert_eq!(r.mask, Some(vec![(6, 12)]));
        assert_eq!(r.index_at(&[7]), Some(1));
    }

    #[test]
    fn reshape_errors() {
        let v = base(&[2, 3]);
        assert_eq!(
            v.reshape(&[5]),
            Err(ViewError::ReshapeCount {
                from: vec![2, 3],
                to: vec![5]
            })
        );
        assert!(matches!(
            v.reshape(&[-2, -3]),
            Err(ViewError::NegativeDim { .. })
        ));
        assert!(matches!(
            v.reshape(&[i64::MAX, 3]),
            Err(ViewError::SizeOverflow { .. })
        ));
        assert_eq!(base(&[0, 3]).reshape(&[3, 0]), Ok(Some(base(&[3, 0]))));
    }
}
