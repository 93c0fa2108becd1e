//! Movement ops: reshape, permute, expand, pad, shrink, flip, and what is built from them
//! (transpose, slicing, broadcasting). They change indexing only; rangeify turns them
//! into index math.

use std::sync::Arc;

use uop_ir::{Arg, Movement, Op, UOp, checked_numel};

use crate::error::{Result, TensorError, named};
use crate::tensor::Tensor;

impl Tensor {
    fn movement(&self, op: Op, name: &'static str, m: Movement, arg: Arg) -> Result<Tensor> {
        let shape = m
            .output_shape(self.shape())
            .map_err(|error| TensorError::Shape { op: name, error })?;
        if shape == self.shape() && !matches!(m, Movement::Flip(_) | Movement::Permute(_)) {
            return Ok(self.clone());
        }
        Ok(self.derive(UOp::new(op, self.dtype(), [self.node()], arg), shape))
    }

    /// A new shape with the same elements (row-major); one dim may be -1, inferred from
    /// the others.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.reshape(&[4])?;
    /// let z = x.reshape(&[-1, 1])?; // (4, 1)
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn reshape(&self, shape: &[i64]) -> Result<Tensor> {
        let shape = self.infer_reshape(shape)?;
        self.movement(
            Op::Reshape,
            "reshape",
            Movement::Reshape(shape.clone()),
            Arg::Shape(shape.into()),
        )
    }

    /// `shape` with its -1 (if any) replaced by what makes it hold this tensor's elements.
    fn infer_reshape(&self, shape: &[i64]) -> Result<Vec<i64>> {
        let unknown: Vec<usize> = (0..shape.len()).filter(|&i| shape[i] == -1).collect();
        let bad = || TensorError::Shape {
            op: "reshape",
            error: uop_ir::ShapeError::ReshapeSize {
                from: self.shape().to_vec(),
                to: shape.to_vec(),
            },
        };
        match unknown[..] {
            [] => Ok(shape.to_vec()),
            [i] => {
                let known: i64 = shape.iter().filter(|&&d| d != -1).product();
                if known <= 0 || self.numel() % known != 0 {
                    return Err(bad());
                }
                let mut out = shape.to_vec();
                out[i] = self.numel() / known;
                Ok(out)
            }
            _ => Err(bad()),
        }
    }

    /// The axis `axis` (negative counts from the end) of a tensor of rank `rank`.
    pub(crate) fn axis_of(&self, op: &'static str, axis: isize, rank: usize) -> Result<usize> {
        let a = if axis < 0 { axis + rank as isize } else { axis };
        if a < 0 || a >= rank as isize {
            return Err(TensorError::Axis {
                op,
                axis,
                shape: self.shape().to_vec(),
            });
        }
        Ok(a as usize)
    }

    /// Removes the size-1 dims `axes` (negative counts from the end); other dims listed
    /// are an error.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::rand(&[1, 3, 1])?;
    /// let y = x.squeeze_axes(&[0])?; // (3, 1)
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn squeeze_axes(&self, axes: &[isize]) -> Result<Tensor> {
        let rank = self.shape().len();
        let mut drop = Vec::new();
        for &a in axes {
            let a = self.axis_of("squeeze", a, rank)?;
            if self.shape()[a] != 1 {
                return Err(TensorError::Axis {
                    op: "squeeze (a dim of size other than 1)",
                    axis: a as isize,
                    shape: self.shape().to_vec(),
                });
            }
            drop.push(a);
        }
        let shape: Vec<i64> = (0..rank)
            .filter(|i| !drop.contains(i))
            .map(|i| self.shape()[i])
            .collect();
        named("squeeze", || self.reshape(&shape))
    }

    /// Removes every size-1 dim.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::rand(&[1, 3, 1])?;
    /// let y = x.squeeze()?; // (3,)
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn squeeze(&self) -> Result<Tensor> {
        let shape: Vec<i64> = self.shape().iter().copied().filter(|&d| d != 1).collect();
        named("squeeze", || self.reshape(&shape))
    }

    /// Merges dims `start..=end` (negative counts from the end) into one.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::rand(&[2, 3, 4])?;
    /// let y = x.flatten(1, -1)?; // (2, 12)
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn flatten(&self, start: isize, end: isize) -> Result<Tensor> {
        let rank = self.shape().len().max(1);
        let (s, e) = (
            self.axis_of("flatten", start, rank)?,
            self.axis_of("flatten", end, rank)?,
        );
        if self.shape().is_empty() {
            return named("flatten", || self.reshape(&[1]));
        }
        let mut shape = self.shape()[..s].to_vec();
        shape.push(self.shape()[s..=e.max(s)].iter().product());
        shape.extend_from_slice(&self.shape()[e.max(s) + 1..]);
        named("flatten", || self.reshape(&shape))
    }

    /// Tiles the tensor `repeats[i]` times along dim `i` (PyTorch's `repeat`; extra
    /// leading repeats add dims).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.repeat(&[2, 1])?; // (4, 2)
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn repeat(&self, repeats: &[i64]) -> Result<Tensor> {
        if repeats.len() < self.shape().len() || repeats.iter().any(|&r| r < 1) {
            return Err(TensorError::Axis {
                op: "repeat (needs one count >= 1 per dim)",
                axis: repeats.len() as isize,
                shape: self.shape().to_vec(),
            });
        }
        named("repeat", || {
            let mut base = vec![1i64; repeats.len() - self.shape().len()];
            base.extend_from_slice(self.shape());
            // [.., 1, d, ..] expanded to [.., r, d, ..], then merged
            let mut spread = Vec::new();
            let mut tiled = Vec::new();
            let mut out = Vec::new();
            for (&d, &r) in base.iter().zip(repeats) {
                spread.extend([1, d]);
                tiled.extend([r, d]);
                out.push(r * d);
            }
            self.reshape(&spread)?.expand(&tiled)?.reshape(&out)
        })
    }

    /// `permute`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::rand(&[2, 3, 4])?;
    /// let y = x.permute(&[2, 0, 1])?; // (4, 2, 3)
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn permute(&self, axes: &[usize]) -> Result<Tensor> {
        if axes.iter().enumerate().all(|(i, a)| i == *a) && axes.len() == self.shape().len() {
            return Ok(self.clone());
        }
        self.movement(
            Op::Permute,
            "permute",
            Movement::Permute(axes.to_vec()),
            Arg::Axes(axes.into()),
        )
    }

    /// Grows size-1 dims to `shape` (same rank).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[1.0f32, 2.0], &[2, 1])?;
    /// let y = x.expand(&[2, 3])?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn expand(&self, shape: &[i64]) -> Result<Tensor> {
        self.movement(
            Op::Expand,
            "expand",
            Movement::Expand(shape.to_vec()),
            Arg::Shape(shape.into()),
        )
    }

    /// Zeros around each dim: `(before, after)`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.pad(&[(1, 0), (0, 2)])?; // (3, 4), zeros around
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn pad(&self, pads: &[(i64, i64)]) -> Result<Tensor> {
        self.movement(
            Op::Pad,
            "pad",
            Movement::Pad(pads.to_vec()),
            Arg::Pairs(pads.into()),
        )
    }

    /// Keeps `begin..end` of each dim.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.shrink(&[(0, 1), (0, 2)])?; // the first row
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn shrink(&self, ranges: &[(i64, i64)]) -> Result<Tensor> {
        self.movement(
            Op::Shrink,
            "shrink",
            Movement::Shrink(ranges.to_vec()),
            Arg::Pairs(ranges.into()),
        )
    }

    /// Reverses the given axes.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.flip(&[1])?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn flip(&self, axes: &[usize]) -> Result<Tensor> {
        let rank = self.shape().len();
        if let Some(&a) = axes.iter().find(|a| **a >= rank) {
            return Err(TensorError::Axis {
                op: "flip",
                axis: a as isize,
                shape: self.shape().to_vec(),
            });
        }
        let flags: Vec<bool> = (0..rank).map(|a| axes.contains(&a)).collect();
        self.movement(
            Op::Flip,
            "flip",
            Movement::Flip(flags),
            Arg::Axes(Arc::from(axes)),
        )
    }

    /// Swaps two axes.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.transpose(0, 1)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn transpose(&self, a: usize, b: usize) -> Result<Tensor> {
        let rank = self.shape().len();
        for x in [a, b] {
            if x >= rank {
                return Err(TensorError::Axis {
                    op: "transpose",
                    axis: x as isize,
                    shape: self.shape().to_vec(),
                });
            }
        }
        let mut axes: Vec<usize> = (0..rank).collect();
        axes.swap(a, b);
        self.permute(&axes)
    }

    /// Python-style slicing per dim: `start..end` with negative indices counted from the
    /// end and out-of-range ends clamped (an empty range gives a dim of size 0); dims not
    /// given are kept whole.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.slice(&[(1, 2)])?; // x[1:2]
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn slice(&self, ranges: &[(i64, i64)]) -> Result<Tensor> {
        let rank = self.shape().len();
        if ranges.len() > rank {
            return Err(TensorError::Axis {
                op: "slice",
                axis: ranges.len() as isize - 1,
                shape: self.shape().to_vec(),
            });
        }
        let arg: Vec<(i64, i64)> = self
            .shape()
            .iter()
            .enumerate()
            .map(|(i, &s)| match ranges.get(i) {
                Some(&(b, e)) => {
                    let fix = |v: i64| if v < 0 { (v + s).max(0) } else { v.min(s) };
                    // an end before the begin selects nothing (an empty dim)
                    (fix(b), fix(e).max(fix(b)))
                }
                None => (0, s),
            })
            .collect();
        named("slice", || self.shrink(&arg))
    }

    /// Forces this tensor into a buffer of its own when realized (a kernel boundary).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.transpose(0, 1)?.contiguous(); // its own buffer when realized
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn contiguous(&self) -> Tensor {
        self.derive(
            UOp::new(Op::Contiguous, self.dtype(), [self.node()], Arg::None),
            self.shape().to_vec(),
        )
    }

    /// Partial contiguous (tinygrad's `contiguous` with axes): materializes the listed
    /// axes of this tensor and leaves the other axes as loops of the kernels that use it.
    ///
    /// Precisely: the work in this tensor's graph that depends only on the listed axes
    /// (each largest subexpression whose loops are all listed axes and that reads some
    /// buffer) is computed by a kernel of its own, once per value of the listed axes, into
    /// a buffer of `prod(shape[axis] for listed axes)` elements. The rest, which varies
    /// along an unlisted axis, stays fused into each consumer's kernel and reads those
    /// buffers. A tensor broadcast along the unlisted axes is thus stored once instead of
    /// once per broadcast element. Listing every axis is `contiguous()`; listing none
    /// changes nothing. Realized itself (rather than used by another tensor), the tensor
    /// is stored whole. Values are exactly those of the tensor: only where the work
    /// happens changes.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::rand(&[4, 8])?;
    /// let y = x.exp()?.contiguous_axes(&[1])?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn contiguous_axes(&self, axes: &[usize]) -> Result<Tensor> {
        let rank = self.shape().len();
        if let Some(&a) = axes.iter().find(|a| **a >= rank) {
            return Err(TensorError::Axis {
                op: "contiguous_axes",
                axis: a as isize,
                shape: self.shape().to_vec(),
            });
        }
        let mut listed = axes.to_vec();
        listed.sort_unstable();
        listed.dedup();
        if listed.is_empty() {
            return Ok(self.clone());
        }
        if listed.len() == rank {
            return Ok(self.contiguous());
        }
        Ok(self.derive(
            UOp::new(
                Op::Contiguous,
                self.dtype(),
                [self.node()],
                Arg::Axes(listed.into()),
            ),
            self.shape().to_vec(),
        ))
    }

    /// Inserts a size-1 dim at `axis`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.unsqueeze(0)?; // (1, 2, 2)
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn unsqueeze(&self, axis: usize) -> Result<Tensor> {
        let mut shape = self.shape().to_vec();
        if axis > shape.len() {
            return Err(TensorError::Axis {
                op: "unsqueeze",
                axis: axis as isize,
                shape,
            });
        }
        shape.insert(axis, 1);
        self.reshape(&shape)
    }

    /// Numpy broadcasting to `shape`: align right, size-1 (or missing) dims grow.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.reshape(&[4])?.broadcast_to(&[3, 4])?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn broadcast_to(&self, shape: &[i64]) -> Result<Tensor> {
        if self.shape() == shape {
            return Ok(self.clone());
        }
        checked_numel(shape).map_err(|error| TensorError::Shape {
            op: "broadcast_to",
            error,
        })?;
        let rank = shape.len();
        if self.shape().len() > rank {
            return Err(TensorError::Broadcast {
                op: "broadcast_to",
                a: self.shape().to_vec(),
                b: shape.to_vec(),
            });
        }
        let mut padded = vec![1i64; rank - self.shape().len()];
        padded.extend_from_slice(self.shape());
        if padded.iter().zip(shape).any(|(p, s)| p != s && *p != 1) {
            return Err(TensorError::Broadcast {
                op: "broadcast_to",
                a: self.shape().to_vec(),
                b: shape.to_vec(),
            });
        }
        // the checks above are the reshape's and the expand's: build their nodes directly
        let mut node = self.node();
        if padded != self.shape() {
            node = UOp::new(
                Op::Reshape,
                self.dtype(),
                [node],
                Arg::Shape(padded[..].into()),
            );
        }
        if padded != shape {
            node = UOp::new(Op::Expand, self.dtype(), [node], Arg::Shape(shape.into()));
        }
        Ok(self.derive(node, shape.to_vec()))
    }
}

/// The shape two shapes broadcast to.
///
/// ```no_run
/// # use frontend_tensor::*;
/// let s = broadcast_shape("add", &[3, 1], &[4])?; // [3, 4]
/// # Ok::<(), TensorError>(())
/// ```
pub fn broadcast_shape(op: &'static str, a: &[i64], b: &[i64]) -> Result<Vec<i64>> {
    let rank = a.len().max(b.len());
    let get = |s: &[i64], i: usize| {
        if i + s.len() >= rank {
            s[i + s.len() - rank]
        } else {
            1
        }
    };
    (0..rank)
        .map(|i| match (get(a, i), get(b, i)) {
            (x, y) if x == y => Ok(x),
            (1, y) => Ok(y),
            (x, 1) => Ok(x),
            _ => Err(TensorError::Broadcast {
                op,
                a: a.to_vec(),
                b: b.to_vec(),
            }),
        })
        .collect()
}
