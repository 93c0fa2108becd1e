//! Reading files built by a small writer here (sections, a symbol table, relocations,
//! notes), the errors of broken ones, and a proptest that no bytes make the reader panic.

use proptest::prelude::*;

use super::*;

/// A section to write: name, type, flags, bytes, link, info.
struct Out {
    name: &'static str,
    kind: u32,
    flags: u64,
    data: Vec<u8>,
    link: u32,
    info: u32,
}

/// An ELF64 little-endian file of `sections` (after the null section), with the section
/// name table last.
fn build(machine: u16, flags: u32, sections: Vec<Out>) -> Vec<u8> {
    let mut names = vec![0u8];
    let mut name_at = Vec::new();
    for s in &sections {
        name_at.push(names.len() as u32);
        names.extend_from_slice(s.name.as_bytes());
        names.push(0);
    }
    let shstr_name = names.len() as u32;
    names.extend_from_slice(b".shstrtab\0");
    let mut file = vec![0u8; 64];
    let mut offsets = Vec::new();
    for s in &sections {
        while !file.len().is_multiple_of(8) {
            file.push(0);
        }
        offsets.push(file.len() as u64);
        file.extend_from_slice(&s.data);
    }
    let names_at = file.len() as u64;
    file.extend_from_slice(&names);
    while !file.len().is_multiple_of(8) {
        file.push(0);
    }
    let shoff = file.len() as u64;
    file.extend_from_slice(&[0u8; 64]);
    let mut header =
        |name: u32, kind: u32, flags: u64, off: u64, size: u64, link: u32, info: u32| {
            let mut h = Vec::new();
            h.extend_from_slice(&name.to_le_bytes());
            h.extend_from_slice(&kind.to_le_bytes());
            h.extend_from_slice(&flags.to_le_bytes());
            h.extend_from_slice(&0u64.to_le_bytes());
            h.extend_from_slice(&off.to_le_bytes());
            h.extend_from_slice(&size.to_le_bytes());
            h.extend_from_slice(&link.to_le_bytes());
            h.extend_from_slice(&info.to_le_bytes());
            h.extend_from_slice(&8u64.to_le_bytes());
            h.extend_from_slice(
                &(if kind == SHT_SYMTAB || kind == SHT_RELA {
                    24u64
                } else {
                    0
                })
                .to_le_bytes(),
            );
            file.extend_from_slice(&h);
        };
    for (k, s) in sections.iter().enumerate() {
        header(
            name_at[k],
            s.kind,
            s.flags,
            offsets[k],
            s.data.len() as u64,
            s.link,
            s.info,
        );
    }
    header(
        shstr_name,
        SHT_STRTAB,
        0,
        names_at,
        names.len() as u64,
        0,
        0,
    );
    let shnum = sections.len() as u16 + 2;
    file[..4].copy_from_slice(&[0x7f, b'E', b'L', b'F']);
    file[4] = 2;
    file[5] = 1;
    file[6] = 1;
    file[7] = 64;
    file[8] = 3;
    file[16..18].copy_from_slice(&ET_REL.to_le_bytes());
    file[18..20].copy_from_slice(&machine.to_le_bytes());
    file[40..48].copy_from_slice(&shoff.to_le_bytes());
    file[48..52].copy_from_slice(&flags.to_le_bytes());
    file[52..54].copy_from_slice(&64u16.to_le_bytes());
    file[58..60].copy_from_slice(&64u16.to_le_bytes());
    file[60..62].copy_from_slice(&shnum.to_le_bytes());
    file[62..64].copy_from_slice(&(shnum - 1).to_le_bytes());
    file
}

fn symbol(name: u32, info: u8, section: u16, value: u64, size: u64) -> Vec<u8> {
    let mut s = Vec::new();
    s.extend_from_slice(&name.to_le_bytes());
    s.push(info);
    s.push(0);
    s.extend_from_slice(&section.to_le_bytes());
    s.extend_from_slice(&value.to_le_bytes());
    s.extend_from_slice(&size.to_le_bytes());
    s
}

fn sample() -> Vec<u8> {
    let text = vec![0x90u8; 16];
    let strtab = b"\0kernel\0sinf\0".to_vec();
    let mut symtab = symbol(0, 0, 0, 0, 0);
    symtab.extend(symbol(1, 0x12, 1, 4, 12)); // kernel: global function in .text
    symtab.extend(symbol(8, 0x10, SHN_UNDEF, 0, 0)); // sinf: undefined
    let mut rela = Vec::new();
    rela.extend_from_slice(&6u64.to_le_bytes());
    rela.extend_from_slice(&((2u64 << 32) | 4).to_le_bytes());
    rela.extend_from_slice(&(-4i64).to_le_bytes());
    let mut note = Vec::new();
    note.extend_from_slice(&7u32.to_le_bytes());
    note.extend_from_slice(&3u32.to_le_bytes());
    note.extend_from_slice(&32u32.to_le_bytes());
    note.extend_from_slice(b"AMDGPU\0\0");
    note.extend_from_slice(&[1, 2, 3, 0]);
    build(
        62,
        0x54c,
        vec![
            Out {
                name: ".text",
                kind: SHT_PROGBITS,
                flags: SHF_ALLOC | SHF_EXECINSTR,
                data: text,
                link: 0,
                info: 0,
            },
            Out {
                name: ".strtab",
                kind: SHT_STRTAB,
                flags: 0,
                data: strtab,
                link: 0,
                info: 0,
            },
            Out {
                name: ".symtab",
                kind: SHT_SYMTAB,
                flags: 0,
                data: symtab,
                link: 2,
                info: 1,
            },
            Out {
                name: ".rela.text",
                kind: SHT_RELA,
                flags: 0,
                data: rela,
                link: 3,
                info: 1,
            },
            Out {
                name: ".note",
                kind: SHT_NOTE,
                flags: 0,
                data: note,
                link: 0,
                info: 0,
            },
        ],
    )
}

#[test]
fn reads_sections_symbols_relocations_and_notes() {
    let bytes = sample();
    let elf = Elf::parse(&bytes).expect("parses");
    assert_eq!(
        elf.header,
        Header {
            os_abi: 64,
            abi_version: 3,
            kind: ET_REL,
            machine: 62,
            flags: 0x54c,
            entry: 0
        }
    );
    let names: Vec<&str> = elf.sections.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "",
            ".text",
            ".strtab",
            ".symtab",
            ".rela.text",
            ".note",
            ".shstrtab"
        ]
    );
    let text = elf.section(".text").expect("text");
    assert_eq!(elf.data(text).expect("bytes"), &[0x90u8; 16]);
    let symbols = elf.symbols().expect("symbols");
    assert_eq!(symbols.len(), 3);
    let kernel = elf.symbol("kernel").expect("reads").expect("found");
    assert_eq!(
        (
            kernel.bind,
            kernel.kind,
            kernel.section,
            kernel.value,
            kernel.size
        ),
        (1, 2, 1, 4, 12)
    );
    assert_eq!(
        elf.symbol("sinf").expect("reads").map(|s| s.section),
        Some(SHN_UNDEF)
    );
    assert_eq!(
        elf.relocations().expect("relocations"),
        [Rela {
            target: 1,
            offset: 6,
            kind: 4,
            symbol: 2,
            addend: -4
        }]
    );
    let notes = elf.notes().expect("notes");
    assert_eq!(notes.len(), 1);
    assert_eq!(
        (notes[0].name.as_str(), notes[0].kind, notes[0].desc),
        ("AMDGPU", 32, &[1u8, 2, 3][..])
    );
}

#[test]
fn broken_files_say_what_is_wrong() {
    assert!(matches!(
        Elf::parse(b"\x7fELG0000000000000000"),
        Err(ElfError::NotElf(_))
    ));
    assert!(matches!(Elf::parse(b"\x7fEL"), Err(ElfError::NotElf(_))));
    let mut bytes = sample();
    bytes[4] = 1;
    assert_eq!(
        Elf::parse(&bytes).expect_err("32-bit").to_string(),
        "only ELF64 little-endian files are read; this one has class 1 and data 1"
    );
    let mut bytes = sample();
    let len = bytes.len();
    bytes.truncate(len - 10);
    let err = Elf::parse(&bytes).expect_err("truncated").to_string();
    assert!(
        err.contains("section header table") && err.contains("past the end"),
        "{err}"
    );
}

proptest! {
    #[test]
    fn no_bytes_make_it_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(elf) = Elf::parse(&bytes) {
            let _ = elf.symbols();
            let _ = elf.relocations();
            let _ = elf.notes();
            for s in &elf.sections {
                let _ = elf.data(s);
            }
        }
    }

    #[test]
    fn no_corruption_of_a_good_file_makes_it_panic(at in 0usize..600, value in any::<u8>(), cut in 0usize..600) {
        let mut bytes = sample();
        if at < bytes.len() {
            bytes[at] = value;
        }
        bytes.truncate(bytes.len().saturating_sub(cut % 64));
        if let Ok(elf) = Elf::parse(&bytes) {
            let _ = elf.symbols();
            let _ = elf.relocations();
            let _ = elf.notes();
            for s in &elf.sections {
                let _ = elf.data(s);
            }
        }
    }
}
