//! Type promotion: the lattice laws over every dtype, and the cases people rely on.

use dtype::{DType, DTypeError, Operand, least_upper_dtype, promote};

fn promotable() -> Vec<DType> {
    DType::ALL
        .into_iter()
        .filter(|&d| d != DType::Void)
        .collect()
}

fn lub(a: DType, b: DType) -> Result<DType, DTypeError> {
    least_upper_dtype(&[a, b])
}

#[test]
fn least_upper_is_commutative_idempotent_and_associative() {
    let all = promotable();
    for &a in &all {
        assert_eq!(lub(a, a), Ok(a));
        assert_eq!(least_upper_dtype(&[a]), Ok(a));
        for &b in &all {
            assert_eq!(lub(a, b), lub(b, a), "{a} {b}");
            for &c in &all {
                let left = lub(a, b).and_then(|ab| lub(ab, c));
                let right = lub(b, c).and_then(|bc| lub(a, bc));
                assert_eq!(left, right, "{a} {b} {c}");
                assert_eq!(least_upper_dtype(&[a, b, c]), left, "{a} {b} {c}");
            }
        }
    }
}

#[test]
fn bool_is_the_bottom_and_f64_the_top() {
    for d in promotable() {
        assert_eq!(lub(DType::Bool, d), Ok(d), "{d}");
        assert_eq!(lub(DType::F64, d), Ok(DType::F64), "{d}");
    }
}

#[test]
fn int_with_float_is_the_float() {
    let all = promotable();
    for &i in all.iter().filter(|d| !d.is_float()) {
        for &f in all.iter().filter(|d| d.is_float()) {
            assert_eq!(lub(i, f), Ok(f), "{i} {f}");
        }
    }
}

#[test]
fn named_cases() {
    use DType::*;
    let cases = [
        (U8, I8, I16),
        (U16, I16, I32),
        (U32, I32, I64),
        (U32, U16, U32),
        (I64, U64, Fp8E4M3),
        (Index, I32, Index),
        (Index, U32, Index),
        (Index, U64, Fp8E4M3),
        (I32, F16, F16),
        (I64, BF16, BF16),
        (F16, BF16, F32),
        (Fp8E4M3, F16, F16),
        (Fp8E5M2, BF16, BF16),
        (Fp8E4M3, Fp8E5M2, Fp8E5M2),
        (Fp8E5M2, Fp8E5M2Fnuz, Fp8E5M2Fnuz),
        (Fp8E4M3Fnuz, Fp8E5M2, Fp8E5M2),
        (F32, F16, F32),
    ];
    for (a, b, want) in cases {
        assert_eq!(lub(a, b), Ok(want), "{a} {b}");
    }
}

#[test]
fn weak_literals() {
    use DType::*;
    use Operand::{Strong, WeakFloat, WeakInt};
    let cases = [
        (WeakInt, Strong(U8), U8),
        (WeakInt, Strong(I64), I64),
        (WeakInt, Strong(Index), Index),
        (WeakInt, Strong(F16), F16),
        (WeakInt, Strong(Fp8E4M3), Fp8E4M3),
        (WeakInt, Strong(Bool), I64),
        (WeakFloat, Strong(BF16), BF16),
        (WeakFloat, Strong(F64), F64),
        (WeakFloat, Strong(I8), F32),
        (WeakFloat, Strong(U64), F32),
        (WeakFloat, Strong(Bool), F32),
        (WeakInt, WeakInt, I64),
        (WeakInt, WeakFloat, F32),
        (WeakFloat, WeakFloat, F32),
        (Strong(U8), Strong(I8), I16),
    ];
    for (a, b, want) in cases {
        assert_eq!(promote(a, b), Ok(want), "{a:?} {b:?}");
        assert_eq!(promote(b, a), Ok(want), "{b:?} {a:?}");
    }
}

#[test]
fn promote_is_commutative_and_refuses_void() {
    let operands: Vec<Operand> = DType::ALL
        .into_iter()
        .map(Operand::from)
        .chain([Operand::WeakInt, Operand::WeakFloat])
        .collect();
    for &a in &operands {
        for &b in &operands {
            let got = promote(a, b);
            assert_eq!(got, promote(b, a), "{a:?} {b:?}");
            let has_void = [a, b].contains(&Operand::Strong(DType::Void));
            assert_eq!(
                got == Err(DTypeError::NotPromotable(DType::Void)),
                has_void,
                "{a:?} {b:?}"
            );
        }
    }
}
