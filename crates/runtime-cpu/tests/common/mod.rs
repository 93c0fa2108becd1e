//! Shared helpers: a renderer stand-in (these tests hand-write C), scratch cache
//! directories, and the check for a C compiler.

#![allow(dead_code)]

use std::path::PathBuf;

use renderer::{LaunchDims, LinearProgram, RenderError, Renderer, Source, Target};
use runtime_cpu::{CCompiler, CpuDevice, DEFAULT_CFLAGS, DiskCache};

/// Renders nothing: the tests compile hand-written `Source`s.
#[derive(Debug)]
pub struct HandWritten(Target);

impl HandWritten {
    pub fn new() -> Self {
        HandWritten(Target {
            name: "C",
            max_threads: 8,
            ..Target::default()
        })
    }
}

impl Renderer for HandWritten {
    fn target(&self) -> &Target {
        &self.0
    }

    fn render(&self, _: &LinearProgram) -> Result<Source, RenderError> {
        Err(RenderError::Malformed {
            kernel: "any".into(),
            why: "test renderer".into(),
        })
    }
}

/// A fresh, empty directory for one test.
pub fn scratch_dir(test: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("runtime-cpu-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

pub fn default_flags() -> Vec<String> {
    DEFAULT_CFLAGS
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// A `cc` compiler caching in `dir` (or not at all), or `None` with the skip message
/// printed when there is no `cc`.
pub fn cc(dir: Option<&PathBuf>) -> Option<CCompiler> {
    let cache = dir.map(|d| DiskCache::at(d).expect("cache dir"));
    let compiler = CCompiler::new("cc", default_flags(), cache);
    if compiler.is_available() {
        Some(compiler)
    } else {
        println!("skipping: no C compiler (cc)");
        None
    }
}

/// A device compiling with `compiler`.
pub fn device(compiler: CCompiler) -> CpuDevice {
    CpuDevice::with_compiler("CPU", Box::new(HandWritten::new()), compiler)
}

/// A CPU launch of `n` threads (`core_id` 0..n).
pub fn threads(n: u32) -> LaunchDims {
    LaunchDims {
        global: [n, 1, 1],
        ..LaunchDims::default()
    }
}

pub fn source(function: &str, code: &str) -> Source {
    Source {
        function: function.into(),
        code: code.into(),
    }
}
