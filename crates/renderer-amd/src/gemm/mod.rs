//! The TC opt's whole-kernel GEMM (a WMMA node of dtype void naming a `TcGemm` of unit
//! `16x16x16`) as LLVM IR made of `v_mfma_f32_16x16x16{f16,bf16}` instructions
//! (`llvm.amdgcn.mfma.f32.16x16x16f16`, `llvm.amdgcn.mfma.f32.16x16x16bf16.1k`).
//!
//! A block of 256 threads (`lidx0`) is 4 wavefronts of 64 lanes in 2 x 2; it computes a
//! `tile_m x tile_n` tile of C (`gidx1` picks the row tile, `gidx0` the column tile,
//! `gidx2` the batch entry), each wavefront a `tile_m/2 x tile_n/2` part of it as
//! `tiles_m x tiles_n` tiles of 16 x 16 (2 x 2 for block tiles of 64, 1 x 1 for 32). A
//! wavefront walks `k` 16 at a time: every lane loads its 4 values of A for each of its
//! tile rows and its 4 values of B for each tile column straight from global memory, and
//! one MFMA per tile adds their product into that tile's accumulator (`<4 x float>`
//! per lane, a phi of the loop). After the loop the epilogue scales and rounds each value
//! as the program does and stores it to C. There is no LDS staging.
//!
//! The lane layout of the 16x16x16 instructions (`layout.rs`, one function per operand;
//! lane `l`, value `v` in 0..4):
//!
//! | operand | lane `l` value `v` holds | so element ... is at |
//! |---|---|---|
//! | A (16 x 16, rows x k) | `A[l % 16][4 (l / 16) + v]` | `A[i][k]`: lane `i + 16 (k / 4)`, value `k % 4` |
//! | B (16 x 16, k x cols) | `B[4 (l / 16) + v][l % 16]` | `B[k][j]`: lane `j + 16 (k / 4)`, value `k % 4` |
//! | C, D (16 x 16 f32) | `D[4 (l / 16) + v][l % 16]` | `D[i][j]`: lane `j + 16 (i / 4)`, value `i % 4` |
//!
//! The index arithmetic is written once over `layout::Arith`; the IR generator emits it
//! and the tests' software model (`model.rs`: the instruction computed lane by lane,
//! with the right-hand column above as its definition) evaluates it, against a plain
//! matrix product and, for the GEMMs the TC opt makes of tensor matmuls, against the
//! plain program in the linearizer's interpreter (`programs.rs`).

mod ir;
pub mod layout;
#[cfg(test)]
mod model;
#[cfg(test)]
mod programs;

use linearizer::opts::tc::TcGemm;
use renderer_llvm::{KernelOperand, Line, Module};

use crate::arch::Arch;

/// The lines of the GEMM named `text` (see the module doc) over `src` = [C, A, B, gidx0,
/// gidx1, gidx2, lidx0], or why it cannot be made for `arch`.
pub fn lower(
    arch: Arch,
    text: &str,
    prefix: &str,
    src: &[KernelOperand],
    module: &mut Module,
) -> Result<Vec<Line>, String> {
    let g = TcGemm::parse(text).ok_or_else(|| format!("not a GEMM: {text}"))?;
    if !arch.has_mfma() {
        return Err(format!("{arch} has no MFMA instructions for the GEMM"));
    }
    let plan = layout::Plan::new(&g)?;
    ir::lines(&plan, prefix, src, module)
}
