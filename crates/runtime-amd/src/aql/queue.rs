//! `amd_queue_t` (ROCR `amd_hsa_queue.h`): the 256-byte, 64-byte aligned structure an AQL
//! queue's packet processor reads. The KFD is told where its `write_dispatch_id` (+56)
//! and `read_dispatch_id` (+128) are: they are the queue's write and read pointers, in
//! packets. The rest describes the device (highest CU and wave ids), scratch, and the
//! queue's properties.

/// `AMD_QUEUE_PROPERTIES_IS_PTR64` (bit 1).
pub const QUEUE_PROPERTIES_IS_PTR64: u32 = 1 << 1;
/// `AMD_QUEUE_PROPERTIES_ENABLE_PROFILING` (bit 3): dispatches record timestamps.
pub const QUEUE_PROPERTIES_ENABLE_PROFILING: u32 = 1 << 3;

/// `amd_queue_t`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C, align(64))]
pub struct AmdQueue {
    // hsa_queue_t
    pub queue_type: u32,
    pub features: u32,
    pub base_address: u64,
    pub doorbell_signal: u64,
    pub size: u32,
    pub reserved0: u32,
    pub id: u64,
    // amd_queue_t
    pub caps: u32,
    pub reserved1: [u32; 3],
    /// The write pointer: packets ever written (+56).
    pub write_dispatch_id: u64,
    pub group_segment_aperture_base_hi: u32,
    pub private_segment_aperture_base_hi: u32,
    pub max_cu_id: u32,
    pub max_wave_id: u32,
    pub max_legacy_doorbell_dispatch_id_plus_1: u64,
    pub legacy_doorbell_lock: u32,
    pub reserved2: [u32; 9],
    /// The read pointer: packets the processor has taken (+128).
    pub read_dispatch_id: u64,
    pub read_dispatch_id_field_base_byte_offset: u32,
    pub compute_tmpring_size: u32,
    pub scratch_resource_descriptor: [u32; 4],
    pub scratch_backing_memory_location: u64,
    pub scratch_backing_memory_byte_size: u64,
    pub scratch_wave64_lane_byte_size: u32,
    pub queue_properties: u32,
    pub reserved3: [u32; 2],
    pub queue_inactive_signal: u64,
    pub reserved4: [u32; 14],
}

impl AmdQueue {
    /// The structure as a new queue starts it, before scratch is set up: for a device of
    /// `cus` compute units (all XCCs) and `waves_per_cu` waves per CU, with 64-bit
    /// pointers and profiling on.
    pub fn new(cus: u32, waves_per_cu: u32) -> AmdQueue {
        AmdQueue {
            queue_type: 0,
            features: 0,
            base_address: 0,
            doorbell_signal: 0,
            size: 0,
            reserved0: 0,
            id: 0,
            caps: 0,
            reserved1: [0; 3],
            write_dispatch_id: 0,
            group_segment_aperture_base_hi: 0,
            private_segment_aperture_base_hi: 0,
            max_cu_id: cus.saturating_sub(1),
            max_wave_id: waves_per_cu.saturating_sub(1),
            max_legacy_doorbell_dispatch_id_plus_1: 0,
            legacy_doorbell_lock: 0,
            reserved2: [0; 9],
            read_dispatch_id: 0,
            read_dispatch_id_field_base_byte_offset: std::mem::offset_of!(
                AmdQueue,
                read_dispatch_id
            ) as u32,
            compute_tmpring_size: 0,
            scratch_resource_descriptor: [0; 4],
            scratch_backing_memory_location: 0,
            scratch_backing_memory_byte_size: 0,
            scratch_wave64_lane_byte_size: 0,
            queue_properties: QUEUE_PROPERTIES_IS_PTR64 | QUEUE_PROPERTIES_ENABLE_PROFILING,
            reserved3: [0; 2],
            queue_inactive_signal: 0,
            reserved4: [0; 14],
        }
    }

    /// The 256 bytes, little-endian, in field order.
    pub fn bytes(&self) -> [u8; 256] {
        let mut out = Vec::with_capacity(256);
        let u32s =
            |v: &[u32], out: &mut Vec<u8>| v.iter().for_each(|x| out.extend(x.to_le_bytes()));
        u32s(&[self.queue_type, self.features], &mut out);
        out.extend(self.base_address.to_le_bytes());
        out.extend(self.doorbell_signal.to_le_bytes());
        u32s(&[self.size, self.reserved0], &mut out);
        out.extend(self.id.to_le_bytes());
        u32s(&[self.caps], &mut out);
        u32s(&self.reserved1, &mut out);
        out.extend(self.write_dispatch_id.to_le_bytes());
        u32s(
            &[
                self.group_segment_aperture_base_hi,
                self.private_segment_aperture_base_hi,
                self.max_cu_id,
                self.max_wave_id,
            ],
            &mut out,
        );
        out.extend(self.max_legacy_doorbell_dispatch_id_plus_1.to_le_bytes());
        u32s(&[self.legacy_doorbell_lock], &mut out);
        u32s(&self.reserved2, &mut out);
        out.extend(self.read_dispatch_id.to_le_bytes());
        u32s(
            &[
                self.read_dispatch_id_field_base_byte_offset,
                self.compute_tmpring_size,
            ],
            &mut out,
        );
        u32s(&self.scratch_resource_descriptor, &mut out);
        out.extend(self.scratch_backing_memory_location.to_le_bytes());
        out.extend(self.scratch_backing_memory_byte_size.to_le_bytes());
        u32s(
            &[self.scratch_wave64_lane_byte_size, self.queue_properties],
            &mut out,
        );
        u32s(&self.reserved3, &mut out);
        out.extend(self.queue_inactive_signal.to_le_bytes());
        u32s(&self.reserved4, &mut out);
        let mut bytes = [0u8; 256];
        bytes.copy_from_slice(&out);
        bytes
    }
}
