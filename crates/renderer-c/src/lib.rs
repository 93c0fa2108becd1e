//! The C renderer: a `LinearProgram` becomes one self-contained C11 file that defines
//! `void NAME(void* const* bufs, int core_id)`, to be built with
//! `cc -O2 -march=native -shared -fPIC -ffp-contract=off` (gcc, clang or tcc).
//!
//! It is the C-like base (`renderer-cstyle`) with what C for the CPU differs in:
//! - `language`: the kernel signature, `core_id`, stack scratch, and the C spellings;
//! - `vector`: vector types and vector ALU expressions (GCC/clang vector extensions);
//! - `exp2`: a branch-free `exp2` for f32 that compilers vectorize.
//!
//! The `Target` it offers is this CPU's: its cores, vector width and FMA, read when the
//! renderer is made. Malformed programs and ops the target cannot run give a
//! `RenderError`, never a panic.

mod exp2;
mod language;
mod vector;

use renderer::{LinearProgram, RenderError, Renderer, Source, Target, VectorTarget};

pub use language::C;

/// Scratch arrays (DEFINE_LOCAL) a kernel may declare, in bytes: they live on the stack of
/// the thread that runs it (the caller's, or a pool worker's with Rust's 2 MiB default).
pub const SCRATCH_BYTES: usize = 256 << 10;

/// Renders kernels as C for the CPU; `core_id` is the thread index of a run.
#[derive(Clone, Debug)]
pub struct CRenderer {
    target: Target,
}

impl CRenderer {
    /// A renderer whose kernels may use as many threads as this machine has CPUs.
    pub fn new() -> CRenderer {
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        CRenderer::with_threads(threads)
    }

    /// A renderer whose kernels may use at most `max_threads` threads, with this CPU's
    /// vectors ([`native_vector_bytes`]).
    pub fn with_threads(max_threads: usize) -> CRenderer {
        CRenderer::with_vectors(max_threads, native_vector_bytes(), native_fma())
    }

    /// A renderer with at most `max_threads` threads and vectors of `vector_bytes` (16, 32
    /// or 64), offering fused multiply-adds (MULACC, for reductions) when `fma`. Snapshot
    /// tests fix both so that the machine does not change their text.
    pub fn with_vectors(max_threads: usize, vector_bytes: usize, fma: bool) -> CRenderer {
        let mut alu = vector::c_vector_alu();
        if !fma {
            alu.retain(|(op, _)| *op != uop_ir::Op::MulAcc);
        }
        let max_threads = max_threads.max(1);
        CRenderer {
            target: Target {
                name: "C",
                vector: Some(VectorTarget {
                    bytes: vector_bytes,
                    dtypes: vector::C_VECTOR_DTYPES.to_vec(),
                    alu,
                    aligned: false,
                }),
                max_threads,
                max_local_size: 0,
                max_local_dims: [0; 3],
                max_global_dims: [u32::try_from(max_threads).unwrap_or(u32::MAX), 1, 1],
                scratch_bytes: SCRATCH_BYTES,
                has_fma: fma,
                warp_size: 1,
                tensor_cores: Vec::new(),
            },
        }
    }
}

/// Whether this CPU has fused multiply-add instructions (x86 FMA3; always on AArch64).
pub fn native_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(target_arch = "aarch64")]
    {
        true
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        false
    }
}

/// The widest vector register of this CPU in bytes: 64 with AVX-512, 32 with AVX, else 16
/// (SSE, NEON). Kernels are compiled with `-march=native`, so the C compiler targets the
/// same registers.
pub fn native_vector_bytes() -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            return 64;
        }
        if std::arch::is_x86_feature_detected!("avx") {
            return 32;
        }
    }
    16
}

impl Default for CRenderer {
    fn default() -> CRenderer {
        CRenderer::new()
    }
}

impl Renderer for CRenderer {
    fn target(&self) -> &Target {
        &self.target
    }

    fn render(&self, program: &LinearProgram) -> Result<Source, RenderError> {
        renderer_cstyle::render(&C, program)
    }
}
