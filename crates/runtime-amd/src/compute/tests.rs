//! Recorded command streams against the golden vectors of docs/amd.md (timestamp, XCC
//! predicated signal, HDP flush), snapshots of whole dispatches on gfx942 and gfx1100,
//! and the AQL form of a multi-XCC recording.

use super::*;
use crate::pm4::split;

const SIGNAL: u64 = 0x7F00_0000_1000;
const CODE: u64 = 0x7F20_0000_0100;

const KERNARGS: u64 = 0x7F30_0000_0000;
const IB: u64 = 0x7F40_0000_0000;

fn hex(dwords: &[u32]) -> String {
    dwords
        .iter()
        .map(|d| format!("{d:08X}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// One packet a line: its name and dwords.
fn listing(dwords: &[u32]) -> String {
    let names = [
        (0x10, "NOP"),
        (0x15, "DISPATCH_DIRECT"),
        (0x23, "PRED_EXEC"),
        (0x3C, "WAIT_REG_MEM"),
        (0x46, "EVENT_WRITE"),
        (0x49, "RELEASE_MEM"),
        (0x58, "ACQUIRE_MEM"),
        (0x76, "SET_SH_REG"),
    ];
    let packets = split(dwords).unwrap_or_else(|e| panic!("{e}"));
    packets
        .iter()
        .map(|p| {
            let name = names
                .iter()
                .find(|(op, _)| *op == p.opcode)
                .map_or("?", |(_, n)| n);
            let end = p.at + 1 + p.body.len();
            format!("{name:<16} {}", hex(&dwords[p.at..end]))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn kernel() -> KernelResources {
    // the add1 kernel's descriptor of docs/amd.md (gfx942): kernarg pointer only
    KernelResources {
        descriptor: CODE,
        code: CODE + 0x100,
        rsrc1: 0x00AF_0040,
        rsrc2: 0x0000_0084,
        rsrc3: 0,
        group_segment: 0,
        private_segment: 0,
        properties: 0x0008,
    }
}

fn launch() -> Launch {
    Launch {
        kernel: kernel(),
        kernargs: KERNARGS,
        groups: [16, 1, 1],
        workgroup: [64, 1, 1],
        dispatch_packet: None,
    }
}

#[test]
fn g8_a_timestamp_on_gfx942() {
    let mut q = ComputeQueue::new(Generation::Gfx9, 1);
    q.timestamp(SIGNAL + 8).unwrap_or_else(|e| panic!("{e}"));
    let s = q.pm4_stream().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        hex(s.dwords()),
        "C0064900 00000514 02000000 00000000 00000000 00000000 00000000 00000000 \
         C0064900 00000514 60000000 00001008 00007F00 00000000 00000000 00000000 \
         C0055800 28C40000 FFFFFFFF FFFFFFFF 00000000 00000000 0000000A"
    );
}

#[test]
fn g10_a_signal_on_eight_xccs_is_written_by_xcc0() {
    let mut q = ComputeQueue::new(Generation::Gfx9, 8);
    q.signal(SIGNAL, 7).unwrap_or_else(|e| panic!("{e}"));
    let (slots, ib) = q.aql_packets(IB).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        hex(&ib),
        "C0002300 01000008 C0064900 00088514 20000000 00001000 00007F00 00000007 00000000 00000000"
    );
    assert_eq!(slots.len(), 1);
    let expected = Pm4IbPacket::of(IB, 10)
        .unwrap_or_else(|e| panic!("{e}"))
        .slot();
    assert_eq!(slots[0], expected);
}

#[test]
fn g12_an_hdp_flush_then_every_cache() {
    let mut q = ComputeQueue::new(Generation::Gfx9, 1);
    q.memory_barrier(0xE26, 0xE27)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        hex(q.pm4_stream().unwrap_or_else(|e| panic!("{e}")).dwords()),
        "C0053C00 00000045 00000E26 00000E27 FFFFFFFF FFFFFFFF 00000004 \
         C0055800 28C40000 FFFFFFFF FFFFFFFF 00000000 00000000 0000000A"
    );
}

#[test]
fn a_dispatch_with_a_signal_and_a_timestamp_on_gfx942() {
    let mut q = ComputeQueue::new(Generation::Gfx9, 1);
    q.dispatch(&launch())
        .and_then(|q| q.signal(SIGNAL, 1))
        .and_then(|q| q.timestamp(SIGNAL + 8))
        .unwrap_or_else(|e| panic!("{e}"));
    let s = q.pm4_stream().unwrap_or_else(|e| panic!("{e}"));
    insta::assert_snapshot!(listing(s.dwords()));
}

#[test]
fn a_wave32_dispatch_on_gfx1100() {
    let mut q = ComputeQueue::new(Generation::Gfx11, 1);
    let mut l = launch();
    l.kernel.rsrc1 = 0x60AF_0080;
    l.kernel.rsrc2 = 0x0000_009E;
    l.kernel.properties = 0x0408;
    l.kernel.group_segment = 4096;
    q.dispatch(&l).unwrap_or_else(|e| panic!("{e}"));
    let s = q.pm4_stream().unwrap_or_else(|e| panic!("{e}"));
    insta::assert_snapshot!(listing(s.dwords()));
}

#[test]
fn a_multi_xcc_recording_is_aql_with_pm4_between_dispatches() {
    let mut q = ComputeQueue::new(Generation::Gfx9, 8);
    assert_eq!(q.mode(), QueueMode::Aql);
    q.wait(SIGNAL, 3)
        .and_then(|q| q.dispatch(&launch()))
        .and_then(|q| q.dispatch(&launch()))
        .and_then(|q| q.signal(SIGNAL, 4))
        .unwrap_or_else(|e| panic!("{e}"));
    let (slots, ib) = q.aql_packets(IB).unwrap_or_else(|e| panic!("{e}"));
    let kinds: Vec<u32> = slots.iter().map(|s| s.first & 0xFF).collect();
    // vendor (the wait), two dispatches, vendor (the signal)
    assert_eq!(kinds, [0, 2, 2, 0]);
    assert_eq!(ib.len(), 7 + 10);
    let second_ib = Pm4IbPacket::of(IB + 7 * 4, 10)
        .unwrap_or_else(|e| panic!("{e}"))
        .slot();
    assert_eq!(slots[3], second_ib);
    let d = slots[1].dwords();
    assert_eq!(
        (d[3], d[8], d[10]),
        (1024, (kernel().descriptor) as u32, KERNARGS as u32)
    );
    assert!(q.pm4_stream().is_err(), "a dispatch packet is no PM4");
}

#[test]
fn kernels_asking_for_what_the_queue_lacks_are_refused() {
    let mut q = ComputeQueue::new(Generation::Gfx9, 1);
    let mut l = launch();
    l.kernel.properties = 0x0009; // + the private segment buffer
    let err = q.dispatch(&l).map(|_| ()).expect_err("refused").to_string();
    assert!(err.contains("private segment buffer"), "{err}");
    l.kernel.properties = 0x000A; // + the dispatch pointer
    let err = q.dispatch(&l).map(|_| ()).expect_err("refused").to_string();
    assert!(err.contains("no dispatch packet"), "{err}");
    l.dispatch_packet = Some(0x7F30_0000_1000);
    q.dispatch(&l).unwrap_or_else(|e| panic!("{e}"));
    let mut l = launch();
    l.kernel.private_segment = 16;
    assert!(q.dispatch(&l).is_err());
    let mut l = launch();
    l.kernel.code += 4;
    assert!(q.dispatch(&l).is_err());
}
