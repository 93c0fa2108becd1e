//! The doorbell rules, the publication order and wrap-around of both ring kinds.

use super::*;
use crate::aql::{BarrierPacket, Pm4IbPacket};

#[test]
fn aql_packets_publish_body_first_header_last_then_pointer_then_doorbell() {
    let mut ring =
        Ring::new(RingKind::Aql, HostMemory::new(4 * 64)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        ring.memory().take_log().len(),
        4,
        "every slot starts INVALID"
    );
    assert!(ring.memory().dwords().chunks(16).all(|s| s[0] == 1));
    let a = Pm4IbPacket::of(0x7F40_0000_0000, 10)
        .unwrap_or_else(|e| panic!("{e}"))
        .slot();
    let b = BarrierPacket::of(true, &[0x1000], 0)
        .unwrap_or_else(|e| panic!("{e}"))
        .slot();
    ring.submit_packets(&[a.clone(), b.clone()])
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        ring.memory().take_log(),
        [
            Access::Release {
                offset: 0,
                value: 1
            },
            Access::Write { offset: 4, len: 60 },
            Access::Release {
                offset: 0,
                value: a.first
            },
            Access::Release {
                offset: 64,
                value: 1
            },
            Access::Write {
                offset: 68,
                len: 60
            },
            Access::Release {
                offset: 64,
                value: b.first
            },
            Access::WritePointer(2),
            // the doorbell is the index of the last packet
            Access::Doorbell(1),
        ]
    );
    let bytes = ring.memory().ring();
    assert_eq!(&bytes[..64], &a.bytes());
    assert_eq!(&bytes[64..128], &b.bytes());
}

#[test]
fn aql_rings_wrap_and_refuse_what_does_not_fit() {
    let mut ring =
        Ring::new(RingKind::Aql, HostMemory::new(2 * 64)).unwrap_or_else(|e| panic!("{e}"));
    let p = BarrierPacket::of(true, &[], 0)
        .unwrap_or_else(|e| panic!("{e}"))
        .slot();
    ring.submit_packets(&[p.clone(), p.clone()])
        .unwrap_or_else(|e| panic!("{e}"));
    let full = ring
        .submit_packets(std::slice::from_ref(&p))
        .expect_err("full");
    assert!(full.to_string().contains("0 of 2 free"), "{full}");
    ring.memory().set_read_pointer(1);
    ring.memory().take_log();
    ring.submit_packets(std::slice::from_ref(&p))
        .unwrap_or_else(|e| panic!("{e}"));
    let log = ring.memory().take_log();
    assert_eq!(
        log[1],
        Access::Write { offset: 4, len: 60 },
        "packet 2 goes to slot 0"
    );
    assert_eq!(
        log[log.len() - 2..],
        [Access::WritePointer(3), Access::Doorbell(2)]
    );
}

#[test]
fn pm4_rings_wrap_dwords_and_ring_with_the_write_pointer() {
    let mut ring =
        Ring::new(RingKind::Pm4, HostMemory::new(8 * 4)).unwrap_or_else(|e| panic!("{e}"));
    ring.submit_dwords(&[1, 2, 3, 4, 5, 6])
        .unwrap_or_else(|e| panic!("{e}"));
    ring.memory().set_read_pointer(6);
    ring.memory().take_log();
    ring.submit_dwords(&[7, 8, 9, 10])
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        ring.memory().take_log(),
        [
            Access::Write { offset: 24, len: 8 },
            Access::Write { offset: 0, len: 8 },
            Access::WritePointer(10),
            Access::Doorbell(10),
        ]
    );
    assert_eq!(ring.memory().dwords(), [9, 10, 3, 4, 5, 6, 7, 8]);
    assert!(ring.submit_dwords(&[0; 5]).is_err(), "4 of 8 in use");
}

#[test]
fn rings_need_a_power_of_two_of_units_and_their_own_kind() {
    assert!(Ring::new(RingKind::Aql, HostMemory::new(3 * 64)).is_err());
    assert!(Ring::new(RingKind::Pm4, HostMemory::new(12)).is_err());
    let mut pm4 = Ring::new(RingKind::Pm4, HostMemory::new(64)).unwrap_or_else(|e| panic!("{e}"));
    let p = BarrierPacket::of(true, &[], 0)
        .unwrap_or_else(|e| panic!("{e}"))
        .slot();
    assert!(pm4.submit_packets(&[p]).is_err());
}
