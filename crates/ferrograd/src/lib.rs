//! ferrograd: lazy `Tensor` programs, fused into a few kernels, compiled and run.
//!
//! ```no_run
//! use ferrograd::{Tensor, init};
//! init();
//! let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?.requires_grad_(true)?;
//! let y = a.matmul(&a)?.relu()?.sum(&[1], false)?;
//! println!("{y}"); // tensor([17., 37.])
//! y.sum(&[], false)?.backward()?;
//! if let Some(g) = a.grad() {
//!     println!("{g}"); // the gradient of the sum with respect to a
//! }
//! # Ok::<(), ferrograd::TensorError>(())
//! ```
//!
//! This facade is the only crate that names concrete runtimes: `init` registers them with
//! the device registry, and everything else reaches devices by name.

pub mod datasets;

use std::sync::{Arc, Once};

pub use dtype::DType;
pub use frontend_tensor::{
    Conv2dOpts, CrossEntropyOpts, Element, NoGradGuard, Pool2dOpts, Reduction, Result, RunStats,
    Tensor, TensorError, load_safetensors, load_safetensors_on, manual_seed, nn, no_grad, optim,
    save_safetensors,
};

/// Registers the built-in devices: `"CPU"` (C kernels compiled by the system compiler);
/// with the `llvm` feature, `"CPU:LLVM"` (kernels compiled in process by LLVM, no C
/// compiler needed; with `CPU_LLVM=1` in the environment plain `"CPU"` is the LLVM one
/// too, so that a program or a test suite runs on it unchanged); with the `amd` feature,
/// `"AMD"` and `"AMD:N"` (AMD GPUs through the KFD). Idempotent; call it before creating
/// tensors.
pub fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        device::register("CPU", open_cpu);
        #[cfg(feature = "amd")]
        device::register("AMD", runtime_amd::open);
    });
}

/// The CPU device `name` (registered for the prefix `"CPU"`): `CPU:LLVM`, or `CPU` when
/// `CPU_LLVM=1`, compiles with LLVM; any other `CPU...` name with the C compiler.
fn open_cpu(name: &str) -> device::Result<Arc<dyn device::Device>> {
    let llvm = name.eq_ignore_ascii_case("CPU:LLVM")
        || (name.eq_ignore_ascii_case("CPU") && cpu_llvm_requested());
    if llvm {
        return open_llvm(name);
    }
    Ok(Arc::new(runtime_cpu::CpuDevice::new(
        name,
        Box::new(renderer_c::CRenderer::new()),
    )))
}

/// Whether `CPU_LLVM` asks for the LLVM backend on plain `"CPU"` (set and not `0`).
pub fn cpu_llvm_requested() -> bool {
    std::env::var("CPU_LLVM").is_ok_and(|v| !v.is_empty() && v != "0")
}

#[cfg(feature = "llvm")]
fn open_llvm(name: &str) -> device::Result<Arc<dyn device::Device>> {
    runtime_llvm::open(name)
}

#[cfg(not(feature = "llvm"))]
fn open_llvm(name: &str) -> device::Result<Arc<dyn device::Device>> {
    Err(device::DeviceError::Unavailable {
        device: name.to_string(),
        why: "ferrograd was built without its `llvm` feature (cargo build --features \
              ferrograd/llvm, with LLVM 19 installed: apt-get install llvm-19-dev)"
            .into(),
    })
}

/// The lower layers, for tools and tests.
pub mod layers {
    pub use {device, engine, uop_ir};
}
