//! Moving buffers between devices (a kernel reading memory of another device is refused
//! where the engine fetches its buffers: `store::get_all_on`).
//!
//! A copy goes through host memory (`RawBuffer::copy_out`, then `copy_in`: on a GPU both
//! are staged through pinned buffers), into memory taken from the store's free lists, so
//! the destination is reused like any other buffer. It is eager: the source is realized
//! first and the copy is done when `copy_to` returns.

use std::sync::Arc;

use crate::{EngineError, store};
use device::{Buffer, Device};

/// A copy of `src` in memory of `to`.
pub fn copy_to(src: &Buffer, to: &Arc<dyn Device>) -> Result<Buffer, EngineError> {
    let bytes = src.size();
    let dst = store::alloc(to, bytes)?;
    let mut host = vec![0u8; bytes];
    src.copy_out(0, &mut host)?;
    dst.copy_in(0, &host)?;
    Ok(dst)
}
