//! `Flavor`: what a target of LLVM IR makes of the parts of a kernel that differ between
//! devices. The emitter writes every kernel the same way (loops, registers, ALU, memory);
//! a flavor says how the kernel is entered and reaches its buffers, where its memory
//! lives (address spaces), how launch indices are read, what scratch and a barrier are,
//! which matrix instructions it has, and the whole-kernel GEMMs (the TC opt's) it
//! instantiates. `CpuFlavor` is the host CPU; the AMD GPU flavor
//! lives in `renderer-amd`.

use std::fmt;

use renderer::LaunchDims;
use uop_ir::{DType, Special};

use crate::module::Module;

/// A buffer argument of a kernel as its body sees it: `%data{slot}`, a pointer to
/// elements of `dtype` (stored as `memory_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KernelParam {
    pub slot: u32,
    pub dtype: DType,
    pub memory_type: &'static str,
}

/// The kernel body the emitter wrote, for a flavor to wrap into the kernel function.
#[derive(Clone, Debug)]
pub struct KernelBody<'a> {
    pub name: &'a str,
    pub params: &'a [KernelParam],
    /// The basic blocks, from `entry:` to `ret void`, indented.
    pub blocks: &'a str,
    pub dims: &'a LaunchDims,
    /// The launch indices the body reads.
    pub specials: &'a [Special],
}

/// How a launch index is read: an argument of the kernel, or a call of an intrinsic
/// that returns it as `i32`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SpecialRead {
    /// `%name`, an `i32` argument of the body.
    Argument(&'static str),
    /// `call i32 @intrinsic()`, declared by the line given.
    Intrinsic { name: String, declare: String },
}

/// An operand of a matrix instruction: its IR text, dtype and lanes. Narrow floats are
/// held as `float` values (see `Flavor::native_narrow`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operand {
    pub text: String,
    pub dtype: DType,
    pub lanes: u8,
}

/// A source of a whole-kernel WMMA node (dtype void: the TC opt's GEMM).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KernelOperand {
    /// A buffer: the pointer to its first element, and the element dtype.
    Buffer { ptr: String, dtype: DType },
    /// A launch index or an integer constant, as an `i64` value.
    Index(String),
}

/// A line of IR a flavor writes into the kernel's body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line {
    /// An instruction of the current block.
    Ins(String),
    /// The label that starts a new block (the one before must have ended with a branch).
    Label(String),
}

/// Where scratch memory (DEFINE_LOCAL) lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scratch {
    /// A stack array of each invocation (`alloca` in the entry block).
    Stack,
    /// A module global in `space`, shared by the threads of a workgroup.
    Shared { space: u32 },
}

/// A target of LLVM IR (see the module doc).
pub trait Flavor: Send + Sync + fmt::Debug {
    /// The target's name, as errors give it.
    fn name(&self) -> &'static str;

    /// The module's first lines (triple and data layout), or nothing when the compiler
    /// sets them.
    fn module_header(&self) -> String;

    /// The address space of buffers.
    fn global_space(&self) -> u32 {
        0
    }

    /// The address space of registers (`alloca`).
    fn private_space(&self) -> u32 {
        0
    }

    /// The kernel: its function(s) around the body, and the attribute groups they use
    /// (the helpers' group `#0` among them: `alwaysinline nounwind`).
    fn kernel(&self, body: &KernelBody, module: &mut Module) -> Result<(String, String), String>;

    /// How the launch index `which` is read, or why the target has no such index.
    fn special(&self, which: Special) -> Result<SpecialRead, String>;

    /// The target's own type for elements of the narrow float `dtype` in memory
    /// (`half`, `bfloat`), converted with `fpext`/`fptrunc`; `None` keeps them as bits,
    /// converted by IR helpers.
    fn native_narrow(&self, _dtype: DType) -> Option<&'static str> {
        None
    }

    /// Where scratch memory lives.
    fn scratch(&self) -> Scratch {
        Scratch::Stack
    }

    /// The lines that compute the WMMA node `dest` (`lanes` values of `dtype`, the
    /// accumulator) with the matrix instruction named `instruction` from `src` (the A
    /// and B fragments and the accumulator C), or why the target has no such
    /// instruction. Extra values may be named `{dest}.*`.
    fn wmma(
        &self,
        instruction: &str,
        _dest: &str,
        _out: (DType, u8),
        _src: &[Operand],
        _module: &mut Module,
    ) -> Result<Vec<String>, String> {
        Err(format!(
            "{} has no matrix instruction {instruction}",
            self.name()
        ))
    }

    /// The lines that compute a whole-kernel WMMA node: the GEMM its argument `gemm`
    /// names, of the buffers and launch indices `src` (in the node's order). The lines
    /// continue the current block; values and blocks they add are named `%{prefix}.*`
    /// and `{prefix}.*`, and the kernel goes on in the last block they start.
    fn gemm(
        &self,
        gemm: &str,
        _prefix: &str,
        _src: &[KernelOperand],
        _module: &mut Module,
    ) -> Result<Vec<Line>, String> {
        Err(format!("{} has no whole-kernel GEMM: {gemm}", self.name()))
    }

    /// The instructions that hold every thread of a workgroup until all have reached
    /// them, the writes before visible after; `None` where the target has no workgroups.
    fn barrier(&self, _module: &mut Module) -> Option<Vec<String>> {
        None
    }
}

/// `ptr` in `space`: `ptr` or `ptr addrspace(N)`.
pub fn pointer(space: u32) -> String {
    if space == 0 {
        "ptr".into()
    } else {
        format!("ptr addrspace({space})")
    }
}

/// The host CPU: the kernel is `void NAME(ptr bufs, i32 core_id)`, called once per
/// `core_id` by the runtime's thread pool; it loads its buffer pointers from `bufs` and
/// calls the body, whose buffer parameters are `noalias` (buffers never overlap, as C's
/// `restrict` says), with `core_id` as the only launch index. Scratch is a stack array.
#[derive(Clone, Copy, Debug, Default)]
pub struct CpuFlavor;

impl Flavor for CpuFlavor {
    fn name(&self) -> &'static str {
        "LLVM"
    }

    fn module_header(&self) -> String {
        String::new()
    }

    fn kernel(&self, body: &KernelBody, _module: &mut Module) -> Result<(String, String), String> {
        let name = body.name;
        let params: Vec<String> = body
            .params
            .iter()
            .map(|p| format!("ptr noalias %data{}", p.slot))
            .chain(std::iter::once("i32 %core_id".to_string()))
            .collect();
        let mut out = format!(
            "define internal void @{name}.body({}) #0 {{\n{}}}\n\n",
            params.join(", "),
            body.blocks
        );
        out += &format!("define void @{name}(ptr %bufs, i32 %core_id) #1 {{\nentry:\n");
        let mut args = Vec::new();
        for p in body.params {
            let s = p.slot;
            out += &format!("  %bufs{s} = getelementptr ptr, ptr %bufs, i64 {s}\n");
            out += &format!("  %data{s} = load ptr, ptr %bufs{s}, align 8\n");
            args.push(format!("ptr %data{s}"));
        }
        args.push("i32 %core_id".into());
        out += &format!(
            "  call void @{name}.body({})\n  ret void\n}}\n",
            args.join(", ")
        );
        let attributes = "attributes #0 = { alwaysinline nounwind }\n\
                          attributes #1 = { nounwind }\n"
            .to_string();
        Ok((out, attributes))
    }

    fn special(&self, which: Special) -> Result<SpecialRead, String> {
        match which {
            Special::Core => Ok(SpecialRead::Argument("core_id")),
            other => Err(format!("CPU kernels have only core_id, not {other}")),
        }
    }
}
