//! Differential tests of ALU ops, casts and bitcasts: one kernel computes a list of ops
//! elementwise on buffers `a`, `b` (and a bool `g` for WHERE); every result is compared
//! with `uop_ir::exec_alu` on the same operands. Cases whose C behavior is undefined
//! (signed overflow of 32/64-bit ints, division by zero, shifts out of range, float to
//! int out of range) are not compared; division inputs avoid the ones that trap.

use uop_ir::{ConstValue, DType, Op, UOp, exec_alu, floor_div, floor_mod};

use crate::common::*;
use crate::kernel::{Kernel, skip_without_cc};
use crate::run::{Buf, Rng, is_narrow_nan};

const INTS: [DType; 9] = [
    DType::I8,
    DType::I16,
    DType::I32,
    DType::I64,
    DType::U8,
    DType::U16,
    DType::U32,
    DType::U64,
    DType::Index,
];

const FLOATS: [DType; 4] = [DType::F16, DType::BF16, DType::F32, DType::F64];

/// Interesting raw bits of operands of `dtype`.
fn operand_bits(dtype: DType) -> Vec<u64> {
    if dtype.is_float() && dtype.itemsize() < 4 {
        return narrow_codes(dtype);
    }
    let values: Vec<ConstValue> = if dtype.is_float() {
        let tie16 = 1.0 + 2f64.powi(-11) + 2f64.powi(-40);
        [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            1.5,
            -2.25,
            3.0,
            100.125,
            1e-3,
            -7e5,
            1e30,
            -1e-40,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            65519.0,
            1e6,
            tie16,
            -(1.125 + 2f64.powi(-40)),
        ]
        .into_iter()
        .map(ConstValue::Float)
        .collect()
    } else if dtype == DType::Bool {
        vec![ConstValue::Bool(false), ConstValue::Bool(true)]
    } else {
        let (min, max) = (dtype.int_min().unwrap_or(0), dtype.int_max().unwrap_or(0));
        let mut v: Vec<i128> = vec![0, 1, -1, 2, -2, 3, 7, -7, 100, -100, 12345, -54321];
        v.extend([min, max, min + 1, max - 1]);
        let mut v: Vec<i128> = v.into_iter().map(|x| dtype.wrap_int(x)).collect();
        v.sort_unstable();
        v.dedup();
        v.into_iter().map(ConstValue::Int).collect()
    };
    values
        .iter()
        .map(|&v| Buf::from_values(dtype, &[v]).bits()[0])
        .collect()
}

/// Special and random codes of a narrow float, NaN codes excluded.
fn narrow_codes(dtype: DType) -> Vec<u64> {
    let width = dtype.bitsize();
    let mut rng = Rng::new(u64::from(width) * 77 + dtype as u64);
    let mut codes: Vec<u64> = (0..14).map(|_| rng.next() >> (64 - width)).collect();
    let top = 1u64 << (width - 1);
    codes.extend([0, top, 1, top | 1, top - 1, (top - 1) | top]); // zeros, tiniest, largest codes
    codes.extend(match dtype {
        DType::F16 => vec![0x3c00, 0xbe00, 0x7c00, 0xfc00],
        DType::BF16 => vec![0x3f80, 0xbfc0, 0x7f80, 0xff80],
        _ => vec![0x38, 0x44, 0xc4],
    });
    codes.retain(|&c| !is_narrow_nan(dtype, c));
    codes.sort_unstable();
    codes.dedup();
    codes
}

/// The op applied to loads of `a`, `b` and the bool `g`.
fn apply(op: Op, a: &UOp, b: &UOp, g: &UOp) -> UOp {
    match op {
        Op::Where => alu(op, &[g.clone(), a.clone(), b.clone()]),
        Op::MulAcc => alu(op, &[a.clone(), b.clone(), a.clone()]),
        op if op.is_binary() => alu(op, &[a.clone(), b.clone()]),
        op => alu(op, std::slice::from_ref(a)),
    }
}

/// Signed 32/64-bit results that overflow (undefined in C): not compared.
fn overflows(op: Op, dtype: DType, a: i128, b: i128) -> bool {
    if !matches!(dtype, DType::I32 | DType::I64 | DType::Index) {
        return false;
    }
    let raw = match op {
        Op::Add => a + b,
        Op::Sub => a - b,
        Op::Mul => a.saturating_mul(b),
        Op::MulAcc => a.saturating_mul(b).saturating_add(a),
        Op::Neg => -a,
        Op::Shl if a < 0 => return true,
        Op::Shl => a.checked_shl(b as u32).unwrap_or(i128::MAX),
        _ => return false,
    };
    dtype.wrap_int(raw) != raw
}

/// Whether `got` (from C) agrees with `want` (from `exec_alu`), within `tol` relative
/// error for floats.
fn agrees(got: ConstValue, want: ConstValue, tol: f64) -> bool {
    match (got, want) {
        (ConstValue::Float(x), ConstValue::Float(y)) => {
            (x.is_nan() && y.is_nan()) || x == y || (x - y).abs() <= tol * y.abs() + tol * 1e-30
        }
        (ConstValue::Float(_), _) | (_, ConstValue::Float(_)) => false,
        (x, y) => x.as_int() == y.as_int(),
    }
}

/// Runs `ops` on every pair of `pairs` in one kernel and compares with `exec_alu`.
/// `tol(op)` is the relative tolerance of an op (0 for exact).
fn differential(dtype: DType, ops: &[Op], pairs: &[(u64, u64)], tol: impl Fn(Op) -> f64) {
    let n = pairs.len();
    let (pa, pb, pg) = (param(0, dtype), param(1, dtype), param(2, DType::Bool));
    let i = UOp::range(n as i64, 0);
    let (a, b, g) = (
        load(&index(&pa, &i)),
        load(&index(&pb, &i)),
        load(&index(&pg, &i)),
    );
    let mut roots = vec![i.clone()];
    let results: Vec<UOp> = ops.iter().map(|&op| apply(op, &a, &b, &g)).collect();
    for (k, r) in results.iter().enumerate() {
        roots.push(store(&index(&param(3 + k as u32, r.dtype()), &i), r));
    }
    roots.push(end(&i));
    let kernel = Kernel::build(&program(&format!("alu_{dtype}"), &roots));

    let mut ba = Buf::from_bits(dtype, &pairs.iter().map(|p| p.0).collect::<Vec<_>>());
    let mut bb = Buf::from_bits(dtype, &pairs.iter().map(|p| p.1).collect::<Vec<_>>());
    let gates: Vec<u64> = (0..n as u64).map(|k| (k * 7 / 3) & 1).collect();
    let mut bg = Buf::from_bits(DType::Bool, &gates);
    let mut outs: Vec<Buf> = results.iter().map(|r| Buf::zeros(r.dtype(), n)).collect();
    let mut bufs: Vec<&mut Buf> = vec![&mut ba, &mut bb, &mut bg];
    bufs.extend(outs.iter_mut());
    kernel.run(&mut bufs);

    let (va, vb, vg) = (ba.values(), bb.values(), bg.values());
    let mut checked = 0;
    for ((&op, r), out) in ops.iter().zip(&results).zip(&outs) {
        for (e, got) in out.values().into_iter().enumerate() {
            let src: Vec<ConstValue> = match r.src().len() {
                1 => vec![va[e]],
                2 => vec![va[e], vb[e]],
                _ if op == Op::Where => vec![vg[e], va[e], vb[e]],
                _ => vec![va[e], vb[e], va[e]],
            };
            let (x, y) = (va[e].as_int().unwrap_or(0), vb[e].as_int().unwrap_or(0));
            if overflows(op, dtype, x, y) {
                continue;
            }
            let Ok(want) = exec_alu(op, r.dtype(), &src) else {
                continue;
            };
            assert!(
                agrees(got, want, tol(op)),
                "{op} on {dtype} {src:?}: C gave {got:?}, exec_alu {want:?}"
            );
            checked += 1;
        }
    }
    assert!(checked > 0, "nothing compared for {dtype}");
}

fn all_pairs(values: &[u64]) -> Vec<(u64, u64)> {
    values
        .iter()
        .flat_map(|&a| values.iter().map(move |&b| (a, b)))
        .collect()
}

#[test]
fn integer_and_bool_arithmetic_matches_exec_alu() {
    if skip_without_cc() {
        return;
    }
    use Op::*;
    let ops = [
        Add, Sub, Mul, Neg, Max, CmpLt, CmpNe, CmpEq, And, Or, Xor, Where, MulAcc, Trunc,
    ];
    for dtype in INTS.into_iter().chain([DType::Bool]) {
        differential(dtype, &ops, &all_pairs(&operand_bits(dtype)), |_| 0.0);
    }
}

#[test]
fn integer_division_matches_exec_alu() {
    if skip_without_cc() {
        return;
    }
    let ops = [Op::CDiv, Op::CMod, Op::FloorDiv, Op::FloorMod];
    for dtype in INTS {
        let min =
            Buf::from_values(dtype, &[ConstValue::Int(dtype.int_min().unwrap_or(0))]).bits()[0];
        let minus_one = Buf::from_values(dtype, &[ConstValue::Int(-1)]).bits()[0];
        let traps = |(a, b): &(u64, u64)| {
            *b == 0
                || (dtype.is_int()
                    && !dtype.is_unsigned()
                    && *a == min
                    && *b == minus_one
                    && dtype.bitsize() >= 32)
        };
        let pairs: Vec<(u64, u64)> = all_pairs(&operand_bits(dtype))
            .into_iter()
            .filter(|p| !traps(p))
            .collect();
        differential(dtype, &ops, &pairs, |_| 0.0);
    }
}

#[test]
fn floor_division_sign_cases_on_index() {
    if skip_without_cc() {
        return;
    }
    let mut pairs = Vec::new();
    for a in -9i64..=9 {
        for b in [-4i64, -3, -2, -1, 1, 2, 3, 4] {
            pairs.push((a as u64, b as u64));
        }
    }
    differential(DType::Index, &[Op::FloorDiv, Op::FloorMod], &pairs, |_| 0.0);
    // And against the bounds module's definitions, directly.
    for &(a, b) in &pairs {
        let (a, b) = (i128::from(a as i64), i128::from(b as i64));
        let (q, r) = (floor_div(a, b).unwrap_or(0), floor_mod(a, b).unwrap_or(0));
        assert_eq!(q * b + r, a);
        assert!(r == 0 || (r < 0) == (b < 0), "{a} mod {b} = {r}");
    }
}

#[test]
fn shifts_match_exec_alu() {
    if skip_without_cc() {
        return;
    }
    for dtype in INTS {
        let amounts: Vec<u64> = (0..u64::from(dtype.bitsize()))
            .step_by(3)
            .chain([1])
            .collect();
        let pairs: Vec<(u64, u64)> = operand_bits(dtype)
            .into_iter()
            .flat_map(|a| amounts.iter().map(move |&s| (a, s)))
            .collect();
        differential(dtype, &[Op::Shl, Op::Shr], &pairs, |_| 0.0);
    }
}

#[test]
fn float_arithmetic_matches_exec_alu() {
    if skip_without_cc() {
        return;
    }
    use Op::*;
    let ops = [
        Add, Sub, Mul, FDiv, Neg, Max, CmpLt, CmpNe, CmpEq, Where, MulAcc, Recip, Sqrt, Trunc,
        Exp2, Log2, Sin, Pow,
    ];
    for dtype in FLOATS {
        let ulp = match dtype {
            DType::F16 => 2f64.powi(-10),
            DType::BF16 => 2f64.powi(-7),
            DType::F32 => 2f64.powi(-22),
            _ => 2f64.powi(-50),
        };
        let tol = |op: Op| match op {
            Exp2 | Log2 | Sin | Pow => ulp,
            // exec_alu rounds the multiply-add once (from f64); C rounds the product and
            // the sum in float, then to the dtype.
            MulAcc if dtype != DType::F64 => ulp,
            _ => 0.0,
        };
        differential(dtype, &ops, &all_pairs(&operand_bits(dtype)), tol);
    }
}

/// Every dtype but void.
fn value_dtypes() -> Vec<DType> {
    DType::ALL
        .into_iter()
        .filter(|&d| d != DType::Void)
        .collect()
}

#[test]
fn casts_match_exec_alu() {
    if skip_without_cc() {
        return;
    }
    let targets = value_dtypes();
    for from in value_dtypes() {
        let bits = operand_bits(from);
        let n = bits.len();
        let pa = param(0, from);
        let i = UOp::range(n as i64, 0);
        let a = load(&index(&pa, &i));
        let mut roots = vec![i.clone()];
        for (k, &to) in targets.iter().enumerate() {
            roots.push(store(&index(&param(1 + k as u32, to), &i), &a.cast(to)));
        }
        roots.push(end(&i));
        let kernel = Kernel::build(&program(&format!("cast_from_{from}"), &roots));
        let mut ba = Buf::from_bits(from, &bits);
        let mut outs: Vec<Buf> = targets.iter().map(|&to| Buf::zeros(to, n)).collect();
        let mut bufs: Vec<&mut Buf> = vec![&mut ba];
        bufs.extend(outs.iter_mut());
        kernel.run(&mut bufs);
        for (&to, out) in targets.iter().zip(&outs) {
            for (e, (v, got)) in ba.values().into_iter().zip(out.values()).enumerate() {
                if let (ConstValue::Float(f), true) = (v, to.is_int()) {
                    let t = f.trunc();
                    let (lo, hi) = (to.int_min().unwrap_or(0), to.int_max().unwrap_or(0));
                    if !t.is_finite() || t < lo as f64 || t > hi as f64 {
                        continue; // undefined in C
                    }
                }
                let want = exec_alu(Op::Cast, to, &[v]).unwrap_or(ConstValue::Invalid);
                let same = match (got, want) {
                    (ConstValue::Float(x), ConstValue::Float(y)) => {
                        x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
                    }
                    _ => agrees(got, want, 0.0),
                };
                assert!(
                    same,
                    "cast {from} -> {to} of {v:?} (element {e}): C gave {got:?}, exec_alu {want:?}"
                );
            }
        }
    }
}

#[test]
fn bitcasts_keep_the_bits() {
    if skip_without_cc() {
        return;
    }
    use DType::*;
    let pairs = [
        (F32, U32),
        (F32, I32),
        (U32, F32),
        (F64, I64),
        (U64, F64),
        (F16, U16),
        (I16, F16),
        (BF16, I16),
        (U16, BF16),
        (Fp8E4M3, U8),
        (U8, Fp8E5M2),
        (I8, Fp8E4M3Fnuz),
        (Fp8E5M2Fnuz, I8),
        (I64, Index),
        (F16, BF16),
    ];
    let n = 512;
    let i = UOp::range(n as i64, 0);
    let mut roots = vec![i.clone()];
    for (k, &(from, to)) in pairs.iter().enumerate() {
        let x = load(&index(&param(2 * k as u32, from), &i));
        let y = UOp::new(Op::Bitcast, to, [x], uop_ir::Arg::None);
        roots.push(store(&index(&param(2 * k as u32 + 1, to), &i), &y));
    }
    roots.push(end(&i));
    let kernel = Kernel::build(&program("bitcasts", &roots));
    let mut rng = Rng::new(9);
    let mut bufs: Vec<Buf> = Vec::new();
    for &(from, to) in &pairs {
        let bits: Vec<u64> = (0..)
            .map(|_| rng.next())
            .map(|b| {
                if from.itemsize() < 8 {
                    b & ((1 << from.bitsize()) - 1)
                } else {
                    b
                }
            })
            .filter(|&b| !is_narrow_nan(from, b) && !is_narrow_nan(to, b))
            .take(n)
            .collect();
        bufs.push(Buf::from_bits(from, &bits));
        bufs.push(Buf::zeros(to, n));
    }
    let mut refs: Vec<&mut Buf> = bufs.iter_mut().collect();
    kernel.run(&mut refs);
    for (k, &(from, to)) in pairs.iter().enumerate() {
        assert_eq!(
            bufs[2 * k].bits(),
            bufs[2 * k + 1].bits(),
            "bitcast {from} -> {to}"
        );
    }
}
