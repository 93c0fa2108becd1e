//! KFD ioctls (`include/uapi/linux/kfd_ioctl.h`, KFD 1.17/1.18): their numbers, built
//! as the kernel's `_IOC(dir, 'K', nr, size)` from each argument struct's size, and the
//! argument structs as `#[repr(C)]` with the header's field order (their sizes and
//! offsets are tested). Older, shorter structs still work on newer kernels, which
//! zero-extend them; these are the current sizes.

use std::mem::size_of;

/// `_IOC` direction bits.
const IOC_WRITE: u32 = 1;
const IOC_READ: u32 = 2;
/// The KFD's ioctl type, `'K'`.
const KFD_TYPE: u32 = b'K' as u32;

/// `_IOC(dir, 'K', nr, size)`.
pub const fn ioc(dir: u32, nr: u32, size: usize) -> u32 {
    dir << 30 | (size as u32) << 16 | KFD_TYPE << 8 | nr
}

const fn iowr<T>(nr: u32) -> u32 {
    ioc(IOC_READ | IOC_WRITE, nr, size_of::<T>())
}

const fn iow<T>(nr: u32) -> u32 {
    ioc(IOC_WRITE, nr, size_of::<T>())
}

const fn ior<T>(nr: u32) -> u32 {
    ioc(IOC_READ, nr, size_of::<T>())
}

/// `kfd_ioctl_get_version_args`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct GetVersion {
    pub major_version: u32,
    pub minor_version: u32,
}

/// `kfd_ioctl_create_queue_args`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct CreateQueue {
    pub ring_base_address: u64,
    pub write_pointer_address: u64,
    pub read_pointer_address: u64,
    /// Out: the mmap offset of the queue's doorbell on `/dev/kfd`.
    pub doorbell_offset: u64,
    /// Bytes.
    pub ring_size: u32,
    pub gpu_id: u32,
    /// `QUEUE_TYPE_*`.
    pub queue_type: u32,
    /// Bits 7:0 the percentage (at most 100), bits 15:8 the XCC that runs PM4.
    pub queue_percentage: u32,
    /// 0..=15.
    pub queue_priority: u32,
    /// Out.
    pub queue_id: u32,
    pub eop_buffer_address: u64,
    pub eop_buffer_size: u64,
    pub ctx_save_restore_address: u64,
    pub ctx_save_restore_size: u32,
    pub ctl_stack_size: u32,
    /// KFD 1.17+.
    pub sdma_engine_id: u32,
    pub pad: u32,
}

/// `QUEUE_TYPE_COMPUTE`: a PM4 compute queue.
pub const QUEUE_TYPE_COMPUTE: u32 = 0;
/// `QUEUE_TYPE_SDMA`.
pub const QUEUE_TYPE_SDMA: u32 = 1;
/// `QUEUE_TYPE_COMPUTE_AQL`.
pub const QUEUE_TYPE_COMPUTE_AQL: u32 = 2;

/// `kfd_ioctl_destroy_queue_args`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct DestroyQueue {
    pub queue_id: u32,
    pub pad: u32,
}

/// `kfd_ioctl_get_clock_counters_args`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct GetClockCounters {
    pub gpu_clock_counter: u64,
    pub cpu_clock_counter: u64,
    pub system_clock_counter: u64,
    pub system_clock_freq: u64,
    pub gpu_id: u32,
    pub pad: u32,
}

/// `kfd_ioctl_create_event_args`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct CreateEvent {
    /// In (first call): the handle of the event page's allocation; out: its mmap offset.
    pub event_page_offset: u64,
    pub event_trigger_data: u32,
    /// `EVENT_*`.
    pub event_type: u32,
    pub auto_reset: u32,
    pub node_id: u32,
    /// Out.
    pub event_id: u32,
    /// Out: the event's slot in the event page.
    pub event_slot_index: u32,
}

/// `KFD_IOC_EVENT_SIGNAL`.
pub const EVENT_SIGNAL: u32 = 0;
/// `KFD_IOC_EVENT_HW_EXCEPTION`.
pub const EVENT_HW_EXCEPTION: u32 = 3;
/// `KFD_IOC_EVENT_MEMORY`.
pub const EVENT_MEMORY: u32 = 8;

/// `kfd_ioctl_destroy_event_args`, also the argument of SET_EVENT and RESET_EVENT.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct EventId {
    pub event_id: u32,
    pub pad: u32,
}

/// `kfd_event_data`: a waited event, with room for what a memory or hardware exception
/// reports (a 32-byte union).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct EventData {
    pub exception: [u32; 8],
    pub kfd_event_data_ext: u64,
    pub event_id: u32,
    pub pad: u32,
}

/// `kfd_ioctl_wait_events_args`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct WaitEvents {
    /// Address of an array of `EventData`.
    pub events_ptr: u64,
    pub num_events: u32,
    pub wait_for_all: u32,
    /// Milliseconds.
    pub timeout: u32,
    /// Out: 0 complete, 1 timeout, 2 fail.
    pub wait_result: u32,
}

/// `kfd_ioctl_acquire_vm_args`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct AcquireVm {
    /// The DRM render node's file descriptor.
    pub drm_fd: u32,
    pub gpu_id: u32,
}

/// `kfd_ioctl_alloc_memory_of_gpu_args`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct AllocMemory {
    pub va_addr: u64,
    pub size: u64,
    /// Out.
    pub handle: u64,
    /// Out for VRAM and GTT: the offset to mmap on the DRM render node; in for USERPTR:
    /// the CPU address.
    pub mmap_offset: u64,
    pub gpu_id: u32,
    /// `ALLOC_MEM_FLAGS_*`.
    pub flags: u32,
}

/// `KFD_IOC_ALLOC_MEM_FLAGS_*`.
pub mod alloc_flags {
    pub const VRAM: u32 = 1 << 0;
    pub const GTT: u32 = 1 << 1;
    pub const USERPTR: u32 = 1 << 2;
    pub const DOORBELL: u32 = 1 << 3;
    pub const MMIO_REMAP: u32 = 1 << 4;
    pub const CONTIGUOUS: u32 = 1 << 23;
    pub const EXT_COHERENT: u32 = 1 << 24;
    pub const UNCACHED: u32 = 1 << 25;
    pub const COHERENT: u32 = 1 << 26;
    pub const AQL_QUEUE_MEM: u32 = 1 << 27;
    pub const NO_SUBSTITUTE: u32 = 1 << 28;
    /// CPU-visible VRAM (needs a large BAR).
    pub const PUBLIC: u32 = 1 << 29;
    pub const EXECUTABLE: u32 = 1 << 30;
    pub const WRITABLE: u32 = 1 << 31;
}

/// `kfd_ioctl_free_memory_of_gpu_args`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct FreeMemory {
    pub handle: u64,
}

/// `kfd_ioctl_map_memory_to_gpu_args` (and `unmap_memory_from_gpu`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct MapMemory {
    pub handle: u64,
    /// Address of an array of `n_devices` gpu ids.
    pub device_ids_array_ptr: u64,
    pub n_devices: u32,
    /// In and out: start at 0; on success it equals `n_devices`.
    pub n_success: u32,
}

/// `kfd_process_device_apertures`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct ProcessDeviceApertures {
    pub lds_base: u64,
    pub lds_limit: u64,
    pub scratch_base: u64,
    pub scratch_limit: u64,
    pub gpuvm_base: u64,
    pub gpuvm_limit: u64,
    pub gpu_id: u32,
    pub pad: u32,
}

/// `kfd_ioctl_get_process_apertures_new_args`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct GetProcessAperturesNew {
    /// Address of an array of `ProcessDeviceApertures`.
    pub kfd_process_device_apertures_ptr: u64,
    pub num_of_nodes: u32,
    pub pad: u32,
}

/// `kfd_ioctl_set_scratch_backing_va_args`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct SetScratchBackingVa {
    pub va_addr: u64,
    pub gpu_id: u32,
    pub pad: u32,
}

/// `kfd_ioctl_get_available_memory_args`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct AvailableMemory {
    pub available: u64,
    pub gpu_id: u32,
    pub pad: u32,
}

/// `kfd_ioctl_runtime_enable_args` (call it when the version is 1.14 or later).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct RuntimeEnable {
    pub r_debug: u64,
    pub mode_mask: u32,
    pub capabilities_mask: u32,
}

pub const GET_VERSION: u32 = ior::<GetVersion>(0x01);
pub const CREATE_QUEUE: u32 = iowr::<CreateQueue>(0x02);
pub const DESTROY_QUEUE: u32 = iowr::<DestroyQueue>(0x03);
pub const GET_CLOCK_COUNTERS: u32 = iowr::<GetClockCounters>(0x05);
pub const CREATE_EVENT: u32 = iowr::<CreateEvent>(0x08);
pub const DESTROY_EVENT: u32 = iow::<EventId>(0x09);
pub const SET_EVENT: u32 = iow::<EventId>(0x0A);
pub const RESET_EVENT: u32 = iow::<EventId>(0x0B);
pub const WAIT_EVENTS: u32 = iowr::<WaitEvents>(0x0C);
pub const SET_SCRATCH_BACKING_VA: u32 = iowr::<SetScratchBackingVa>(0x11);
pub const GET_PROCESS_APERTURES_NEW: u32 = iowr::<GetProcessAperturesNew>(0x14);
pub const ACQUIRE_VM: u32 = iow::<AcquireVm>(0x15);
pub const ALLOC_MEMORY_OF_GPU: u32 = iowr::<AllocMemory>(0x16);
pub const FREE_MEMORY_OF_GPU: u32 = iow::<FreeMemory>(0x17);
pub const MAP_MEMORY_TO_GPU: u32 = iowr::<MapMemory>(0x18);
pub const UNMAP_MEMORY_FROM_GPU: u32 = iowr::<MapMemory>(0x19);
pub const AVAILABLE_MEMORY: u32 = iowr::<AvailableMemory>(0x23);
pub const RUNTIME_ENABLE: u32 = iowr::<RuntimeEnable>(0x25);

/// The mmap offset of a KFD object (`kfd_priv.h`): bits 63:62 its type, 61:46 the GPU,
/// 45:0 the offset.
pub fn mmap_offset(kind: MmapType, gpu_id: u32, offset: u64) -> u64 {
    (kind as u64) << 62 | (u64::from(gpu_id) & 0xFFFF) << 46 | (offset & ((1 << 46) - 1))
}

/// The type field of a KFD mmap offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum MmapType {
    Mmio = 0,
    Reserved = 1,
    Events = 2,
    Doorbell = 3,
}

#[cfg(test)]
mod tests {
    use std::mem::offset_of;

    use super::*;

    #[test]
    fn numbers_match_the_header_for_the_current_sizes() {
        let table = [
            (GET_VERSION, 0x8008_4B01),
            (CREATE_QUEUE, 0xC060_4B02),
            (DESTROY_QUEUE, 0xC008_4B03),
            (GET_CLOCK_COUNTERS, 0xC028_4B05),
            (CREATE_EVENT, 0xC020_4B08),
            (DESTROY_EVENT, 0x4008_4B09),
            (SET_EVENT, 0x4008_4B0A),
            (RESET_EVENT, 0x4008_4B0B),
            (WAIT_EVENTS, 0xC018_4B0C),
            (SET_SCRATCH_BACKING_VA, 0xC010_4B11),
            (GET_PROCESS_APERTURES_NEW, 0xC010_4B14),
            (ACQUIRE_VM, 0x4008_4B15),
            (ALLOC_MEMORY_OF_GPU, 0xC028_4B16),
            (FREE_MEMORY_OF_GPU, 0x4008_4B17),
            (MAP_MEMORY_TO_GPU, 0xC018_4B18),
            (UNMAP_MEMORY_FROM_GPU, 0xC018_4B19),
            (AVAILABLE_MEMORY, 0xC010_4B23),
            (RUNTIME_ENABLE, 0xC010_4B25),
        ];
        for (got, want) in table {
            assert_eq!(got, want, "{got:#x} != {want:#x}");
        }
        // the older 88-byte CREATE_QUEUE (before sdma_engine_id) the kernel still takes
        assert_eq!(ioc(3, 0x02, 88), 0xC058_4B02);
    }

    #[test]
    fn create_queue_layout() {
        assert_eq!(size_of::<CreateQueue>(), 96);
        let offsets = [
            (offset_of!(CreateQueue, ring_base_address), 0),
            (offset_of!(CreateQueue, write_pointer_address), 8),
            (offset_of!(CreateQueue, read_pointer_address), 16),
            (offset_of!(CreateQueue, doorbell_offset), 24),
            (offset_of!(CreateQueue, ring_size), 32),
            (offset_of!(CreateQueue, gpu_id), 36),
            (offset_of!(CreateQueue, queue_type), 40),
            (offset_of!(CreateQueue, queue_percentage), 44),
            (offset_of!(CreateQueue, queue_priority), 48),
            (offset_of!(CreateQueue, queue_id), 52),
            (offset_of!(CreateQueue, eop_buffer_address), 56),
            (offset_of!(CreateQueue, eop_buffer_size), 64),
            (offset_of!(CreateQueue, ctx_save_restore_address), 72),
            (offset_of!(CreateQueue, ctx_save_restore_size), 80),
            (offset_of!(CreateQueue, ctl_stack_size), 84),
            (offset_of!(CreateQueue, sdma_engine_id), 88),
        ];
        for (got, want) in offsets {
            assert_eq!(got, want);
        }
    }

    #[test]
    fn memory_and_event_layouts() {
        assert_eq!(size_of::<AllocMemory>(), 40);
        assert_eq!(offset_of!(AllocMemory, handle), 16);
        assert_eq!(offset_of!(AllocMemory, mmap_offset), 24);
        assert_eq!(offset_of!(AllocMemory, gpu_id), 32);
        assert_eq!(offset_of!(AllocMemory, flags), 36);
        assert_eq!(size_of::<MapMemory>(), 24);
        assert_eq!(offset_of!(MapMemory, device_ids_array_ptr), 8);
        assert_eq!(offset_of!(MapMemory, n_devices), 16);
        assert_eq!(offset_of!(MapMemory, n_success), 20);
        assert_eq!(size_of::<FreeMemory>(), 8);
        assert_eq!(size_of::<CreateEvent>(), 32);
        assert_eq!(offset_of!(CreateEvent, event_trigger_data), 8);
        assert_eq!(offset_of!(CreateEvent, event_type), 12);
        assert_eq!(offset_of!(CreateEvent, auto_reset), 16);
        assert_eq!(offset_of!(CreateEvent, node_id), 20);
        assert_eq!(offset_of!(CreateEvent, event_id), 24);
        assert_eq!(offset_of!(CreateEvent, event_slot_index), 28);
        assert_eq!(size_of::<WaitEvents>(), 24);
        assert_eq!(offset_of!(WaitEvents, num_events), 8);
        assert_eq!(offset_of!(WaitEvents, timeout), 16);
        assert_eq!(offset_of!(WaitEvents, wait_result), 20);
        assert_eq!(size_of::<EventData>(), 48);
        assert_eq!(offset_of!(EventData, kfd_event_data_ext), 32);
        assert_eq!(offset_of!(EventData, event_id), 40);
        assert_eq!(size_of::<AcquireVm>(), 8);
        assert_eq!(size_of::<GetVersion>(), 8);
        assert_eq!(size_of::<RuntimeEnable>(), 16);
        assert_eq!(offset_of!(RuntimeEnable, mode_mask), 8);
        assert_eq!(size_of::<ProcessDeviceApertures>(), 56);
        assert_eq!(offset_of!(ProcessDeviceApertures, gpu_id), 48);
        assert_eq!(size_of::<GetProcessAperturesNew>(), 16);
        assert_eq!(size_of::<GetClockCounters>(), 40);
        assert_eq!(offset_of!(GetClockCounters, gpu_id), 32);
        assert_eq!(size_of::<AvailableMemory>(), 16);
        assert_eq!(size_of::<SetScratchBackingVa>(), 16);
    }

    #[test]
    fn mmap_offsets_carry_type_and_gpu() {
        assert_eq!(
            mmap_offset(MmapType::Doorbell, 0x1234, 0x800),
            3 << 62 | 0x1234 << 46 | 0x800
        );
        assert_eq!(mmap_offset(MmapType::Events, 0, 0) >> 62, 2);
    }
}
