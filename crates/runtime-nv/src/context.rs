//! The unsafe layer under the runtime: the driver library, a device's primary context
//! and the stream its work is queued on. Every other file reaches the driver through the
//! handles kept here and binds the context to its thread first (`Context::bind`).
//!
//! `cudarc` panics when a driver call is made without `libcuda`, so `Context::open`
//! checks that the library loads before its first call and says what is missing.

use std::sync::Arc;

use cudarc::driver::{result, sys};

use crate::props::DeviceProps;
use crate::{NvError, Result};

/// Whether the CUDA driver library (`libcuda`) can be loaded.
pub fn driver_available() -> bool {
    // SAFETY: only tries to open the library.
    unsafe { sys::is_culib_present() }
}

/// How many CUDA devices the driver sees; an error when there is no driver.
pub fn device_count() -> Result<usize> {
    require_driver()?;
    result::init().map_err(|e| NvError::driver("cuInit", e))?;
    let n = result::device::get_count().map_err(|e| NvError::driver("cuDeviceGetCount", e))?;
    Ok(usize::try_from(n).unwrap_or(0))
}

fn require_driver() -> Result<()> {
    if driver_available() {
        Ok(())
    } else {
        Err(NvError::NoLibrary {
            library: "libcuda",
            hint: "no NVIDIA driver was found on the loader path (libcuda.so.1)",
        })
    }
}

/// A device's primary context and its stream.
#[derive(Debug)]
pub struct Context {
    pub props: DeviceProps,
    device: sys::CUdevice,
    ctx: sys::CUcontext,
    stream: sys::CUstream,
}

// SAFETY: a CUDA context and a stream are handles the driver lets any thread use once
// the context is current on it, which `bind` makes it before every use.
unsafe impl Send for Context {}
// SAFETY: as above; the driver serializes work queued on one stream.
unsafe impl Sync for Context {}

impl Context {
    /// Opens device `ordinal`: retains its primary context and creates a stream that does
    /// not synchronize with the legacy default stream (graph capture needs one).
    pub fn open(ordinal: usize) -> Result<Arc<Context>> {
        let count = device_count()?;
        if ordinal >= count {
            return Err(NvError::NoDevice { ordinal, count });
        }
        let ord = i32::try_from(ordinal).unwrap_or(i32::MAX);
        let device = result::device::get(ord).map_err(|e| NvError::driver("cuDeviceGet", e))?;
        // SAFETY: `device` is a valid device handle; the retained context is released in Drop.
        let ctx = unsafe { result::primary_ctx::retain(device) }
            .map_err(|e| NvError::driver("cuDevicePrimaryCtxRetain", e))?;
        // SAFETY: `ctx` was just retained.
        unsafe { result::ctx::set_current(ctx) }
            .map_err(|e| NvError::driver("cuCtxSetCurrent", e))?;
        let props = DeviceProps::read(device, ordinal)?;
        let stream = result::stream::create(result::stream::StreamKind::NonBlocking)
            .map_err(|e| NvError::driver("cuStreamCreate", e))?;
        Ok(Arc::new(Context {
            props,
            device,
            ctx,
            stream,
        }))
    }

    /// Makes this context current on the calling thread (cheap when it already is).
    pub fn bind(&self) -> Result<()> {
        // SAFETY: `ctx` stays retained while `self` lives.
        unsafe { result::ctx::set_current(self.ctx) }
            .map_err(|e| NvError::driver("cuCtxSetCurrent", e))
    }

    /// The stream all of this device's work is queued on.
    pub fn stream(&self) -> sys::CUstream {
        self.stream
    }

    /// Waits for everything queued on the stream.
    pub fn synchronize(&self) -> Result<()> {
        self.bind()?;
        // SAFETY: the stream lives as long as `self`.
        unsafe { result::stream::synchronize(self.stream) }
            .map_err(|e| NvError::driver("cuStreamSynchronize", e))
    }

    /// Free and total device memory in bytes.
    pub fn memory_info(&self) -> Result<(usize, usize)> {
        self.bind()?;
        result::mem_get_info().map_err(|e| NvError::driver("cuMemGetInfo", e))
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        if self.bind().is_ok() {
            // SAFETY: the stream and the retained context are ours; nothing uses them after.
            unsafe {
                let _ = result::stream::synchronize(self.stream);
                let _ = result::stream::destroy(self.stream);
                let _ = result::primary_ctx::release(self.device);
            }
        }
    }
}
