//! `AmdFlavor`: LLVM IR for `amdgcn-amd-amdhsa`. What differs from the CPU's IR:
//!
//! - the kernel is `define amdgpu_kernel void @NAME(ptr addrspace(1) noalias %data0, ...)`:
//!   its buffers arrive as kernel arguments (8 bytes each in the kernarg segment);
//! - launch indices are intrinsics: `gidx{d}` is `llvm.amdgcn.workgroup.id.{x,y,z}`,
//!   `lidx{d}` is `llvm.amdgcn.workitem.id.{x,y,z}`; there is no `core_id`;
//! - buffers are in address space 1 (global), registers in 5 (private), and scratch
//!   (DEFINE_LOCAL) is an LDS array in address space 3, shared by the workgroup;
//! - BARRIER is a workgroup release fence, `s_barrier`, and a workgroup acquire fence;
//! - f16 and bf16 are `half` and `bfloat` in memory (converted by `fpext`/`fptrunc`,
//!   which the GPU does in hardware), so vectors of them load and store whole;
//! - the kernel's attributes say its workgroup size (`amdgpu-flat-work-group-size`,
//!   from the launch) and which implicit inputs it never reads (`amdgpu-no-*`), so the
//!   descriptor asks only for the kernarg pointer and the ids it uses;
//! - WMMA nodes become MFMA instructions (`mfma.rs`), and the TC opt's whole-kernel
//!   GEMM a loop of them over each wavefront's tiles (`gemm`).

use renderer_llvm::{
    Flavor, KernelBody, KernelOperand, Line, Module, Operand, Scratch, SpecialRead,
};
use uop_ir::{DType, Special};

use crate::arch::Arch;
use crate::{gemm, mfma};

/// LLVM 19's data layout of `amdgcn-amd-amdhsa`.
pub const DATA_LAYOUT: &str = "e-p:64:64-p1:64:64-p2:32:32-p3:32:32-p4:64:64-p5:32:32-p6:32:32-p7:160:256:256:32-p8:128:128-p9:192:256:256:32-i64:64-v16:16-v24:32-v32:32-v48:64-v96:128-v192:256-v256:256-v512:512-v1024:1024-v2048:2048-n32:64-S32-A5-G1-ni:7:8:9";
/// The triple of AMD GPUs under the HSA runtime (the KFD).
pub const TRIPLE: &str = "amdgcn-amd-amdhsa";

/// LLVM IR for one AMD GPU processor (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AmdFlavor {
    pub arch: Arch,
}

const AXES: [char; 3] = ['x', 'y', 'z'];

impl Flavor for AmdFlavor {
    fn name(&self) -> &'static str {
        "AMD"
    }

    fn module_header(&self) -> String {
        format!("target datalayout = \"{DATA_LAYOUT}\"\ntarget triple = \"{TRIPLE}\"\n\n")
    }

    fn global_space(&self) -> u32 {
        1
    }

    fn private_space(&self) -> u32 {
        5
    }

    fn kernel(&self, body: &KernelBody, _module: &mut Module) -> Result<(String, String), String> {
        let params: Vec<String> = body
            .params
            .iter()
            .map(|p| format!("ptr addrspace(1) noalias %data{}", p.slot))
            .collect();
        let functions = format!(
            "define amdgpu_kernel void @{}({}) #1 {{\n{}}}\n",
            body.name,
            params.join(", "),
            body.blocks
        );
        let threads = body.dims.local_size().max(1);
        if threads > 1024 {
            return Err(format!("a workgroup of {threads} threads is over 1024"));
        }
        let mut attrs = vec![
            "nounwind".to_string(),
            format!("\"amdgpu-flat-work-group-size\"=\"1,{threads}\""),
        ];
        for unused in [
            "dispatch-ptr",
            "queue-ptr",
            "implicitarg-ptr",
            "dispatch-id",
        ] {
            attrs.push(format!("\"amdgpu-no-{unused}\""));
        }
        for d in 1..3u8 {
            let axis = AXES[usize::from(d)];
            if !body.specials.contains(&Special::Global(d)) {
                attrs.push(format!("\"amdgpu-no-workgroup-id-{axis}\""));
            }
            if !body.specials.contains(&Special::Local(d)) {
                attrs.push(format!("\"amdgpu-no-workitem-id-{axis}\""));
            }
        }
        let attributes = format!(
            "attributes #0 = {{ alwaysinline nounwind }}\nattributes #1 = {{ {} }}\n",
            attrs.join(" ")
        );
        Ok((functions, attributes))
    }

    fn special(&self, which: Special) -> Result<SpecialRead, String> {
        let (kind, d) = match which {
            Special::Global(d) => ("workgroup", d),
            Special::Local(d) => ("workitem", d),
            Special::Core => {
                return Err("AMD kernels have no core_id: they run on workgroups".into());
            }
        };
        let axis = AXES
            .get(usize::from(d))
            .ok_or_else(|| format!("{which} is past the third dimension"))?;
        let name = format!("llvm.amdgcn.{kind}.id.{axis}");
        Ok(SpecialRead::Intrinsic {
            declare: format!("declare i32 @{name}()"),
            name,
        })
    }

    fn native_narrow(&self, dtype: DType) -> Option<&'static str> {
        match dtype {
            DType::F16 => Some("half"),
            DType::BF16 => Some("bfloat"),
            _ => None,
        }
    }

    fn scratch(&self) -> Scratch {
        Scratch::Shared { space: 3 }
    }

    fn barrier(&self, module: &mut Module) -> Option<Vec<String>> {
        module.declare("declare void @llvm.amdgcn.s.barrier()");
        Some(vec![
            "fence syncscope(\"workgroup\") release".into(),
            "call void @llvm.amdgcn.s.barrier()".into(),
            "fence syncscope(\"workgroup\") acquire".into(),
        ])
    }

    fn wmma(
        &self,
        instruction: &str,
        dest: &str,
        out: (DType, u8),
        src: &[Operand],
        module: &mut Module,
    ) -> Result<Vec<String>, String> {
        mfma::lower(self.arch, instruction, dest, out, src, module)
    }

    fn gemm(
        &self,
        text: &str,
        prefix: &str,
        src: &[KernelOperand],
        module: &mut Module,
    ) -> Result<Vec<Line>, String> {
        gemm::lower(self.arch, text, prefix, src, module)
    }
}
