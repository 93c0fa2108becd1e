//! Matrix products with PyTorch's `matmul` rules: 1-D operands are vectors, leading dims
//! broadcast, `[.., m, k] @ [.., k, n] -> [.., m, n]`. A product is a broadcast multiply
//! reduced over `k`, so `(a @ b + bias).relu()` is one kernel. Narrow floats multiply
//! and accumulate in f32 and round once, as PyTorch does.

use dtype::DType;

use crate::error::{Result, TensorError, named};
use crate::tensor::Tensor;

impl Tensor {
    /// The matrix product (PyTorch's `matmul`): vector-vector is a dot product, a vector
    /// on the left is a row and on the right a column (the added dim is removed again),
    /// and dims before the last two broadcast.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
    /// let b = Tensor::from_slice(&[0.5f32, -1.0], &[2])?;
    /// let c = a.matmul(&a)?; // (2, 2)
    /// let v = a.matmul(&b)?; // (2,)
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn matmul(&self, other: &Tensor) -> Result<Tensor> {
        let (a, b) = (self.shape().to_vec(), other.shape().to_vec());
        let bad = || TensorError::Matmul {
            a: a.clone(),
            b: b.clone(),
        };
        if a.is_empty() || b.is_empty() {
            return Err(bad());
        }
        let x = if a.len() == 1 {
            self.reshape(&[1, a[0]])?
        } else {
            self.clone()
        };
        let w = if b.len() == 1 {
            other.reshape(&[b[0], 1])?
        } else {
            other.clone()
        };
        let (xs, ws) = (x.shape(), w.shape());
        let k = xs[xs.len() - 1];
        if ws[ws.len() - 2] != k {
            return Err(bad());
        }
        let out = named("matmul", || {
            // [.., m, 1, k] * [.., 1, n, k] summed over k
            let lhs = x.unsqueeze(xs.len() - 1)?;
            let rhs = w
                .transpose(ws.len() - 2, ws.len() - 1)?
                .unsqueeze(ws.len() - 2)?;
            let dtype = dtype::least_upper_dtype(&[self.dtype(), other.dtype()])?;
            let wide = if dtype.is_narrow_float() {
                DType::F32
            } else {
                dtype
            };
            lhs.cast(wide)?
                .mul(&rhs.cast(wide)?)?
                .sum(&[-1], false)?
                .cast(dtype)
        })
        .map_err(|e| match e {
            TensorError::Broadcast { .. } => bad(),
            e => e,
        })?;
        // drop the dims a vector operand was given
        let mut shape = out.shape().to_vec();
        if b.len() == 1 {
            shape.pop();
        }
        if a.len() == 1 {
            shape.remove(shape.len() - 1 - usize::from(b.len() != 1));
        }
        out.reshape(&shape)
    }

    /// The dot product of two vectors.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0], &[3])?;
    /// let d = a.dot(&a)?; // 14
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn dot(&self, other: &Tensor) -> Result<Tensor> {
        if self.shape().len() != 1 || other.shape() != self.shape() {
            return Err(TensorError::Matmul {
                a: self.shape().to_vec(),
                b: other.shape().to_vec(),
            });
        }
        named("dot", || self.matmul(other))
    }

    /// The outer product of two vectors: `(n, m)`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let a = Tensor::from_slice(&[1.0f32, 2.0], &[2])?;
    /// let o = a.outer(&a)?; // (2, 2)
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn outer(&self, other: &Tensor) -> Result<Tensor> {
        if self.shape().len() != 1 || other.shape().len() != 1 {
            return Err(TensorError::Matmul {
                a: self.shape().to_vec(),
                b: other.shape().to_vec(),
            });
        }
        named("outer", || self.unsqueeze(1)?.mul(&other.unsqueeze(0)?))
    }

    /// Cosine similarity along `axis`: `a.b / max(|a| |b|, eps)`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
    /// let b = Tensor::from_slice(&[0.5f32, -1.0], &[2])?;
    /// let s = a.cosine_similarity(&a.flip(&[0])?, 1, 1e-8)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn cosine_similarity(&self, other: &Tensor, axis: isize, eps: f64) -> Result<Tensor> {
        named("cosine_similarity", || {
            let dotp = self.mul(other)?.sum(&[axis], false)?;
            let na = self.square()?.sum(&[axis], false)?;
            let nb = other.square()?.sum(&[axis], false)?;
            let denom = na.mul(&nb)?.sqrt()?.maximum(&dotp.scalar_like(eps))?;
            dotp.div(&denom)
        })
    }

    /// Einstein summation: `"ij,jk->ik"` (the output after `->`; without one, the letters
    /// that appear once, in alphabetical order). Each operand is broadcast to every letter,
    /// the product summed over the letters not in the output.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let a = Tensor::rand(&[3, 4])?;
    /// let b = Tensor::rand(&[4, 5])?;
    /// let c = Tensor::einsum("ij,jk->ik", &[&a, &b])?; // a @ b
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn einsum(spec: &str, operands: &[&Tensor]) -> Result<Tensor> {
        let bad = |why: String| TensorError::Invalid { op: "einsum", why };
        let spec: String = spec.chars().filter(|c| !c.is_whitespace()).collect();
        let (lhs, out) = match spec.split_once("->") {
            Some((l, o)) => (l.to_string(), Some(o.to_string())),
            None => (spec.clone(), None),
        };
        let inputs: Vec<&str> = lhs.split(',').collect();
        if inputs.len() != operands.len() {
            return Err(bad(format!(
                "{} subscripts for {} operands",
                inputs.len(),
                operands.len()
            )));
        }
        let mut letters: Vec<char> = Vec::new();
        let mut sizes: std::collections::HashMap<char, i64> = Default::default();
        for (s, t) in inputs.iter().zip(operands) {
            if s.chars().count() != t.shape().len() || !s.chars().all(|c| c.is_ascii_alphabetic()) {
                return Err(bad(format!(
                    "subscripts {s:?} for a tensor of shape {:?}",
                    t.shape()
                )));
            }
            for (c, &d) in s.chars().zip(t.shape()) {
                match sizes.get(&c) {
                    Some(&e) if e != d && e != 1 && d != 1 => {
                        return Err(bad(format!("{c} is {e} in one operand and {d} in another")));
                    }
                    Some(&e) if e != 1 => {}
                    _ => {
                        sizes.insert(c, d);
                    }
                }
                if !letters.contains(&c) {
                    letters.push(c);
                }
            }
        }
        let out: Vec<char> = match out {
            Some(o) => o.chars().collect(),
            None => {
                let mut once: Vec<char> = letters
                    .iter()
                    .copied()
                    .filter(|c| lhs.matches(*c).count() == 1)
                    .collect();
                once.sort_unstable();
                once
            }
        };
        if let Some(c) = out.iter().find(|c| !letters.contains(c)) {
            return Err(bad(format!("output letter {c} is in no operand")));
        }
        // every letter, output letters first
        let mut all: Vec<char> = out.clone();
        all.extend(letters.iter().copied().filter(|c| !out.contains(c)));
        let full: Vec<i64> = all.iter().map(|c| sizes[c]).collect();
        named("einsum", || {
            let mut product: Option<Tensor> = None;
            for (s, t) in inputs.iter().zip(operands) {
                let chars: Vec<char> = s.chars().collect();
                // a letter repeated within one operand takes its diagonal
                let mut t = (*t).clone();
                let mut uniq: Vec<char> = Vec::new();
                for c in &chars {
                    if let Some(j) = uniq.iter().position(|u| u == c) {
                        let n = t.shape()[j];
                        let eye = Tensor::eye(n, n, t.dtype())?;
                        let mut eshape = vec![1; t.shape().len()];
                        eshape[j] = n;
                        eshape[uniq.len()] = n;
                        t = t
                            .mul(&eye.reshape(&eshape)?)?
                            .sum(&[uniq.len() as isize], false)?;
                    } else {
                        uniq.push(*c);
                    }
                }
                // permute to the order of `all`, then add size-1 dims for missing letters
                let order: Vec<usize> = all
                    .iter()
                    .filter_map(|c| uniq.iter().position(|u| u == c))
                    .collect();
                let moved = t.permute(&order)?;
                let shape: Vec<i64> = all
                    .iter()
                    .map(|c| match uniq.iter().position(|u| u == c) {
                        Some(k) => moved.shape()[order.iter().position(|&o| o == k).unwrap_or(0)],
                        None => 1,
                    })
                    .collect();
                let lifted = moved.reshape(&shape)?.broadcast_to(&full)?;
                product = Some(match product {
                    Some(p) => p.mul(&lifted)?,
                    None => lifted,
                });
            }
            let p = product.ok_or_else(|| bad("no operands".into()))?;
            let summed: Vec<isize> = (out.len()..all.len()).map(|a| a as isize).collect();
            if summed.is_empty() {
                Ok(p)
            } else {
                p.sum(&summed, false)
            }
        })
    }

    /// Batched matrix product of 3-D tensors of one batch size (PyTorch's `bmm`).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let a = Tensor::rand(&[2, 3, 4])?;
    /// let b = Tensor::rand(&[2, 4, 5])?;
    /// let c = a.bmm(&b)?; // (2, 3, 5)
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn bmm(&self, other: &Tensor) -> Result<Tensor> {
        let (a, b) = (self.shape(), other.shape());
        if a.len() != 3 || b.len() != 3 || a[0] != b[0] {
            return Err(TensorError::Matmul {
                a: a.to_vec(),
                b: b.to_vec(),
            });
        }
        self.matmul(other)
    }
}
