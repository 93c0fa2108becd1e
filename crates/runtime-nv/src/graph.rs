//! CUDA graphs: the launches queued on the device's stream while capturing are recorded
//! once into a graph and replayed with one driver call, which is what makes a replayed
//! step of many small kernels cheap to dispatch. Buffers stay bound to the addresses
//! they had while captured.

use std::sync::Arc;

use cudarc::driver::{result, sys};

use crate::context::Context;
use crate::{NvError, Result};

/// A captured and instantiated graph.
#[derive(Debug)]
pub struct CudaGraph {
    ctx: Arc<Context>,
    graph: sys::CUgraph,
    exec: sys::CUgraphExec,
}

// SAFETY: graph handles may be used from any thread with the context current.
unsafe impl Send for CudaGraph {}
// SAFETY: replays only read the handle; the stream serializes them.
unsafe impl Sync for CudaGraph {}

impl CudaGraph {
    /// Records what `queue` queues on the stream of `ctx` into a graph.
    pub(crate) fn capture(
        ctx: Arc<Context>,
        queue: impl FnOnce() -> Result<()>,
    ) -> Result<CudaGraph> {
        ctx.bind()?;
        let stream = ctx.stream();
        // SAFETY: the stream is ours and not capturing; capture ends below on every path.
        unsafe {
            result::stream::begin_capture(
                stream,
                sys::CUstreamCaptureMode::CU_STREAM_CAPTURE_MODE_THREAD_LOCAL,
            )
        }
        .map_err(|e| NvError::driver("cuStreamBeginCapture", e))?;
        let queued = queue();
        // SAFETY: as above.
        let ended = unsafe { result::stream::end_capture(stream) }
            .map_err(|e| NvError::driver("cuStreamEndCapture", e));
        queued?;
        let graph = ended?;
        // SAFETY: `graph` was just captured.
        let exec = unsafe { result::graph::instantiate(graph, sys::CUgraphInstantiate_flags(0)) }
            .map_err(|e| {
            // SAFETY: not instantiated, so only the graph is ours to destroy.
            let _ = unsafe { result::graph::destroy(graph) };
            NvError::driver("cuGraphInstantiate", e)
        })?;
        Ok(CudaGraph { ctx, graph, exec })
    }

    /// Queues the whole graph on the stream.
    ///
    /// # Safety
    /// The buffers the captured launches used must still be alive.
    pub unsafe fn replay(&self) -> Result<()> {
        self.ctx.bind()?;
        // SAFETY: the graph is instantiated; the caller vouches for its buffers.
        unsafe { result::graph::launch(self.exec, self.ctx.stream()) }
            .map_err(|e| NvError::driver("cuGraphLaunch", e))
    }
}

impl Drop for CudaGraph {
    fn drop(&mut self) {
        if self.ctx.synchronize().is_ok() {
            // SAFETY: no replay is queued any more; nothing uses the handles after.
            unsafe {
                let _ = result::graph::exec_destroy(self.exec);
                let _ = result::graph::destroy(self.graph);
            }
        }
    }
}
