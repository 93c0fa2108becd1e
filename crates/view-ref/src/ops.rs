//! The movement ops that always fit in one view: `pad`, `shrink`, `expand`, `permute`
//! and `flip`. Each is a change of coordinates `x_old = g(x_new)` on the index function,
//! plus a mask for the points `g` sends outside the old shape. `reshape` lives in
//! `reshape.rs` because it can fail to fit.

use crate::error::{OrOverflow, Result, ViewError};
use crate::views::{View, check_rank, shape_size};

impl View {
    /// Pads axis `i` with `arg[i].0` invalid points before and `arg[i].1` after:
    /// `x_old = x_new - before`, valid where `before ≤ x_new < before + size`.
    pub fn pad(&self, arg: &[(i64, i64)]) -> Result<View> {
        let v = self.canonical()?;
        check_rank("pad", v.shape.len(), arg.len())?;
        for (axis, &(before, after)) in arg.iter().enumerate() {
            if before < 0 || after < 0 {
                return Err(ViewError::NegativePad {
                    axis,
                    before,
                    after,
                });
            }
        }
        if arg.iter().all(|&p| p == (0, 0)) {
            return Ok(v);
        }
        let mut shape = Vec::with_capacity(arg.len());
        let mut mask = Vec::with_capacity(arg.len());
        let mut offset = v.offset;
        for ((&dim, &st), (&(b, e), &(before, after))) in v
            .shape
            .iter()
            .zip(&v.strides)
            .zip(v.valid_box().iter().zip(arg))
        {
            let size = dim.checked_add(before).and_then(|s| s.checked_add(after));
            shape.push(size.or_overflow("pad")?);
            mask.push((
                b.checked_add(before).or_overflow("pad")?,
                e.checked_add(before).or_overflow("pad")?,
            ));
            let shift = st.checked_mul(before).or_overflow("pad")?;
            offset = offset.checked_sub(shift).or_overflow("pad")?;
        }
        View::create(shape, v.strides, offset, Some(mask))
    }

    /// Keeps `[begin, end)` of each axis: `x_old = x_new + begin`.
    pub fn shrink(&self, arg: &[(i64, i64)]) -> Result<View> {
        let v = self.canonical()?;
        check_rank("shrink", v.shape.len(), arg.len())?;
        for (axis, (&(begin, end), &size)) in arg.iter().zip(&v.shape).enumerate() {
            if begin < 0 || begin > end || end > size {
                return Err(ViewError::ShrinkOutOfBounds {
                    axis,
                    begin,
                    end,
                    size,
                });
            }
        }
        if arg.iter().zip(&v.shape).all(|(&r, &dim)| r == (0, dim)) {
            return Ok(v);
        }
        let mut offset = v.offset;
        let mut mask = Vec::with_capacity(arg.len());
        for ((&st, &(mb, me)), &(begin, end)) in v.strides.iter().zip(&v.valid_box()).zip(arg) {
            let shift = st.checked_mul(begin).or_overflow("shrink")?;
            offset = offset.checked_add(shift).or_overflow("shrink")?;
            let len = end - begin;
            mask.push(((mb - begin).clamp(0, len), (me - begin).clamp(0, len)));
        }
        let shape = arg.iter().map(|&(begin, end)| end - begin).collect();
        View::create(shape, v.strides, offset, Some(mask))
    }

    /// Broadcasts size-1 axes to `new_shape` (every other axis keeps its size):
    /// `x_old = 0` on the broadcast axes. A masked-out size-1 axis stays masked out.
    pub fn expand(&self, new_shape: &[i64]) -> Result<View> {
        let v = self.canonical()?;
        check_rank("expand", v.shape.len(), new_shape.len())?;
        shape_size(new_shape)?;
        for (axis, (&from, &to)) in v.shape.iter().zip(new_shape).enumerate() {
            if from != to && from != 1 {
                return Err(ViewError::ExpandNonUnit { axis, from, to });
            }
        }
        if v.shape == new_shape {
            return Ok(v);
        }
        if shape_size(&v.shape)? == 0 {
            return View::contiguous_of(new_shape);
        }
        let broadcast = |from: &i64, to: &i64| from != to;
        let strides = v
            .strides
            .iter()
            .zip(v.shape.iter().zip(new_shape))
            .map(|(&st, (from, to))| if broadcast(from, to) { 0 } else { st })
            .collect();
        let mask = v.mask.map(|m| {
            m.iter()
                .zip(v.shape.iter().zip(new_shape))
                .map(|(&(b, e), (from, &to))| match broadcast(from, &to) {
                    false => (b, e),
                    true if b < e => (0, to),
                    true => (0, 0),
                })
                .collect()
        });
        View::create(new_shape.to_vec(), strides, v.offset, mask)
    }

    /// Reorders the axes: axis `i` of the result is axis `axes[i]` of this view.
    pub fn permute(&self, axes: &[usize]) -> Result<View> {
        let v = self.canonical()?;
        let rank = v.shape.len();
        check_rank("permute", rank, axes.len())?;
        let mut seen = vec![false; rank];
        for &a in axes {
            match seen.get_mut(a) {
                Some(s) if !*s => *s = true,
                _ => {
                    return Err(ViewError::NotAPermutation {
                        axes: axes.to_vec(),
                        rank,
                    });
                }
            }
        }
        let pick = |xs: &[i64]| axes.iter().filter_map(|&a| xs.get(a).copied()).collect();
        let mask = v
            .mask
            .as_ref()
            .map(|m| axes.iter().filter_map(|&a| m.get(a).copied()).collect());
        View::create(pick(&v.shape), pick(&v.strides), v.offset, mask)
    }

    /// Reverses the axes where `arg[i]` is true: `x_old = size - 1 - x_new`.
    pub fn flip(&self, arg: &[bool]) -> Result<View> {
        let v = self.canonical()?;
        check_rank("flip", v.shape.len(), arg.len())?;
        let mut offset = v.offset;
        let mut strides = v.strides.clone();
        let mut mask = v.mask.clone();
        for (axis, (&dim, &flipped)) in v.shape.iter().zip(arg).enumerate() {
            if !flipped {
                continue;
            }
            let Some(st) = strides.get_mut(axis) else {
                continue;
            };
            let shift = (dim - 1).checked_mul(*st).or_overflow("flip")?;
            offset = offset.checked_add(shift).or_overflow("flip")?;
            *st = st.checked_neg().or_overflow("flip")?;
            if let Some(r) = mask.as_mut().and_then(|m| m.get_mut(axis)) {
                *r = (dim - r.1, dim - r.0);
            }
        }
        View::create(v.shape, strides, offset, mask)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(shape: &[i64]) -> View {
        View::contiguous_of(shape).expect("valid shape")
    }

    #[test]
    fn pad_masks_the_border() {
        let v = base(&[2, 3]).pad(&[(1, 0), (0, 2)]).expect("pad");
        assert_eq!(v.shape, vec![3, 5]);
        assert_eq!(v.mask, Some(vec![(1, 3), (0, 3)]));
        assert_eq!(v.offset, -3);
        assert_eq!(v.index_at(&[1, 0]), Some(0));
        assert_eq!(v.index_at(&[0, 0]), None);
        assert_eq!(v.index_at(&[2, 3]), None);
    }

    #[test]
    fn shrink_moves_offset_and_cuts_mask() {
        let v = base(&[4, 4]).pad(&[(1, 1), (0, 0)]).expect("pad");
        let s = v.shrink(&[(0, 2), (1, 3)]).expect("shrink");
        assert_eq!(s.shape, vec![2, 2]);
        assert_eq!(s.mask, Some(vec![(1, 2), (0, 2)]));
        assert_eq!(s.index_at(&[1, 0]), Some(1));
        let gone = v.shrink(&[(0, 1), (0, 4)]).expect("shrink");
        assert_eq!(gone, View::all_invalid(vec![1, 4]));
    }

    #[test]
    fn expand_keeps_masked_out_size_one_axes() {
        let v = base(&[1, 3]).pad(&[(1, 0), (0, 0)]).expect("pad");
        let s = v.shrink(&[(0, 1), (0, 3)]).expect("shrink");
        assert_eq!(s, View::all_invalid(vec![1, 3]));
        let e = s.expand(&[4, 3]).expect("expand");
        assert_eq!(e.mask, Some(vec![(0, 0), (0, 0)]));
        let e = base(&[1, 3]).expand(&[4, 3]).expect("expand");
        assert_eq!(
            (e.strides.clone(), e.index_at(&[3, 2])),
            (vec![0, 1], Some(2))
        );
        assert_eq!(base(&[1, 3]).expand(&[0, 3]), View::contiguous_of(&[0, 3]));
    }

    #[test]
    fn permute_and_flip() {
        let v = base(&[2, 3]).permute(&[1, 0]).expect("permute");
        assert_eq!(
            (v.shape.clone(), v.strides.clone()),
            (vec![3, 2], vec![1, 3])
        );
        let f = base(&[2, 3]).flip(&[false, true]).expect("flip");
        assert_eq!((f.strides.clone(), f.offset), (vec![3, -1], 2));
        assert_eq!(f.index_at(&[1, 0]), Some(5));
    }

    #[test]
    fn flip_mirrors_mask() {
        let v = base(&[3]).pad(&[(2, 0)]).expect("pad");
        let f = v.flip(&[true]).expect("flip");
        assert_eq!(f.mask, Some(vec![(0, 3)]));
        assert_eq!(f.index_at(&[0]), Some(2));
        assert_eq!(f.index_at(&[3]), None);
    }

    #[test]
    fn op_errors() {
        let v = base(&[2, 3]);
        assert_eq!(
            v.pad(&[(0, 0)]),
            Err(ViewError::RankMismatch {
                op: "pad",
                expected: 2,
                got: 1
            })
        );
        assert_eq!(
            v.pad(&[(0, 0), (-1, 0)]),
            Err(ViewError::NegativePad {
                axis: 1,
                before: -1,
                after: 0
            })
        );
        assert!(matches!(
            v.shrink(&[(0, 2)]),
            Err(ViewError::RankMismatch { .. })
        ));
        for bad in [(2, 1), (-1, 1), (0, 4)] {
            assert!(matches!(
                v.shrink(&[(0, 2), bad]),
                Err(ViewError::ShrinkOutOfBounds { axis: 1, .. })
            ));
        }
        assert_eq!(
            v.expand(&[4, 3]),
            Err(ViewError::ExpandNonUnit {
                axis: 0,
                from: 2,
                to: 4
            })
        );
        assert!(matches!(
            v.expand(&[2]),
            Err(ViewError::RankMismatch { .. })
        ));
        assert!(matches!(
            base(&[1, 3]).expand(&[-2, 3]),
            Err(ViewError::NegativeDim { .. })
        ));
        assert!(matches!(
            base(&[1, 3]).expand(&[i64::MAX, 3]),
            Err(ViewError::SizeOverflow { .. })
        ));
        assert!(matches!(
            v.permute(&[0]),
            Err(ViewError::RankMismatch { .. })
        ));
        for bad in [[0, 0], [0, 2]] {
            assert_eq!(
                v.permute(&bad),
                Err(ViewError::NotAPermutation {
                    axes: bad.to_vec(),
                    rank: 2
                })
            );
        }
        assert!(matches!(
            v.flip(&[true]),
            Err(ViewError::RankMismatch { .. })
        ));
        assert!(matches!(
            v.pad(&[(0, 0), (0, i64::MAX)]),
            Err(ViewError::Overflow { op: "pad" })
        ));
    }

    #[test]
    fn ops_on_hand_edited_views_do_not_panic() {
        let bad = View {
            shape: vec![2, 3],
            strides: vec![1],
            offset: 0,
            mask: None,
            contiguous: true,
        };
        assert!(bad.flip(&[true, true]).is_err());
        assert!(bad.permute(&[1, 0]).is_err());
        let wild = View {
            shape: vec![2, 3],
            strides: vec![3, 1],
            offset: 0,
            mask: Some(vec![(-5, 9), (2, 1)]),
            contiguous: false,
        };
        assert_eq!(
            wild.pad(&[(1, 1), (1, 1)]),
            Ok(View::all_invalid(vec![4, 5]))
        );
    }
}
