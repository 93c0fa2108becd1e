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
//!
//! # Environment variables
//!
//! | variable | effect |
//! |---|---|
//! | `DEBUG` | `1`: each schedule's kernel count and times; `2`: a line per kernel run (name, launch size, time, GFLOP/s, GB/s, share of the device's roofline); `4`: the generated source of each kernel compiled |
//! | `DEV` | the device new tensors are created on (`CPU`, `CUDA`, `CUDA:1`, ...; default `CPU`) |
//! | `SCACHE` | `0` turns the schedule cache off (every realize schedules its graph anew) |
//! | `FERROGRAD_PYTHON` | the Python (with `onnxruntime`) that `ferrograd onnx-diff` runs when `--python` is not given (default `python3`) |
//! | `NOOPT` | `1` turns the kernel heuristics off (plain loops) |
//! | `FERROGRAD_CC` | the C compiler the CPU device runs (default `cc`) |
//! | `FERROGRAD_CFLAGS` | flags for it instead of the defaults |
//! | `FERROGRAD_CACHE` | the directory of compiled kernels kept across runs (default `$XDG_CACHE_HOME/ferrograd` or `~/.cache/ferrograd`) |
//! | `DISABLE_COMPILER_CACHE` | `1` keeps no compiled kernels on disk |
//! | `FERROGRAD_CACHE_MAX_ENTRIES` | the most compiled kernels kept on disk (default 4096; the least recently used go first) |
//! | `FERROGRAD_PROGRAM_CACHE` | the most compiled kernels kept loaded in a process (default 4096) |
//! | `CPU_LLVM` | `1` (with the `llvm` feature): plain `"CPU"` is the CPU:LLVM device |
//! | `FERROGRAD_LLVM_LOOP_PASSES` | `1`: LLVM's loop vectorizer and unroller run on CPU:LLVM |

pub mod datasets;

/// ONNX import: `onnx::Session::load(path, "CPU")` runs a model's graph as lazy tensors.
pub use onnx;

use std::sync::{Arc, Once};

pub use dtype::DType;
pub use frontend_tensor::{
    Conv2dOpts, CrossEntropyOpts, Element, Jit, NoGradGuard, Pool2dOpts, Reduction, Result,
    RunStats, Tensor, TensorError, load_safetensors, load_safetensors_on, manual_seed, nn, no_grad,
    optim, save_safetensors,
};

/// Registers the built-in devices: `"CPU"` (C kernels compiled by the system compiler);
/// with the `llvm` feature, `"CPU:LLVM"` (kernels compiled in process by LLVM, no C
/// compiler needed; with `CPU_LLVM=1` in the environment plain `"CPU"` is the LLVM one
/// too, so that a program or a test suite runs on it unchanged); with the `amd` feature,
/// `"AMD"` and `"AMD:N"` (AMD GPUs through the KFD); with the `cuda` feature, `"CUDA"` /
/// `"CUDA:n"` (CUDA C compiled by NVRTC; opening one without a driver or a GPU is an error
/// that says so). Idempotent; call it before creating tensors.
pub fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        device::register("CPU", open_cpu);
        #[cfg(feature = "amd")]
        device::register("AMD", runtime_amd::open);
        #[cfg(feature = "cuda")]
        device::register("CUDA", cuda::open);
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

/// The CUDA backend: its runtime and renderer, and the bridge between the two.
#[cfg(feature = "cuda")]
pub mod cuda {
    use std::sync::Arc;

    pub use renderer_cuda::{CudaArch, CudaRenderer};
    pub use runtime_nv::{
        CudaBuffer, CudaDevice, CudaGraph, CudaProgram, DeviceProps, Result, nvrtc,
    };

    /// What the renderer needs of a device, from the properties the runtime read.
    pub fn arch_of(p: &DeviceProps) -> CudaArch {
        CudaArch {
            compute_capability: p.compute_capability,
            multiprocessors: p.multiprocessors,
            warp_size: p.warp_size,
            max_threads_per_block: p.max_threads_per_block,
            max_block_dims: p.max_block_dims,
            max_grid_dims: p.max_grid_dims,
            shared_per_block: p.shared_per_block,
        }
    }

    /// Opens the CUDA device `name` with its renderer.
    pub fn open_device(name: &str) -> runtime_nv::Result<CudaDevice> {
        CudaDevice::open(name, |p| Box::new(CudaRenderer::new(arch_of(p))))
    }

    /// The registry's factory for `CUDA` and `CUDA:n`.
    pub(crate) fn open(name: &str) -> device::Result<Arc<dyn device::Device>> {
        Ok(Arc::new(open_device(name)?))
    }

    /// Why no CUDA device can be used here, or `None` when one can.
    pub fn unavailable() -> Option<String> {
        match runtime_nv::device_count() {
            Ok(0) => Some("the CUDA driver sees no device".into()),
            Ok(_) => None,
            Err(e) => Some(e.to_string()),
        }
    }
}

/// The lower layers, for tools and tests.
pub mod layers {
    pub use {device, engine, uop_ir};
}
