//! Compiles rendered C with the system compiler (`cc`) into a shared object, loads it
//! with `libloading` and runs it on real buffers. Tests call `skip_without_cc` first:
//! without a compiler they print why and return, with one they must pass.

use std::ffi::{c_int, c_void};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use renderer::{LinearProgram, Renderer};
use renderer_c::CRenderer;

use crate::run::Buf;

/// True (after printing why) when there is no C compiler to test with.
pub fn skip_without_cc() -> bool {
    let found = Command::new("cc")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        println!("skipping: no C compiler");
    }
    !found
}

type KernelFn = unsafe extern "C" fn(*const *mut c_void, c_int);

/// A compiled kernel.
pub struct Kernel {
    lib: libloading::Library,
    name: String,
    threads: usize,
    dir: PathBuf,
}

impl Kernel {
    /// Renders and compiles `program` (warnings are errors).
    pub fn build(program: &LinearProgram) -> Kernel {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let source = CRenderer::new()
            .render(program)
            .unwrap_or_else(|e| panic!("{e}"));
        let dir = std::env::temp_dir().join(format!(
            "renderer-c-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let c = dir.join("kernel.c");
        let so = dir.join("kernel.so");
        std::fs::write(&c, &source.code).expect("write the C file");
        let out = Command::new("cc")
            .args(["-std=c11", "-O2", "-march=native", "-shared", "-fPIC"])
            .args(["-ffp-contract=off", "-Wall", "-Werror", "-o"])
            .arg(&so)
            .arg(&c)
            .arg("-lm")
            .output()
            .expect("run cc");
        assert!(
            out.status.success(),
            "cc failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stderr),
            source.code
        );
        // SAFETY: the library is the one just compiled; it has no initializers.
        let lib = unsafe { libloading::Library::new(&so) }.expect("load the kernel");
        Kernel {
            lib,
            name: source.function,
            threads: program.dims.global[0] as usize,
            dir,
        }
    }

    /// Runs every thread of the kernel on `bufs` (slot order).
    pub fn run(&self, bufs: &mut [&mut Buf]) {
        // SAFETY: the symbol is the kernel function, with the signature the renderer emits.
        let f = unsafe { self.lib.get::<KernelFn>(self.name.as_bytes()) }.expect("symbol");
        let ptrs: Vec<*mut c_void> = bufs.iter_mut().map(|b| b.as_mut_ptr()).collect();
        for core in 0..self.threads {
            // SAFETY: every buffer is as large as the test's program indexes.
            unsafe { f(ptrs.as_ptr(), core as c_int) };
        }
    }
}

impl Drop for Kernel {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
