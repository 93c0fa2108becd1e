//! NumPy/PyTorch indexing, `t.index(&[..])`: integers select (and drop the dim), ranges
//! slice with a positive step, `NewAxis` inserts a dim, `Ellipsis` stands for the dims not
//! named, and integer tensors index advanced-style: they broadcast together, and their
//! shape replaces the dims they index (in place when those dims are adjacent, at the front
//! otherwise). Negative integers and tensor entries count from the end; an out-of-range
//! integer is an error, an out-of-range tensor entry selects zeros (it is only known when
//! the kernel runs, which never reads out of bounds).

use dtype::DType;

use crate::error::{Result, TensorError, named};
use crate::tensor::Tensor;

/// One entry of an index.
#[derive(Clone, Debug)]
pub enum Idx {
    /// One position; the dim goes.
    At(i64),
    /// `start..end` by `step` (None: the start or end of the dim), Python's clamping.
    Range {
        start: Option<i64>,
        end: Option<i64>,
        step: i64,
    },
    /// The whole dim (`:`).
    All,
    /// A new dim of size 1 (`None` in Python).
    NewAxis,
    /// The dims not named otherwise (`...`).
    Ellipsis,
    /// Integer positions (advanced indexing).
    Tensor(Tensor),
}

impl Idx {
    /// `start..end` with step 1.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let i = Idx::range(1, 3); // 1:3
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn range(start: i64, end: i64) -> Idx {
        Idx::Range {
            start: Some(start),
            end: Some(end),
            step: 1,
        }
    }
}

fn bad(why: String) -> TensorError {
    TensorError::Invalid { op: "index", why }
}

impl Tensor {
    /// The tensor indexed as `t[idx...]` (see the module doc).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::rand(&[4, 5])?;
    /// let idx = Tensor::from_slice(&[3i64, 0], &[2])?;
    /// let y = x.index(&[Idx::Tensor(idx), Idx::range(1, 4)])?; // x[[3, 0], 1:4]
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn index(&self, idx: &[Idx]) -> Result<Tensor> {
        let rank = self.shape().len();
        let named_dims = idx
            .iter()
            .filter(|i| !matches!(i, Idx::NewAxis | Idx::Ellipsis))
            .count();
        let ellipses = idx.iter().filter(|i| matches!(i, Idx::Ellipsis)).count();
        if ellipses > 1 || named_dims > rank {
            return Err(bad(format!(
                "{} indexed dims for shape {:?}",
                named_dims,
                self.shape()
            )));
        }
        // expand the ellipsis (or pad at the end) to one entry per dim
        let mut full: Vec<Idx> = Vec::new();
        for i in idx {
            if matches!(i, Idx::Ellipsis) {
                full.extend(std::iter::repeat_n(Idx::All, rank - named_dims));
            } else {
                full.push(i.clone());
            }
        }
        if ellipses == 0 {
            full.extend(std::iter::repeat_n(Idx::All, rank - named_dims));
        }
        named("index", || self.index_full(&full))
    }

    fn index_full(&self, idx: &[Idx]) -> Result<Tensor> {
        // basic indexing first: slices and new axes; integers become size-1 slices whose
        // dims are dropped at the end; tensor entries keep their dim whole for now
        let mut x = self.clone();
        let mut dim = 0usize;
        let mut drop: Vec<usize> = Vec::new();
        let mut advanced: Vec<(usize, Tensor)> = Vec::new();
        for i in idx {
            match i {
                Idx::NewAxis => {
                    x = x.unsqueeze(dim)?;
                    dim += 1;
                }
                Idx::All => dim += 1,
                Idx::At(p) => {
                    let n = x.shape()[dim];
                    let q = if *p < 0 { p + n } else { *p };
                    if !(0..n).contains(&q) {
                        return Err(bad(format!(
                            "position {p} is out of range for dim {dim} of size {n}"
                        )));
                    }
                    x = x.narrow(dim, q, q + 1, 1)?;
                    drop.push(dim);
                    dim += 1;
                }
                Idx::Range { start, end, step } => {
                    if *step < 1 {
                        return Err(bad(format!("step {step}: only positive steps slice")));
                    }
                    let n = x.shape()[dim];
                    let fix = |v: i64| if v < 0 { (v + n).max(0) } else { v.min(n) };
                    let s = start.map_or(0, fix);
                    let e = end.map_or(n, fix).max(s);
                    x = x.narrow(dim, s, e, *step)?;
                    dim += 1;
                }
                Idx::Tensor(t) => {
                    if !(t.dtype().is_int()) {
                        return Err(bad(format!(
                            "an index tensor must hold integers, not {}",
                            t.dtype()
                        )));
                    }
                    advanced.push((dim, t.clone()));
                    dim += 1;
                }
                Idx::Ellipsis => {}
            }
        }
        let x = x.gather_advanced(&advanced)?;
        // dims dropped by integer positions: they are size 1 and not moved by the
        // advanced step when it put its dims in place (adjacent case) or at the front
        let shift = advanced_shift(&advanced);
        let drop: Vec<isize> = drop.iter().map(|&d| shift(d) as isize).collect();
        if drop.is_empty() {
            Ok(x)
        } else {
            x.squeeze_axes(&drop)
        }
    }

    /// `begin..end` of `dim` every `step` elements.
    fn narrow(&self, dim: usize, begin: i64, end: i64, step: i64) -> Result<Tensor> {
        let mut keep: Vec<(i64, i64)> = self.shape().iter().map(|&d| (0, d)).collect();
        keep[dim] = (begin, end);
        let x = self.shrink(&keep)?;
        if step == 1 {
            return Ok(x);
        }
        let len = end - begin;
        let count = (len + step - 1) / step;
        let mut pads = vec![(0, 0); x.shape().len()];
        pads[dim] = (0, count * step - len);
        let mut rows = x.shape().to_vec();
        rows[dim] = count;
        rows.insert(dim + 1, step);
        let mut first: Vec<(i64, i64)> = rows.iter().map(|&d| (0, d)).collect();
        first[dim + 1] = (0, 1);
        x.pad(&pads)?
            .reshape(&rows)?
            .shrink(&first)?
            .squeeze_axes(&[dim as isize + 1])
    }

    /// Advanced indexing by `(dim, positions)` pairs: the positions broadcast together to
    /// `b`; the indexed dims are flattened into one, looked up with one-hot masks, and `b`
    /// takes their place (adjacent dims) or the front.
    fn gather_advanced(&self, advanced: &[(usize, Tensor)]) -> Result<Tensor> {
        if advanced.is_empty() {
            return Ok(self.clone());
        }
        let rank = self.shape().len();
        let dims: Vec<usize> = advanced.iter().map(|(d, _)| *d).collect();
        let mut b: Vec<i64> = Vec::new();
        for (_, t) in advanced {
            b = crate::movement::broadcast_shape("index", &b, t.shape())?;
        }
        // the linear position in the flattened indexed dims (negative entries wrap)
        let mut linear: Option<Tensor> = None;
        let mut stride = 1i64;
        for (d, t) in advanced.iter().rev() {
            let n = self.shape()[*d];
            let t = t.cast(DType::I64)?.broadcast_to(&b)?;
            let wrapped = t.lt_scalar(0.0)?.where_(&t.add_scalar(n as f64)?, &t)?;
            // an entry out of range must not land on another element
            let inside = wrapped
                .ge_scalar(0.0)?
                .logical_and(&wrapped.lt_scalar(n as f64)?)?;
            let term = inside.where_(
                &wrapped.mul_scalar(stride as f64)?,
                &wrapped.full_like_value(-1.0e15)?,
            )?;
            linear = Some(match linear {
                Some(l) => l.add(&term)?,
                None => term,
            });
            stride *= n;
        }
        let linear = linear.ok_or_else(|| bad("no index tensors".into()))?;
        // indexed dims first, flattened: (p, rest..)
        let mut order = dims.clone();
        order.extend((0..rank).filter(|d| !dims.contains(d)));
        let moved = self.permute(&order)?;
        let rest: Vec<i64> = moved.shape()[dims.len()..].to_vec();
        let mut flat_shape = vec![stride];
        flat_shape.extend(&rest);
        let flat = moved.reshape(&flat_shape)?;
        // (b.., p) mask times (p, rest..) summed over p: (b.., rest..)
        let hit = {
            let mut s = b.clone();
            s.push(1);
            linear
                .reshape(&s)?
                .eq(&Tensor::positions(stride, self.device())?)?
        };
        let mut hshape = hit.shape().to_vec();
        hshape.extend(std::iter::repeat_n(1, rest.len()));
        let hit = hit.reshape(&hshape)?;
        let mut fshape = vec![1; b.len()];
        fshape.extend(&flat_shape);
        let src = flat.reshape(&fshape)?;
        let picked = hit
            .where_(&src, &src.full_like_value(0.0)?)?
            .sum(&[b.len() as isize], false)?
            .cast(self.dtype())?;
        // adjacent indexed dims: b goes where they were
        let adjacent = dims.windows(2).all(|w| w[1] == w[0] + 1);
        if !adjacent || dims[0] == 0 {
            return Ok(picked);
        }
        let first = dims[0];
        let nb = b.len();
        let mut back: Vec<usize> = (nb..nb + first).collect();
        back.extend(0..nb);
        back.extend(nb + first..picked.shape().len());
        picked.permute(&back)
    }
}

/// Where dim `d` of the basic-indexed tensor ends up after the advanced step.
fn advanced_shift(advanced: &[(usize, Tensor)]) -> impl Fn(usize) -> usize {
    let dims: Vec<usize> = advanced.iter().map(|(d, _)| *d).collect();
    let b_rank = advanced.iter().fold(Vec::<i64>::new(), |b, (_, t)| {
        crate::movement::broadcast_shape("index", &b, t.shape()).unwrap_or(b)
    });
    let nb = b_rank.len();
    let adjacent = dims.windows(2).all(|w| w[1] == w[0] + 1);
    move |d: usize| {
        if dims.is_empty() {
            return d;
        }
        let before = dims.iter().filter(|&&x| x < d).count();
        if adjacent && dims[0] != 0 {
            // b replaces the indexed dims in place
            if d < dims[0] { d } else { d - before + nb }
        } else {
            // b at the front, then the other dims in order
            nb + d - before
        }
    }
}
