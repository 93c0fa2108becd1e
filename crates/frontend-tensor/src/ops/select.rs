//! Selection and rearrangement: `split`/`chunk`/`unbind`, `roll`, `tile`, `unflatten`,
//! `repeat_interleave`, padding modes (constant, reflect, replicate, circular), `tril`/
//! `triu`, `meshgrid`, `masked_fill`, and lookups by index tensors (`index_select`,
//! `gather`, `scatter`, `scatter_add`). A lookup compares indices with positions (a one-hot
//! mask) and reduces: an index out of range selects nothing (0) and writes nothing; it
//! never reads or writes out of bounds.

use dtype::DType;

use crate::error::{Result, TensorError, named};
use crate::tensor::Tensor;

/// How `pad_mode` fills the border.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PadMode {
    Constant(f64),
    /// Mirrored without repeating the edge (`[1, 2, 3]` by 2: `3 2 | 1 2 3 | 2 1`).
    Reflect,
    /// The edge repeated.
    Replicate,
    /// Wrapped around.
    Circular,
}

impl Tensor {
    fn keep_all(&self) -> Vec<(i64, i64)> {
        self.shape().iter().map(|&d| (0, d)).collect()
    }

    /// `self` cut along `axis` into pieces of the given sizes (they must add up to it).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::arange(5, DType::F32)?;
    /// let parts = x.split_sizes(&[1, 4], 0)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn split_sizes(&self, sizes: &[i64], axis: isize) -> Result<Vec<Tensor>> {
        let a = self.axis_of("split", axis, self.shape().len())?;
        if sizes.iter().any(|&s| s < 0) || sizes.iter().sum::<i64>() != self.shape()[a] {
            return Err(TensorError::Invalid {
                op: "split",
                why: format!(
                    "sizes {sizes:?} do not add up to dim {a} of {:?}",
                    self.shape()
                ),
            });
        }
        let mut start = 0;
        sizes
            .iter()
            .map(|&s| {
                let mut keep = self.keep_all();
                keep[a] = (start, start + s);
                start += s;
                named("split", || self.shrink(&keep))
            })
            .collect()
    }

    /// Pieces of `size` along `axis` (the last may be smaller).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::arange(5, DType::F32)?;
    /// let parts = x.split(2, 0)?; // sizes 2, 2, 1
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn split(&self, size: i64, axis: isize) -> Result<Vec<Tensor>> {
        let a = self.axis_of("split", axis, self.shape().len())?;
        if size < 1 {
            return Err(TensorError::Invalid {
                op: "split",
                why: format!("piece size {size} must be at least 1"),
            });
        }
        let n = self.shape()[a];
        let mut sizes = vec![size; (n / size) as usize];
        if n % size != 0 {
            sizes.push(n % size);
        }
        self.split_sizes(&sizes, a as isize)
    }

    /// `chunks` pieces along `axis`, as PyTorch's `chunk` (pieces of `ceil(n / chunks)`).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::arange(7, DType::F32)?;
    /// let parts = x.chunk(3, 0)?; // sizes 3, 3, 1
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn chunk(&self, chunks: i64, axis: isize) -> Result<Vec<Tensor>> {
        let a = self.axis_of("chunk", axis, self.shape().len())?;
        if chunks < 1 {
            return Err(TensorError::Invalid {
                op: "chunk",
                why: format!("chunks {chunks} must be at least 1"),
            });
        }
        let n = self.shape()[a];
        self.split(((n + chunks - 1) / chunks).max(1), a as isize)
    }

    /// The slices along `axis`, each without that dim.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let rows = x.unbind(0)?; // two tensors of 2
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn unbind(&self, axis: isize) -> Result<Vec<Tensor>> {
        let a = self.axis_of("unbind", axis, self.shape().len())?;
        self.split(1, a as isize)?
            .into_iter()
            .map(|t| t.squeeze_axes(&[a as isize]))
            .collect()
    }

    /// Rotates `axis` by `shift` (elements leaving the end come back at the start).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.roll(1, 1)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn roll(&self, shift: i64, axis: isize) -> Result<Tensor> {
        let a = self.axis_of("roll", axis, self.shape().len())?;
        let n = self.shape()[a];
        if n == 0 {
            return Ok(self.clone());
        }
        let s = shift.rem_euclid(n);
        if s == 0 {
            return Ok(self.clone());
        }
        named("roll", || {
            let parts = self.split_sizes(&[n - s, s], a as isize)?;
            Tensor::cat(&[&parts[1], &parts[0]], a as isize)
        })
    }

    /// PyTorch's `tile`: `repeat` with fewer counts than dims counting from the last dim.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.tile(&[2])?; // (2, 4)
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn tile(&self, reps: &[i64]) -> Result<Tensor> {
        let rank = self.shape().len();
        let mut counts = vec![1; rank.saturating_sub(reps.len())];
        counts.extend_from_slice(reps);
        named("tile", || self.repeat(&counts))
    }

    /// Dim `axis` split into `sizes` (one may be -1).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::rand(&[2, 12])?;
    /// let y = x.unflatten(1, &[3, -1])?; // (2, 3, 4)
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn unflatten(&self, axis: isize, sizes: &[i64]) -> Result<Tensor> {
        let a = self.axis_of("unflatten", axis, self.shape().len())?;
        let mut shape = self.shape()[..a].to_vec();
        shape.extend_from_slice(sizes);
        shape.extend_from_slice(&self.shape()[a + 1..]);
        named("unflatten", || self.reshape(&shape))
    }

    /// Each element repeated `repeats` times along `axis`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.repeat_interleave(2, 1)?; // (2, 4)
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn repeat_interleave(&self, repeats: i64, axis: isize) -> Result<Tensor> {
        let a = self.axis_of("repeat_interleave", axis, self.shape().len())?;
        if repeats < 0 {
            return Err(TensorError::Invalid {
                op: "repeat_interleave",
                why: format!("repeats {repeats} is negative"),
            });
        }
        named("repeat_interleave", || {
            let x = self.unsqueeze(a + 1)?;
            let mut shape = x.shape().to_vec();
            shape[a + 1] = repeats;
            let mut out = self.shape().to_vec();
            out[a] *= repeats;
            x.expand(&shape)?.reshape(&out)
        })
    }

    /// Pads every dim by `(before, after)` with `mode` (reflect needs pads smaller than the
    /// dim, circular at most the dim).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.pad_mode(&[(0, 0), (1, 1)], PadMode::Reflect)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn pad_mode(&self, pads: &[(i64, i64)], mode: PadMode) -> Result<Tensor> {
        if pads.len() != self.shape().len() || pads.iter().any(|&(b, e)| b < 0 || e < 0) {
            return Err(TensorError::Invalid {
                op: "pad",
                why: format!(
                    "pads {pads:?} for shape {:?}: one (before, after) >= 0 per dim",
                    self.shape()
                ),
            });
        }
        if let PadMode::Constant(v) = mode {
            return named("pad", || {
                let padded = self.pad(pads)?;
                if v == 0.0 {
                    return Ok(padded);
                }
                let inside = Tensor::ones(self.shape(), DType::Bool)?.pad(pads)?;
                inside.where_(&padded, &self.scalar_like(v).cast(self.dtype())?)
            });
        }
        let mut x = self.clone();
        for (a, &(before, after)) in pads.iter().enumerate() {
            if before == 0 && after == 0 {
                continue;
            }
            let n = x.shape()[a];
            let too_big = match mode {
                PadMode::Reflect => before >= n || after >= n,
                PadMode::Circular => before > n || after > n,
                _ => n == 0,
            };
            if too_big {
                return Err(TensorError::Invalid {
                    op: "pad",
                    why: format!("{mode:?} pad ({before}, {after}) of dim {a} of size {n}"),
                });
            }
            let cut = |b: i64, e: i64| -> Result<Tensor> {
                let mut keep = x.keep_all();
                keep[a] = (b, e);
                x.shrink(&keep)
            };
            let (left, right) = match mode {
                PadMode::Reflect => (
                    cut(1, before + 1)?.flip(&[a])?,
                    cut(n - 1 - after, n - 1)?.flip(&[a])?,
                ),
                PadMode::Replicate => {
                    let mut l = x.shape().to_vec();
                    l[a] = before;
                    let mut r = x.shape().to_vec();
                    r[a] = after;
                    (cut(0, 1)?.expand(&l)?, cut(n - 1, n)?.expand(&r)?)
                }
                PadMode::Circular => (cut(n - before, n)?, cut(0, after)?),
                // constant padding returned before this loop
                PadMode::Constant(_) => (x.clone(), x.clone()),
            };
            x = named("pad", || Tensor::cat(&[&left, &x, &right], a as isize))?;
        }
        Ok(x)
    }

    /// The lower triangle of the last two dims: `j - i <= diagonal` kept, the rest 0.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.tril(0)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn tril(&self, diagonal: i64) -> Result<Tensor> {
        self.triangle("tril", diagonal, true)
    }

    /// The upper triangle of the last two dims: `j - i >= diagonal` kept.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.triu(1)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn triu(&self, diagonal: i64) -> Result<Tensor> {
        self.triangle("triu", diagonal, false)
    }

    fn triangle(&self, op: &'static str, diagonal: i64, lower: bool) -> Result<Tensor> {
        let rank = self.shape().len();
        if rank < 2 {
            return Err(TensorError::Axis {
                op,
                axis: -2,
                shape: self.shape().to_vec(),
            });
        }
        let (n, m) = (self.shape()[rank - 2], self.shape()[rank - 1]);
        named(op, || {
            let i = Tensor::positions(n, self.device())?.reshape(&[n, 1])?;
            let j = Tensor::positions(m, self.device())?.reshape(&[1, m])?;
            let d = j.sub(&i)?;
            let keep = if lower {
                d.le(&d.scalar_like(diagonal as f64))?
            } else {
                d.ge(&d.scalar_like(diagonal as f64))?
            };
            keep.where_(self, &self.full_like_value(0.0)?)
        })
    }

    /// Coordinate grids of 1-D tensors (`ij` indexing; `xy` swaps the first two dims).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let a = Tensor::arange(3, DType::F32)?;
    /// let b = Tensor::arange(2, DType::F32)?;
    /// let grids = Tensor::meshgrid(&[&a, &b], false)?; // two (3, 2) grids
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn meshgrid(tensors: &[&Tensor], xy: bool) -> Result<Vec<Tensor>> {
        if tensors.iter().any(|t| t.shape().len() != 1) {
            return Err(TensorError::Invalid {
                op: "meshgrid",
                why: "every tensor must be 1-D".into(),
            });
        }
        let mut sizes: Vec<i64> = tensors.iter().map(|t| t.shape()[0]).collect();
        if xy && sizes.len() >= 2 {
            sizes.swap(0, 1);
        }
        tensors
            .iter()
            .enumerate()
            .map(|(k, t)| {
                let pos = if xy && k < 2 { 1 - k } else { k };
                let mut shape = vec![1; sizes.len()];
                shape[pos] = t.shape()[0];
                named("meshgrid", || t.reshape(&shape)?.expand(&sizes))
            })
            .collect()
    }

    /// `value` where `mask` is true, this tensor elsewhere.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let mask = x.lt_scalar(0.0)?;
    /// let y = x.masked_fill(&mask, 0.0)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn masked_fill(&self, mask: &Tensor, value: f64) -> Result<Tensor> {
        named("masked_fill", || {
            mask.where_(&self.scalar_like(value).cast(self.dtype())?, self)
        })
    }

    /// A one-hot mask `(.., index dims.., n)`: true where an index equals a position.
    pub(crate) fn hits(index: &Tensor, n: i64, device: &str) -> Result<Tensor> {
        let mut shape = index.shape().to_vec();
        shape.push(1);
        index
            .cast(DType::I64)?
            .reshape(&shape)?
            .eq(&Tensor::positions(n, device)?)
    }

    /// Slices of `axis` at a 1-D integer `index` (out of range: zeros).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::rand(&[4, 5])?;
    /// let idx = Tensor::from_slice(&[3i64, 0], &[2])?;
    /// let y = x.index_select(0, &idx)?; // rows 3 and 0
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn index_select(&self, axis: isize, index: &Tensor) -> Result<Tensor> {
        let a = self.axis_of("index_select", axis, self.shape().len())?;
        if index.shape().len() != 1 || !index.dtype().is_int() {
            return Err(TensorError::Invalid {
                op: "index_select",
                why: format!(
                    "the index must be 1-D integers, got {:?} {}",
                    index.shape(),
                    index.dtype()
                ),
            });
        }
        let n = self.shape()[a];
        named("index_select", || {
            // x (.., 1, n, ..) * hits (1.., k, n, 1..) summed over n
            let hit = Tensor::hits(index, n, self.device())?;
            let rank = self.shape().len();
            let mut hshape = vec![1; rank + 1];
            hshape[a] = index.shape()[0];
            hshape[a + 1] = n;
            let hit = hit.reshape(&hshape)?;
            let x = self.unsqueeze(a)?;
            hit.where_(&x, &x.full_like_value(0.0)?)?
                .sum(&[a as isize + 1], false)?
                .cast(self.dtype())
        })
    }

    /// `out[.., j, ..] = self[.., index[.., j, ..], ..]` along `axis` (PyTorch's
    /// `gather`; `index` has this tensor's rank and no larger dims elsewhere).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let idx = Tensor::from_slice(&[1i64, 0, 0, 0], &[2, 2])?;
    /// let y = x.gather(1, &idx)?; // x[i][idx[i][j]]
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn gather(&self, axis: isize, index: &Tensor) -> Result<Tensor> {
        let rank = self.shape().len();
        let a = self.axis_of("gather", axis, rank)?;
        let fits = index.shape().len() == rank
            && index.dtype().is_int()
            && (0..rank).all(|d| d == a || index.shape()[d] <= self.shape()[d]);
        if !fits {
            return Err(TensorError::Invalid {
                op: "gather",
                why: format!(
                    "index {:?} {} for input {:?} along {a}: integers of the same rank, no dim larger",
                    index.shape(),
                    index.dtype(),
                    self.shape()
                ),
            });
        }
        let n = self.shape()[a];
        named("gather", || {
            // the input cut to the index's extent in the other dims
            let mut keep = self.keep_all();
            for (d, k) in keep.iter_mut().enumerate() {
                if d != a {
                    *k = (0, index.shape()[d]);
                }
            }
            let x = self.shrink(&keep)?;
            // (.., j, .., n) mask, x moved to (.., 1, .., n)
            let hit = Tensor::hits(index, n, self.device())?;
            // x with `axis` moved last and a size-1 dim where it was
            let mut order: Vec<usize> = (0..rank).filter(|&d| d != a).collect();
            order.push(a);
            let xm = x.permute(&order)?.unsqueeze(a)?;
            let picked = hit.where_(&xm, &xm.full_like_value(0.0)?)?;
            picked.sum(&[-1], false)?.cast(self.dtype())
        })
    }

    /// A copy with `src` written at `index` along `axis` (PyTorch's `scatter`; an index
    /// written twice gets the sum of what was written there).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let idx = Tensor::from_slice(&[1i64, 0], &[1, 2])?;
    /// let src = Tensor::from_slice(&[9.0f32, 8.0], &[1, 2])?;
    /// let y = x.scatter(0, &idx, &src)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn scatter(&self, axis: isize, index: &Tensor, src: &Tensor) -> Result<Tensor> {
        self.scatter_impl("scatter", axis, index, src, false)
    }

    /// A copy with `src` added at `index` along `axis`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let idx = Tensor::from_slice(&[1i64, 0], &[1, 2])?;
    /// let src = Tensor::from_slice(&[9.0f32, 8.0], &[1, 2])?;
    /// let y = x.scatter_add(0, &idx, &src)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn scatter_add(&self, axis: isize, index: &Tensor, src: &Tensor) -> Result<Tensor> {
        self.scatter_impl("scatter_add", axis, index, src, true)
    }

    fn scatter_impl(
        &self,
        op: &'static str,
        axis: isize,
        index: &Tensor,
        src: &Tensor,
        add: bool,
    ) -> Result<Tensor> {
        let rank = self.shape().len();
        let a = self.axis_of(op, axis, rank)?;
        let fits = index.shape().len() == rank
            && src.shape().len() == rank
            && index.dtype().is_int()
            && (0..rank).all(|d| {
                index.shape()[d] <= src.shape()[d]
                    && (d == a || index.shape()[d] <= self.shape()[d])
            });
        if !fits {
            return Err(TensorError::Invalid {
                op,
                why: format!(
                    "index {:?} {}, src {:?}, input {:?}: integers of the same rank, within src and the input",
                    index.shape(),
                    index.dtype(),
                    src.shape(),
                    self.shape()
                ),
            });
        }
        let n = self.shape()[a];
        named(op, || {
            let s = src
                .shrink(&index.shape().iter().map(|&d| (0, d)).collect::<Vec<_>>())?
                .cast(self.dtype())?;
            // hits (.., j, .., n): summed over j at each position i of the axis
            let hit = Tensor::hits(index, n, self.device())?;
            let sm = s.unsqueeze(rank)?;
            let contrib = hit
                .where_(&sm, &sm.full_like_value(0.0)?)?
                .sum(&[a as isize], true)?;
            let written = hit.any(&[a as isize], true)?;
            // (.., 1, .., n) -> (.., n, ..) with the other dims padded to the input's
            let back = |t: &Tensor| -> Result<Tensor> {
                let t = t.transpose(a, rank)?.squeeze_axes(&[rank as isize])?;
                let pads: Vec<(i64, i64)> = (0..rank)
                    .map(|d| (0, self.shape()[d] - t.shape()[d]))
                    .collect();
                t.pad(&pads)
            };
            let contrib = back(&contrib)?.cast(self.dtype())?;
            if add {
                return self.add(&contrib);
            }
            let written = back(&written.cast(DType::I64)?)?.cast(DType::Bool)?;
            written.where_(&contrib, self)
        })
    }
}
