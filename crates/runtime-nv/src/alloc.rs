//! The caching allocator: device memory freed by a buffer is kept in a free list by its
//! rounded size and handed to the next allocation of that size, so that a training step
//! or a JIT replay allocates nothing from the driver after its first run. Sizes round up
//! to 512 bytes below 1 MiB and to 2 MiB above. When the driver has no memory left, the
//! free lists are returned to it and the allocation is tried once more; if that fails
//! too, the error names the size asked for and what is free.
//!
//! All work is queued on one stream, so memory freed while a queued kernel still uses it
//! can be handed out again at once: the next user's work runs after that kernel.

use std::collections::HashMap;
use std::sync::Arc;

use cudarc::driver::{result, sys};
use parking_lot::Mutex;

use crate::context::Context;
use crate::{NvError, Result};

/// `bytes` rounded up to the allocator's granularity.
pub fn rounded(bytes: usize) -> usize {
    let unit = if bytes <= 1 << 20 { 512 } else { 2 << 20 };
    bytes.max(1).div_ceil(unit) * unit
}

/// Device memory, cached by rounded size.
#[derive(Debug)]
pub struct Allocator {
    ctx: Arc<Context>,
    free: Mutex<FreeLists>,
}

#[derive(Debug, Default)]
struct FreeLists {
    by_size: HashMap<usize, Vec<sys::CUdeviceptr>>,
    bytes: usize,
}

impl Allocator {
    pub fn new(ctx: Arc<Context>) -> Allocator {
        Allocator {
            ctx,
            free: Mutex::new(FreeLists::default()),
        }
    }

    /// Device memory of at least `bytes`, and its rounded size.
    pub fn alloc(&self, bytes: usize) -> Result<(sys::CUdeviceptr, usize)> {
        let size = rounded(bytes);
        {
            let mut free = self.free.lock();
            if let Some(ptr) = free.by_size.get_mut(&size).and_then(Vec::pop) {
                free.bytes -= size;
                return Ok((ptr, size));
            }
        }
        self.ctx.bind()?;
        // SAFETY: the context is current; the memory is freed by `release` or `trim`.
        match unsafe { result::malloc_sync(size) } {
            Ok(ptr) => Ok((ptr, size)),
            Err(first) => {
                self.trim()?;
                // SAFETY: as above.
                unsafe { result::malloc_sync(size) }
                    .map_err(|_| {
                        let (free, total) = self.ctx.memory_info().unwrap_or((0, 0));
                        NvError::OutOfMemory {
                            bytes,
                            free,
                            total,
                            why: first.to_string(),
                        }
                    })
                    .map(|ptr| (ptr, size))
            }
        }
    }

    /// Takes back memory of rounded size `size` for reuse.
    pub fn release(&self, ptr: sys::CUdeviceptr, size: usize) {
        let mut free = self.free.lock();
        free.bytes += size;
        free.by_size.entry(size).or_default().push(ptr);
    }

    /// Bytes held in the free lists.
    pub fn cached_bytes(&self) -> usize {
        self.free.lock().bytes
    }

    /// Returns every cached block to the driver (after the queued work is done).
    pub fn trim(&self) -> Result<()> {
        let lists = std::mem::take(&mut *self.free.lock());
        if lists.bytes == 0 {
            return Ok(());
        }
        self.ctx.synchronize()?;
        for ptr in lists.by_size.into_values().flatten() {
            // SAFETY: the block came from `malloc_sync` and no buffer holds it any more.
            unsafe { result::free_sync(ptr) }.map_err(|e| NvError::driver("cuMemFree", e))?;
        }
        Ok(())
    }
}

impl Drop for Allocator {
    fn drop(&mut self) {
        let _ = self.trim();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_round_to_the_granularity() {
        assert_eq!(rounded(0), 512);
        assert_eq!(rounded(1), 512);
        assert_eq!(rounded(513), 1024);
        assert_eq!(rounded(1 << 20), 1 << 20);
        assert_eq!(rounded((1 << 20) + 1), 2 << 20);
        assert_eq!(rounded(5 << 20), 6 << 20);
    }
}
