//! Timing on the device: a pair of events recorded on the stream around some queued
//! work, and the time between them as the device measured it.

use std::sync::Arc;
use std::time::Duration;

use cudarc::driver::{result, sys};
use parking_lot::Mutex;

use crate::context::Context;
use crate::{NvError, Result};

/// A start and an end event, used by one timing at a time.
#[derive(Debug)]
pub struct Timer {
    ctx: Arc<Context>,
    events: Mutex<(sys::CUevent, sys::CUevent)>,
}

// SAFETY: the events are only used under the mutex, with the context current.
unsafe impl Send for Timer {}
// SAFETY: as above.
unsafe impl Sync for Timer {}

impl Timer {
    pub fn new(ctx: Arc<Context>) -> Result<Timer> {
        ctx.bind()?;
        let make = || {
            result::event::create(sys::CUevent_flags::CU_EVENT_DEFAULT)
                .map_err(|e| NvError::driver("cuEventCreate", e))
        };
        Ok(Timer {
            events: Mutex::new((make()?, make()?)),
            ctx,
        })
    }

    /// Runs `queue` (which queues work on the stream) between the two events, waits for
    /// the end event and gives the time between them.
    pub fn time(&self, queue: impl FnOnce() -> Result<()>) -> Result<Duration> {
        let events = self.events.lock();
        let (start, end) = *events;
        self.ctx.bind()?;
        let stream = self.ctx.stream();
        // SAFETY: both events live as long as `self`; the stream as long as the context.
        unsafe {
            result::event::record(start, stream)
                .map_err(|e| NvError::driver("cuEventRecord", e))?;
            queue()?;
            result::event::record(end, stream).map_err(|e| NvError::driver("cuEventRecord", e))?;
            result::event::synchronize(end)
                .map_err(|e| NvError::driver("cuEventSynchronize", e))?;
            let ms = result::event::elapsed(start, end)
                .map_err(|e| NvError::driver("cuEventElapsedTime", e))?;
            Ok(Duration::from_secs_f64(f64::from(ms.max(0.0)) / 1e3))
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        let (a, b) = *self.events.get_mut();
        if self.ctx.bind().is_ok() {
            // SAFETY: the events are ours; nothing uses them after.
            unsafe {
                let _ = result::event::destroy(a);
                let _ = result::event::destroy(b);
            }
        }
    }
}
