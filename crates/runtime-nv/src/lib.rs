//! The NVIDIA runtime: CUDA GPUs as ferrograd devices, through `cudarc` with the driver
//! and NVRTC loaded when first used, so that a build needs no CUDA and a machine without
//! a driver gets an error that says so (never a panic).
//!
//! | file | what it holds |
//! |---|---|
//! | `context.rs` | the driver library check, a device's primary context and its stream (the unsafe layer) |
//! | `props.rs` | the device's properties, read when it opens |
//! | `alloc.rs` | the caching allocator (free lists by rounded size; out of memory is an error naming the size) |
//! | `staging.rs` | host-device copies, large ones through pinned buffers |
//! | `buffer.rs` | `CudaBuffer`, a `RawBuffer` |
//! | `nvrtc.rs`, `cache.rs` | CUDA C to cubins with NVRTC, cached on disk |
//! | `program.rs` | `CudaProgram`: a loaded kernel and its launches |
//! | `timer.rs` | events around queued work |
//! | `graph.rs` | CUDA graphs: capture once, replay with one call |
//! | `device.rs` | `CudaDevice`, the `Device` for `CUDA` and `CUDA:n` |
//!
//! The `ferrograd` facade registers it (with the CUDA renderer) behind its `cuda` feature.

mod alloc;
mod buffer;
mod cache;
mod context;
mod device;
mod graph;
pub mod nvrtc;
mod program;
mod props;
mod staging;
mod timer;

use thiserror::Error;

pub use crate::alloc::rounded as rounded_size;
pub use crate::buffer::CudaBuffer;
pub use crate::context::{device_count, driver_available};
pub use crate::device::{CudaDevice, ordinal_of};
pub use crate::graph::CudaGraph;
pub use crate::program::CudaProgram;
pub use crate::props::DeviceProps;
pub use crate::staging::{CHUNK as STAGING_CHUNK, STAGED_BYTES};

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NvError {
    #[error("{library} cannot be loaded: {hint}")]
    NoLibrary {
        library: &'static str,
        hint: &'static str,
    },
    #[error("no CUDA device {ordinal}: the driver sees {count}")]
    NoDevice { ordinal: usize, count: usize },
    #[error("{0:?} is not a CUDA device name (CUDA or CUDA:n)")]
    BadName(String),
    #[error("{call} failed: {why}")]
    Driver { call: &'static str, why: String },
    #[error("out of device memory: {bytes} bytes asked for, {free} of {total} free ({why})")]
    OutOfMemory {
        bytes: usize,
        free: usize,
        total: usize,
        why: String,
    },
    #[error("NVRTC: {0}")]
    Nvrtc(String),
    #[error("compiling {function} with NVRTC failed: {log}")]
    Compile { function: String, log: String },
    #[error("launching {function} failed: {why}")]
    Launch { function: String, why: String },
}

impl NvError {
    pub(crate) fn driver(call: &'static str, e: cudarc::driver::DriverError) -> NvError {
        NvError::Driver {
            call,
            why: e.to_string(),
        }
    }
}

pub type Result<T> = std::result::Result<T, NvError>;

impl From<NvError> for ::device::DeviceError {
    fn from(e: NvError) -> ::device::DeviceError {
        use ::device::DeviceError as D;
        match e {
            NvError::NoLibrary { .. } | NvError::NoDevice { .. } | NvError::BadName(_) => {
                D::Unavailable {
                    device: "CUDA".into(),
                    why: e.to_string(),
                }
            }
            NvError::OutOfMemory { bytes, .. } => D::OutOfMemory {
                device: "CUDA".into(),
                bytes,
                why: e.to_string(),
            },
            NvError::Compile { function, log } => D::Compile { function, log },
            NvError::Launch { function, why } => D::Launch { function, why },
            other => D::Unavailable {
                device: "CUDA".into(),
                why: other.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_driver_opening_is_an_error_not_a_panic() {
        if driver_available() {
            eprintln!("skipping: a CUDA driver is present here");
            return;
        }
        let err = CudaDevice::open("CUDA", |_| unreachable!("no device")).expect_err("no driver");
        assert!(
            matches!(
                err,
                NvError::NoLibrary {
                    library: "libcuda",
                    ..
                }
            ),
            "{err}"
        );
        let dev: ::device::DeviceError = err.into();
        assert!(dev.to_string().contains("libcuda"), "{dev}");
    }

    #[test]
    fn out_of_memory_names_the_size() {
        let e: ::device::DeviceError = NvError::OutOfMemory {
            bytes: 1 << 40,
            free: 10,
            total: 20,
            why: "CUDA_ERROR_OUT_OF_MEMORY".into(),
        }
        .into();
        assert!(e.to_string().contains("1099511627776"), "{e}");
    }
}
