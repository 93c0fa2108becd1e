//! Compiling and launching hand-written C kernels on `CpuDevice`.

mod common;

use std::sync::Arc;

use device::{Buffer, Device, DeviceError, LaunchDims};
use runtime_cpu::CCompiler;

const N: usize = 1001;

/// `out[i]` = `a[i]` + 1 over half of 0..N: the first half for core 0, the rest for core 1.
const ADD1: &str = r#"
#define N 1001
void add1(void* const* bufs, int core_id) {
    float* out = (float*)bufs[0];
    const float* a = (const float*)bufs[1];
    int half = (N + 1) / 2;
    int lo = core_id == 0 ? 0 : half, hi = core_id == 0 ? half : N;
    if (core_id > 1) return;
    for (int i = lo; i < hi; i++) out[i] = a[i] + 1.0f;
}
"#;

fn f32_buffer(dev: &dyn Device, values: &[f32]) -> Buffer {
    let buf = dev.alloc(values.len() * 4).expect("alloc");
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    buf.copy_in(0, &bytes).expect("copy_in");
    buf
}

fn read_f32(buf: &Buffer) -> Vec<f32> {
    let mut bytes = vec![0u8; buf.size()];
    buf.copy_out(0, &mut bytes).expect("copy_out");
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// Runs add1 with `threads` and returns `out`.
fn run_add1(dev: &dyn Device, threads: usize) -> (Vec<f32>, Vec<f32>) {
    let a: Vec<f32> = (0..N).map(|i| i as f32 * 0.5 - 100.0).collect();
    let (out, input) = (dev.alloc(N * 4).expect("alloc"), f32_buffer(dev, &a));
    let program = dev.compile(&common::source("add1", ADD1)).expect("compile");
    assert_eq!(program.name(), "add1");
    // SAFETY: both buffers hold N f32s, as add1 indexes them, and nothing else uses them.
    let dims = common::threads(threads as u32);
    let took = unsafe { program.launch(&[&out, &input], &dims, &[], true) }.expect("launch");
    assert!(took.is_some(), "the CPU times every launch");
    (a, read_f32(&out))
}

#[test]
fn two_threads_cover_both_halves() {
    let Some(cc) = common::cc(None) else { return };
    let dev = common::device(cc);
    let (a, out) = run_add1(&dev, 2);
    let want: Vec<f32> = a.iter().map(|x| x + 1.0).collect();
    assert_eq!(out, want);
}

#[test]
fn one_thread_runs_core_0_only() {
    let Some(cc) = common::cc(None) else { return };
    let dev = common::device(cc);
    let (a, out) = run_add1(&dev, 1);
    let half = N.div_ceil(2);
    assert_eq!(
        out[..half],
        a[..half].iter().map(|x| x + 1.0).collect::<Vec<_>>()
    );
    assert!(out[half..].iter().all(|&x| x == 0.0));
}

#[test]
fn extra_threads_beyond_the_kernels_split_are_harmless() {
    let Some(cc) = common::cc(None) else { return };
    let dev = common::device(cc);
    for threads in [3, 8] {
        let (a, out) = run_add1(&dev, threads);
        assert_eq!(
            out,
            a.iter().map(|x| x + 1.0).collect::<Vec<_>>(),
            "threads={threads}"
        );
    }
}

#[test]
fn zero_threads_is_a_launch_error() {
    let Some(cc) = common::cc(None) else { return };
    let dev = common::device(cc);
    let program = dev.compile(&common::source("add1", ADD1)).expect("compile");
    // SAFETY: the kernel never runs.
    let err =
        unsafe { program.launch(&[], &common::threads(0), &[], true) }.expect_err("0 threads");
    assert!(
        matches!(&err, DeviceError::Launch { function, .. } if function == "add1"),
        "{err}"
    );
}

#[test]
fn workgroups_and_scalar_values_are_launch_errors() {
    let Some(cc) = common::cc(None) else { return };
    let dev = common::device(cc);
    let program = dev.compile(&common::source("add1", ADD1)).expect("compile");
    let workgroups = LaunchDims {
        global: [2, 1, 1],
        local: [4, 1, 1],
    };
    // SAFETY: the kernels never run.
    let err = unsafe { program.launch(&[], &workgroups, &[], true) }.expect_err("workgroups");
    assert!(err.to_string().contains("no workgroups"), "{err}");
    // SAFETY: as above.
    let err = unsafe { program.launch(&[], &common::threads(1), &[3], true) }.expect_err("vals");
    assert!(err.to_string().contains("no scalar arguments"), "{err}");
}

#[test]
fn programs_are_memoized_in_process() {
    let Some(cc) = common::cc(None) else { return };
    let dev = common::device(cc);
    let first = dev.compile(&common::source("add1", ADD1)).expect("compile");
    let again = dev
        .compile(&common::source("add1", ADD1))
        .expect("compile again");
    assert!(Arc::ptr_eq(&first, &again));
    assert_eq!(dev.compiler().invocations(), 1);
}

#[test]
fn broken_source_reports_the_compiler_message() {
    let Some(cc) = common::cc(None) else { return };
    let dev = common::device(cc);
    let code = "void broken(void* const* bufs, int core_id) { undeclared_thing += 1; }";
    let err = dev
        .compile(&common::source("broken", code))
        .expect_err("broken");
    let DeviceError::Compile { function, log } = &err else {
        panic!("not a compile error: {err}")
    };
    assert_eq!(function, "broken");
    assert!(
        log.contains("undeclared_thing") && log.contains("error"),
        "{log}"
    );
    assert!(log.contains("cc "), "names the command: {log}");
}

#[test]
fn missing_symbol_is_named() {
    let Some(cc) = common::cc(None) else { return };
    let dev = common::device(cc);
    let err = dev
        .compile(&common::source("not_here", ADD1))
        .expect_err("no such symbol");
    let DeviceError::Compile { function, log } = &err else {
        panic!("not a compile error: {err}")
    };
    assert_eq!(function, "not_here");
    assert!(log.contains("no symbol `not_here`"), "{log}");
}

#[test]
fn function_names_must_be_c_identifiers() {
    let dev = common::device(CCompiler::new("cc", Vec::new(), None));
    for bad in ["", "add 1", "a\0b", "9x"] {
        let err = dev
            .compile(&common::source(bad, ADD1))
            .expect_err("bad name");
        assert!(err.to_string().contains("not a C identifier"), "{err}");
    }
    assert_eq!(dev.compiler().invocations(), 0);
}

#[test]
fn a_missing_compiler_is_named() {
    let compiler = CCompiler::new("/nonexistent/ferrograd-cc", Vec::new(), None);
    assert!(!compiler.is_available());
    let err = common::device(compiler)
        .compile(&common::source("add1", ADD1))
        .expect_err("no cc");
    let msg = err.to_string();
    assert!(
        msg.contains("/nonexistent/ferrograd-cc") && msg.contains("FERROGRAD_CC"),
        "{msg}"
    );
}
