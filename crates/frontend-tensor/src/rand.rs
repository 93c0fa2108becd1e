//! Random tensors from a counter-based generator: element `i` of a draw is a hash of
//! (seed, counter + i), so results depend only on the seed and the order of draws.
//! `manual_seed` resets both.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::Result;
use crate::tensor::Tensor;

static SEED: AtomicU64 = AtomicU64::new(0);
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Restarts the generator.
///
/// ```no_run
/// # use frontend_tensor::*;
/// manual_seed(42);
/// let x = Tensor::rand(&[3])?; // the same values on every run
/// # Ok::<(), TensorError>(())
/// ```
pub fn manual_seed(seed: u64) {
    SEED.store(seed, Ordering::SeqCst);
    COUNTER.store(0, Ordering::SeqCst);
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `n` uniform values in [0, 1) with 24 random bits each (drawn on the host).
fn uniform(op: &'static str, n: usize) -> Result<Vec<f32>> {
    let mut out: Vec<f32> = Vec::new();
    out.try_reserve_exact(n)
        .map_err(|_| crate::TensorError::HostMemory {
            op,
            bytes: n.saturating_mul(4),
        })?;
    let seed = mix(SEED.load(Ordering::SeqCst) ^ 0x5eed);
    let start = COUNTER.fetch_add(n as u64, Ordering::SeqCst);
    out.extend(
        (0..n as u64).map(|i| (mix(seed ^ mix(start + i)) >> 40) as f32 / (1u64 << 24) as f32),
    );
    Ok(out)
}

impl Tensor {
    /// Uniform in [0, 1), f32.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::rand(&[2, 3])?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn rand(shape: &[i64]) -> Result<Tensor> {
        let n = uop_ir::checked_numel(shape)
            .map_err(|error| crate::TensorError::Shape { op: "rand", error })?;
        Tensor::from_slice(&uniform("rand", n as usize)?, shape)
    }

    /// Standard normal, f32 (Box-Muller).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::randn(&[2, 3])?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn randn(shape: &[i64]) -> Result<Tensor> {
        let n = uop_ir::checked_numel(shape)
            .map_err(|error| crate::TensorError::Shape { op: "randn", error })?
            as usize;
        let u = uniform("randn", n.saturating_mul(2))?;
        let v: Vec<f32> = (0..n)
            .map(|i| {
                let (u1, u2) = (1.0 - u[2 * i] as f64, u[2 * i + 1] as f64);
                ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
            })
            .collect();
        Tensor::from_slice(&v, shape)
    }
}
