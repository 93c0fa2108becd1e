//! Moving buffers between devices, and the check that a schedule's kernels read only
//! memory of the device they run on.
//!
//! A copy goes through host memory (`RawBuffer::copy_out`, then `copy_in`: on a GPU both
//! are staged through pinned buffers), into memory taken from the store's free lists, so
//! the destination is reused like any other buffer. It is eager: the source is realized
//! first and the copy is done when `copy_to` returns.

use std::sync::Arc;

use device::{Buffer, Device};
use uop_ir::UOp;

use crate::{EngineError, Kernel, store};

/// A copy of `src` in memory of `to`.
pub fn copy_to(src: &Buffer, to: &Arc<dyn Device>) -> Result<Buffer, EngineError> {
    let bytes = src.size();
    let dst = store::alloc(to, bytes)?;
    let mut host = vec![0u8; bytes];
    src.copy_out(0, &mut host)?;
    dst.copy_in(0, &host)?;
    Ok(dst)
}

/// An error naming the first buffer a kernel of `kernels` reads that lives on another
/// device than `device`: its address means nothing there.
pub fn check_devices(kernels: &[Kernel], device: &str) -> Result<(), EngineError> {
    let foreign = |b: &UOp| store::device_of(b).filter(|d| !d.eq_ignore_ascii_case(device));
    for k in kernels {
        if let Some((b, other)) = k.buffers.iter().find_map(|b| foreign(b).map(|d| (b, d))) {
            return Err(EngineError::WrongDevice {
                buffer: b.arg().to_string(),
                on: other,
                run: device.to_string(),
            });
        }
    }
    Ok(())
}
