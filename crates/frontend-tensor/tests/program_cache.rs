//! End to end, the engine's compile cache and the CPU device's loaded programs stay within
//! their capacities while a process runs more distinct kernels than they hold, and kernels
//! evicted from both compile again (from the disk cache, without the C compiler) and still
//! give right answers. Its own test binary: it shrinks the engine's process-wide cache.

use std::sync::{Arc, OnceLock};

use frontend_tensor::Tensor;
use runtime_cpu::{CCompiler, CpuDevice, DEFAULT_CFLAGS, DiskCache};

/// The device behind `"CPU"` in this binary: 3 programs loaded at most, objects cached in
/// a fresh directory.
fn small_cpu() -> &'static Arc<CpuDevice> {
    static DEV: OnceLock<Arc<CpuDevice>> = OnceLock::new();
    DEV.get_or_init(|| {
        let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("frontend-program-cache-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let compiler = CCompiler::new(
            "cc",
            DEFAULT_CFLAGS
                .split_whitespace()
                .map(str::to_string)
                .collect(),
            Some(DiskCache::at(&dir).expect("cache dir")),
        );
        let dev = CpuDevice::with_compiler("CPU", Box::new(renderer_c::CRenderer::new()), compiler)
            .with_program_cache(3);
        Arc::new(dev)
    })
}

/// `x * k + k` for `x = [0, 1, 2, 3]`: one kernel per `k`, since constants are inlined.
fn affine(k: usize) -> Vec<f32> {
    let x = Tensor::arange(4, dtype::DType::F32).expect("arange");
    x.mul_scalar(k as f64)
        .and_then(|t| t.add_scalar(k as f64))
        .and_then(|t| t.to_vec::<f32>())
        .expect("run")
}

#[test]
fn caches_stay_bounded_and_evicted_kernels_recompile_from_disk() {
    if std::process::Command::new("cc")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipping: no C compiler (cc)");
        return;
    }
    device::register("CPU", |_| Ok(small_cpu().clone()));
    engine::set_program_cache_capacity(4);
    let dev = small_cpu();
    let want = |k: usize| (0..4).map(|i| (i * k + k) as f32).collect::<Vec<_>>();

    for k in 1..=10 {
        assert_eq!(affine(k), want(k), "k = {k}");
        assert!(
            engine::cached_programs() <= 4,
            "{}",
            engine::cached_programs()
        );
        assert!(dev.loaded_programs() <= 3, "{}", dev.loaded_programs());
    }
    let compiled = dev.compiler().invocations();
    assert!(compiled >= 10, "each k is its own kernel: {compiled}");
    assert!(dev.evicted_programs() >= 7);

    // k = 1.. were evicted from both caches; they come back from disk.
    for k in 1..=10 {
        assert_eq!(affine(k), want(k), "again, k = {k}");
    }
    assert_eq!(dev.compiler().invocations(), compiled, "no new C compiles");
    assert!(engine::cached_programs() <= 4 && dev.loaded_programs() <= 3);
    let _ = std::fs::remove_dir_all(dev.compiler().cache().expect("cache").dir());
}
