//! A second language on the base: a CUDA-like `CStyle` written here in a few lines
//! renders a kernel whose rows are split across a workgroup (LOCAL) and whose sums are
//! split across it too (GROUP: partials in shared memory, a barrier), with `float4`
//! vectors. The snapshot shows what the base writes and what the language does; the
//! refusals show how a language says what it lacks.

use dtype::DType;
use linearizer::{LinearProgram, LinearizeOptions, Opt, Target, VectorTarget, linearize};
use renderer::{LaunchDims, RenderError};
use renderer_cstyle::{CStyle, Helpers, KernelBuffer, SpecialIndex, render};
use uop_ir::{Arg, AxisType, ConstValue, Op, Special, UOp};

/// CUDA C as far as this kernel needs it.
#[derive(Debug)]
struct CudaLike;

const AXES: [char; 3] = ['x', 'y', 'z'];

impl CStyle for CudaLike {
    fn name(&self) -> &'static str {
        "CUDA-like"
    }

    fn preamble(&self) -> String {
        "#define INFINITY (__int_as_float(0x7f800000))\n#define NAN (__int_as_float(0x7fffffff))\n\n"
            .into()
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
        let (name, expr) = match which {
            Special::Global(d) => (which.to_string(), format!("blockIdx.{}", AXES[d as usize])),
            Special::Local(d) => (which.to_string(), format!("threadIdx.{}", AXES[d as usize])),
            Special::Core => return Err("CUDA kernels have no core_id".into()),
        };
        Ok(SpecialIndex { name, expr })
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
            d => renderer_cstyle::c_value_type(d),
        }
    }

    fn vector_type(&self, dtype: DType, lanes: u8, _: &mut Helpers) -> Result<String, String> {
        match (dtype, lanes) {
            (DType::F32, 4) => Ok("float4".into()),
            _ => Err(format!("no vectors of {lanes} {dtype}")),
        }
    }

    fn vector_literal(&self, _ty: &str, elems: &[String]) -> String {
        format!("make_float4({})", elems.join(", "))
    }

    fn vector_lane(&self, v: &str, k: usize) -> String {
        format!("{v}.{}", ['x', 'y', 'z', 'w'][k])
    }
}

fn f32_param(slot: u32) -> UOp {
    UOp::new(Op::Param, DType::F32, [], Arg::Param { slot })
}

fn access(op: Op, slot: u32, off: &UOp, value: Option<&UOp>) -> UOp {
    let buf = f32_param(slot);
    let idx = UOp::new(Op::Index, DType::F32, [buf, off.clone()], Arg::None);
    match value {
        Some(v) => UOp::new(Op::Store, DType::Void, [idx, v.clone()], Arg::None),
        None => UOp::new(op, DType::F32, [idx], Arg::None),
    }
}

/// `out[r] = max(0, sum over c of a[r * 64 + c])` for 8 rows of 64, split as `opts` say,
/// for a target with workgroups of up to 256 threads and `float4` vectors.
fn row_sums(opts: Vec<Opt>) -> LinearProgram {
    let r = UOp::range(8, 0);
    let c = UOp::range_of(UOp::int(64), 1, AxisType::Reduce);
    let a = access(Op::Load, 1, &(&r * 64 + &c), None);
    let sum = UOp::new(
        Op::Reduce,
        DType::F32,
        [a, c],
        Arg::Reduce {
            op: Op::Add,
            axes: Vec::new().into(),
        },
    );
    let zero = UOp::const_of(DType::F32, ConstValue::Float(0.0));
    let relu = UOp::alu(Op::Max, [sum, zero]);
    let ast = UOp::new(
        Op::Sink,
        DType::Void,
        [access(Op::Store, 0, &r, Some(&relu))],
        Arg::None,
    );
    let target = Target {
        name: "CUDA-like",
        vector: Some(VectorTarget {
            bytes: 16,
            dtypes: vec![DType::F32],
            alu: Vec::new(),
            aligned: true,
        }),
        max_local_size: 256,
        max_local_dims: [256, 256, 64],
        max_global_dims: [u32::MAX, 65535, 65535],
        scratch_bytes: 48 << 10,
        has_fma: true,
        warp_size: 32,
        ..Target::default()
    };
    let options = LinearizeOptions {
        optimize: false,
        opts: Some(opts),
    };
    linearize(&ast, &[8, 512], &target, &options).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_workgroup_kernel_renders_in_a_second_language() {
    let p = row_sums(vec![
        Opt::Local { axis: 0, amount: 4 },
        Opt::Vector { axis: 1, lanes: 4 },
        Opt::Group {
            axis: 1,
            amount: 16,
        },
    ]);
    let code = render(&CudaLike, &p).unwrap_or_else(|e| panic!("{e}")).code;
    insta::assert_snapshot!(code);
}

#[test]
fn a_language_refuses_what_it_lacks() {
    let p = row_sums(vec![Opt::Thread { axis: 0, amount: 2 }]);
    match render(&CudaLike, &p) {
        Err(RenderError::Unsupported { target, why, .. }) => {
            assert_eq!(target, "CUDA-like");
            assert!(why.contains("no core_id"), "{why}");
        }
        other => panic!("expected Unsupported, got {other:?}"),
    }
}
