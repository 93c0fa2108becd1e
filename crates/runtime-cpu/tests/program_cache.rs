//! The device's bounded cache of loaded programs: it never holds more than its capacity,
//! evicted programs are unloaded (their shared objects leave the process's mappings) once
//! nothing holds them, a held program keeps working after eviction, and an evicted kernel
//! compiles again from the disk cache and gives the same answers.

mod common;

use std::path::Path;
use std::sync::Arc;

use device::{Device, Program};
use runtime_cpu::CpuDevice;

/// The kernel `k{value}`, which writes `value` to int `core_id` of its buffer.
fn writer(value: usize) -> device::Source {
    common::source(
        &format!("k{value}"),
        &format!(
            "void k{value}(void* const* bufs, int core_id) {{ ((int*)bufs[0])[core_id] = {value}; }}"
        ),
    )
}

/// Launches `program` on 2 threads and returns the two ints it wrote.
fn run(dev: &CpuDevice, program: &Arc<dyn Program>) -> [i32; 2] {
    let buf = dev.alloc(8).expect("alloc");
    // SAFETY: the kernels write ints 0 and 1 of an 8-byte buffer.
    unsafe { program.launch(&[&buf], &common::threads(2), &[], true) }.expect("launch");
    let mut out = [0u8; 8];
    buf.copy_out(0, &mut out).expect("copy_out");
    let int = |i: usize| i32::from_ne_bytes(out[4 * i..4 * i + 4].try_into().expect("4 bytes"));
    [int(0), int(1)]
}

/// The distinct files under `dir` mapped into this process (Linux), else `None`.
fn mapped_from(dir: &Path) -> Option<usize> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    let dir = dir.to_str()?;
    let mut files: Vec<&str> = maps
        .lines()
        .filter_map(|l| l.find(dir).map(|at| &l[at..]))
        .collect();
    files.sort_unstable();
    files.dedup();
    Some(files.len())
}

#[test]
fn the_cache_stays_bounded_and_evicted_kernels_reload_from_disk() {
    let dir = common::scratch_dir("bounded");
    let Some(cc) = common::cc(Some(&dir)) else {
        return;
    };
    let dev = common::device(cc).with_program_cache(4);
    for i in 0..12 {
        let program = dev.compile(&writer(i)).expect("compile");
        assert_eq!(run(&dev, &program), [i as i32; 2]);
        drop(program);
        assert!(
            dev.loaded_programs() <= 4,
            "{} loaded",
            dev.loaded_programs()
        );
        if let Some(mapped) = mapped_from(&dir) {
            assert!(
                mapped <= 4,
                "{mapped} objects still mapped after kernel {i}"
            );
        }
    }
    assert_eq!(dev.evicted_programs(), 8);
    assert_eq!(dev.compiler().invocations(), 12);
    // The first kernels were evicted: they load again from disk, without the C compiler.
    for i in 0..12 {
        let program = dev.compile(&writer(i)).expect("recompile");
        assert_eq!(run(&dev, &program), [i as i32; 2]);
    }
    assert_eq!(
        dev.compiler().invocations(),
        12,
        "served from the disk cache"
    );
    assert_eq!(dev.loaded_programs(), 4);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_held_program_outlives_its_eviction() {
    let dir = common::scratch_dir("held");
    let Some(cc) = common::cc(Some(&dir)) else {
        return;
    };
    let dev = common::device(cc).with_program_cache(2);
    let held = dev.compile(&writer(100)).expect("compile");
    for i in 0..4 {
        dev.compile(&writer(i)).expect("compile");
    }
    assert!(dev.evicted_programs() >= 3);
    assert_eq!(run(&dev, &held), [100; 2], "still mapped while held");
    if let Some(mapped) = mapped_from(&dir) {
        assert_eq!(dev.loaded_programs(), 2);
        assert_eq!(mapped, 3, "the two cached programs and the held one");
        drop(held);
        assert_eq!(mapped_from(&dir), Some(2), "unloaded once let go");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn launches_race_evictions_safely() {
    let dir = common::scratch_dir("race-evict");
    let Some(cc) = common::cc(Some(&dir)) else {
        return;
    };
    let dev = common::device(cc).with_program_cache(2);
    std::thread::scope(|s| {
        for t in 0..3 {
            let dev = &dev;
            s.spawn(move || {
                for round in 0..20 {
                    let i = (round * 3 + t) % 6;
                    let program = dev.compile(&writer(i)).expect("compile");
                    assert_eq!(run(dev, &program), [i as i32; 2]);
                }
            });
        }
    });
    assert!(dev.loaded_programs() <= 2);
    assert!(dev.evicted_programs() > 0);
    let _ = std::fs::remove_dir_all(&dir);
}
