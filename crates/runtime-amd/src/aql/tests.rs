//! AQL packets and `amd_queue_t` against the golden vectors of docs/amd.md, and their
//! layouts (sizes and field offsets) against ROCR's headers.

use std::mem::{align_of, offset_of, size_of};

use super::*;

fn hex(dwords: &[u32]) -> String {
    dwords
        .iter()
        .map(|d| format!("{d:08X}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn headers_encode_type_barrier_and_scopes() {
    assert_eq!(Header::system(PacketType::VendorSpecific).bits(), 0x1500);
    assert_eq!(Header::system(PacketType::KernelDispatch).bits(), 0x1502);
    assert_eq!(Header::system(PacketType::BarrierAnd).bits(), 0x1503);
    let agent = Header {
        kind: PacketType::Invalid,
        barrier: false,
        acquire: FenceScope::Agent,
        release: FenceScope::None,
    };
    assert_eq!(agent.bits(), 0x0201);
}

#[test]
fn a2_the_pm4_ib_vendor_packet() {
    let slot = Pm4IbPacket::of(0x7F40_0000_0000, 10)
        .unwrap_or_else(|e| panic!("{e}"))
        .slot();
    assert_eq!(
        hex(&slot.dwords()),
        "00011500 C0023F00 00000000 00007F40 0080000A 0000000A 00000000 00000000 \
         00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000"
    );
    assert_eq!(slot.first, 0x0001_1500);
}

#[test]
fn a3_a_barrier_and() {
    let slot = BarrierPacket::of(true, &[0x7F00_0000_3000], 0x7F00_0000_4000)
        .unwrap_or_else(|e| panic!("{e}"))
        .slot();
    assert_eq!(
        hex(&slot.dwords()),
        "00001503 00000000 00003000 00007F00 00000000 00000000 00000000 00000000 \
         00000000 00000000 00000000 00000000 00000000 00000000 00004000 00007F00"
    );
    let or = BarrierPacket::of(false, &[], 0).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(or.header, 0x1505);
    assert!(BarrierPacket::of(true, &[1; 6], 0).is_err());
}

#[test]
fn a4_amd_queue_t_as_a_new_queue_starts() {
    let q = AmdQueue::new(304, 32);
    let bytes = q.bytes();
    let dwords: Vec<(usize, u32)> = bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .enumerate()
        .filter(|(_, d)| *d != 0)
        .collect();
    assert_eq!(dwords, [(18, 0x12F), (19, 0x1F), (34, 0x80), (45, 0xA)]);
}

#[test]
fn a_kernel_dispatch_counts_work_items() {
    let d = Dispatch {
        workgroup: [64, 2, 1],
        groups: [10, 3, 1],
        private_segment_size: 16,
        group_segment_size: 4096,
        kernel_object: 0x7F20_0000_0000,
        kernarg_address: 0x7F30_0000_0000,
        completion_signal: 0,
    };
    let p = KernelDispatchPacket::of(&d).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((p.grid_size_x, p.grid_size_y, p.grid_size_z), (640, 6, 1));
    assert_eq!(
        hex(&p.slot().dwords()),
        "00031502 00020040 00000001 00000280 00000006 00000001 00000010 00001000 \
         00000000 00007F20 00000000 00007F30 00000000 00000000 00000000 00000000"
    );
    let bad = |d: Dispatch| {
        KernelDispatchPacket::of(&d)
            .expect_err("refused")
            .to_string()
    };
    assert!(
        bad(Dispatch {
            workgroup: [1 << 16, 1, 1],
            ..d
        })
        .contains("16 bits")
    );
    assert!(
        bad(Dispatch {
            groups: [u32::MAX, 1, 1],
            ..d
        })
        .contains("32 bits")
    );
    assert!(
        bad(Dispatch {
            groups: [0, 1, 1],
            ..d
        })
        .contains("empty")
    );
}

#[test]
fn layouts_match_rocr() {
    assert_eq!(size_of::<KernelDispatchPacket>(), 64);
    assert_eq!(offset_of!(KernelDispatchPacket, workgroup_size_x), 4);
    assert_eq!(offset_of!(KernelDispatchPacket, grid_size_x), 12);
    assert_eq!(offset_of!(KernelDispatchPacket, private_segment_size), 24);
    assert_eq!(offset_of!(KernelDispatchPacket, group_segment_size), 28);
    assert_eq!(offset_of!(KernelDispatchPacket, kernel_object), 32);
    assert_eq!(offset_of!(KernelDispatchPacket, kernarg_address), 40);
    assert_eq!(offset_of!(KernelDispatchPacket, completion_signal), 56);
    assert_eq!(size_of::<BarrierPacket>(), 64);
    assert_eq!(offset_of!(BarrierPacket, dep_signal), 8);
    assert_eq!(offset_of!(BarrierPacket, completion_signal), 56);
    assert_eq!(size_of::<Pm4IbPacket>(), 64);
    assert_eq!(offset_of!(Pm4IbPacket, ib_jump_cmd), 4);
    assert_eq!(offset_of!(Pm4IbPacket, dw_cnt_remain), 20);
    assert_eq!(offset_of!(Pm4IbPacket, completion_signal), 56);
    assert_eq!((size_of::<AmdQueue>(), align_of::<AmdQueue>()), (256, 64));
    assert_eq!(offset_of!(AmdQueue, caps), 40);
    assert_eq!(offset_of!(AmdQueue, write_dispatch_id), 56);
    assert_eq!(offset_of!(AmdQueue, max_cu_id), 72);
    assert_eq!(offset_of!(AmdQueue, max_wave_id), 76);
    assert_eq!(offset_of!(AmdQueue, read_dispatch_id), 128);
    assert_eq!(offset_of!(AmdQueue, compute_tmpring_size), 140);
    assert_eq!(offset_of!(AmdQueue, scratch_resource_descriptor), 144);
    assert_eq!(offset_of!(AmdQueue, scratch_backing_memory_location), 160);
    assert_eq!(offset_of!(AmdQueue, scratch_wave64_lane_byte_size), 176);
    assert_eq!(offset_of!(AmdQueue, queue_properties), 180);
    assert_eq!(offset_of!(AmdQueue, queue_inactive_signal), 192);
}

#[test]
fn the_explicit_encodings_agree_with_the_struct_layouts() {
    // every field set to a distinct value lands at its offset
    let mut q = AmdQueue::new(8, 4);
    q.write_dispatch_id = 0x1122_3344_5566_7788;
    q.scratch_backing_memory_location = 0x0102_0304_0506_0708;
    let b = q.bytes();
    let at = |off: usize| u64::from_le_bytes(b[off..off + 8].try_into().unwrap_or([0; 8]));
    assert_eq!(
        at(offset_of!(AmdQueue, write_dispatch_id)),
        q.write_dispatch_id
    );
    assert_eq!(
        at(offset_of!(AmdQueue, scratch_backing_memory_location)),
        q.scratch_backing_memory_location
    );
}
