//! [`ViewStack`]: what tinygrad's `ShapeTracker` was, a stack of views read from the top.
//!
//! The top view maps a point of the output shape to a flat offset; that offset is
//! unraveled (row-major) into a point of the view below, which maps it on, down to the
//! bottom view, whose offset indexes the buffer. Movement ops rewrite the top view only;
//! a reshape the top view cannot express pushes a new contiguous view instead.

use crate::error::{Result, ViewError};
use crate::merge::merge_views;
use crate::views::{View, unravel};

/// A stack of views; `views[0]` indexes the buffer and the last view is the top.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ViewStack {
    /// The views, bottom first.
    pub views: Vec<View>,
}

impl ViewStack {
    /// One contiguous view of `shape`.
    pub fn from_shape(shape: &[i64]) -> Result<ViewStack> {
        Ok(ViewStack {
            views: vec![View::contiguous_of(shape)?],
        })
    }

    /// The output shape: that of the top view (empty for an empty stack).
    pub fn shape(&self) -> &[i64] {
        self.views.last().map_or(&[], |v| v.shape.as_slice())
    }

    /// [`View::pad`] on the top view.
    pub fn pad(&self, arg: &[(i64, i64)]) -> Result<ViewStack> {
        self.map_top(|v| v.pad(arg))
    }

    /// [`View::shrink`] on the top view.
    pub fn shrink(&self, arg: &[(i64, i64)]) -> Result<ViewStack> {
        self.map_top(|v| v.shrink(arg))
    }

    /// [`View::expand`] on the top view.
    pub fn expand(&self, new_shape: &[i64]) -> Result<ViewStack> {
        self.map_top(|v| v.expand(new_shape))
    }

    /// [`View::permute`] on the top view.
    pub fn permute(&self, axes: &[usize]) -> Result<ViewStack> {
        self.map_top(|v| v.permute(axes))
    }

    /// [`View::flip`] on the top view.
    pub fn flip(&self, arg: &[bool]) -> Result<ViewStack> {
        self.map_top(|v| v.flip(arg))
    }

    /// [`View::reshape`] on the top view, or a new contiguous view of `new_shape` pushed
    /// on top when the top view cannot express it.
    pub fn reshape(&self, new_shape: &[i64]) -> Result<ViewStack> {
        let top = self.views.last().ok_or(ViewError::EmptyStack)?;
        let mut views = self.views.clone();
        match top.reshape(new_shape)? {
            Some(v) => {
                views.pop();
                views.push(v);
            }
            None => views.push(View::contiguous_of(new_shape)?),
        }
        Ok(ViewStack { views })
    }

    /// The stack with its top two views merged by [`merge_views`] for as long as that
    /// succeeds.
    pub fn simplify(&self) -> ViewStack {
        let mut views = self.views.clone();
        while let [.., below, above] = views.as_slice() {
            let Some(merged) = merge_views(below, above) else {
                break;
            };
            views.truncate(views.len() - 2);
            views.push(merged);
        }
        ViewStack { views }
    }

    /// The buffer offset at `point` of the output shape, or `None` when it is masked out
    /// by any view, lies outside the shape, or an offset leaves the range of the view
    /// below (which never happens for stacks built by the movement ops).
    pub fn index_at(&self, point: &[i64]) -> Option<i64> {
        let (top, below) = self.views.split_last()?;
        let mut flat = top.index_at(point)?;
        for view in below.iter().rev() {
            flat = view.index_at(&unravel(&view.shape, flat)?)?;
        }
        Some(flat)
    }

    fn map_top(&self, op: impl FnOnce(&View) -> Result<View>) -> Result<ViewStack> {
        let (top, below) = self.views.split_last().ok_or(ViewError::EmptyStack)?;
        let mut views = below.to_vec();
        views.push(op(top)?);
        Ok(ViewStack { views })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_reshape_pushes_a_view_and_simplify_keeps_it() {
        let st = ViewStack::from_shape(&[4])
            .and_then(|s| s.pad(&[(1, 1)]))
            .and_then(|s| s.reshape(&[2, 3]))
            .expect("valid ops");
        assert_eq!(st.views.len(), 2);
        assert_eq!(st.shape(), &[2, 3]);
        assert_eq!(st.index_at(&[0, 0]), None);
        assert_eq!(st.index_at(&[1, 1]), Some(3));
        assert_eq!(st.simplify().views.len(), 2);
    }

    #[test]
    fn simplify_merges_when_it_can() {
        let st = ViewStack::from_shape(&[4])
            .and_then(|s| s.pad(&[(1, 1)]))
            .and_then(|s| s.reshape(&[2, 3]))
            .and_then(|s| s.shrink(&[(0, 2), (1, 2)]))
            .expect("valid ops");
        let simple = st.simplify();
        assert_eq!(simple.views.len(), 1);
        for x in 0..2 {
            assert_eq!(simple.index_at(&[x, 0]), st.index_at(&[x, 0]));
        }
    }

    #[test]
    fn empty_stack() {
        let st = ViewStack { views: vec![] };
        assert_eq!(st.shape(), &[] as &[i64]);
        assert_eq!(st.index_at(&[]), None);
        assert_eq!(st.pad(&[]), Err(ViewError::EmptyStack));
        assert_eq!(st.reshape(&[1]), Err(ViewError::EmptyStack));
        assert_eq!(st.simplify(), st);
    }
}
