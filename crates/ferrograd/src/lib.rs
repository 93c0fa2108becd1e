//! ferrograd: lazy `Tensor` programs, fused into a few kernels, compiled and run.
//!
//! ```no_run
//! use ferrograd::{Tensor, init};
//! init();
//! let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
//! println!("{:?}", a.matmul(&a)?.relu()?.sum(&[1], false)?.to_vec::<f32>()?);
//! # Ok::<(), ferrograd::TensorError>(())
//! ```
//!
//! This facade is the only crate that names concrete runtimes: `init` registers them with
//! the device registry, and everything else reaches devices by name.

pub mod datasets;

use std::sync::{Arc, Once};

pub use dtype::DType;
pub use frontend_tensor::{
    Conv2dOpts, CrossEntropyOpts, Element, Jit, NoGradGuard, Pool2dOpts, Reduction, Result,
    RunStats, Tensor, TensorError, load_safetensors, load_safetensors_on, manual_seed, nn, no_grad,
    optim, save_safetensors,
};

/// Registers the built-in devices (`"CPU"`: C kernels compiled by the system compiler).
/// Idempotent; call it before creating tensors.
pub fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        device::register("CPU", |name| {
            Ok(Arc::new(runtime_cpu::CpuDevice::new(
                name,
                Box::new(renderer_c::CRenderer::new()),
            )))
        });
    });
}

/// The lower layers, for tools and tests.
pub mod layers {
    pub use {device, engine, uop_ir};
}
