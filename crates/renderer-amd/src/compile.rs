//! Code objects from rendered IR (feature `llvm`): LLVM 19 compiles the IR for the
//! processor (`amdgcn-amd-amdhsa`, `default<O3>`) into a relocatable object, and
//! `ld.lld -shared` links it into the loadable code object (`ET_DYN`) a runtime maps.
//! The linker is `FERROGRAD_LLD` if set, else `ld.lld-19` or `ld.lld` from `PATH`; it
//! runs in a temporary directory of its own. A processor this LLVM does not have
//! (gfx950 needs LLVM 20, gfx1250 LLVM 22) is refused with the version it needs.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

use renderer::Source;
use renderer_llvm::compile::{Compiler, Machine};

use crate::AmdRenderError;
use crate::arch::Arch;
use crate::flavor::TRIPLE;

/// The LLVM major version this crate is built against.
pub const LLVM_MAJOR: u32 = 19;

/// Compiles kernels for one processor into code objects.
#[derive(Clone, Debug)]
pub struct CodeObjectCompiler {
    arch: Arch,
    compiler: Compiler,
}

impl CodeObjectCompiler {
    /// A compiler for `arch` with LLVM's default features for it (`xnack` and `sramecc`
    /// "any", which runs in either mode).
    pub fn new(arch: Arch) -> Result<CodeObjectCompiler, AmdRenderError> {
        if arch.llvm_major() > LLVM_MAJOR {
            return Err(AmdRenderError::Unsupported {
                arch: arch.name(),
                why: format!(
                    "{arch} needs LLVM {} or later; this build has LLVM {LLVM_MAJOR}",
                    arch.llvm_major()
                ),
            });
        }
        Ok(CodeObjectCompiler {
            arch,
            compiler: Compiler::new(Machine {
                triple: TRIPLE.into(),
                cpu: arch.name().into(),
                features: String::new(),
            }),
        })
    }

    pub fn arch(&self) -> Arch {
        self.arch
    }

    /// The relocatable object of `source`.
    pub fn object(&self, source: &Source) -> Result<Vec<u8>, AmdRenderError> {
        Ok(self.compiler.object(&source.function, &source.code)?)
    }

    /// The IR after the passes (for snapshots of what LLVM made of a kernel).
    pub fn optimized_ir(&self, source: &Source) -> Result<String, AmdRenderError> {
        Ok(self.compiler.optimized_ir(&source.function, &source.code)?)
    }

    /// The linked code object of `source`.
    pub fn code_object(&self, source: &Source) -> Result<Vec<u8>, AmdRenderError> {
        link(&self.object(source)?)
    }
}

/// The linker to use (see the module doc).
pub fn linker() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("FERROGRAD_LLD") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    ["ld.lld-19", "ld.lld"].iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// `object` linked with `ld.lld -shared` into a loadable code object.
pub fn link(object: &[u8]) -> Result<Vec<u8>, AmdRenderError> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let lld = linker().ok_or_else(|| {
        AmdRenderError::Linker(
            "no ld.lld-19 or ld.lld on PATH (apt-get install lld-19, or set FERROGRAD_LLD)".into(),
        )
    })?;
    let dir = std::env::temp_dir().join(format!(
        "ferrograd-amd-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let io = |e: std::io::Error| AmdRenderError::Linker(format!("{}: {e}", dir.display()));
    std::fs::create_dir_all(&dir).map_err(io)?;
    let (input, output) = (dir.join("kernel.o"), dir.join("kernel.hsaco"));
    let result = (|| {
        std::fs::write(&input, object).map_err(io)?;
        let out = Command::new(&lld)
            .arg("-shared")
            .arg("-o")
            .arg(&output)
            .arg(&input)
            .output()
            .map_err(|e| AmdRenderError::Linker(format!("cannot run {}: {e}", lld.display())))?;
        if !out.status.success() {
            return Err(AmdRenderError::Linker(format!(
                "{} failed: {}",
                lld.display(),
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        std::fs::read(&output).map_err(io)
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}
