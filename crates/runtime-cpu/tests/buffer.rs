//! `CpuBuffer` through the `Device` trait: allocation, copies, bounds.

mod common;

use device::{Device, DeviceError};
use runtime_cpu::{ALIGN, CCompiler};

fn device() -> runtime_cpu::CpuDevice {
    // No compiling here, so any compiler will do.
    common::device(CCompiler::new("cc", Vec::new(), None))
}

#[test]
fn buffers_are_zeroed_and_aligned() {
    let dev = device();
    for bytes in [0, 1, 3, 64, 1000, 1 << 20] {
        let buf = dev.alloc(bytes).expect("alloc");
        assert_eq!(buf.size(), bytes);
        assert_eq!(buf.addr() % ALIGN as u64, 0, "{bytes} bytes");
        let mut out = vec![1u8; bytes];
        buf.copy_out(0, &mut out).expect("copy_out");
        assert!(out.iter().all(|&b| b == 0), "{bytes} bytes");
    }
}

#[test]
fn copies_round_trip_at_offsets() {
    let dev = device();
    let buf = dev.alloc(37).expect("alloc");
    let data: Vec<u8> = (0..37).map(|i| (i * 7 + 1) as u8).collect();
    buf.copy_in(0, &data).expect("copy_in");
    buf.copy_in(30, &[0xAA, 0xBB]).expect("copy_in at offset");
    let mut all = vec![0u8; 37];
    buf.copy_out(0, &mut all).expect("copy_out");
    let mut want = data.clone();
    want[30..32].copy_from_slice(&[0xAA, 0xBB]);
    assert_eq!(all, want);
    let mut tail = [0u8; 5];
    buf.copy_out(32, &mut tail).expect("copy_out at offset");
    assert_eq!(tail, want[32..]);
    buf.copy_in(37, &[]).expect("empty copy at the end");
}

#[test]
fn out_of_bounds_copies_are_errors() {
    let dev = device();
    let buf = dev.alloc(16).expect("alloc");
    let err = buf.copy_in(10, &[0; 7]).expect_err("past the end");
    assert_eq!(
        err,
        DeviceError::CopyOutOfBounds {
            offset: 10,
            len: 7,
            size: 16
        }
    );
    let mut out = [0u8; 1];
    assert!(matches!(
        buf.copy_out(16, &mut out),
        Err(DeviceError::CopyOutOfBounds { .. })
    ));
    assert!(matches!(
        buf.copy_out(usize::MAX, &mut out),
        Err(DeviceError::CopyOutOfBounds { .. })
    ));
    let empty = dev.alloc(0).expect("alloc 0");
    assert!(matches!(
        empty.copy_in(0, &[1]),
        Err(DeviceError::CopyOutOfBounds { .. })
    ));
    assert!(err.to_string().contains("16 bytes"), "{err}");
}

#[test]
fn impossible_allocations_are_errors() {
    let err = device().alloc(usize::MAX - 10).expect_err("too big");
    assert!(
        matches!(&err, DeviceError::OutOfMemory { device, .. } if device == "CPU"),
        "{err}"
    );
}

#[test]
fn concurrent_copies_do_not_tear() {
    let dev = device();
    let buf = dev.alloc(4096).expect("alloc");
    std::thread::scope(|s| {
        for v in [0x11u8, 0x22] {
            let buf = &buf;
            s.spawn(move || {
                for _ in 0..200 {
                    buf.copy_in(0, &[v; 4096]).expect("copy_in");
                    let mut out = vec![0u8; 4096];
                    buf.copy_out(0, &mut out).expect("copy_out");
                    assert!(out.iter().all(|&b| b == out[0]), "torn read");
                }
            });
        }
    });
}
