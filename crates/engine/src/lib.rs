//! The engine runs tensor graphs: schedule (rangeify, or the schedule cache when a graph of
//! the same structure was scheduled before) -> memory plan -> for each kernel: linearize,
//! render and compile (cached by the kernel's content key in a bounded LRU, see
//! [`set_program_cache_capacity`]) -> launch. Devices are reached only through the
//! registry, by name. `capture` records the launches of a closure for replay (a JIT).
//! `store` holds buffer memory and counts it ([`memory_stats`]).
//!
//! `DEBUG=1` prints the schedule summary, `DEBUG=2` a line per kernel run, `DEBUG=4` the
//! source; `NOOPT=1` turns opts off; `SCACHE=0` turns the schedule cache off.

mod capture;
mod compile;
pub mod copy;
mod debug;
mod exact;
mod fast_hash;
mod planner;
mod profile;
mod realize;
mod schedule_cache;
pub mod store;
mod structure;
#[cfg(test)]
mod testing;
mod written;

use std::time::Duration;

use thiserror::Error;

pub use capture::{Capture, ExecItem, Replay, capture};
pub use compile::{Compiled, cached_programs, compile, set_program_cache_capacity};
pub use debug::{kernel_line, level as debug_level, noopt};
pub use planner::{Lifetime, Plan, Shared, bytes_of, plan, share};
pub use profile::{
    KernelStat, kernel_profile, profile_table, profiling, reset_profile, set_profiling,
};
pub use rangeify::{Kernel, Schedule};
pub use realize::{kernels_launched, realize, realize_outputs, schedule};
pub use schedule_cache::{
    SCHEDULE_CACHE, ScheduleCacheStats, clear_schedule_cache, schedule_cache_stats,
};
pub use store::{MemoryStats, device_memory_stats, memory_stats, reset_peak_memory};
pub use structure::Structure;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EngineError {
    #[error("scheduling failed: {0}")]
    Rangeify(#[from] rangeify::RangeifyError),
    #[error("linearizing failed: {0}")]
    Linearize(#[from] linearizer::LinearizeError),
    #[error("rendering failed: {0}")]
    Render(#[from] device::RenderError),
    #[error("{0}")]
    Device(#[from] device::DeviceError),
    #[error("buffer {0} has no memory: it was never allocated or written")]
    MissingBuffer(String),
    #[error("capture: {0}")]
    Capture(String),
    #[error("replay: {0}")]
    Replay(String),
    #[error(
        "buffer {buffer} lives on {on} but its kernel runs on {run}: move it with to(\"{run}\")"
    )]
    WrongDevice {
        buffer: String,
        on: String,
        run: String,
    },
}

/// What one `realize` did.
#[derive(Clone, Debug, Default)]
pub struct RunStats {
    pub kernels: usize,
    pub schedule_time: Duration,
    /// Whether the schedule came from the schedule cache.
    pub schedule_cached: bool,
    /// Wall time of the compile phase: linearize, render and compile the kernels not in the
    /// cache, several at a time.
    pub compile_time: Duration,
    /// Kernels compiled by this run (the others came from the compile cache).
    pub compiled: usize,
    /// Wall time from the first launch until the device finished the last kernel.
    pub run_time: Duration,
    /// Bytes of temporaries after sharing, and without.
    pub temporary_bytes: usize,
    pub unshared_temporary_bytes: usize,
}
