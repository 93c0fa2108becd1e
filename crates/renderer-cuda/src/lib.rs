//! The CUDA renderer: a `LinearProgram` becomes one CUDA C file with one
//! `extern "C" __global__` kernel, for NVRTC to compile for the device's architecture.
//!
//! It is the C-like base (`renderer-cstyle`) with CUDA's spelling (`language.rs`), its
//! vector arithmetic (`vector.rs`) and narrow-float conversions (`narrow.rs`); a kernel
//! the TC opt turned into a tensor-core GEMM (a WMMA node) is the GEMM of `gemm.rs`. Its
//! `Target` (`target.rs`) comes from the device's properties (`CudaArch`), which the
//! runtime reads when the device opens; the facade passes them here. A renderer runs
//! nothing: compiling and launching are the runtime's (`runtime-nv`).

mod gemm;
mod language;
mod narrow;
mod target;
mod vector;

use linearizer::opts::tc::{GemmUnit, TcGemm};
use renderer::{LinearProgram, RenderError, Renderer, Source, Target};
use uop_ir::{Arg, Op};

pub use language::{CUDA_VECTOR_DTYPES, CudaC, vector_name};
pub use target::{CudaArch, cuda_target};
pub use vector::{CUDA_VECTOR_OPS, cuda_vector_alu};

/// Renders kernels as CUDA C for one device.
#[derive(Clone, Debug)]
pub struct CudaRenderer {
    arch: CudaArch,
    target: Target,
}

impl CudaRenderer {
    /// The renderer for a device of `arch`.
    pub fn new(arch: CudaArch) -> CudaRenderer {
        CudaRenderer {
            target: cuda_target(&arch),
            arch,
        }
    }

    pub fn arch(&self) -> &CudaArch {
        &self.arch
    }
}

impl Renderer for CudaRenderer {
    fn target(&self) -> &Target {
        &self.target
    }

    fn render(&self, program: &LinearProgram) -> Result<Source, RenderError> {
        let gemm = program.uops.iter().find(|u| u.op() == Op::Wmma);
        let Some(wmma) = gemm else {
            return renderer_cstyle::render(&CudaC, program);
        };
        let parsed = match wmma.arg() {
            Arg::Name(text) => TcGemm::parse(text),
            _ => None,
        };
        let g = parsed
            .filter(|g| g.unit == GemmUnit::M16n8k16)
            .ok_or_else(|| RenderError::Unsupported {
                target: "CUDA",
                kernel: program.name.clone(),
                op: Op::Wmma,
                why: format!("not a GEMM of mma.sync m16n8k16: {}", wmma.arg()),
            })?;
        Ok(Source {
            function: program.name.clone(),
            code: gemm::render_gemm(&g, &program.name),
        })
    }
}
