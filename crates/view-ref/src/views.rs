//! The [`View`] type: one strided, optionally masked index function over a static shape,
//! its canonical form ([`View::create`]) and its evaluation at a point.
//!
//! A view maps a point `x` of `shape` to `offset + Σ xᵢ·stridesᵢ` when every
//! `maskᵢ.0 ≤ xᵢ < maskᵢ.1`, and to nothing otherwise. Canonicalization never changes that
//! function; it only picks one representative, so that equal functions compare equal more
//! often and later ops can rely on a few invariants (see [`View::create`]).

use crate::error::{OrOverflow, Result, ViewError};

/// One strided, optionally masked view of a buffer. Build it with [`View::create`] or
/// [`View::contiguous_of`]; the fields are public for inspection and tests, and every op
/// re-canonicalizes its input, so a hand-edited view is still handled without panics.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct View {
    /// Size of each axis (zero allowed).
    pub shape: Vec<i64>,
    /// Step in the buffer per unit of each axis (0 for size-1 and broadcast axes).
    pub strides: Vec<i64>,
    /// Buffer offset of the point `0`.
    pub offset: i64,
    /// Per-axis valid range `[begin, end)`; `None` means every point is valid.
    pub mask: Option<Vec<(i64, i64)>>,
    /// Offset 0, no mask and row-major strides: the view is the identity on the buffer.
    pub contiguous: bool,
}

/// Number of elements of `shape`, rejecting negative dimensions and `i64` overflow.
pub fn shape_size(shape: &[i64]) -> Result<i64> {
    let mut size: i64 = 1;
    let mut overflow = false;
    for (axis, &dim) in shape.iter().enumerate() {
        if dim < 0 {
            return Err(ViewError::NegativeDim {
                shape: shape.to_vec(),
                axis,
                dim,
            });
        }
        match size.checked_mul(dim) {
            Some(s) => size = s,
            None => overflow = true,
        }
    }
    // A zero dimension anywhere makes the count 0, even after an overflowing prefix.
    if shape.contains(&0) {
        return Ok(0);
    }
    if overflow {
        return Err(ViewError::SizeOverflow {
            shape: shape.to_vec(),
        });
    }
    Ok(size)
}

/// Row-major strides of `shape`, with 0 for size-1 axes; all zero when the shape is empty
/// (has a zero dimension).
pub fn strides_for_shape(shape: &[i64]) -> Result<Vec<i64>> {
    if shape_size(shape)? == 0 {
        return Ok(vec![0; shape.len()]);
    }
    let mut strides = vec![0; shape.len()];
    let mut step: i64 = 1;
    for (stride, &dim) in strides.iter_mut().zip(shape).rev() {
        *stride = if dim == 1 { 0 } else { step };
        step = step.checked_mul(dim).or_overflow("strides_for_shape")?;
    }
    Ok(strides)
}

/// Row-major place values of `shape` (1 for the last axis), ignoring the size-1 rule.
pub(crate) fn place_values(shape: &[i64]) -> Option<Vec<i64>> {
    let mut places = vec![0; shape.len()];
    let mut step: i64 = 1;
    for (place, &dim) in places.iter_mut().zip(shape).rev() {
        *place = step;
        step = step.checked_mul(dim)?;
    }
    Some(places)
}

/// The point of `shape` whose row-major flat index is `flat`; `None` when out of range.
pub(crate) fn unravel(shape: &[i64], flat: i64) -> Option<Vec<i64>> {
    if flat < 0 || flat >= shape_size(shape).ok()? {
        return None;
    }
    let mut point = vec![0; shape.len()];
    let mut rest = flat;
    for (coord, &dim) in point.iter_mut().zip(shape).rev() {
        *coord = rest % dim;
        rest /= dim;
    }
    Some(point)
}

impl View {
    /// Builds the canonical view of the index function given by the arguments:
    /// - any zero in `shape`: all-zero strides, offset 0, no mask, contiguous;
    /// - mask ranges are clipped to `[0, size]`; if one is then empty, every point is
    ///   invalid and the view becomes strides 0, offset 0, mask all `(0, 0)`;
    /// - a size-1 axis, or a masked axis keeping exactly one element, gets stride 0 (the
    ///   latter's `stride·begin` moves into the offset);
    /// - a mask covering every axis fully is dropped;
    /// - `contiguous` is set when offset is 0, there is no mask and the strides are
    ///   [`strides_for_shape`].
    ///
    /// Errors: strides or mask of another rank than `shape`, a negative dimension, an
    /// element count or offset overflowing `i64`.
    pub fn create(
        shape: Vec<i64>,
        strides: Vec<i64>,
        offset: i64,
        mask: Option<Vec<(i64, i64)>>,
    ) -> Result<View> {
        let rank = shape.len();
        check_rank("create (strides)", rank, strides.len())?;
        if let Some(m) = &mask {
            check_rank("create (mask)", rank, m.len())?;
        }
        if shape_size(&shape)? == 0 {
            return Ok(View {
                strides: vec![0; rank],
                shape,
                offset: 0,
                mask: None,
                contiguous: true,
            });
        }
        let mut strides: Vec<i64> = strides
            .iter()
            .zip(&shape)
            .map(|(&st, &dim)| if dim == 1 { 0 } else { st })
            .collect();
        let mut offset = offset;
        let mask = match mask {
            None => None,
            Some(m) => {
                let m: Vec<(i64, i64)> = m
                    .iter()
                    .zip(&shape)
                    .map(|(&(b, e), &dim)| (b.clamp(0, dim), e.clamp(0, dim)))
                    .collect();
                if m.iter().any(|&(b, e)| b >= e) {
                    return Ok(View::all_invalid(shape));
                }
                for (st, &(b, e)) in strides.iter_mut().zip(&m) {
                    if e - b == 1 {
                        let shift = st.checked_mul(b).or_overflow("create")?;
                        offset = offset.checked_add(shift).or_overflow("create")?;
                        *st = 0;
                    }
                }
                let full = m
                    .iter()
                    .zip(&shape)
                    .all(|(&(b, e), &dim)| b == 0 && e == dim);
                (!full).then_some(m)
            }
        };
        let contiguous = offset == 0 && mask.is_none() && strides == strides_for_shape(&shape)?;
        Ok(View {
            shape,
            strides,
            offset,
            mask,
            contiguous,
        })
    }

    /// The identity view of `shape`: row-major strides, offset 0, no mask.
    pub fn contiguous_of(shape: &[i64]) -> Result<View> {
        View::create(shape.to_vec(), strides_for_shape(shape)?, 0, None)
    }

    /// The canonical view of `shape` in which no point is valid.
    pub(crate) fn all_invalid(shape: Vec<i64>) -> View {
        let rank = shape.len();
        View {
            shape,
            strides: vec![0; rank],
            offset: 0,
            mask: Some(vec![(0, 0); rank]),
            contiguous: false,
        }
    }

    /// The buffer offset at `point`, or `None` when the point is masked out, lies outside
    /// the shape, has the wrong rank, or its offset overflows `i64`.
    pub fn index_at(&self, point: &[i64]) -> Option<i64> {
        let rank = self.shape.len();
        if point.len() != rank || self.strides.len() != rank {
            return None;
        }
        if point
            .iter()
            .zip(&self.shape)
            .any(|(&x, &dim)| x < 0 || x >= dim)
        {
            return None;
        }
        if let Some(mask) = &self.mask
            && (mask.len() != rank || point.iter().zip(mask).any(|(&x, &(b, e))| x < b || x >= e))
        {
            return None;
        }
        point
            .iter()
            .zip(&self.strides)
            .try_fold(self.offset, |acc, (&x, &st)| {
                acc.checked_add(x.checked_mul(st)?)
            })
    }

    /// This view re-canonicalized: every op starts here, so hand-edited fields are
    /// validated and the invariants of [`View::create`] hold in the op's body.
    pub(crate) fn canonical(&self) -> Result<View> {
        View::create(
            self.shape.clone(),
            self.strides.clone(),
            self.offset,
            self.mask.clone(),
        )
    }

    /// The valid range of each axis: the mask, or the whole axis.
    pub(crate) fn valid_box(&self) -> Vec<(i64, i64)> {
        match &self.mask {
            Some(m) => m.clone(),
            None => self.shape.iter().map(|&dim| (0, dim)).collect(),
        }
    }

    /// Whether no point of the view is valid (an empty shape or an empty mask).
    pub(crate) fn has_no_valid_point(&self) -> bool {
        self.shape.contains(&0)
            || self
                .mask
                .as_ref()
                .is_some_and(|m| m.iter().any(|&(b, e)| b >= e))
    }
}

/// Rejects an argument of `got` axes for a view of rank `expected`.
pub(crate) fn check_rank(op: &'static str, expected: usize, got: usize) -> Result<()> {
    if expected == got {
        Ok(())
    } else {
        Err(ViewError::RankMismatch { op, expected, got })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(shape: &[i64], strides: &[i64], offset: i64, mask: Option<&[(i64, i64)]>) -> View {
        View::create(
            shape.to_vec(),
            strides.to_vec(),
            offset,
            mask.map(<[_]>::to_vec),
        )
        .expect("valid view")
    }

    #[test]
    fn strides_are_row_major_with_zero_for_size_one() {
        assert_eq!(strides_for_shape(&[2, 3, 4]), Ok(vec![12, 4, 1]));
        assert_eq!(strides_for_shape(&[2, 1, 4]), Ok(vec![4, 0, 1]));
        assert_eq!(strides_for_shape(&[2, 0, 4]), Ok(vec![0, 0, 0]));
        assert_eq!(strides_for_shape(&[]), Ok(vec![]));
    }

    #[test]
    fn size_one_stride_becomes_zero() {
        let v = view(&[3, 1], &[1, 7], 0, None);
        assert_eq!(v.strides, vec![1, 0]);
    }

    #[test]
    fn zero_dim_gives_empty_contiguous_view() {
        let v = view(&[3, 0, 2], &[5, 6, 7], 9, Some(&[(1, 2), (0, 0), (0, 1)]));
        assert_eq!(v.strides, vec![0, 0, 0]);
        assert_eq!((v.offset, &v.mask, v.contiguous), (0, &None, true));
    }

    #[test]
    fn full_mask_is_dropped() {
        let v = view(&[3, 4], &[4, 1], 0, Some(&[(0, 3), (0, 4)]));
        assert_eq!(v.mask, None);
        assert!(v.contiguous);
    }

    #[test]
    fn single_element_mask_folds_into_offset() {
        let v = view(&[3, 4], &[4, 1], 1, Some(&[(2, 3), (0, 4)]));
        assert_eq!(v.strides, vec![0, 1]);
        assert_eq!(v.offset, 9);
        assert_eq!(v.mask, Some(vec![(2, 3), (0, 4)]));
        assert_eq!(v.index_at(&[2, 3]), Some(12));
        assert_eq!(v.index_at(&[1, 3]), None);
    }

    #[test]
    fn empty_mask_zeroes_everything() {
        let v = view(&[3, 4], &[4, 1], 5, Some(&[(2, 2), (0, 4)]));
        assert_eq!(v, View::all_invalid(vec![3, 4]));
        let clipped = view(&[3, 4], &[4, 1], 5, Some(&[(4, 9), (0, 4)]));
        assert_eq!(clipped, View::all_invalid(vec![3, 4]));
    }

    #[test]
    fn contiguous_flag() {
        assert!(View::contiguous_of(&[2, 3]).expect("shape").contiguous);
        assert!(!view(&[2, 3], &[3, 1], 1, None).contiguous);
        assert!(!view(&[2, 3], &[1, 2], 0, None).contiguous);
        assert!(view(&[2, 1, 3], &[3, 9, 1], 0, None).contiguous);
    }

    #[test]
    fn create_is_idempotent() {
        let v = view(&[3, 4, 2], &[-8, 2, 1], 30, Some(&[(1, 3), (0, 1), (0, 2)]));
        assert_eq!(v.canonical(), Ok(v.clone()));
    }

    #[test]
    fn create_errors() {
        assert!(matches!(
            View::create(vec![2, 3], vec![1], 0, None),
            Err(ViewError::RankMismatch { .. })
        ));
        assert!(matches!(
            View::create(vec![2, 3], vec![3, 1], 0, Some(vec![(0, 1)])),
            Err(ViewError::RankMismatch { .. })
        ));
        assert_eq!(
            View::contiguous_of(&[2, -3]),
            Err(ViewError::NegativeDim {
                shape: vec![2, -3],
                axis: 1,
                dim: -3
            })
        );
        assert_eq!(
            View::contiguous_of(&[i64::MAX, 2]),
            Err(ViewError::SizeOverflow {
                shape: vec![i64::MAX, 2]
            })
        );
        assert_eq!(
            View::create(vec![2, 3], vec![i64::MAX, 1], 1, Some(vec![(1, 2), (0, 2)])),
            Err(ViewError::Overflow { op: "create" })
        );
    }

    #[test]
    fn error_messages_name_the_input() {
        let err = View::contiguous_of(&[2, -3]).expect_err("negative");
        assert_eq!(
            err.to_string(),
            "negative dimension -3 at axis 1 of shape [2, -3]"
        );
    }

    #[test]
    fn index_at_rejects_bad_points() {
        let v = view(&[2, 3], &[3, 1], 0, None);
        assert_eq!(v.index_at(&[1, 2]), Some(5));
        assert_eq!(v.index_at(&[1]), None);
        assert_eq!(v.index_at(&[2, 0]), None);
        assert_eq!(v.index_at(&[0, -1]), None);
        let huge = View {
            strides: vec![i64::MAX, 1],
            ..v
        };
        assert_eq!(huge.index_at(&[1, 1]), None);
    }

    #[test]
    fn unravel_is_row_major() {
        assert_eq!(unravel(&[2, 3, 4], 23), Some(vec![1, 2, 3]));
        assert_eq!(unravel(&[2, 3, 4], 24), None);
        assert_eq!(unravel(&[2, 3, 4], -1), None);
        assert_eq!(unravel(&[], 0), Some(vec![]));
    }
}
