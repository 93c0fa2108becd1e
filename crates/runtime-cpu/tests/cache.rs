//! The disk cache of compiled objects, shared by compilers and processes.

mod common;

use std::fs;
use std::path::Path;

use device::Device;
use runtime_cpu::{CCompiler, DiskCache};

const KERNEL: &str = "void seven(void* const* bufs, int core_id) { ((int*)bufs[0])[core_id] = 7; }";

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("read cache dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Runs `seven` with 2 threads and checks it wrote both slots.
fn check_runs(dev: &dyn Device) {
    let program = dev
        .compile(&common::source("seven", KERNEL))
        .expect("compile");
    let buf = dev.alloc(8).expect("alloc");
    // SAFETY: the kernel writes ints 0 and 1 of an 8-byte buffer.
    unsafe { program.launch(&[&buf], &common::threads(2), &[], true) }.expect("launch");
    let mut out = [0u8; 8];
    buf.copy_out(0, &mut out).expect("copy_out");
    assert_eq!(out, [7, 0, 0, 0, 7, 0, 0, 0]);
}

#[test]
fn a_second_compile_is_served_from_disk() {
    let dir = common::scratch_dir("hit");
    let Some(first) = common::cc(Some(&dir)) else {
        return;
    };
    let object = first
        .compile(&common::source("seven", KERNEL))
        .expect("compile");
    assert!(object.is_cached());
    let key = first.key(KERNEL);
    let cached = DiskCache::at(&dir).expect("cache").path_for(key);
    assert_eq!(object.path(), cached);
    assert!(cached.is_file());
    assert_eq!(
        entries(&dir),
        [format!("c-{key:032x}.so")],
        "no temp files left"
    );
    assert_eq!(first.invocations(), 1);

    // A new compiler (as in a new process) finds it; a device built on it runs it.
    let second = common::cc(Some(&dir)).expect("cc");
    let dev = common::device(second);
    check_runs(&dev);
    assert_eq!(dev.compiler().invocations(), 0);
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn the_key_covers_compiler_flags() {
    let dir = common::scratch_dir("flags");
    let Some(o2) = common::cc(Some(&dir)) else {
        return;
    };
    let cache = DiskCache::at(&dir).expect("cache");
    let o0 = CCompiler::new("cc", vec!["-O0".into()], Some(cache));
    assert_ne!(o2.key(KERNEL), o0.key(KERNEL));
    o2.compile(&common::source("seven", KERNEL))
        .expect("compile -O2");
    o0.compile(&common::source("seven", KERNEL))
        .expect("compile -O0");
    assert_eq!((o2.invocations(), o0.invocations()), (1, 1));
    assert_eq!(entries(&dir).len(), 2);
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn an_unloadable_cache_entry_is_rebuilt() {
    let dir = common::scratch_dir("corrupt");
    let Some(cc) = common::cc(Some(&dir)) else {
        return;
    };
    let path = cc.cache().expect("cache").path_for(cc.key(KERNEL));
    fs::write(&path, b"not an ELF file").expect("plant junk");
    let dev = common::device(cc);
    check_runs(&dev);
    assert_eq!(dev.compiler().invocations(), 1);
    assert!(fs::read(&path).expect("rebuilt").starts_with(b"\x7fELF"));
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn without_a_cache_every_compiler_compiles_and_cleans_up() {
    let Some(cc) = common::cc(None) else { return };
    let object = cc
        .compile(&common::source("seven", KERNEL))
        .expect("compile");
    let path = object.path().to_path_buf();
    assert!(!object.is_cached() && path.is_file());
    drop(object);
    assert!(!path.exists(), "temp object removed");
    check_runs(&common::device(cc));
}

#[test]
fn concurrent_compilers_share_one_entry() {
    let dir = common::scratch_dir("race");
    if common::cc(Some(&dir)).is_none() {
        return;
    }
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| check_runs(&common::device(common::cc(Some(&dir)).expect("cc"))));
        }
    });
    assert_eq!(entries(&dir).len(), 1, "{:?}", entries(&dir));
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn disabling_the_cache_is_honoured() {
    let off = |k: &str| (k == "DISABLE_COMPILER_CACHE").then(|| "1".into());
    assert_eq!(DiskCache::from_lookup(off), None);
    let dir = common::scratch_dir("env");
    let on = |k: &str| (k == "FERROGRAD_CACHE").then(|| dir.clone().into_os_string());
    assert_eq!(DiskCache::from_lookup(on).expect("cache").dir(), dir);
    let _ = fs::remove_dir_all(&dir);
}
