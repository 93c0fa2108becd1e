//! A loaded kernel: a cubin loaded as a module, its function, and launches of it on the
//! device's stream. Its arguments are the buffers' device addresses in slot order. A
//! launch that waits is timed with a pair of events around it.

use std::ffi::{CString, c_void};
use std::sync::Arc;
use std::time::Duration;

use cudarc::driver::{result, sys};
use device::{Buffer, DeviceError, LaunchDims, Program};

use crate::context::Context;
use crate::timer::Timer;
use crate::{NvError, Result};

/// A CUDA kernel ready to launch.
#[derive(Debug)]
pub struct CudaProgram {
    name: String,
    ctx: Arc<Context>,
    timer: Arc<Timer>,
    module: sys::CUmodule,
    function: sys::CUfunction,
}

// SAFETY: module and function handles may be used from any thread with the context
// current, which every use makes it first.
unsafe impl Send for CudaProgram {}
// SAFETY: as above; launches only read the handles.
unsafe impl Sync for CudaProgram {}

impl CudaProgram {
    /// Loads `cubin` and finds the kernel `name` in it.
    pub(crate) fn load(
        ctx: Arc<Context>,
        timer: Arc<Timer>,
        name: &str,
        cubin: &[u8],
    ) -> Result<CudaProgram> {
        ctx.bind()?;
        let fname = CString::new(name).map_err(|_| NvError::Compile {
            function: name.into(),
            log: "the name holds a NUL byte".into(),
        })?;
        // SAFETY: `cubin` is an ELF image NVRTC made; the driver copies it while loading.
        let module = unsafe { result::module::load_data(cubin.as_ptr().cast()) }
            .map_err(|e| NvError::driver("cuModuleLoadData", e))?;
        // SAFETY: `module` was just loaded.
        let function = match unsafe { result::module::get_function(module, fname) } {
            Ok(f) => f,
            Err(e) => {
                // SAFETY: nothing else holds the module.
                let _ = unsafe { result::module::unload(module) };
                return Err(NvError::driver("cuModuleGetFunction", e));
            }
        };
        Ok(CudaProgram {
            name: name.to_string(),
            ctx,
            timer,
            module,
            function,
        })
    }

    /// Queues the kernel on the device's stream.
    ///
    /// # Safety
    /// The buffers must be large enough for the kernel's indices and live until it ran.
    pub unsafe fn enqueue(&self, addrs: &[u64], dims: &LaunchDims) -> Result<()> {
        self.ctx.bind()?;
        let mut args: Vec<u64> = addrs.to_vec();
        let mut params: Vec<*mut c_void> = args
            .iter_mut()
            .map(|a| (a as *mut u64).cast::<c_void>())
            .collect();
        let [gx, gy, gz] = dims.global;
        let [lx, ly, lz] = dims.local;
        // SAFETY: the function is live; `params` points at one u64 per kernel argument,
        // which lives until the call returns (the driver copies them); the caller vouches
        // for the buffers.
        unsafe {
            result::launch_kernel(
                self.function,
                (gx, gy, gz),
                (lx, ly, lz),
                0,
                self.ctx.stream(),
                &mut params,
            )
        }
        .map_err(|e| NvError::Launch {
            function: self.name.clone(),
            why: format!("{e} (grid {:?}, block {:?})", dims.global, dims.local),
        })
    }
}

impl Program for CudaProgram {
    fn name(&self) -> &str {
        &self.name
    }

    unsafe fn launch(
        &self,
        buffers: &[&Buffer],
        dims: &LaunchDims,
        vals: &[i64],
        wait: bool,
    ) -> device::Result<Option<Duration>> {
        if !vals.is_empty() {
            return Err(DeviceError::Launch {
                function: self.name.clone(),
                why: format!("CUDA kernels take no scalar values yet, got {}", vals.len()),
            });
        }
        let addrs: Vec<u64> = buffers.iter().map(|b| b.addr()).collect();
        if !wait {
            // SAFETY: the caller's contract.
            unsafe { self.enqueue(&addrs, dims) }?;
            return Ok(None);
        }
        // SAFETY: the caller's contract.
        let took = self.timer.time(|| unsafe { self.enqueue(&addrs, dims) })?;
        Ok(Some(took))
    }
}

impl Drop for CudaProgram {
    fn drop(&mut self) {
        if self.ctx.synchronize().is_ok() {
            // SAFETY: no queued launch uses the module any more; nothing uses it after.
            let _ = unsafe { result::module::unload(self.module) };
        }
    }
}
