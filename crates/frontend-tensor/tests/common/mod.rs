//! Test setup: the CPU device with the C renderer, and a check that a C compiler exists.

use std::sync::{Arc, Once};

/// Registers the CPU device; returns false (after saying why) when no C compiler exists.
pub fn cpu() -> bool {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        device::register("CPU", |name| {
            Ok(Arc::new(runtime_cpu::CpuDevice::new(
                name,
                Box::new(renderer_c::CRenderer::new()),
            )))
        });
    });
    let ok =
        std::process::Command::new(std::env::var("FERROGRAD_CC").unwrap_or_else(|_| "cc".into()))
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipping: no C compiler (cc) to run CPU kernels");
    }
    ok
}
