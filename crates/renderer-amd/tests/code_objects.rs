//! Code objects (feature `llvm`): kernels compiled by LLVM 19 and linked by ld.lld-19
//! parse back, and their descriptors hold what the kernels need; the `add1` descriptor
//! matches the golden vectors of docs/amd.md; MFMA instructions appear in the
//! disassembly of the WMMA tiles and of the TC opt's GEMMs. Tests that need `ld.lld` or `llvm-objdump` print why
//! and return when they are missing.

mod common;

use std::process::Command;

use common::*;
use linearizer::Opt;
use renderer::{LinearProgram, Renderer};
use renderer_amd::compile::{CodeObjectCompiler, linker};
use renderer_amd::{AmdRenderer, Arch, CodeObject, KernelEntry};
use uop_ir::{DType, Op};

/// True (after saying why) when there is no linker.
fn skip_without_lld() -> bool {
    let missing = linker().is_none();
    if missing {
        println!("skipping: no ld.lld-19 or ld.lld");
    }
    missing
}

/// `p` rendered, compiled and linked for `arch`.
fn code_object(arch: Arch, p: &LinearProgram) -> Vec<u8> {
    let src = AmdRenderer::new(arch)
        .render(p)
        .unwrap_or_else(|e| panic!("{e}"));
    CodeObjectCompiler::new(arch)
        .and_then(|c| c.code_object(&src))
        .unwrap_or_else(|e| panic!("{e}\n{}", src.code))
}

/// The kernel of a code object, checked against what program `p` needs.
fn checked_kernel(arch: Arch, p: &LinearProgram, bytes: &[u8]) -> KernelEntry {
    let co = CodeObject::parse(bytes).unwrap_or_else(|e| panic!("{e}"));
    assert!(co.linked, "ld.lld makes a shared object");
    assert_eq!(co.arch, Some(arch), "e_flags {:#x}", co.e_flags);
    assert_eq!(co.abi_version, 3, "code object v5");
    let k = co
        .kernel(&p.name)
        .cloned()
        .unwrap_or_else(|| panic!("no kernel {}", p.name));
    let kd = &k.descriptor;
    let meta = k
        .metadata
        .clone()
        .unwrap_or_else(|| panic!("no metadata for {}", p.name));
    // kernarg: one 8-byte pointer per buffer
    assert_eq!(kd.kernarg_size as usize, 8 * p.params.len());
    assert_eq!(u64::from(kd.kernarg_size), meta.kernarg_segment_size);
    assert_eq!(meta.args, vec![8; p.params.len()]);
    // LDS: the program's scratch arrays
    let lds: usize = p
        .uops
        .iter()
        .filter(|u| u.op() == Op::DefineLocal)
        .map(|u| u.src()[0].const_int().unwrap_or(0) as usize * u.dtype().itemsize())
        .sum();
    assert_eq!(kd.group_segment_fixed_size as usize, lds);
    assert_eq!(
        u64::from(kd.group_segment_fixed_size),
        meta.group_segment_fixed_size
    );
    assert_eq!(kd.private_segment_fixed_size, 0, "no scratch");
    // registers: the descriptor gives at least what the compiler counted; on gfx90a-class
    // parts (one register file) the metadata's VGPR count already holds the AGPRs (the
    // VGPRs rounded up to 4, then the AGPRs), elsewhere they are counted apart
    let vgprs = if arch.is_gfx9() {
        assert!(meta.vgpr_count >= meta.agpr_count);
        meta.vgpr_count
    } else {
        meta.vgpr_count + meta.agpr_count
    };
    assert!(
        u64::from(kd.vgprs(arch)) >= vgprs,
        "rsrc1 {:#x}: {} VGPRs for {} and {} AGPRs",
        kd.compute_pgm_rsrc1,
        kd.vgprs(arch),
        meta.vgpr_count,
        meta.agpr_count
    );
    if let Some(sgprs) = kd.sgprs(arch) {
        assert!(
            u64::from(sgprs) >= meta.sgpr_count,
            "{sgprs} < {}",
            meta.sgpr_count
        );
    }
    // the kernarg pointer is the only user input asked for
    assert_eq!(kd.property_sgprs(), 2);
    assert!(kd.user_sgprs() >= 2);
    assert_eq!(kd.wave32(), arch.wave_size() == 32);
    assert_eq!(meta.wavefront_size as usize, arch.wave_size());
    assert_eq!(meta.max_flat_workgroup_size, p.dims.local_size().max(1));
    // the entry offset leads to the code (checked by parse too), 256-byte aligned
    assert_eq!(
        k.descriptor_address as i128 + i128::from(kd.kernel_code_entry_byte_offset),
        k.code_address as i128
    );
    assert_eq!(k.code_address % 256, 0);
    k
}

fn hex(d: &[u32]) -> String {
    d.iter()
        .map(|x| format!("{x:08X}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn add1_descriptors_match_the_golden_vectors() {
    if skip_without_lld() {
        return;
    }
    let golden = [
        (
            Arch::Gfx942,
            0x54C,
            "00000000 00000000 00000010 00000000 00001040 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00AF0040 00000084 00000008 00000000",
        ),
        (
            Arch::Gfx1100,
            0x041,
            "00000000 00000000 00000010 00000000 00001040 00000000 00000000 00000000 00000000 00000000 00000000 00000000 60AF0080 0000009E 00000408 00000000",
        ),
        (
            Arch::Gfx1201,
            0x04E,
            "00000000 00000000 00000010 00000000 00001040 00000000 00000000 00000000 00000000 00000000 00000000 00000000 600F0000 00000084 00000408 00000000",
        ),
    ];
    for (arch, e_flags, want) in golden {
        let p = add1(16);
        let bytes = code_object(arch, &p);
        let co = CodeObject::parse(&bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(co.e_flags, e_flags, "{arch}");
        let k = checked_kernel(arch, &p, &bytes);
        let mut got = k.descriptor.dwords();
        // the entry offset depends on the linker's layout of this object's sections;
        // it is checked against the code symbol above, and compared here only if equal
        let entry = k.descriptor.kernel_code_entry_byte_offset;
        if entry != 0x1040 {
            println!("{arch}: entry offset {entry:#x} (golden 0x1040: another section layout)");
            got[4] = 0x1040;
            got[5] = 0;
        }
        assert_eq!(hex(&got), want, "{arch}");
    }
}

#[test]
fn matmul_and_softmax_compile_for_gfx942_with_checked_descriptors() {
    if skip_without_lld() {
        return;
    }
    let arch = Arch::Gfx942;
    let mm = matmul(arch, 64, 64, 64);
    let k = checked_kernel(arch, &mm, &code_object(arch, &mm));
    // lidx0 and lidx1: work-item ids x and y
    assert_eq!(k.descriptor.workitem_ids(), 1);
    let sm = softmax(
        arch,
        8,
        256,
        vec![Opt::Group {
            axis: 3,
            amount: 64,
        }],
    );
    let k = checked_kernel(arch, &sm, &code_object(arch, &sm));
    assert!(
        k.descriptor.group_segment_fixed_size > 0,
        "the partial sums are in LDS"
    );
}

#[test]
fn the_same_kernels_compile_for_rdna() {
    if skip_without_lld() {
        return;
    }
    for arch in [Arch::Gfx1100, Arch::Gfx1201] {
        let mm = matmul(arch, 64, 64, 64);
        checked_kernel(arch, &mm, &code_object(arch, &mm));
        let sm = softmax(
            arch,
            8,
            256,
            vec![Opt::Group {
                axis: 3,
                amount: 64,
            }],
        );
        checked_kernel(arch, &sm, &code_object(arch, &sm));
    }
}

#[test]
fn the_gpu_heuristics_kernels_compile() {
    if skip_without_lld() {
        return;
    }
    for arch in [Arch::Gfx942, Arch::Gfx1100] {
        for (_, p) in heuristic_programs(arch) {
            checked_kernel(arch, &p, &code_object(arch, &p));
        }
    }
}

#[test]
fn newer_processors_need_newer_llvm() {
    for (arch, major) in [(Arch::Gfx950, "20"), (Arch::Gfx1250, "22")] {
        let err = CodeObjectCompiler::new(arch)
            .expect_err("refused")
            .to_string();
        assert!(err.contains(&format!("needs LLVM {major}")), "{err}");
    }
}

/// The disassembly of a code object, or `None` (after saying why) without llvm-objdump.
fn disassemble(bytes: &[u8], name: &str) -> Option<String> {
    let dir = std::env::temp_dir().join(format!("amd-objdump-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let path = dir.join("k.hsaco");
    std::fs::write(&path, bytes).ok()?;
    let out = ["llvm-objdump-19", "llvm-objdump"]
        .iter()
        .find_map(|tool| Command::new(tool).arg("-d").arg(&path).output().ok());
    let _ = std::fs::remove_dir_all(&dir);
    match out {
        Some(o) if o.status.success() => Some(String::from_utf8_lossy(&o.stdout).into_owned()),
        _ => {
            println!("skipping the disassembly: no llvm-objdump-19");
            None
        }
    }
}

#[test]
fn wmma_tiles_use_mfma_instructions_on_gfx942() {
    if skip_without_lld() {
        return;
    }
    for (dtype, name, mnemonic) in [
        (
            DType::F16,
            "mfma_f32_16x16x16_f16",
            "v_mfma_f32_16x16x16_f16",
        ),
        (
            DType::BF16,
            "mfma_f32_16x16x16_bf16",
            "v_mfma_f32_16x16x16_bf16",
        ),
    ] {
        let p = wmma_tile(dtype, name);
        let bytes = code_object(Arch::Gfx942, &p);
        let k = checked_kernel(Arch::Gfx942, &p, &bytes);
        // the accumulation registers are counted with the VGPRs
        assert!(k.descriptor.vgprs(Arch::Gfx942) >= 8);
        if let Some(asm) = disassemble(&bytes, &p.name) {
            assert!(asm.contains(mnemonic), "no {mnemonic} in\n{asm}");
        }
    }
}

/// The TC opt's GEMMs of f16 and bf16 matmuls (and of attention's batched, transposed,
/// scaled scores) compile for gfx942 into a loop of MFMA instructions: 4 per `k` step for
/// a wavefront of 2 x 2 tiles (LLVM may unroll the loop, so at least that many), and a
/// descriptor that holds what the kernel needs.
#[test]
fn tc_gemms_use_mfma_instructions_on_gfx942() {
    if skip_without_lld() {
        return;
    }
    let arch = Arch::Gfx942;
    let programs = [
        (
            half_matmul(arch, DType::F16, 64, 64, 128),
            "v_mfma_f32_16x16x16_f16",
            4,
        ),
        (
            half_matmul(arch, DType::BF16, 64, 64, 128),
            "v_mfma_f32_16x16x16_bf16",
            4,
        ),
        (half_scores(arch), "v_mfma_f32_16x16x16_f16", 2),
    ];
    for (p, mnemonic, per_step) in programs {
        assert!(
            p.uops.iter().any(|u| u.op() == Op::Wmma),
            "{}: no GEMM",
            p.name
        );
        let bytes = code_object(arch, &p);
        let k = checked_kernel(arch, &p, &bytes);
        assert_eq!(p.dims.local, [256, 1, 1]);
        assert_eq!(k.descriptor.workitem_ids(), 0, "{}: lidx0 only", p.name);
        let Some(asm) = disassemble(&bytes, &p.name) else {
            continue;
        };
        let count = asm.matches(mnemonic).count();
        println!("{}: {count} x {mnemonic}", p.name);
        assert!(count >= per_step, "{count} x {mnemonic} in\n{asm}");
        assert!(!asm.contains("scratch_"), "{}: spills", p.name);
    }
}
