//! A reader of ELF64 little-endian files, enough for the objects LLVM makes: the file
//! header, the section headers and their bytes, the symbol table, RELA relocations and
//! notes. The CPU JIT reads x86-64 relocatable objects with it before it loads them, and
//! the AMD code paths read the kernel descriptor and metadata of GPU code objects.
//!
//! Reading never panics and never reads out of bounds: every offset and size in the file
//! is checked, and a malformed file gives an `ElfError` that says which field is wrong.
//! Nothing is written or mapped here.

use thiserror::Error;

/// Section type of a symbol table.
pub const SHT_SYMTAB: u32 = 2;
/// Section type of a string table.
pub const SHT_STRTAB: u32 = 3;
/// Section type of relocations with addends.
pub const SHT_RELA: u32 = 4;
/// Section type of notes.
pub const SHT_NOTE: u32 = 7;
/// Section type of memory with no bytes in the file (`.bss`).
pub const SHT_NOBITS: u32 = 8;
/// Section type of the dynamic symbol table.
pub const SHT_DYNSYM: u32 = 11;
/// Section type of bytes of the program (code, data).
pub const SHT_PROGBITS: u32 = 1;
/// Section flag: the section occupies memory when loaded.
pub const SHF_ALLOC: u64 = 0x2;
/// Section flag: the section holds machine instructions.
pub const SHF_EXECINSTR: u64 = 0x4;
/// Section index of an undefined symbol.
pub const SHN_UNDEF: u16 = 0;
/// File type of a relocatable object.
pub const ET_REL: u16 = 1;
/// File type of a shared object.
pub const ET_DYN: u16 = 3;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ElfError {
    #[error("not an ELF file: the first bytes are {0:02x?}, not 7f 45 4c 46")]
    NotElf(Vec<u8>),
    #[error("only ELF64 little-endian files are read; this one has class {class} and data {data}")]
    Unsupported { class: u8, data: u8 },
    #[error("the {what} at byte {offset} (+{len}) runs past the end of the file ({size} bytes)")]
    OutOfBounds {
        what: String,
        offset: u64,
        len: u64,
        size: usize,
    },
    #[error("{what} is malformed: {why}")]
    Malformed { what: String, why: String },
}

pub type Result<T> = std::result::Result<T, ElfError>;

/// The file header's fields that matter here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// `EI_OSABI` (64 is AMDGPU_HSA).
    pub os_abi: u8,
    /// `EI_ABIVERSION` (for AMDGPU code objects 3 is version 5).
    pub abi_version: u8,
    /// `e_type` (`ET_REL`, `ET_DYN`, ...).
    pub kind: u16,
    /// `e_machine` (62 x86-64, 224 AMDGPU).
    pub machine: u16,
    /// `e_flags` (for AMDGPU: the processor and its features).
    pub flags: u32,
    pub entry: u64,
}

/// A section header, with its name resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    pub index: usize,
    pub name: String,
    pub kind: u32,
    pub flags: u64,
    pub addr: u64,
    pub offset: u64,
    pub size: u64,
    pub link: u32,
    pub info: u32,
    pub align: u64,
    pub entsize: u64,
}

/// A symbol of the symbol table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol {
    pub name: String,
    pub value: u64,
    pub size: u64,
    /// `STB_*`: 0 local, 1 global, 2 weak.
    pub bind: u8,
    /// `STT_*`: 0 none, 1 object, 2 function, 3 section.
    pub kind: u8,
    /// The index of its section (`SHN_UNDEF` when it is defined elsewhere).
    pub section: u16,
}

/// A relocation with an addend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rela {
    /// The section the relocation patches.
    pub target: usize,
    pub offset: u64,
    /// The machine's relocation type (`R_X86_64_PC32` = 2, ...).
    pub kind: u32,
    /// Index into the symbol table.
    pub symbol: u32,
    pub addend: i64,
}

/// A note: its owner's name, type and descriptor bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note<'a> {
    pub name: String,
    pub kind: u32,
    pub desc: &'a [u8],
}

/// A parsed ELF64 little-endian file over its bytes.
#[derive(Clone, Debug)]
pub struct Elf<'a> {
    bytes: &'a [u8],
    pub header: Header,
    pub sections: Vec<Section>,
}

/// `len` bytes at `offset` of `bytes`, or an error naming `what`.
fn slice<'a>(bytes: &'a [u8], offset: u64, len: u64, what: &str) -> Result<&'a [u8]> {
    let out_of_bounds = || ElfError::OutOfBounds {
        what: what.to_string(),
        offset,
        len,
        size: bytes.len(),
    };
    let start = usize::try_from(offset).map_err(|_| out_of_bounds())?;
    let len_usize = usize::try_from(len).map_err(|_| out_of_bounds())?;
    let end = start.checked_add(len_usize).ok_or_else(out_of_bounds)?;
    bytes.get(start..end).ok_or_else(out_of_bounds)
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

/// The NUL-terminated string at `offset` of a string table.
fn string_at(table: &[u8], offset: u32, what: &str) -> Result<String> {
    let start = offset as usize;
    let rest = table.get(start..).ok_or_else(|| ElfError::Malformed {
        what: what.to_string(),
        why: format!(
            "name offset {offset} is past its string table ({} bytes)",
            table.len()
        ),
    })?;
    let end = rest
        .iter()
        .position(|&c| c == 0)
        .ok_or_else(|| ElfError::Malformed {
            what: what.to_string(),
            why: "its name is not NUL-terminated".into(),
        })?;
    Ok(String::from_utf8_lossy(&rest[..end]).into_owned())
}

impl<'a> Elf<'a> {
    /// Parses the header and section headers of `bytes`.
    pub fn parse(bytes: &'a [u8]) -> Result<Elf<'a>> {
        let ident = slice(bytes, 0, 16, "ELF identification")
            .map_err(|_| ElfError::NotElf(bytes.iter().take(4).copied().collect()))?;
        if ident[..4] != [0x7f, b'E', b'L', b'F'] {
            return Err(ElfError::NotElf(ident[..4].to_vec()));
        }
        if ident[4] != 2 || ident[5] != 1 {
            return Err(ElfError::Unsupported {
                class: ident[4],
                data: ident[5],
            });
        }
        let h = slice(bytes, 0, 64, "file header")?;
        let header = Header {
            os_abi: h[7],
            abi_version: h[8],
            kind: u16_at(h, 16),
            machine: u16_at(h, 18),
            flags: u32_at(h, 48),
            entry: u64_at(h, 24),
        };
        let (shoff, shentsize, shnum, shstrndx) =
            (u64_at(h, 40), u16_at(h, 58), u16_at(h, 60), u16_at(h, 62));
        if shnum > 0 && shentsize != 64 {
            return Err(ElfError::Malformed {
                what: "file header".into(),
                why: format!("section headers of {shentsize} bytes, not 64"),
            });
        }
        let table = slice(bytes, shoff, u64::from(shnum) * 64, "section header table")?;
        let mut sections: Vec<Section> = (0..shnum as usize)
            .map(|i| {
                let s = &table[i * 64..(i + 1) * 64];
                Section {
                    index: i,
                    name: String::new(),
                    kind: u32_at(s, 4),
                    flags: u64_at(s, 8),
                    addr: u64_at(s, 16),
                    offset: u64_at(s, 24),
                    size: u64_at(s, 32),
                    link: u32_at(s, 40),
                    info: u32_at(s, 44),
                    align: u64_at(s, 48),
                    entsize: u64_at(s, 56),
                }
            })
            .collect();
        if let Some(names) = sections.get(shstrndx as usize).cloned() {
            let strings = slice(bytes, names.offset, names.size, "section name table")?;
            for s in &mut sections {
                let name_offset = u32_at(table, s.index * 64);
                s.name = string_at(strings, name_offset, &format!("section {}", s.index))?;
            }
        }
        Ok(Elf {
            bytes,
            header,
            sections,
        })
    }

    /// The section named `name`, if any.
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// The bytes of `section` in the file (none for `SHT_NOBITS`).
    pub fn data(&self, section: &Section) -> Result<&'a [u8]> {
        if section.kind == SHT_NOBITS {
            return Ok(&[]);
        }
        slice(
            self.bytes,
            section.offset,
            section.size,
            &format!("section {:?}", section.name),
        )
    }

    /// The symbols of the symbol table (`.symtab`, else `.dynsym`), in table order.
    pub fn symbols(&self) -> Result<Vec<Symbol>> {
        let Some(table) = self
            .sections
            .iter()
            .find(|s| s.kind == SHT_SYMTAB)
            .or_else(|| self.sections.iter().find(|s| s.kind == SHT_DYNSYM))
        else {
            return Ok(Vec::new());
        };
        let strings =
            self.sections
                .get(table.link as usize)
                .ok_or_else(|| ElfError::Malformed {
                    what: format!("symbol table {:?}", table.name),
                    why: format!("its string table {} does not exist", table.link),
                })?;
        let strings = self.data(strings)?;
        let data = self.data(table)?;
        data.chunks_exact(24)
            .enumerate()
            .map(|(k, s)| {
                Ok(Symbol {
                    name: string_at(strings, u32_at(s, 0), &format!("symbol {k}"))?,
                    bind: s[4] >> 4,
                    kind: s[4] & 0xf,
                    section: u16_at(s, 6),
                    value: u64_at(s, 8),
                    size: u64_at(s, 16),
                })
            })
            .collect()
    }

    /// The symbol named `name`, if any.
    pub fn symbol(&self, name: &str) -> Result<Option<Symbol>> {
        Ok(self.symbols()?.into_iter().find(|s| s.name == name))
    }

    /// Every RELA relocation, by the section it patches.
    pub fn relocations(&self) -> Result<Vec<Rela>> {
        let mut out = Vec::new();
        for s in self.sections.iter().filter(|s| s.kind == SHT_RELA) {
            let target = s.info as usize;
            if target >= self.sections.len() {
                return Err(ElfError::Malformed {
                    what: format!("relocation section {:?}", s.name),
                    why: format!("it patches section {target}, which does not exist"),
                });
            }
            for r in self.data(s)?.chunks_exact(24) {
                let info = u64_at(r, 8);
                out.push(Rela {
                    target,
                    offset: u64_at(r, 0),
                    kind: (info & 0xffff_ffff) as u32,
                    symbol: (info >> 32) as u32,
                    addend: u64_at(r, 16) as i64,
                });
            }
        }
        Ok(out)
    }

    /// The notes of every `SHT_NOTE` section, in file order.
    pub fn notes(&self) -> Result<Vec<Note<'a>>> {
        let mut out = Vec::new();
        for s in self.sections.iter().filter(|s| s.kind == SHT_NOTE) {
            let data = self.data(s)?;
            let mut at = 0usize;
            let what = format!("note section {:?}", s.name);
            while at + 12 <= data.len() {
                let (namesz, descsz, kind) = (
                    u32_at(data, at) as u64,
                    u32_at(data, at + 4) as u64,
                    u32_at(data, at + 8),
                );
                let name_at = at as u64 + 12;
                let name = slice(data, name_at, namesz, &what)?;
                let desc_at = name_at + namesz.div_ceil(4) * 4;
                let desc = slice(data, desc_at, descsz, &what)?;
                let name_len = name.iter().position(|&c| c == 0).unwrap_or(name.len());
                out.push(Note {
                    name: String::from_utf8_lossy(&name[..name_len]).into_owned(),
                    kind,
                    desc,
                });
                at = usize::try_from(desc_at + descsz.div_ceil(4) * 4).unwrap_or(usize::MAX);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
