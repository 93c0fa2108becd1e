//! The AMD GPU runtime, structured as a user-mode driver over the KFD (`/dev/kfd`):
//!
//! - `generation`: the generations whose command formats differ (gfx9 = CDNA, gfx10+);
//! - `pm4`: typed builders of PM4 type-3 packets, one per packet, per generation, and a
//!   parser that splits a stream back into packets;
//! - `aql`: the 64-byte AQL packets (kernel dispatch, barrier-AND/OR, the vendor packet
//!   that runs a PM4 indirect buffer) and the `amd_queue_t` structure;
//! - `ring`: a queue's ring with its read and write pointers, the doorbell rules and the
//!   publication order, over a `QueueMemory` (host memory in tests);
//! - `compute`: a compute queue that records dispatches, signals, waits and timestamps
//!   as PM4 (single-XCC parts) or as AQL with PM4 in vendor packets (multi-XCC parts,
//!   the MI300X default);
//! - `kfd`: ioctl numbers and `#[repr(C)]` argument structs, topology discovery from
//!   sysfs, and the one unsafe layer that opens, maps and calls the driver;
//! - `xgmi`: peer-aperture address computation for MI300 and MI400-class hives;
//! - `device`: the `Device` over all of the above (memory, the queue, code objects).
//!
//! Everything but `kfd::sys` is safe, pure code that is tested without hardware against
//! byte-exact golden vectors (docs/amd.md lists their sources). On a machine without
//! `/dev/kfd` or an AMD GPU, opening the device is an error that says which is missing.

pub mod aql;
pub mod compute;
pub mod device;
pub mod generation;
pub mod kfd;
pub mod pm4;
pub mod ring;
pub mod xgmi;

use thiserror::Error;

pub use device::{AmdDevice, open};
pub use generation::{Generation, gfx_name};

/// What went wrong in the AMD runtime; each names the packet, structure or file at fault.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AmdError {
    #[error("{packet}: {why}")]
    Packet { packet: &'static str, why: String },
    #[error("PM4 stream at dword {at}: {why}")]
    Stream { at: usize, why: String },
    #[error("queue: {0}")]
    Queue(String),
    #[error("no AMD GPU here: {0}")]
    NoGpu(String),
    #[error("KFD topology: {0}")]
    Topology(String),
    #[error("{call} failed: {why}")]
    Kfd { call: &'static str, why: String },
    #[error("XGMI: {0}")]
    Xgmi(String),
    #[error("code object: {0}")]
    CodeObject(String),
}

pub type Result<T> = std::result::Result<T, AmdError>;
