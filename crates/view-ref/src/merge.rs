//! `merge_views`: one view equal to a view stacked on another, when one can be proven.
//!
//! The stacked function sends a point `x` of `above` to the flat offset
//! `f = above(x)`, unravels `f` row-major into a point `y` of `below`, and returns
//! `below(y)`. A merge is returned only when it is that same function at every point
//! (valid bit, and offset where valid); otherwise the answer is `None`. In order:
//!
//! 1. `above` has no valid point: it is already the answer.
//! 2. `above` is contiguous with `below`'s element count: the answer is `below`
//!    reshaped, if that fits one view.
//! 3. `f` ranges outside `[0, size(below))` on `above`'s valid box (its extremes are at
//!    corners, so this is exact): no merge. Otherwise, if `below` is contiguous, the
//!    answer is `above`.
//! 4. Projection, tried on `below` and then on `below` with adjacent axes merged by
//!    reshape: each varying axis `i` of `above` (stride `tᵢ ≠ 0`, more than one valid
//!    value) is assigned the outermost non-unit axis `j` of `below` whose place value
//!    `Pⱼ` divides `tᵢ`, with `kᵢ = tᵢ / Pⱼ` (an inner axis would move its digit by at
//!    least its own size per step, so no other choice can work). With `y⁰ = unravel(f(lo))`
//!    at the valid box's low corner, `yⱼ(x) = y⁰ⱼ + Σ_{i→j} kᵢ·(xᵢ − loᵢ)`. If every
//!    `yⱼ` stays inside `[0, sizeⱼ)` over the box, `Σⱼ yⱼ·Pⱼ = f(x)` and row-major
//!    digits are unique, so `unravel(f(x)) = y(x)`, affine in `x`. `below`'s mask
//!    must then be a box in `x`: a `yⱼ` whose range lies inside the mask adds nothing; one
//!    driven by a single axis `i` narrows `i`'s mask; one driven by none is a constant
//!    outside the mask (nothing valid); one driven by several axes gives up.

use crate::views::{View, place_values, shape_size, unravel};

/// A single view equal to `above` stacked on `below`, or `None` when none is proven.
pub fn merge_views(below: &View, above: &View) -> Option<View> {
    let below = below.canonical().ok()?;
    let above = above.canonical().ok()?;
    if above.has_no_valid_point() {
        return Some(above);
    }
    let size = shape_size(&below.shape).ok()?;
    if above.contiguous
        && shape_size(&above.shape).ok()? == size
        && let Ok(Some(v)) = below.reshape(&above.shape)
    {
        return Some(v);
    }
    let (min, max) = offset_range(&above)?;
    if min < 0 || max >= size {
        return None;
    }
    if below.contiguous {
        return Some(above);
    }
    project(&below, &above).or_else(|| project(&merge_adjacent_axes(below), &above))
}

/// Smallest and largest offset of `view` over its valid box (assumed non-empty).
fn offset_range(view: &View) -> Option<(i64, i64)> {
    let (mut min, mut max) = (view.offset, view.offset);
    for (&st, &(b, e)) in view.strides.iter().zip(&view.valid_box()) {
        let at_b = st.checked_mul(b)?;
        let at_e = st.checked_mul(e - 1)?;
        min = min.checked_add(at_b.min(at_e))?;
        max = max.checked_add(at_b.max(at_e))?;
    }
    Some((min, max))
}

/// `view` with adjacent axes merged by reshape for as long as that fits one view.
fn merge_adjacent_axes(view: View) -> View {
    let mut cur = view;
    'merge: loop {
        for k in 1..cur.shape.len() {
            let mut shape = cur.shape.clone();
            let Some(merged) = shape[k - 1].checked_mul(shape[k]) else {
                continue;
            };
            shape.splice(k - 1..=k, [merged]);
            if let Ok(Some(v)) = cur.reshape(&shape) {
                cur = v;
                continue 'merge;
            }
        }
        return cur;
    }
}

/// Step 4 of the module doc: `above` projected through `below` axis by axis.
fn project(below: &View, above: &View) -> Option<View> {
    let places = place_values(&below.shape)?;
    let above_box = above.valid_box();
    let base = above
        .strides
        .iter()
        .zip(&above_box)
        .try_fold(above.offset, |acc, (&t, &(b, _))| {
            acc.checked_add(t.checked_mul(b)?)
        })?;
    let y0 = unravel(&below.shape, base)?;
    let (mut y_min, mut y_max) = (y0.clone(), y0.clone());
    // For each axis of `above`: the axis of `below` it drives, and its step there.
    let mut drives: Vec<Option<(usize, i64)>> = vec![None; above.shape.len()];
    for ((drive, &t), &(b, e)) in drives.iter_mut().zip(&above.strides).zip(&above_box) {
        if t == 0 || e - b <= 1 {
            continue;
        }
        let j = (0..below.shape.len()).find(|&j| {
            below.shape[j] > 1 && places[j] > 0 && t.checked_rem(places[j]) == Some(0)
        })?;
        let k = t / places[j];
        let span = k.checked_mul(e - b - 1)?;
        let bound = if k > 0 { &mut y_max[j] } else { &mut y_min[j] };
        *bound = bound.checked_add(span)?;
        *drive = Some((j, k));
    }
    if (0..y0.len()).any(|j| y_min[j] < 0 || y_max[j] >= below.shape[j]) {
        return None;
    }
    let mut mask = above_box.clone();
    for (j, &(mb, me)) in below.valid_box().iter().enumerate() {
        if mb <= y_min[j] && y_max[j] < me {
            continue;
        }
        let mut drivers = (0..drives.len()).filter(|&i| drives[i].is_some_and(|(jj, _)| jj == j));
        match (drivers.next(), drivers.next()) {
            (None, _) => return Some(View::all_invalid(above.shape.clone())),
            (Some(i), None) => {
                let (_, k) = drives[i]?;
                mask[i] = narrow(above_box[i], y0[j], k, (mb, me))?;
            }
            (Some(_), Some(_)) => return None,
        }
    }
    let mut strides = vec![0; above.shape.len()];
    let mut offset = y0
        .iter()
        .zip(&below.strides)
        .try_fold(below.offset, |acc, (&y, &u)| {
            acc.checked_add(y.checked_mul(u)?)
        })?;
    for (i, drive) in drives.iter().enumerate() {
        if let Some((j, k)) = *drive {
            strides[i] = k.checked_mul(below.strides[j])?;
            offset = offset.checked_sub(strides[i].checked_mul(above_box[i].0)?)?;
        }
    }
    View::create(above.shape.clone(), strides, offset, Some(mask)).ok()
}

/// The part of `range` = `[lo, hi)` of an `above` axis where `y0 + k·(x − lo)` lies in
/// `[mb, me)` (`k ≠ 0`); possibly empty.
fn narrow((lo, hi): (i64, i64), y0: i64, k: i64, (mb, me): (i64, i64)) -> Option<(i64, i64)> {
    let m = k.checked_abs()?;
    let (d_min, d_max) = if k > 0 {
        (ceil_div(mb - y0, m)?, (me - 1 - y0).div_euclid(m))
    } else {
        (ceil_div(y0 - me + 1, m)?, (y0 - mb).div_euclid(m))
    };
    let begin = lo.checked_add(d_min.max(0))?;
    let end = lo.checked_add(d_max.checked_add(1)?)?.min(hi);
    Some((begin, end.max(begin)))
}

/// `⌈a / m⌉` for `m > 0`.
fn ceil_div(a: i64, m: i64) -> Option<i64> {
    a.checked_neg()?.div_euclid(m).checked_neg()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(shape: &[i64]) -> View {
        View::contiguous_of(shape).expect("valid shape")
    }

    #[test]
    fn contiguous_above_is_a_reshape_of_below() {
        let below = base(&[4, 6]).permute(&[1, 0]).expect("permute");
        let above = base(&[2, 3, 4]);
        let merged = merge_views(&below, &above).expect("merges");
        assert_eq!(merged.strides, vec![3, 1, 6]);
    }

    #[test]
    fn contiguous_below_keeps_above() {
        let above = base(&[4, 6]).permute(&[1, 0]).expect("permute");
        assert_eq!(merge_views(&base(&[24]), &above), Some(above));
    }

    #[test]
    fn out_of_range_above_does_not_merge() {
        let above = base(&[4]).pad(&[(1, 0)]).expect("pad").shrink(&[(0, 4)]);
        let above = above.expect("shrink").flip(&[true]).expect("flip");
        let wide = View::create(vec![5], vec![1], 1, None).expect("view");
        assert_eq!(merge_views(&base(&[5]), &wide), None);
        assert!(merge_views(&base(&[4]), &above).is_some());
    }

    #[test]
    fn projection_through_padding_narrows_the_mask() {
        let below = base(&[4]).pad(&[(1, 1)]).expect("pad");
        let above = base(&[2, 3]).shrink(&[(0, 2), (1, 2)]).expect("shrink");
        let merged = merge_views(&below, &above).expect("merges");
        assert_eq!((merged.strides.clone(), merged.offset), (vec![3, 0], 0));
        let above = base(&[2, 3]).shrink(&[(0, 2), (0, 1)]).expect("shrink");
        let merged = merge_views(&below, &above).expect("merges");
        assert_eq!(merged.mask, Some(vec![(1, 2), (0, 1)]));
        assert_eq!(merged.index_at(&[1, 0]), Some(2));
    }

    #[test]
    fn a_mask_split_across_axes_does_not_merge() {
        let below = base(&[4]).pad(&[(1, 1)]).expect("pad");
        let above = base(&[2, 3]).permute(&[1, 0]).expect("permute");
        assert_eq!(merge_views(&below, &above), None);
    }

    #[test]
    fn a_constant_outside_the_mask_is_never_valid() {
        let below = base(&[4]).pad(&[(2, 0)]).expect("pad");
        let above = View::create(vec![3], vec![0], 1, None).expect("view");
        assert_eq!(
            merge_views(&below, &above),
            Some(View::all_invalid(vec![3]))
        );
    }

    #[test]
    fn narrow_handles_both_signs() {
        assert_eq!(narrow((0, 5), 0, 2, (3, 7)), Some((2, 4)));
        assert_eq!(narrow((0, 5), 8, -2, (3, 7)), Some((1, 3)));
        assert_eq!(narrow((0, 2), 0, 1, (5, 7)), Some((5, 5)));
    }
}
