//! The `CPU:LLVM` device: the host CPU with kernels compiled by LLVM in this process
//! instead of by a C compiler in another. It reuses the CPU runtime's buffers and thread
//! pool; what it adds is a small JIT:
//!
//! - `link`: an x86-64 relocatable object laid out as one image and relocated for the
//!   address it will live at (safe code);
//! - `memory`: the unsafe layer, executable pages and the C library functions kernels
//!   may call;
//! - `program`: a linked kernel, launched on the thread pool;
//! - `jit_device` (feature `llvm`): the `Device`, compiling with `renderer-llvm`.
//!
//! Without the `llvm` feature the crate builds without LLVM, and `open` says how to get
//! the device. `FERROGRAD_LLVM_LOOP_PASSES=1` turns LLVM's loop vectorizer and unroller
//! on (off by default: see `renderer_llvm::compile::Compiler::loop_passes`). Only x86-64
//! Linux hosts are supported: the linker handles x86-64 objects.

pub mod link;
pub mod memory;
pub mod program;

#[cfg(all(feature = "llvm", target_arch = "x86_64", target_os = "linux"))]
mod jit_device;

use std::sync::Arc;

use device::Device;

#[cfg(all(feature = "llvm", target_arch = "x86_64", target_os = "linux"))]
pub use jit_device::LlvmCpuDevice;

/// The `CPU:LLVM` device named `name`, or why this build cannot open it.
pub fn open(name: &str) -> device::Result<Arc<dyn Device>> {
    #[cfg(all(feature = "llvm", target_arch = "x86_64", target_os = "linux"))]
    {
        Ok(Arc::new(LlvmCpuDevice::new(name)))
    }
    #[cfg(not(all(feature = "llvm", target_arch = "x86_64", target_os = "linux")))]
    {
        Err(device::DeviceError::Unavailable {
            device: name.to_string(),
            why: if cfg!(feature = "llvm") {
                "the LLVM CPU device links x86-64 Linux objects only".into()
            } else {
                "runtime-llvm was built without its `llvm` feature (build ferrograd with \
                 `--features llvm`, which needs LLVM 19: apt-get install llvm-19-dev)"
                    .into()
            },
        })
    }
}
