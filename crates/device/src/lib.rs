//! What a device is to the rest of ferrograd: it allocates buffers, copies bytes in and
//! out, compiles rendered source into programs, and launches them. Runtimes (`runtime-cpu`,
//! ...) implement these traits; the engine reaches them only through the `registry`, by
//! name (`"CPU"`, `"CUDA:1"`), as `Arc<dyn Device>`. Caches of compiled programs are
//! bounded [`Lru`]s of [`program_cache_capacity`] entries.

mod lru;
mod registry;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;

pub use lru::{DEFAULT_PROGRAM_CACHE, Lru, get_or_build, program_cache_capacity};
pub use registry::{open, register, registered};
pub use renderer::{LaunchDims, LinearProgram, RenderError, Renderer, Source};

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DeviceError {
    #[error("{}", unknown_device(name, known))]
    UnknownDevice { name: String, known: Vec<String> },
    #[error("device {device} is not available here: {why}")]
    Unavailable { device: String, why: String },
    #[error("cannot allocate {bytes} bytes on {device}: {why}")]
    OutOfMemory {
        device: String,
        bytes: usize,
        why: String,
    },
    #[error("copy of {len} bytes at offset {offset} does not fit a buffer of {size} bytes")]
    CopyOutOfBounds {
        offset: usize,
        len: usize,
        size: usize,
    },
    #[error("compiling {function} failed: {log}")]
    Compile { function: String, log: String },
    #[error("launching {function} failed: {why}")]
    Launch { function: String, why: String },
}

pub type Result<T> = std::result::Result<T, DeviceError>;

/// The message of an unknown device: with no device registered at all, what to call.
fn unknown_device(name: &str, known: &[String]) -> String {
    if known.is_empty() {
        format!(
            "no device named {name:?}: no devices are registered yet; call ferrograd::init() \
             once at the start of the program (it registers \"CPU\", and \"CUDA\" when \
             ferrograd is built with its `cuda` feature)"
        )
    } else {
        format!("no device named {name:?}: known prefixes are {known:?}")
    }
}

/// Memory on a device.
pub trait RawBuffer: Send + Sync + fmt::Debug {
    /// Size in bytes.
    fn size(&self) -> usize;
    /// The device address (a host pointer on the CPU) that programs receive.
    fn addr(&self) -> u64;
    /// Copies `data` into the buffer at byte `offset`.
    fn copy_in(&self, offset: usize, data: &[u8]) -> Result<()>;
    /// Copies bytes from `offset` into `out`.
    fn copy_out(&self, offset: usize, out: &mut [u8]) -> Result<()>;
}

/// A shared handle to device memory.
pub type Buffer = Arc<dyn RawBuffer>;

/// A compiled kernel.
pub trait Program: Send + Sync + fmt::Debug {
    /// The function name.
    fn name(&self) -> &str;
    /// Runs the kernel with `buffers` as its arguments (in slot order) as `dims.global`
    /// workgroups of `dims.local` threads (on the CPU: `dims.global[0]` threads, `core_id`
    /// 0..), with `vals` the values of its scalar variables (symbolic shapes), in the
    /// order its program lists them.
    ///
    /// The launch may be asynchronous: unless `wait`, it may return before the kernel has
    /// finished (a GPU queues it on a stream), and the caller calls
    /// [`Device::synchronize`] before it reads the results. With `wait` it returns after
    /// the kernel finished, with the time the device measured it ran (a GPU times it with
    /// events, the CPU's thread pool with its own clock). A device may give the time
    /// without being asked; `None` means it has none.
    ///
    /// # Safety
    /// Every buffer must be at least as large as the kernel indexes it, and no other
    /// code may use the buffers until the kernel has finished.
    unsafe fn launch(
        &self,
        buffers: &[&Buffer],
        dims: &LaunchDims,
        vals: &[i64],
        wait: bool,
    ) -> Result<Option<Duration>>;
}

/// Peak rates of a device, for the roofline fraction in `DEBUG=2` lines.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Roofline {
    pub gflops: f64,
    pub gbs: f64,
}

/// A place where kernels run.
pub trait Device: Send + Sync + fmt::Debug {
    /// The registry name, e.g. `"CPU"`.
    fn name(&self) -> &str;
    fn renderer(&self) -> &dyn Renderer;
    fn alloc(&self, bytes: usize) -> Result<Buffer>;
    fn compile(&self, source: &Source) -> Result<Arc<dyn Program>>;
    /// Waits until all launched work is done (a device whose launches return only when
    /// the kernel has finished, as the CPU's do, has nothing to wait for).
    fn synchronize(&self) -> Result<()> {
        Ok(())
    }
    fn roofline(&self) -> Roofline;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_device_says_what_to_call() {
        let none = DeviceError::UnknownDevice {
            name: "CPU".into(),
            known: vec![],
        };
        assert!(
            none.to_string().contains("call ferrograd::init()"),
            "{none}"
        );
        let some = DeviceError::UnknownDevice {
            name: "TPU".into(),
            known: vec!["CPU".into()],
        };
        assert_eq!(
            some.to_string(),
            "no device named \"TPU\": known prefixes are [\"CPU\"]"
        );
    }
}
