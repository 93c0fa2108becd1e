//! NVRTC: CUDA C source to a cubin for one architecture, loaded at run time (no CUDA
//! toolkit is needed to build ferrograd). It needs `libnvrtc` only, not a driver or a
//! GPU, so kernels compile (and their SASS can be read) on a machine without a GPU.
//!
//! Compiled cubins are cached on disk by a hash of (NVRTC version, architecture,
//! options, source) in `cache.rs`. Kernels compile with `--fmad=false` so that a float
//! multiply and add round twice, as on every other target; a fused multiply-add is
//! written out as `fmaf` where the program asks for one (MULACC).

use std::ffi::CString;

use cudarc::nvrtc::{result, sys};

use crate::cache;
use crate::{NvError, Result};

/// Whether `libnvrtc` can be loaded. Every NVRTC call panics in `cudarc` without it, so
/// this is checked first.
pub fn available() -> bool {
    // SAFETY: only tries to open the library.
    unsafe { sys::is_culib_present() }
}

/// The NVRTC version, `(major, minor)`.
pub fn version() -> Result<(i32, i32)> {
    require()?;
    let (mut major, mut minor) = (0, 0);
    // SAFETY: the library is present, and the two pointers are valid for writes.
    unsafe { sys::nvrtcVersion(&mut major, &mut minor) }
        .result()
        .map_err(|e| NvError::Nvrtc(format!("nvrtcVersion: {e}")))?;
    Ok((major, minor))
}

fn require() -> Result<()> {
    if available() {
        Ok(())
    } else {
        Err(NvError::NoLibrary {
            library: "libnvrtc",
            hint: "install the CUDA runtime compiler (NVRTC 13, e.g. the nvidia-cuda-nvrtc wheel) and put it on the loader path",
        })
    }
}

/// The `--gpu-architecture` of compute capability `(major, minor)`: `sm_90a` where
/// `accelerated` asks for the architecture-specific features (wgmma, setmaxnreg).
pub fn arch_name(cc: (i32, i32), accelerated: bool) -> String {
    let suffix = if accelerated { "a" } else { "" };
    format!("sm_{}{}{suffix}", cc.0, cc.1)
}

/// The options every kernel is compiled with, for architecture `arch` (`sm_90`).
pub fn options(arch: &str) -> Vec<String> {
    vec![
        format!("--gpu-architecture={arch}"),
        "--fmad=false".into(),
        // the base's helper functions carry no `__device__`
        "--device-as-default-execution-space".into(),
        "--std=c++17".into(),
    ]
}

/// The cubin of `code` (whose kernel is `function`) for `arch`, from the disk cache when
/// it holds one. An error carries NVRTC's log.
pub fn compile_cubin(function: &str, code: &str, arch: &str) -> Result<Vec<u8>> {
    require()?;
    let opts = options(arch);
    let (major, minor) = version()?;
    let key = cache::key(&[
        format!("nvrtc {major}.{minor}").as_bytes(),
        opts.join(" ").as_bytes(),
        code.as_bytes(),
    ]);
    let disk = cache::DiskCache::from_env();
    if let Some(cubin) = disk.as_ref().and_then(|d| d.get(key)) {
        return Ok(cubin);
    }
    let cubin = compile_uncached(function, code, &opts)?;
    if let Some(d) = &disk {
        // a cache that cannot be written only costs the next compile
        let _ = d.put(key, &cubin);
    }
    Ok(cubin)
}

fn compile_uncached(function: &str, code: &str, opts: &[String]) -> Result<Vec<u8>> {
    let fail = |log: String| NvError::Compile {
        function: function.to_string(),
        log,
    };
    let src = CString::new(code).map_err(|_| fail("the source holds a NUL byte".into()))?;
    let name = CString::new(format!("{function}.cu")).map_err(|_| fail("bad name".into()))?;
    let prog =
        result::create_program(&src, Some(&name)).map_err(|e| fail(format!("create: {e}")))?;
    // SAFETY: `prog` was just created and is destroyed once, below.
    let compiled = unsafe { result::compile_program(prog, opts) };
    // SAFETY: as above.
    let out = match compiled {
        Ok(()) => unsafe { cubin_of(prog) }.map_err(fail),
        Err(e) => {
            // SAFETY: as above.
            let log = unsafe { log_of(prog) };
            Err(fail(format!("{e}\n{log}")))
        }
    };
    // SAFETY: as above; nothing uses `prog` after this.
    let _ = unsafe { result::destroy_program(prog) };
    out
}

/// # Safety
/// `prog` must be a live program that compiled.
unsafe fn cubin_of(prog: sys::nvrtcProgram) -> std::result::Result<Vec<u8>, String> {
    let mut size = 0usize;
    // SAFETY: the caller's contract; `size` is valid for writes.
    unsafe { sys::nvrtcGetCUBINSize(prog, &mut size) }
        .result()
        .map_err(|e| format!("nvrtcGetCUBINSize: {e}"))?;
    let mut out = vec![0u8; size];
    // SAFETY: `out` holds the `size` bytes NVRTC writes.
    unsafe { sys::nvrtcGetCUBIN(prog, out.as_mut_ptr().cast()) }
        .result()
        .map_err(|e| format!("nvrtcGetCUBIN: {e}"))?;
    Ok(out)
}

/// # Safety
/// `prog` must be a live program.
unsafe fn log_of(prog: sys::nvrtcProgram) -> String {
    // SAFETY: the caller's contract.
    match unsafe { result::get_program_log(prog) } {
        Ok(chars) => {
            let bytes: Vec<u8> = chars
                .iter()
                .map(|c| *c as u8)
                .take_while(|b| *b != 0)
                .collect();
            String::from_utf8_lossy(&bytes).into_owned()
        }
        Err(e) => format!("(no log: {e})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn architectures_are_named_as_nvrtc_takes_them() {
        assert_eq!(arch_name((9, 0), false), "sm_90");
        assert_eq!(arch_name((9, 0), true), "sm_90a");
        assert!(options("sm_80").contains(&"--gpu-architecture=sm_80".to_string()));
    }

    #[test]
    fn a_kernel_compiles_or_the_missing_library_is_named() {
        let code = "extern \"C\" __global__ void k(float* a) { a[threadIdx.x] += 1.0f; }";
        match compile_cubin("k", code, "sm_90") {
            Ok(cubin) => assert_eq!(&cubin[..4], b"\x7fELF"),
            Err(NvError::NoLibrary { library, .. }) => {
                eprintln!("skipping: {library} is not on the loader path");
            }
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn a_bad_kernel_gives_the_log() {
        if !available() {
            eprintln!("skipping: libnvrtc is not on the loader path");
            return;
        }
        let err = compile_cubin(
            "bad",
            "extern \"C\" __global__ void bad() { nope; }",
            "sm_90",
        )
        .expect_err("undefined identifier");
        assert!(err.to_string().contains("nope"), "{err}");
    }
}
