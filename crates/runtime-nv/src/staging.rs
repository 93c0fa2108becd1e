//! Host-device copies. Small ones go straight from the caller's memory; large ones
//! (`STAGED_BYTES` and more) go through two pinned host buffers of `CHUNK` bytes in
//! turn, so that the copy of one chunk on the device's stream overlaps the host copy of
//! the next into the other buffer, at the bandwidth of pinned memory.

use std::sync::Arc;

use cudarc::driver::{result, sys};
use parking_lot::Mutex;

use crate::context::Context;
use crate::{NvError, Result};

/// Transfers of at least this many bytes are staged through pinned memory.
pub const STAGED_BYTES: usize = 1 << 20;
/// The size of each pinned staging buffer.
pub const CHUNK: usize = 16 << 20;

/// A pinned host buffer and the event that says when the device is done with it.
#[derive(Debug)]
struct Pinned {
    host: *mut u8,
    done: sys::CUevent,
}

/// Two pinned buffers, made on the first large copy.
#[derive(Debug)]
pub struct Staging {
    ctx: Arc<Context>,
    buffers: Mutex<Option<[Pinned; 2]>>,
}

// SAFETY: the pinned pointers are only touched under the mutex.
unsafe impl Send for Staging {}
// SAFETY: as above.
unsafe impl Sync for Staging {}

impl Staging {
    pub fn new(ctx: Arc<Context>) -> Staging {
        Staging {
            ctx,
            buffers: Mutex::new(None),
        }
    }

    fn make(&self) -> Result<[Pinned; 2]> {
        let one = || -> Result<Pinned> {
            // SAFETY: the context is current (bound by the caller); freed in Drop.
            let host = unsafe { result::malloc_host(CHUNK, 0) }
                .map_err(|e| NvError::driver("cuMemAllocHost", e))?;
            let done = result::event::create(sys::CUevent_flags::CU_EVENT_DISABLE_TIMING)
                .map_err(|e| NvError::driver("cuEventCreate", e))?;
            Ok(Pinned {
                host: host.cast(),
                done,
            })
        };
        Ok([one()?, one()?])
    }

    /// Copies `data` to device address `dst` and waits until it is there.
    pub fn host_to_device(&self, dst: sys::CUdeviceptr, data: &[u8]) -> Result<()> {
        self.ctx.bind()?;
        let stream = self.ctx.stream();
        if data.len() < STAGED_BYTES {
            // SAFETY: `dst` holds `data.len()` bytes (the caller checked); the stream is
            // synchronized before `data` may go away.
            unsafe { result::memcpy_htod_async(dst, data, stream) }
                .map_err(|e| NvError::driver("cuMemcpyHtoDAsync", e))?;
            return self.ctx.synchronize();
        }
        let mut guard = self.buffers.lock();
        if guard.is_none() {
            *guard = Some(self.make()?);
        }
        let Some(bufs) = guard.as_ref() else {
            return Ok(());
        };
        for (k, chunk) in data.chunks(CHUNK).enumerate() {
            let b = &bufs[k % 2];
            // SAFETY: the event was recorded after the last copy out of this buffer (or
            // never), so the device no longer reads it once it completed; the buffer holds
            // CHUNK bytes; `dst + offset` lies within the destination.
            unsafe {
                result::event::synchronize(b.done)
                    .map_err(|e| NvError::driver("cuEventSynchronize", e))?;
                std::ptr::copy_nonoverlapping(chunk.as_ptr(), b.host, chunk.len());
                let staged = std::slice::from_raw_parts(b.host, chunk.len());
                result::memcpy_htod_async(dst + (k * CHUNK) as u64, staged, stream)
                    .map_err(|e| NvError::driver("cuMemcpyHtoDAsync", e))?;
                result::event::record(b.done, stream)
                    .map_err(|e| NvError::driver("cuEventRecord", e))?;
            }
        }
        self.ctx.synchronize()
    }

    /// Copies from device address `src` into `out`, after the queued work.
    pub fn device_to_host(&self, src: sys::CUdeviceptr, out: &mut [u8]) -> Result<()> {
        self.ctx.bind()?;
        let stream = self.ctx.stream();
        if out.len() < STAGED_BYTES {
            // SAFETY: `src` holds `out.len()` bytes; synchronized before returning.
            unsafe { result::memcpy_dtoh_async(out, src, stream) }
                .map_err(|e| NvError::driver("cuMemcpyDtoHAsync", e))?;
            return self.ctx.synchronize();
        }
        let mut guard = self.buffers.lock();
        if guard.is_none() {
            *guard = Some(self.make()?);
        }
        let Some(bufs) = guard.as_ref() else {
            return Ok(());
        };
        let chunks: Vec<(usize, usize)> = (0..out.len())
            .step_by(CHUNK)
            .map(|at| (at, CHUNK.min(out.len() - at)))
            .collect();
        // queue chunk k+1 before the host copies chunk k out of its buffer
        let issue = |k: usize| -> Result<()> {
            let (at, len) = chunks[k];
            let b = &bufs[k % 2];
            // SAFETY: the buffer holds CHUNK bytes and is not being read by the host (its
            // previous chunk was copied out before this is issued).
            unsafe {
                let staged = std::slice::from_raw_parts_mut(b.host, len);
                result::memcpy_dtoh_async(staged, src + at as u64, stream)
                    .map_err(|e| NvError::driver("cuMemcpyDtoHAsync", e))?;
                result::event::record(b.done, stream)
                    .map_err(|e| NvError::driver("cuEventRecord", e))
            }
        };
        issue(0)?;
        for k in 0..chunks.len() {
            if k + 1 < chunks.len() {
                issue(k + 1)?;
            }
            let (at, len) = chunks[k];
            let b = &bufs[k % 2];
            // SAFETY: the event completes when chunk k has landed in the buffer.
            unsafe {
                result::event::synchronize(b.done)
                    .map_err(|e| NvError::driver("cuEventSynchronize", e))?;
                std::ptr::copy_nonoverlapping(b.host, out[at..].as_mut_ptr(), len);
            }
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if let Some(bufs) = self.buffers.get_mut().take()
            && self.ctx.synchronize().is_ok()
        {
            for b in bufs {
                // SAFETY: the device is done with both buffers; nothing uses them after.
                unsafe {
                    let _ = result::event::destroy(b.done);
                    let _ = result::free_host(b.host.cast());
                }
            }
        }
    }
}
