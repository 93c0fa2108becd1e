//! CUDA C as a `CStyle` language: what it writes differently from the C-like base.
//!
//! - The kernel is `extern "C" __global__ void __launch_bounds__(N) NAME(T* __restrict__
//!   data0, ...)`, with `N` the threads of its workgroup, so that the compiler may give
//!   each thread the registers that many threads leave it.
//! - Launch indices are `blockIdx` (`gidx`) and `threadIdx` (`lidx`); there is no
//!   `core_id`.
//! - Scratch (DEFINE_LOCAL) is `__shared__`, aligned for 16-byte vectors; BARRIER is
//!   `__syncthreads()`.
//! - Vectors are CUDA's built-in `float2`/`float4`, `int2`/`int4`, `uint2`/`uint4`, made
//!   with `make_float4(..)` and read lane by lane as `.x` to `.w`; they are loaded and
//!   stored whole (16 bytes at most, aligned), and f32 arithmetic on them is a helper
//!   per op that works lane by lane (`vector.rs`).
//! - No header is included (they dominate NVRTC's time): the preamble defines the
//!   fixed-width integers and the float specials, and helper functions compile as device
//!   code (NVRTC's `--device-as-default-execution-space`).
//! - Narrow floats (f16, bf16, fp8) are stored as their bits and computed on as `float`,
//!   as in every C-like language of the base, converted with `cvt` where the GPU has it
//!   (`narrow.rs`).

use renderer::LaunchDims;
use renderer_cstyle::{CStyle, Helpers, KernelBuffer, Operand, SpecialIndex, c_value_type};
use uop_ir::{DType, Op, Special};

/// The CUDA C language.
#[derive(Clone, Copy, Debug, Default)]
pub struct CudaC;

const AXES: [char; 3] = ['x', 'y', 'z'];
const LANES: [char; 4] = ['x', 'y', 'z', 'w'];

/// The element dtypes of CUDA's vector types.
pub const CUDA_VECTOR_DTYPES: [DType; 3] = [DType::F32, DType::I32, DType::U32];

/// The CUDA name of a vector of `lanes` elements of `dtype`.
pub fn vector_name(dtype: DType, lanes: u8) -> Option<String> {
    let base = match dtype {
        DType::F32 => "float",
        DType::I32 => "int",
        DType::U32 => "uint",
        _ => return None,
    };
    matches!(lanes, 2 | 4).then(|| format!("{base}{lanes}"))
}

const PREAMBLE: &str = "\
typedef signed char int8_t;
typedef short int16_t;
typedef int int32_t;
typedef long long int64_t;
typedef unsigned char uint8_t;
typedef unsigned short uint16_t;
typedef unsigned int uint32_t;
typedef unsigned long long uint64_t;
#define INFINITY (__int_as_float(0x7f800000))
#define NAN (__int_as_float(0x7fffffff))

";

impl CStyle for CudaC {
    fn name(&self) -> &'static str {
        "CUDA"
    }

    fn preamble(&self) -> String {
        PREAMBLE.into()
    }

    fn kernel_open(&self, name: &str, buffers: &[KernelBuffer], dims: &LaunchDims) -> String {
        let args: Vec<String> = buffers
            .iter()
            .map(|b| format!("{}* __restrict__ data{}", b.element_type, b.slot))
            .collect();
        format!(
            "extern \"C\" __global__ void __launch_bounds__({}) {name}({}) {{\n",
            dims.local_size(),
            args.join(", ")
        )
    }

    fn special_index(&self, which: Special) -> Result<SpecialIndex, String> {
        let (grid, d) = match which {
            Special::Global(d) => ("blockIdx", d),
            Special::Local(d) => ("threadIdx", d),
            Special::Core => return Err("CUDA kernels have no core_id".into()),
        };
        let axis = AXES
            .get(usize::from(d))
            .ok_or_else(|| format!("CUDA has no launch dimension {d}"))?;
        Ok(SpecialIndex {
            name: which.to_string(),
            expr: format!("{grid}.{axis}"),
        })
    }

    fn local_array(&self, ty: &str, name: &str, size: i128) -> String {
        format!("__shared__ __align__(16) {ty} {name}[{size}];")
    }

    fn barrier(&self) -> Option<&'static str> {
        Some("__syncthreads();")
    }

    fn value_type(&self, dtype: DType) -> Option<&'static str> {
        match dtype {
            DType::Bool => Some("bool"),
            d => c_value_type(d),
        }
    }

    fn vector_type(&self, dtype: DType, lanes: u8, _: &mut Helpers) -> Result<String, String> {
        vector_name(dtype, lanes).ok_or_else(|| format!("CUDA has no vectors of {lanes} {dtype}"))
    }

    fn vector_literal(&self, ty: &str, elems: &[String]) -> String {
        format!("make_{ty}({})", elems.join(", "))
    }

    fn vector_lane(&self, v: &str, k: usize) -> String {
        format!("{v}.{}", LANES[k % 4])
    }

    fn decode_narrow(&self, dtype: DType, bits: &str, helpers: &mut Helpers) -> String {
        crate::narrow::decode(dtype, bits, helpers)
    }

    fn encode_narrow(&self, dtype: DType, x: &str, helpers: &mut Helpers) -> String {
        crate::narrow::encode(dtype, x, helpers)
    }

    fn vector_alu(
        &self,
        op: Op,
        lanes: u8,
        src: &[Operand],
        helpers: &mut Helpers,
    ) -> Result<String, String> {
        crate::vector::alu(op, lanes, src, helpers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_are_the_builtin_types() {
        assert_eq!(vector_name(DType::F32, 4).as_deref(), Some("float4"));
        assert_eq!(vector_name(DType::U32, 2).as_deref(), Some("uint2"));
        assert_eq!(vector_name(DType::F32, 8), None);
        assert_eq!(vector_name(DType::F64, 2), None);
        assert_eq!(
            CudaC.vector_literal("int4", &["a".into(), "b".into()]),
            "make_int4(a, b)"
        );
        assert_eq!(CudaC.vector_lane("v", 3), "v.w");
    }

    #[test]
    fn launch_indices_are_block_and_thread_indices() {
        let g = CudaC.special_index(Special::Global(1)).expect("gidx1");
        assert_eq!((g.name.as_str(), g.expr.as_str()), ("gidx1", "blockIdx.y"));
        let l = CudaC.special_index(Special::Local(0)).expect("lidx0");
        assert_eq!(l.expr, "threadIdx.x");
        assert!(CudaC.special_index(Special::Core).is_err());
        assert!(CudaC.special_index(Special::Local(3)).is_err());
    }
}
