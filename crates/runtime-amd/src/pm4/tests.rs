//! Every packet builder against the golden vectors of docs/amd.md (dword for dword),
//! their input checks, and a proptest: random sequences of builder calls with random
//! arguments never panic, each call writes exactly one packet whose `COUNT` is its body
//! length minus one, and `split` reads the stream back call by call.

use proptest::prelude::*;

use super::*;

/// Signal slot, plain buffer and IB of the vectors.
const SIGNAL: u64 = 0x7F00_0000_1000;
const BUFFER: u64 = 0x7F00_0000_2000;
const IB: u64 = 0x7F40_0000_0000;

/// Dwords as the spec prints them.
fn hex(dwords: &[u32]) -> String {
    dwords
        .iter()
        .map(|d| format!("{d:08X}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn stream(generation: Generation, build: impl FnOnce(&mut Pm4) -> Result<&mut Pm4>) -> String {
    let mut p = Pm4::new(generation);
    build(&mut p).unwrap_or_else(|e| panic!("{e}"));
    hex(p.dwords())
}

fn signal(generation: Generation, value: u32) -> String {
    stream(generation, |p| {
        p.release_mem(ReleaseMem {
            flush: true,
            data: ReleaseData::Low32(value),
            int_sel: IntSel::None,
            addr: SIGNAL,
            ctxid: 0,
        })
    })
}

#[test]
fn g1_g2_acquire_mem_gfx9() {
    assert_eq!(
        stream(Generation::Gfx9, |p| p.acquire_mem(AcquireCaches::ALL)),
        "C0055800 28C40000 FFFFFFFF FFFFFFFF 00000000 00000000 0000000A"
    );
    assert_eq!(
        stream(Generation::Gfx9, |p| p.acquire_mem(AcquireCaches::DISPATCH)),
        "C0055800 08400000 FFFFFFFF FFFFFFFF 00000000 00000000 0000000A"
    );
}

#[test]
fn g3_acquire_mem_gfx11_and_gfx12() {
    for generation in [Generation::Gfx11, Generation::Gfx12] {
        assert_eq!(
            stream(generation, |p| p.acquire_mem(AcquireCaches::ALL)),
            "C0065800 00000000 FFFFFFFF FFFFFFFF 00000000 00000000 00000000 0000C3F1"
        );
        assert_eq!(
            stream(generation, |p| p.acquire_mem(AcquireCaches::DISPATCH)),
            "C0065800 00000000 FFFFFFFF FFFFFFFF 00000000 00000000 00000000 000003F0"
        );
    }
}

#[test]
fn g4_wait_for_a_signal_on_every_generation() {
    for generation in [
        Generation::Gfx9,
        Generation::Gfx10,
        Generation::Gfx11,
        Generation::Gfx12,
    ] {
        assert_eq!(
            stream(generation, |p| p.wait_mem(
                SIGNAL,
                Compare::GreaterEqual,
                5,
                u32::MAX,
                4
            )),
            "C0053C00 00000015 00001000 00007F00 00000005 FFFFFFFF 00000004"
        );
    }
}

#[test]
fn g5_g6_signal() {
    assert_eq!(
        signal(Generation::Gfx9, 7),
        "C0064900 00088514 20000000 00001000 00007F00 00000007 00000000 00000000"
    );
    for generation in [Generation::Gfx11, Generation::Gfx12] {
        assert_eq!(
            signal(generation, 7),
            "C0064900 0070F514 20000000 00001000 00007F00 00000007 00000000 00000000"
        );
    }
}

#[test]
fn g7_a_64_bit_write() {
    for generation in [Generation::Gfx9, Generation::Gfx11, Generation::Gfx12] {
        let got = stream(generation, |p| {
            p.release_mem(ReleaseMem {
                flush: false,
                data: ReleaseData::Full64(0x1122_3344_5566_7788),
                int_sel: IntSel::None,
                addr: BUFFER,
                ctxid: 0,
            })
        });
        assert_eq!(
            got,
            "C0064900 00000514 40000000 00002000 00007F00 55667788 11223344 00000000"
        );
    }
}

#[test]
fn g9_grbm_index_through_set_uconfig_reg() {
    let grbm = |se, sh| {
        stream(Generation::Gfx9, |p| {
            p.set_uconfig_reg(regs::GRBM_GFX_INDEX, &[regs::grbm_gfx_index(se, sh, None)])
        })
    };
    assert_eq!(grbm(None, None), "C0017900 00000200 E0000000");
    assert_eq!(grbm(Some(1), Some(0)), "C0017900 00000200 40010000");
}

#[test]
fn g11_indirect_buffer_nops_and_a_partial_flush() {
    assert_eq!(
        stream(Generation::Gfx9, |p| p.indirect_buffer(IB, 10)),
        "C0023F00 00000000 00007F40 0080000A"
    );
    assert_eq!(stream(Generation::Gfx9, |p| p.nop(1)), "C0001000 00000000");
    assert_eq!(stream(Generation::Gfx9, |p| p.nop(0)), "FFFF1000");
    // CS_PARTIAL_FLUSH (7) with EVENT_INDEX 4 (a partial flush)
    assert_eq!(
        stream(Generation::Gfx9, |p| p.event_write(7, 4)),
        "C0004600 00000407"
    );
}

#[test]
fn g14_copy_a_perf_counter_to_memory() {
    assert_eq!(
        stream(Generation::Gfx9, |p| p.copy_data(
            CopySrc::PerfCounter(0x3400),
            CopyDst::Memory(BUFFER),
            false,
            false
        )),
        "C0044000 00000204 00003400 00000000 00002000 00007F00"
    );
}

#[test]
fn g15_write_data_with_confirmation() {
    assert_eq!(
        stream(Generation::Gfx9, |p| p.write_data(
            WriteDst::MemoryAsync(BUFFER),
            &[0xDEAD_BEEF],
            true
        )),
        "C0033700 00100500 00002000 00007F00 DEADBEEF"
    );
}

#[test]
fn g16_wait_reg_mem64() {
    assert_eq!(
        stream(Generation::Gfx11, |p| p.wait_mem64(
            SIGNAL,
            Compare::GreaterEqual,
            0x1_0000_0005,
            u64::MAX,
            4
        )),
        "C0079300 00000015 00001000 00007F00 00000005 00000001 FFFFFFFF FFFFFFFF 00000004"
    );
}

#[test]
fn dispatch_direct_and_registers() {
    let got = stream(Generation::Gfx9, |p| {
        // the code at 0x7F20_0000_0100, as an address >> 8
        p.set_sh_reg(regs::COMPUTE_PGM_LO, &[0x2000_0001, 0x7F])?
            .dispatch_direct([4, 2, 1], regs::dispatch_initiator(Generation::Gfx9, false))
    });
    assert_eq!(
        got,
        "C0027600 0000020C 20000001 0000007F C0031500 00000004 00000002 00000001 00000005"
    );
}

#[test]
fn bad_inputs_are_errors_that_name_the_packet() {
    let mut p = Pm4::new(Generation::Gfx9);
    let err = |r: Result<&mut Pm4>| r.map(|_| ()).expect_err("refused").to_string();
    assert_eq!(
        err(p.indirect_buffer(IB + 2, 10)),
        "INDIRECT_BUFFER: the buffer address 0x7f4000000002 is not 4-byte aligned"
    );
    assert!(err(p.indirect_buffer(1 << 48, 10)).contains("48-bit"));
    assert!(err(p.indirect_buffer(IB, 0)).contains("outside 1..2^20"));
    assert!(err(p.set_sh_reg(0x2BFF, &[1])).starts_with("SET_SH_REG"));
    assert!(err(p.set_sh_reg(0x2FFF, &[1, 2])).contains("do not fit"));
    assert!(err(p.set_sh_reg(0x2E00, &[])).contains("0 values"));
    assert!(err(p.set_uconfig_reg(0xB000, &[1])).starts_with("SET_UCONFIG_REG"));
    assert!(err(p.dispatch_direct([1, 0, 1], 5)).contains("empty"));
    assert!(err(p.event_write(64, 0)).starts_with("EVENT_WRITE"));
    assert!(err(p.wait_mem64(SIGNAL + 4, Compare::Equal, 0, 0, 0)).contains("8-byte"));
    let release = ReleaseMem {
        flush: false,
        data: ReleaseData::GpuClock,
        int_sel: IntSel::None,
        addr: SIGNAL + 4,
        ctxid: 0,
    };
    assert!(err(p.release_mem(release)).starts_with("RELEASE_MEM"));
    assert!(err(p.write_data(WriteDst::Register(1 << 18), &[1], false)).contains("18-bit"));
    assert!(err(p.pred_exec(1, 1 << 14)).starts_with("PRED_EXEC"));
    assert!(p.is_empty(), "a refused packet writes nothing");
}

#[test]
fn split_reads_packets_and_refuses_broken_streams() {
    let mut p = Pm4::new(Generation::Gfx12);
    p.nop(0)
        .and_then(|p| p.acquire_mem(AcquireCaches::ALL))
        .and_then(|p| p.nop(3))
        .unwrap_or_else(|e| panic!("{e}"));
    let packets = split(p.dwords()).unwrap_or_else(|e| panic!("{e}"));
    let shape: Vec<(usize, u8, usize)> = packets
        .iter()
        .map(|k| (k.at, k.opcode, k.body.len()))
        .collect();
    assert_eq!(shape, [(0, 0x10, 0), (1, 0x58, 7), (9, 0x10, 3)]);
    assert!(split(&[0x8000_0000]).is_err());
    let truncated = &p.dwords()[..5];
    let err = split(truncated).expect_err("truncated").to_string();
    assert!(err.contains("stream ends"), "{err}");
}

/// One builder call with arbitrary arguments.
#[derive(Clone, Debug)]
enum Call {
    Nop(usize),
    Ib(u64, u32),
    Acquire(bool, bool, bool, bool),
    Release(bool, u8, u64, u64, u32),
    WaitMem(u64, u8, u32, u32, u16),
    WaitReg(u32, u32, u8, u32, u32, u16),
    WaitMem64(u64, u8, u64, u64, u16),
    ShReg(u32, Vec<u32>),
    UconfigReg(u32, Vec<u32>),
    Dispatch([u32; 3], u32),
    Event(u32, u32),
    Copy(u8, u64, u8, u64, bool, bool),
    Write(u8, u64, Vec<u32>, bool),
    PredExec(u8, u32),
}

fn compare(k: u8) -> Compare {
    [
        Compare::Always,
        Compare::Less,
        Compare::LessEqual,
        Compare::Equal,
        Compare::NotEqual,
        Compare::GreaterEqual,
        Compare::Greater,
    ][k as usize % 7]
}

fn address() -> impl Strategy<Value = u64> {
    prop_oneof![any::<u64>(), (0u64..1 << 46).prop_map(|a| a << 2)]
}

fn call() -> impl Strategy<Value = Call> {
    let values = || proptest::collection::vec(any::<u32>(), 0..6);
    prop_oneof![
        (0usize..40).prop_map(Call::Nop),
        (address(), any::<u32>()).prop_map(|(a, s)| Call::Ib(a, s % (1 << 21))),
        any::<(bool, bool, bool, bool)>().prop_map(|(a, b, c, d)| Call::Acquire(a, b, c, d)),
        (
            any::<bool>(),
            any::<u8>(),
            address(),
            any::<u64>(),
            any::<u32>()
        )
            .prop_map(|(f, d, a, v, c)| Call::Release(f, d, a, v, c)),
        (
            address(),
            any::<u8>(),
            any::<u32>(),
            any::<u32>(),
            any::<u16>()
        )
            .prop_map(|(a, c, r, m, p)| Call::WaitMem(a, c, r, m, p)),
        (
            any::<u32>(),
            any::<u32>(),
            any::<u8>(),
            any::<u32>(),
            any::<u32>(),
            any::<u16>()
        )
            .prop_map(|(a, b, c, r, m, p)| Call::WaitReg(
                a % (1 << 19),
                b % (1 << 19),
                c,
                r,
                m,
                p
            )),
        (
            address(),
            any::<u8>(),
            any::<u64>(),
            any::<u64>(),
            any::<u16>()
        )
            .prop_map(|(a, c, r, m, p)| Call::WaitMem64(a, c, r, m, p)),
        (0x2B00u32..0x3100, values()).prop_map(|(r, v)| Call::ShReg(r, v)),
        (0xB000u32..0x1_D000, values()).prop_map(|(r, v)| Call::UconfigReg(r, v)),
        (any::<[u32; 3]>(), any::<u32>()).prop_map(|(g, i)| Call::Dispatch(g.map(|x| x % 5), i)),
        (0u32..80, 0u32..20).prop_map(|(e, i)| Call::Event(e, i)),
        (
            any::<u8>(),
            address(),
            any::<u8>(),
            address(),
            any::<bool>(),
            any::<bool>()
        )
            .prop_map(|(s, a, d, b, w, c)| Call::Copy(s, a, d, b, w, c)),
        (any::<u8>(), address(), values(), any::<bool>())
            .prop_map(|(d, a, v, c)| Call::Write(d, a, v, c)),
        (any::<u8>(), 0u32..20000).prop_map(|(m, n)| Call::PredExec(m, n)),
    ]
}

fn apply(p: &mut Pm4, c: &Call) -> Result<()> {
    match c.clone() {
        Call::Nop(n) => p.nop(n),
        Call::Ib(a, s) => p.indirect_buffer(a, s),
        Call::Acquire(instruction, scalar, vector, l2) => p.acquire_mem(AcquireCaches {
            instruction,
            scalar,
            vector,
            l2,
        }),
        Call::Release(flush, d, addr, v, ctxid) => p.release_mem(ReleaseMem {
            flush,
            data: match d % 4 {
                0 => ReleaseData::None,
                1 => ReleaseData::Low32(v as u32),
                2 => ReleaseData::Full64(v),
                _ => ReleaseData::GpuClock,
            },
            int_sel: [IntSel::None, IntSel::Interrupt, IntSel::InterruptAfterWrite][d as usize % 3],
            addr,
            ctxid,
        }),
        Call::WaitMem(a, c, r, m, poll) => p.wait_mem(a, compare(c), r, m, poll),
        Call::WaitReg(a, b, c, r, m, poll) => p.wait_reg_write(a, b, compare(c), r, m, poll),
        Call::WaitMem64(a, c, r, m, poll) => p.wait_mem64(a, compare(c), r, m, poll),
        Call::ShReg(r, v) => p.set_sh_reg(r, &v),
        Call::UconfigReg(r, v) => p.set_uconfig_reg(r, &v),
        Call::Dispatch(g, i) => p.dispatch_direct(g, i),
        Call::Event(e, i) => p.event_write(e, i),
        Call::Copy(s, a, d, b, wide, confirm) => {
            let src = match s % 5 {
                0 => CopySrc::Register(a as u32 % (1 << 19)),
                1 => CopySrc::Memory(a),
                2 => CopySrc::PerfCounter(a as u32 % (1 << 19)),
                3 => CopySrc::Immediate(a),
                _ => CopySrc::GpuClock,
            };
            let dst = match d % 3 {
                0 => CopyDst::Register(b as u32 % (1 << 19)),
                1 => CopyDst::Memory(b),
                _ => CopyDst::MemoryAsync(b),
            };
            p.copy_data(src, dst, wide, confirm)
        }
        Call::Write(d, a, v, confirm) => {
            let dst = match d % 3 {
                0 => WriteDst::Register(a as u32 % (1 << 19)),
                1 => WriteDst::Memory(a),
                _ => WriteDst::MemoryAsync(a),
            };
            p.write_data(dst, &v, confirm)
        }
        Call::PredExec(m, n) => p.pred_exec(m, n),
    }
    .map(|_| ())
}

proptest! {
    #[test]
    fn every_call_writes_one_well_formed_packet_or_nothing(
        generation in prop_oneof![Just(Generation::Gfx9), Just(Generation::Gfx10), Just(Generation::Gfx11), Just(Generation::Gfx12)],
        calls in proptest::collection::vec(call(), 1..30),
    ) {
        let mut p = Pm4::new(generation);
        let mut starts = Vec::new();
        for c in &calls {
            let before = p.len();
            match apply(&mut p, c) {
                Ok(()) => {
                    let written = &p.dwords()[before..];
                    prop_assert!(!written.is_empty());
                    if written != [NOP_ONE_DWORD] {
                        let count = ((written[0] >> 16) & 0x3FFF) as usize;
                        prop_assert_eq!(count, written.len() - 2, "{:?}", c);
                        prop_assert_eq!(written[0] >> 30, 3);
                    }
                    starts.push(before);
                }
                Err(_) => prop_assert_eq!(p.len(), before, "a refused call wrote dwords"),
            }
        }
        let packets = split(p.dwords()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let at: Vec<usize> = packets.iter().map(|k| k.at).collect();
        prop_assert_eq!(at, starts);
    }
}
