//! The reference expression: the index expression a [`ViewStack`] itself stands for, built
//! directly and unsimplified, as the yardstick for the simplifier's output size.
//!
//! One view gives `valid.where(Σ rᵢ·strideᵢ + offset, Invalid)`: terms of stride 0 are
//! left out, stride 1 has no multiply, offset 0 no add; `valid` ANDs `rᵢ >= b` (when
//! `b > 0`) and `rᵢ < e` (when `e < dimᵢ`) over the mask, and without one the `where` goes.
//! In a stack the top view's offset is a flat index into the view below, unraveled as
//! `(flat // strideⱼ) % dimⱼ` over that view's contiguous strides (no `//` for stride 1,
//! no `%` on the outermost non-1 dim, constant 0 for a size-1 dim), and so on down; the
//! valids of every view are ANDed. A view with an empty mask makes the whole expression
//! `Invalid`.

use uop_ir::{UOp, contiguous_strides};
use view_ref::{View, ViewStack};

/// The reference expression of `stack` at the point given by `ranges` (one per output dim).
pub fn reference_expr(stack: &ViewStack, ranges: &[UOp]) -> UOp {
    let mut idx: Vec<UOp> = ranges.to_vec();
    let mut valid: Option<UOp> = None;
    let mut flat = UOp::int(0);
    for (level, view) in stack.views.iter().enumerate().rev() {
        if level + 1 < stack.views.len() {
            idx = unravel(&flat, &view.shape);
        }
        if is_all_invalid(view) {
            return UOp::invalid();
        }
        if let Some(mask) = &view.mask {
            for ((i, &(b, e)), &dim) in idx.iter().zip(mask).zip(&view.shape) {
                if b > 0 {
                    valid = and_opt(valid, i.ge(b));
                }
                if e < dim {
                    valid = and_opt(valid, i.lt(e));
                }
            }
        }
        flat = view_offset(view, &idx);
    }
    match valid {
        Some(v) => v.where_(&flat, &UOp::invalid()),
        None => flat,
    }
}

fn is_all_invalid(view: &View) -> bool {
    view.shape.contains(&0)
        || view
            .mask
            .as_ref()
            .is_some_and(|m| m.iter().any(|&(b, e)| b >= e))
}

/// `Σ idxᵢ·strideᵢ + offset`, leaving out what adds nothing.
fn view_offset(view: &View, idx: &[UOp]) -> UOp {
    let mut terms = idx
        .iter()
        .zip(&view.strides)
        .filter(|(_, st)| **st != 0)
        .map(|(i, &st)| if st == 1 { i.clone() } else { i * st });
    let sum = match terms.next() {
        Some(first) => terms.fold(first, |acc, t| acc + t),
        None => return UOp::int(view.offset),
    };
    if view.offset == 0 {
        sum
    } else {
        sum + view.offset
    }
}

/// The row-major coordinates of `flat` in `shape`.
fn unravel(flat: &UOp, shape: &[i64]) -> Vec<UOp> {
    let strides = contiguous_strides(shape);
    let outer = shape.iter().position(|&d| d != 1);
    shape
        .iter()
        .zip(&strides)
        .enumerate()
        .map(|(j, (&dim, &st))| {
            if dim == 1 {
                return UOp::int(0);
            }
            let q = if st == 1 {
                flat.clone()
            } else {
                flat.floordiv(st)
            };
            if Some(j) == outer { q } else { q.floormod(dim) }
        })
        .collect()
}

fn and_opt(a: Option<UOp>, b: UOp) -> Option<UOp> {
    Some(match a {
        Some(a) => a.and(b),
        None => b,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use uop_ir::{expr_string, node_count};

    fn ranges(shape: &[i64]) -> Vec<UOp> {
        (0..shape.len())
            .map(|i| UOp::range(shape[i], i as u32))
            .collect()
    }

    #[test]
    fn one_view_is_strides_and_mask() {
        let st = ViewStack::from_shape(&[4, 3])
            .and_then(|s| s.permute(&[1, 0]))
            .and_then(|s| s.pad(&[(0, 0), (1, 0)]))
            .expect("valid ops");
        let e = reference_expr(&st, &ranges(&[3, 5]));
        assert_eq!(
            expr_string(&e),
            "where(((r1 < 1) != true), ((r0 + (r1 * 3)) + -3), Invalid)"
        );
    }

    #[test]
    fn contiguous_view_is_linear_index() {
        let st = ViewStack::from_shape(&[2, 1, 3]).expect("shape");
        let e = reference_expr(&st, &ranges(&[2, 1, 3]));
        assert_eq!(expr_string(&e), "((r0 * 3) + r2)");
        // 2, r0, 3 (shared by `* 3` and r2's end), *, r2, +
        assert_eq!(node_count(&e), 6);
    }

    #[test]
    fn two_views_unravel_the_top_offset() {
        let st = ViewStack::from_shape(&[4])
            .and_then(|s| s.pad(&[(1, 1)]))
            .and_then(|s| s.reshape(&[2, 3]))
            .expect("valid ops")
            .simplify();
        assert_eq!(st.views.len(), 2);
        let e = reference_expr(&st, &ranges(&[2, 3]));
        assert_eq!(
            expr_string(&e),
            "where((((((r0 * 3) + r1) < 1) != true) & (((r0 * 3) + r1) < 5)), \
             (((r0 * 3) + r1) + -1), Invalid)"
        );
    }
}
