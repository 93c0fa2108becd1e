//! Reading a code object (an HSACO: an AMDGPU ELF, linked `ET_DYN` or unlinked `ET_REL`):
//! its processor from `e_flags`, and for each kernel its descriptor (the 64 bytes of the
//! `NAME.kd` object symbol), where its code starts (the `NAME` function symbol), and what
//! the metadata note says about it. `CodeObject::parse` checks what a loader relies on:
//! the machine is AMDGPU, the descriptor lies inside a section, and in a linked object
//! the descriptor's entry offset leads to the kernel's code.

use elf_file::{ET_DYN, Elf, SHN_UNDEF};

use crate::AmdRenderError;
use crate::arch::Arch;
use crate::descriptor::{DESCRIPTOR_BYTES, KernelDescriptor};
use crate::metadata::{self, KernelMetadata};

/// `e_machine` of AMD GPUs.
pub const EM_AMDGPU: u16 = 224;
/// `EI_OSABI` of HSA code objects.
pub const ELFOSABI_AMDGPU_HSA: u8 = 64;
/// `NT_AMDGPU_METADATA`.
pub const NT_AMDGPU_METADATA: u32 = 32;

/// One kernel of a code object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelEntry {
    pub name: String,
    /// The descriptor's address in the object's image (its file offset for `ET_REL`).
    pub descriptor_address: u64,
    pub descriptor: KernelDescriptor,
    /// The first instruction's address, from the function symbol.
    pub code_address: u64,
    /// What the metadata says about the kernel, if it has an entry for it.
    pub metadata: Option<KernelMetadata>,
}

/// A parsed code object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeObject {
    pub e_flags: u32,
    /// The processor `e_flags` names, if known.
    pub arch: Option<Arch>,
    /// `EI_ABIVERSION`: 2 is code object v4, 3 is v5, 4 is v6.
    pub abi_version: u8,
    pub linked: bool,
    pub kernels: Vec<KernelEntry>,
}

fn fail(why: String) -> AmdRenderError {
    AmdRenderError::CodeObject(why)
}

impl CodeObject {
    pub fn parse(bytes: &[u8]) -> Result<CodeObject, AmdRenderError> {
        let elf = Elf::parse(bytes).map_err(|e| fail(e.to_string()))?;
        let h = elf.header;
        if h.machine != EM_AMDGPU || h.os_abi != ELFOSABI_AMDGPU_HSA {
            return Err(fail(format!(
                "not an AMDGPU HSA code object (machine {}, OS ABI {})",
                h.machine, h.os_abi
            )));
        }
        let arch = Arch::ALL.into_iter().find(|a| a.mach() == h.flags & 0xFF);
        let linked = h.kind == ET_DYN;
        let symbols = elf.symbols().map_err(|e| fail(e.to_string()))?;
        let metadata = read_metadata(&elf)?;
        let mut kernels = Vec::new();
        for kd in symbols
            .iter()
            .filter(|s| s.name.ends_with(".kd") && s.section != SHN_UNDEF)
        {
            let name = kd.name.trim_end_matches(".kd").to_string();
            let section = elf
                .sections
                .get(kd.section as usize)
                .ok_or_else(|| fail(format!("{}: its section does not exist", kd.name)))?;
            // linked objects give addresses; relocatable ones section offsets
            let within = if linked {
                kd.value.checked_sub(section.addr)
            } else {
                Some(kd.value)
            };
            let data = elf.data(section).map_err(|e| fail(e.to_string()))?;
            let bytes = within
                .and_then(|w| usize::try_from(w).ok())
                .and_then(|w| data.get(w..w + DESCRIPTOR_BYTES))
                .ok_or_else(|| {
                    fail(format!(
                        "{}: the descriptor is not inside {}",
                        kd.name, section.name
                    ))
                })?;
            let descriptor = KernelDescriptor::parse(bytes)?;
            let code = symbols
                .iter()
                .find(|s| s.name == name && s.kind == 2 && s.section != SHN_UNDEF)
                .ok_or_else(|| fail(format!("the code object has no function {name}")))?;
            let address = if linked {
                kd.value
            } else {
                section.offset + kd.value
            };
            let code_address = if linked {
                code.value
            } else {
                elf.sections
                    .get(code.section as usize)
                    .map_or(code.value, |s| s.offset + code.value)
            };
            if linked {
                let entry =
                    i128::from(kd.value) + i128::from(descriptor.kernel_code_entry_byte_offset);
                if entry != i128::from(code.value) {
                    return Err(fail(format!(
                        "{name}: the descriptor at {:#x} points at {entry:#x}, but the code is at {:#x}",
                        kd.value, code.value
                    )));
                }
            }
            kernels.push(KernelEntry {
                metadata: metadata.iter().find(|m| m.name == name).cloned(),
                name,
                descriptor_address: address,
                descriptor,
                code_address,
            });
        }
        if kernels.is_empty() {
            return Err(fail(
                "the code object defines no kernel descriptor (.kd symbol)".into(),
            ));
        }
        Ok(CodeObject {
            e_flags: h.flags,
            arch,
            abi_version: h.abi_version,
            linked,
            kernels,
        })
    }

    /// The kernel named `name`.
    pub fn kernel(&self, name: &str) -> Option<&KernelEntry> {
        self.kernels.iter().find(|k| k.name == name)
    }
}

/// The kernels of the metadata note, or none when there is no note.
fn read_metadata(elf: &Elf) -> Result<Vec<KernelMetadata>, AmdRenderError> {
    let notes = elf.notes().map_err(|e| fail(e.to_string()))?;
    match notes
        .iter()
        .find(|n| n.name == "AMDGPU" && n.kind == NT_AMDGPU_METADATA)
    {
        Some(note) => metadata::kernels(&metadata::parse(note.desc)?),
        None => Ok(Vec::new()),
    }
}

/// The `e_flags` feature bits: XNACK (bits 9:8) and SRAMECC (11:10), each 1 any, 2 off,
/// 3 on (code object v4+).
pub fn target_features(e_flags: u32) -> (u32, u32) {
    ((e_flags >> 8) & 0b11, (e_flags >> 10) & 0b11)
}
