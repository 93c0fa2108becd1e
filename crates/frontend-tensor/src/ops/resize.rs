//! Resampling by constant matrices: adaptive average pooling, nearest and (bi)linear
//! interpolation are linear maps along each spatial dim, so each is a matrix built on the
//! host (`out x in`, PyTorch's index arithmetic) applied with a product: exact, fused,
//! and differentiable. Adaptive max pooling masks each output's window and takes the max.

use dtype::DType;

use crate::error::{Result, TensorError, named};
use crate::tensor::Tensor;

/// How `interpolate` samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interpolation {
    /// The input element at `floor(o * in / out)`.
    Nearest,
    /// Linear in each spatial dim (bilinear in 2-D); `align_corners` maps the corner
    /// pixels' centres onto each other.
    Linear { align_corners: bool },
}

/// The window of output `o` of an adaptive pool: `floor(o*in/out) .. ceil((o+1)*in/out)`.
fn adaptive_window(o: i64, input: i64, output: i64) -> (i64, i64) {
    let start = o * input / output;
    let end = ((o + 1) * input + output - 1) / output;
    (start, end)
}

fn matrix(rows: i64, cols: i64, entry: impl Fn(i64, i64) -> f64) -> Vec<f64> {
    (0..rows)
        .flat_map(|r| (0..cols).map(move |c| (r, c)))
        .map(|(r, c)| entry(r, c))
        .collect()
}

impl Tensor {
    /// Applies `m` (`out x in`, row-major) along spatial dim `axis`.
    fn along(&self, axis: usize, m: &[f64], out: i64) -> Result<Tensor> {
        let rank = self.shape().len();
        let input = self.shape()[axis];
        let w = Tensor::from_slice_on(m, &[out, input], self.device())?.cast(self.dtype())?;
        // move axis last, multiply by m^T, move it back
        let moved = self.transpose(axis, rank - 1)?;
        moved.matmul(&w.transpose(0, 1)?)?.transpose(axis, rank - 1)
    }

    fn check_spatial(&self, op: &'static str, sizes: &[i64]) -> Result<()> {
        let rank = self.shape().len();
        if rank < sizes.len() + 1 || sizes.iter().any(|&s| s < 1) || !self.dtype().is_float() {
            return Err(TensorError::Invalid {
                op,
                why: format!(
                    "output size {sizes:?} for a {} input {:?}: positive sizes for the last {} dims of a float tensor",
                    self.dtype(),
                    self.shape(),
                    sizes.len()
                ),
            });
        }
        Ok(())
    }

    /// Averages over adaptive windows of the last two dims, to `size`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::rand(&[1, 3, 7, 5])?;
    /// let y = x.adaptive_avg_pool2d((3, 2))?; // (1, 3, 3, 2)
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn adaptive_avg_pool2d(&self, size: (i64, i64)) -> Result<Tensor> {
        self.check_spatial("adaptive_avg_pool2d", &[size.0, size.1])?;
        let rank = self.shape().len();
        named("adaptive_avg_pool2d", || {
            let mut x = self.clone();
            for (axis, out) in [(rank - 2, size.0), (rank - 1, size.1)] {
                let input = x.shape()[axis];
                let m = matrix(out, input, |o, i| {
                    let (s, e) = adaptive_window(o, input, out);
                    if (s..e).contains(&i) {
                        1.0 / (e - s) as f64
                    } else {
                        0.0
                    }
                });
                x = x.along(axis, &m, out)?;
            }
            Ok(x)
        })
    }

    /// The maximum over adaptive windows of the last two dims, to `size`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::rand(&[1, 3, 7, 5])?;
    /// let y = x.adaptive_max_pool2d((3, 2))?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn adaptive_max_pool2d(&self, size: (i64, i64)) -> Result<Tensor> {
        self.check_spatial("adaptive_max_pool2d", &[size.0, size.1])?;
        let rank = self.shape().len();
        named("adaptive_max_pool2d", || {
            let mut x = self.clone();
            for (axis, out) in [(rank - 2, size.0), (rank - 1, size.1)] {
                let input = x.shape()[axis];
                let mask = matrix(out, input, |o, i| {
                    let (s, e) = adaptive_window(o, input, out);
                    f64::from(u8::from((s..e).contains(&i)))
                });
                // (.., out, in) candidates along the moved axis, masked, max over in
                let r = x.shape().len();
                let moved = x.transpose(axis, r - 1)?.unsqueeze(r - 1)?;
                let m =
                    Tensor::from_slice_on(&mask, &[out, input], x.device())?.cast(DType::Bool)?;
                let picked = m.where_(&moved, &moved.full_like_value(f64::NEG_INFINITY)?)?;
                x = picked.max(&[-1], false)?.transpose(axis, r - 1)?;
            }
            Ok(x)
        })
    }

    /// Resizes the last `size.len()` dims (1, 2 or 3) to `size`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::rand(&[1, 1, 2, 2])?;
    /// let y = x.interpolate(&[4, 4], Interpolation::Linear { align_corners: false })?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn interpolate(&self, size: &[i64], mode: Interpolation) -> Result<Tensor> {
        self.check_spatial("interpolate", size)?;
        let rank = self.shape().len();
        named("interpolate", || {
            let mut x = self.clone();
            for (k, &out) in size.iter().enumerate() {
                let axis = rank - size.len() + k;
                let input = x.shape()[axis];
                let m = match mode {
                    Interpolation::Nearest => matrix(out, input, |o, i| {
                        let src =
                            ((o as f64 * input as f64 / out as f64).floor() as i64).min(input - 1);
                        f64::from(u8::from(src == i))
                    }),
                    Interpolation::Linear { align_corners } => matrix(out, input, |o, i| {
                        let pos = if align_corners {
                            if out > 1 {
                                o as f64 * (input - 1) as f64 / (out - 1) as f64
                            } else {
                                0.0
                            }
                        } else {
                            ((o as f64 + 0.5) * input as f64 / out as f64 - 0.5).max(0.0)
                        };
                        let lo = (pos.floor() as i64).min(input - 1);
                        let hi = (lo + 1).min(input - 1);
                        let frac = pos - lo as f64;
                        let mut w = 0.0;
                        if i == lo {
                            w += 1.0 - frac;
                        }
                        if i == hi {
                            w += frac;
                        }
                        w
                    }),
                };
                x = x.along(axis, &m, out)?;
            }
            Ok(x)
        })
    }
}
