//! Creation beyond `from_slice`/`full`/`zeros`/`ones`/`arange`/`rand`/`randn`: the `*_like`
//! forms (same shape, dtype and device), `empty` (zeros: memory is never handed out
//! uninitialized), `arange_step` and `linspace` (computed on the host in f64, then cast),
//! `eye`, and random draws from the seeded generator (`randint`, `uniform`, `normal`).

use dtype::DType;

use crate::element::Element;
use crate::error::{Result, TensorError, named};
use crate::tensor::Tensor;

impl Tensor {
    /// A tensor from owned data (as `from_slice`).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_vec(vec![1i64, 2, 3], &[3])?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn from_vec<T: Element>(data: Vec<T>, shape: &[i64]) -> Result<Tensor> {
        Tensor::from_slice(&data, shape)
    }

    /// Zeros of `shape` (PyTorch's `empty` leaves memory unset; here it is zeroed).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::empty(&[2, 3], DType::F32)?; // zeros
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn empty(shape: &[i64], dtype: DType) -> Result<Tensor> {
        named("empty", || Tensor::zeros(shape, dtype))
    }

    /// `value` in this tensor's shape, dtype and device.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.full_like(3.0)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn full_like(&self, value: f64) -> Result<Tensor> {
        named("full_like", || {
            let t = Tensor::full(self.shape(), value, self.dtype())?;
            Ok(Tensor::from_node(
                t.node(),
                self.shape().to_vec(),
                self.device(),
            ))
        })
    }

    /// `zeros_like`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.zeros_like()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn zeros_like(&self) -> Result<Tensor> {
        named("zeros_like", || self.full_like(0.0))
    }

    /// `ones_like`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.ones_like()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn ones_like(&self) -> Result<Tensor> {
        named("ones_like", || self.full_like(1.0))
    }

    /// `empty_like`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.empty_like()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn empty_like(&self) -> Result<Tensor> {
        named("empty_like", || self.full_like(0.0))
    }

    /// Uniform in [0, 1) of this tensor's shape (f32, cast to its dtype when a float).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.rand_like()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn rand_like(&self) -> Result<Tensor> {
        named("rand_like", || {
            Tensor::rand(self.shape())?.cast(self.float_dtype())
        })
    }

    /// Standard normal of this tensor's shape.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.randn_like()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn randn_like(&self) -> Result<Tensor> {
        named("randn_like", || {
            Tensor::randn(self.shape())?.cast(self.float_dtype())
        })
    }

    fn float_dtype(&self) -> DType {
        if self.dtype().is_float() {
            self.dtype()
        } else {
            DType::F32
        }
    }

    /// `start, start + step, ..` below `end` (above it for a negative step), as
    /// `torch.arange(start, end, step)`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::arange_step(1.0, 2.0, 0.25, DType::F32)?; // 1, 1.25, 1.5, 1.75
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn arange_step(start: f64, end: f64, step: f64, dtype: DType) -> Result<Tensor> {
        if step == 0.0 || !step.is_finite() || !start.is_finite() || !end.is_finite() {
            return Err(TensorError::Invalid {
                op: "arange",
                why: format!(
                    "start {start}, end {end}, step {step}: the step must be a nonzero finite number"
                ),
            });
        }
        let n = ((end - start) / step).ceil().max(0.0) as i64;
        let values: Vec<f64> = (0..n).map(|i| start + i as f64 * step).collect();
        named("arange", || Tensor::from_slice(&values, &[n])?.cast(dtype))
    }

    /// `steps` values from `start` to `end` inclusive, evenly spaced.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::linspace(0.0, 1.0, 5, DType::F32)?; // 0, 0.25, .., 1
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn linspace(start: f64, end: f64, steps: i64, dtype: DType) -> Result<Tensor> {
        if steps < 0 {
            return Err(TensorError::Invalid {
                op: "linspace",
                why: format!("steps {steps} is negative"),
            });
        }
        let step = if steps > 1 {
            (end - start) / (steps - 1) as f64
        } else {
            0.0
        };
        // the second half counts back from `end`, as PyTorch does, so the last value is exact
        let values: Vec<f64> = (0..steps)
            .map(|i| {
                if i < steps / 2 {
                    start + i as f64 * step
                } else {
                    end - (steps - 1 - i) as f64 * step
                }
            })
            .collect();
        named("linspace", || {
            Tensor::from_slice(&values, &[steps])?.cast(dtype)
        })
    }

    /// The `n x m` identity (ones on the diagonal).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let i = Tensor::eye(3, 3, DType::F32)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn eye(n: i64, m: i64, dtype: DType) -> Result<Tensor> {
        named("eye", || {
            let rows = Tensor::arange(n, DType::I64)?.reshape(&[n, 1])?;
            let cols = Tensor::arange(m, DType::I64)?.reshape(&[1, m])?;
            rows.eq(&cols)?.cast(dtype)
        })
    }

    /// Integers uniform in `low..high` (i64), from the seeded generator.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::randint(0, 10, &[5])?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn randint(low: i64, high: i64, shape: &[i64]) -> Result<Tensor> {
        if high <= low {
            return Err(TensorError::Invalid {
                op: "randint",
                why: format!("low {low} must be below high {high}"),
            });
        }
        named("randint", || {
            let u = Tensor::rand(shape)?.cast(DType::F64)?;
            u.mul_scalar((high - low) as f64)?
                .floor()?
                .add_scalar(low as f64)?
                .cast(DType::I64)
        })
    }

    /// Uniform in `[low, high)` (f32).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::uniform(&[3], -1.0, 1.0)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn uniform(shape: &[i64], low: f64, high: f64) -> Result<Tensor> {
        named("uniform", || {
            Tensor::rand(shape)?.mul_scalar(high - low)?.add_scalar(low)
        })
    }

    /// Normal with `mean` and `std` (f32).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::normal(&[3], 0.0, 2.0)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn normal(shape: &[i64], mean: f64, std: f64) -> Result<Tensor> {
        named("normal", || {
            Tensor::randn(shape)?.mul_scalar(std)?.add_scalar(mean)
        })
    }
}
