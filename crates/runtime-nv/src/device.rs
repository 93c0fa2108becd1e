//! `CudaDevice`: a CUDA GPU as a ferrograd `Device`. It opens the device named
//! `CUDA` or `CUDA:n`, reads its properties, builds its renderer from them (the facade
//! says which), compiles rendered CUDA C with NVRTC for the device's architecture
//! (`nvrtc.rs`, cached on disk), keeps loaded programs in a bounded LRU, and queues all
//! work on one stream.

use std::sync::Arc;

use device::{Buffer, Device, Lru, Program, Renderer, Roofline, Source};
use parking_lot::Mutex;

use crate::alloc::Allocator;
use crate::buffer::CudaBuffer;
use crate::cache;
use crate::context::Context;
use crate::graph::CudaGraph;
use crate::nvrtc;
use crate::program::CudaProgram;
use crate::props::DeviceProps;
use crate::staging::Staging;
use crate::timer::Timer;
use crate::{NvError, Result};

/// The device ordinal a name asks for: `CUDA` is 0, `CUDA:3` is 3.
pub fn ordinal_of(name: &str) -> Result<usize> {
    let upper = name.trim().to_ascii_uppercase();
    match upper.split_once(':') {
        None if upper == "CUDA" => Ok(0),
        Some(("CUDA", n)) => n.parse().map_err(|_| NvError::BadName(name.to_string())),
        _ => Err(NvError::BadName(name.to_string())),
    }
}

/// A CUDA GPU.
#[derive(Debug)]
pub struct CudaDevice {
    name: String,
    ctx: Arc<Context>,
    renderer: Box<dyn Renderer>,
    allocator: Arc<Allocator>,
    staging: Arc<Staging>,
    timer: Arc<Timer>,
    programs: Mutex<Lru<u128, Arc<CudaProgram>>>,
}

impl CudaDevice {
    /// Opens the device `name` (`CUDA`, `CUDA:1`) with the renderer `renderer_for` makes
    /// from its properties. An error, never a panic, when there is no driver or device.
    pub fn open(
        name: &str,
        renderer_for: impl FnOnce(&DeviceProps) -> Box<dyn Renderer>,
    ) -> Result<CudaDevice> {
        let ordinal = ordinal_of(name)?;
        let ctx = Context::open(ordinal)?;
        let renderer = renderer_for(&ctx.props);
        Ok(CudaDevice {
            name: name.trim().to_ascii_uppercase(),
            allocator: Arc::new(Allocator::new(ctx.clone())),
            staging: Arc::new(Staging::new(ctx.clone())),
            timer: Arc::new(Timer::new(ctx.clone())?),
            programs: Mutex::new(Lru::new(device::program_cache_capacity())),
            renderer,
            ctx,
        })
    }

    pub fn props(&self) -> &DeviceProps {
        &self.ctx.props
    }

    /// The architecture kernels are compiled for: `sm_90a` on Hopper when the source
    /// uses its architecture-specific instructions, else `sm_XY`.
    pub fn arch_for(&self, code: &str) -> String {
        let cc = self.ctx.props.compute_capability;
        let accelerated = cc == (9, 0) && (code.contains("wgmma") || code.contains("setmaxnreg"));
        nvrtc::arch_name(cc, accelerated)
    }

    /// Compiles and loads `source` as a `CudaProgram` (cached in memory and on disk).
    pub fn load(&self, source: &Source) -> Result<Arc<CudaProgram>> {
        let key = cache::key(&[source.function.as_bytes(), source.code.as_bytes()]);
        device::get_or_build(&self.programs, key, || {
            let arch = self.arch_for(&source.code);
            let cubin = nvrtc::compile_cubin(&source.function, &source.code, &arch)?;
            Ok(Arc::new(CudaProgram::load(
                self.ctx.clone(),
                self.timer.clone(),
                &source.function,
                &cubin,
            )?))
        })
    }

    /// A buffer of `bytes` as its concrete type.
    pub fn alloc_buffer(&self, bytes: usize) -> Result<CudaBuffer> {
        CudaBuffer::new(
            &self.name,
            bytes,
            self.allocator.clone(),
            self.staging.clone(),
        )
    }

    /// Bytes the caching allocator holds for reuse.
    pub fn cached_bytes(&self) -> usize {
        self.allocator.cached_bytes()
    }

    /// Returns the allocator's cached memory to the driver.
    pub fn trim(&self) -> Result<()> {
        self.allocator.trim()
    }

    /// Records the work `queue` queues on this device into a graph to replay.
    pub fn capture(&self, queue: impl FnOnce() -> Result<()>) -> Result<CudaGraph> {
        CudaGraph::capture(self.ctx.clone(), queue)
    }

    /// Times the work `queue` queues, with events on the device.
    pub fn time(&self, queue: impl FnOnce() -> Result<()>) -> Result<std::time::Duration> {
        self.timer.time(queue)
    }

    /// Queues a copy of `bytes` from device address `src` to `dst` on this device.
    ///
    /// # Safety
    /// Both ranges must lie in live buffers of this device.
    pub unsafe fn copy_device(&self, dst: u64, src: u64, bytes: usize) -> Result<()> {
        self.ctx.bind()?;
        // SAFETY: the caller's contract.
        unsafe { cudarc::driver::result::memcpy_dtod_async(dst, src, bytes, self.ctx.stream()) }
            .map_err(|e| NvError::driver("cuMemcpyDtoDAsync", e))
    }
}

impl Device for CudaDevice {
    fn name(&self) -> &str {
        &self.name
    }

    fn renderer(&self) -> &dyn Renderer {
        &*self.renderer
    }

    fn alloc(&self, bytes: usize) -> device::Result<Buffer> {
        Ok(Arc::new(self.alloc_buffer(bytes)?))
    }

    fn compile(&self, source: &Source) -> device::Result<Arc<dyn Program>> {
        Ok(self.load(source)?)
    }

    fn synchronize(&self) -> device::Result<()> {
        Ok(self.ctx.synchronize()?)
    }

    fn roofline(&self) -> Roofline {
        Roofline {
            gflops: self.ctx.props.peak_gflops(),
            gbs: self.ctx.props.peak_gbs(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_give_ordinals() {
        assert_eq!(ordinal_of("CUDA").ok(), Some(0));
        assert_eq!(ordinal_of("cuda:2").ok(), Some(2));
        assert!(matches!(ordinal_of("CUDA:x"), Err(NvError::BadName(_))));
        assert!(matches!(ordinal_of("CPU"), Err(NvError::BadName(_))));
    }
}
