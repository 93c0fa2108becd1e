//! The JIT linker: an x86-64 relocatable object (what LLVM emits for a kernel) becomes the
//! bytes of one executable image at a chosen base address, in safe code. `Plan::of` lays
//! the object's allocated sections out one after the other at their alignments and adds
//! a stub area: a `jmp *[rip]` trampoline for each external function the code calls
//! (libm's `sinf`, `memset`, ...), and a GOT slot for each address it loads through the
//! GOT. `Plan::image` then writes the sections and applies every relocation for the base
//! the image will live at. Calls and RIP-relative references to externals go to the
//! stubs, so everything PC-relative stays within the image (±2 GiB).
//!
//! Relocation types handled (System V x86-64 psABI): `R_X86_64_64`, `PC32`, `PLT32`,
//! `PC64`, `GOTPCREL`, `GOTPCRELX`, `REX_GOTPCRELX`. Any other type, an undefined symbol
//! the resolver does not know, a writable section, or a value that does not fit its field
//! is an error naming it: kernels never need them.

use std::collections::HashMap;

use elf_file::{Elf, SHF_ALLOC, SHN_UNDEF, Section};
use thiserror::Error;

/// `e_machine` of x86-64.
pub const EM_X86_64: u16 = 62;

const R_X86_64_64: u32 = 1;
const R_X86_64_PC32: u32 = 2;
const R_X86_64_PLT32: u32 = 4;
const R_X86_64_GOTPCREL: u32 = 9;
const R_X86_64_PC64: u32 = 24;
const R_X86_64_GOTPCRELX: u32 = 41;
const R_X86_64_REX_GOTPCRELX: u32 = 42;

/// Section flag: writable when loaded.
const SHF_WRITE: u64 = 0x1;
/// Symbol type of a function.
const STT_FUNC: u8 = 2;
/// Symbol type of a section symbol.
const STT_SECTION: u8 = 3;
/// Bytes of a stub: `jmp qword ptr [rip + 0]`, the 8-byte target, two bytes of padding.
const STUB_BYTES: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LinkError {
    #[error("{0}")]
    Elf(#[from] elf_file::ElfError),
    #[error("the object is not an x86-64 relocatable object (machine {machine}, type {kind})")]
    NotX86Object { machine: u16, kind: u16 },
    #[error("the kernel calls {0:?}, which the JIT does not provide")]
    UnknownSymbol(String),
    #[error("section {0:?} is writable: kernels have no mutable globals")]
    Writable(String),
    #[error("relocation type {kind} at {section}+{offset:#x} is not one the JIT applies")]
    UnsupportedRelocation {
        kind: u32,
        section: String,
        offset: u64,
    },
    #[error("relocation at {section}+{offset:#x} does not fit its field ({value:#x})")]
    Overflow {
        section: String,
        offset: u64,
        value: i128,
    },
    #[error("the object defines no function {0:?}")]
    NoFunction(String),
}

/// Where everything of an object goes in its image (see the module doc).
#[derive(Clone, Debug)]
pub struct Plan<'a> {
    elf: Elf<'a>,
    /// The image offset of each loaded section, by section index.
    placed: HashMap<usize, usize>,
    /// External symbols and the image offset of their stub.
    stubs: HashMap<String, usize>,
    /// External symbols and the image offset of their GOT slot.
    got: HashMap<String, usize>,
    size: usize,
}

fn align_up(at: usize, align: u64) -> usize {
    let align = usize::try_from(align.max(1)).unwrap_or(1);
    at.div_ceil(align) * align
}

/// Whether the linker loads `section`: allocated program bytes, not unwind tables.
fn is_loaded(section: &Section) -> bool {
    section.flags & SHF_ALLOC != 0 && section.name != ".eh_frame"
}

impl<'a> Plan<'a> {
    /// The layout of `object` (see the module doc).
    pub fn of(object: &'a [u8]) -> Result<Plan<'a>, LinkError> {
        let elf = Elf::parse(object)?;
        if elf.header.machine != EM_X86_64 || elf.header.kind != elf_file::ET_REL {
            return Err(LinkError::NotX86Object {
                machine: elf.header.machine,
                kind: elf.header.kind,
            });
        }
        let mut placed = HashMap::new();
        let mut at = 0usize;
        for s in elf.sections.iter().filter(|s| is_loaded(s)) {
            if s.flags & SHF_WRITE != 0 && s.size > 0 {
                return Err(LinkError::Writable(s.name.clone()));
            }
            at = align_up(at, s.align);
            placed.insert(s.index, at);
            at += usize::try_from(s.size).unwrap_or(usize::MAX / 2);
        }
        let symbols = elf.symbols()?;
        let (mut stubs, mut got) = (HashMap::new(), HashMap::new());
        at = align_up(at, 16);
        for r in elf.relocations()? {
            if !placed.contains_key(&r.target) {
                continue;
            }
            let sym =
                symbols
                    .get(r.symbol as usize)
                    .ok_or_else(|| elf_file::ElfError::Malformed {
                        what: "a relocation".into(),
                        why: format!("symbol {} does not exist", r.symbol),
                    })?;
            if sym.section != SHN_UNDEF || r.symbol == 0 {
                continue;
            }
            let table = match r.kind {
                R_X86_64_GOTPCREL | R_X86_64_GOTPCRELX | R_X86_64_REX_GOTPCRELX => &mut got,
                _ => &mut stubs,
            };
            if !table.contains_key(&sym.name) {
                table.insert(sym.name.clone(), at);
                at += STUB_BYTES;
            }
        }
        Ok(Plan {
            elf,
            placed,
            stubs,
            got,
            size: at.max(1),
        })
    }

    /// The bytes the image takes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The image offset of the defined function `name`.
    pub fn function(&self, name: &str) -> Result<usize, LinkError> {
        let sym = self
            .elf
            .symbols()?
            .into_iter()
            .find(|s| s.name == name && s.kind == STT_FUNC && s.section != SHN_UNDEF)
            .ok_or_else(|| LinkError::NoFunction(name.into()))?;
        let base = self
            .placed
            .get(&(sym.section as usize))
            .ok_or_else(|| LinkError::NoFunction(name.into()))?;
        usize::try_from(sym.value)
            .ok()
            .and_then(|v| base.checked_add(v))
            .filter(|at| *at < self.size)
            .ok_or_else(|| LinkError::NoFunction(name.into()))
    }

    /// The image for `base`: sections copied, stubs written, relocations applied, with
    /// `resolve` giving the address of each external symbol.
    pub fn image(
        &self,
        base: u64,
        resolve: impl Fn(&str) -> Option<u64>,
    ) -> Result<Vec<u8>, LinkError> {
        let mut image = vec![0u8; self.size];
        for s in &self.elf.sections {
            if let Some(&at) = self.placed.get(&s.index) {
                let data = self.elf.data(s)?;
                image[at..at + data.len()].copy_from_slice(data);
            }
        }
        for (name, &at) in self.stubs.iter().chain(&self.got) {
            let target = resolve(name).ok_or_else(|| LinkError::UnknownSymbol(name.clone()))?;
            if self.stubs.contains_key(name) && self.stubs[name] == at {
                image[at..at + 6].copy_from_slice(&[0xff, 0x25, 0, 0, 0, 0]);
                image[at + 6..at + 14].copy_from_slice(&target.to_le_bytes());
            } else {
                image[at..at + 8].copy_from_slice(&target.to_le_bytes());
            }
        }
        let symbols = self.elf.symbols()?;
        for r in self.elf.relocations()? {
            let Some(&section_at) = self.placed.get(&r.target) else {
                continue;
            };
            let section = &self.elf.sections[r.target];
            let sym =
                symbols
                    .get(r.symbol as usize)
                    .ok_or_else(|| elf_file::ElfError::Malformed {
                        what: "a relocation".into(),
                        why: format!("symbol {} does not exist", r.symbol),
                    })?;
            let addr = |offset: usize| i128::from(base) + offset as i128;
            let here = usize::try_from(r.offset)
                .ok()
                .and_then(|o| section_at.checked_add(o))
                .filter(|h| *h < self.size)
                .ok_or_else(|| LinkError::Overflow {
                    section: section.name.clone(),
                    offset: r.offset,
                    value: 0,
                })?;
            let p = addr(here);
            let a = i128::from(r.addend);
            let defined = || -> Result<i128, LinkError> {
                let at = self.placed.get(&(sym.section as usize)).ok_or_else(|| {
                    LinkError::UnknownSymbol(format!("{} (in a section not loaded)", sym.name))
                })?;
                let value = if sym.kind == STT_SECTION {
                    0
                } else {
                    sym.value
                };
                Ok(addr(*at) + i128::from(value))
            };
            let external = sym.section == SHN_UNDEF && r.symbol != 0;
            let value = match r.kind {
                R_X86_64_64 if external => {
                    i128::from(
                        resolve(&sym.name)
                            .ok_or_else(|| LinkError::UnknownSymbol(sym.name.clone()))?,
                    ) + a
                }
                R_X86_64_64 => defined()? + a,
                R_X86_64_PC32 | R_X86_64_PLT32 | R_X86_64_PC64 => {
                    let s = if external {
                        addr(self.stubs[&sym.name])
                    } else {
                        defined()?
                    };
                    s + a - p
                }
                R_X86_64_GOTPCREL | R_X86_64_GOTPCRELX | R_X86_64_REX_GOTPCRELX if external => {
                    addr(self.got[&sym.name]) + a - p
                }
                kind => {
                    return Err(LinkError::UnsupportedRelocation {
                        kind,
                        section: section.name.clone(),
                        offset: r.offset,
                    });
                }
            };
            let overflow = || LinkError::Overflow {
                section: section.name.clone(),
                offset: r.offset,
                value,
            };
            let bytes: Vec<u8> = match r.kind {
                R_X86_64_64 | R_X86_64_PC64 => i64::try_from(value)
                    .map(|v| v.to_le_bytes().to_vec())
                    .or_else(|_| u64::try_from(value).map(|v| v.to_le_bytes().to_vec()))
                    .map_err(|_| overflow())?,
                _ => i32::try_from(value)
                    .map(|v| v.to_le_bytes().to_vec())
                    .map_err(|_| overflow())?,
            };
            let field = image
                .get_mut(here..here + bytes.len())
                .ok_or_else(overflow)?;
            field.copy_from_slice(&bytes);
        }
        Ok(image)
    }
}
