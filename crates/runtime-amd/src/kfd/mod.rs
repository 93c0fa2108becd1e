//! The KFD, the kernel driver user-mode GPU runtimes talk to (`/dev/kfd` next to the DRM
//! render node): `ioctl` holds the ioctl numbers and argument structs, `topology` finds
//! the GPUs in sysfs, and `sys` is the unsafe layer that opens the files, calls the
//! ioctls and maps memory. The bring-up order (as ROCm and tinygrad do it): find the
//! GPU in the topology; open `/dev/kfd` and the render node; GET_VERSION; ACQUIRE_VM
//! with the render node; RUNTIME_ENABLE on KFD 1.14+; then allocate and map memory
//! (ALLOC_MEMORY_OF_GPU, mmap on the render node, MAP_MEMORY_TO_GPU), create events and
//! queues (CREATE_QUEUE, then mmap the doorbell page on `/dev/kfd`).

pub mod ioctl;
pub mod sizes;
pub mod sys;
pub mod topology;

pub use topology::{GpuNode, TOPOLOGY, discover};
