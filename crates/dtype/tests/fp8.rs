//! FP8 conversion against an independent reading of the spec: every code decodes to the
//! value its sign/exponent/mantissa fields denote, every finite code round-trips, and
//! encoding picks the nearest code with ties to even.

use Fp8Overflow::{NonSaturate, Saturate};
use dtype::{Fp8Format, Fp8Overflow};
use proptest::prelude::*;

const MODES: [Fp8Overflow; 2] = [Saturate, NonSaturate];

/// What a code denotes, from the spec's field layout.
#[derive(Clone, Copy, Debug)]
enum Meaning {
    NaN,
    Value(f64),
}

/// (exponent bits, mantissa bits, bias) of each format.
fn fields(fmt: Fp8Format) -> (u32, u32, i32) {
    match fmt {
        Fp8Format::E4M3 => (4, 3, 7),
        Fp8Format::E5M2 => (5, 2, 15),
        Fp8Format::E4M3Fnuz => (4, 3, 8),
        Fp8Format::E5M2Fnuz => (5, 2, 16),
    }
}

fn is_fnuz(fmt: Fp8Format) -> bool {
    matches!(fmt, Fp8Format::E4M3Fnuz | Fp8Format::E5M2Fnuz)
}

fn meaning(fmt: Fp8Format, code: u8) -> Meaning {
    let (ebits, mbits, bias) = fields(fmt);
    let sign = if code >> 7 == 1 { -1.0 } else { 1.0 };
    let e = (u32::from(code) >> mbits) & ((1 << ebits) - 1);
    let f = u32::from(code) & ((1 << mbits) - 1);
    let e_all_ones = e == (1 << ebits) - 1;
    match fmt {
        Fp8Format::E4M3 if e_all_ones && f == 7 => return Meaning::NaN,
        Fp8Format::E5M2 if e_all_ones && f == 0 => return Meaning::Value(sign * f64::INFINITY),
        Fp8Format::E5M2 if e_all_ones => return Meaning::NaN,
        _ if is_fnuz(fmt) && code == 0x80 => return Meaning::NaN,
        _ => {}
    }
    let fraction = f64::from(f) / f64::from(1u32 << mbits);
    let magnitude = if e == 0 {
        fraction * 2f64.powi(1 - bias)
    } else {
        (1.0 + fraction) * 2f64.powi(e as i32 - bias)
    };
    Meaning::Value(sign * magnitude)
}

/// The finite codes of a format with their values.
fn finite_codes(fmt: Fp8Format) -> Vec<(u8, f64)> {
    (0..=255u8)
        .filter_map(|c| match meaning(fmt, c) {
            Meaning::Value(v) if v.is_finite() => Some((c, v)),
            _ => None,
        })
        .collect()
}

/// The largest finite magnitude code: the last finite code below 0x80.
fn max_code(fmt: Fp8Format) -> u8 {
    (0..0x80u8)
        .filter(|&c| matches!(meaning(fmt, c), Meaning::Value(v) if v.is_finite()))
        .max()
        .unwrap_or(0)
}

/// The code of `-value(c)` for a magnitude code `c`: fnuz has no negative zero.
fn negated(fmt: Fp8Format, c: u8) -> u8 {
    if c == 0 && is_fnuz(fmt) { 0 } else { c | 0x80 }
}

fn overflow_code(fmt: Fp8Format, mode: Fp8Overflow, negative: bool) -> u8 {
    let sign = if negative { 0x80 } else { 0 };
    match (mode, fmt) {
        (Saturate, _) => sign | max_code(fmt),
        (NonSaturate, Fp8Format::E4M3) => sign | 0x7F,
        (NonSaturate, Fp8Format::E5M2) => sign | 0x7C,
        (NonSaturate, _) => 0x80,
    }
}

#[test]
fn every_code_decodes_to_its_fields() {
    for fmt in Fp8Format::ALL {
        for code in 0..=255u8 {
            let got = fmt.decode(code);
            match meaning(fmt, code) {
                Meaning::NaN => assert!(got.is_nan() && fmt.is_nan(code), "{fmt:?} {code:#04x}"),
                Meaning::Value(v) => {
                    assert!(!fmt.is_nan(code), "{fmt:?} {code:#04x}");
                    assert_eq!(
                        f64::from(got).to_bits(),
                        v.to_bits(),
                        "{fmt:?} {code:#04x}: {got} vs {v}"
                    );
                }
            }
        }
    }
}

#[test]
fn every_finite_code_round_trips() {
    for fmt in Fp8Format::ALL {
        for (code, _) in finite_codes(fmt) {
            for mode in MODES {
                assert_eq!(
                    fmt.encode(fmt.decode(code), mode),
                    code,
                    "{fmt:?} {code:#04x} {mode:?}"
                );
            }
        }
    }
    assert_eq!(Fp8Format::E5M2.encode(f32::INFINITY, NonSaturate), 0x7C);
    assert_eq!(Fp8Format::E5M2.encode(f32::NEG_INFINITY, NonSaturate), 0xFC);
}

#[test]
fn midpoints_round_to_even_and_neighbours_round_away() {
    for fmt in Fp8Format::ALL {
        for c in 0..max_code(fmt) {
            let (lo, hi) = (fmt.decode(c), fmt.decode(c + 1));
            let mid = (lo + hi) / 2.0; // exact: at most five significant bits
            let even = if c % 2 == 0 { c } else { c + 1 };
            for mode in MODES {
                let enc = |x: f32| fmt.encode(x, mode);
                let ctx = format!("{fmt:?} {mode:?} between {lo} and {hi}");
                assert_eq!(enc(mid), even, "{ctx}");
                assert_eq!(enc(mid.next_up()), c + 1, "{ctx}");
                assert_eq!(enc(mid.next_down()), c, "{ctx}");
                assert_eq!(enc(-mid), negated(fmt, even), "{ctx}");
                assert_eq!(enc(-mid.next_up()), negated(fmt, c + 1), "{ctx}");
                assert_eq!(enc(-mid.next_down()), negated(fmt, c), "{ctx}");
            }
        }
    }
}

#[test]
fn overflow_saturates_or_becomes_nan_or_inf() {
    // (format, max finite, midpoint between max and the next step, does the tie overflow)
    let cases = [
        (Fp8Format::E4M3, 448.0f32, 464.0f32, false),
        (Fp8Format::E5M2, 57344.0, 61440.0, true),
        (Fp8Format::E4M3Fnuz, 240.0, 248.0, true),
        (Fp8Format::E5M2Fnuz, 57344.0, 61440.0, true),
    ];
    for (fmt, max, tie, tie_overflows) in cases {
        assert_eq!(fmt.max_finite(), max);
        for mode in MODES {
            for negative in [false, true] {
                let s = if negative { -1.0 } else { 1.0 };
                let top = if negative {
                    negated(fmt, max_code(fmt))
                } else {
                    max_code(fmt)
                };
                let over = overflow_code(fmt, mode, negative);
                let enc = |x: f32| fmt.encode(s * x, mode);
                let ctx = format!("{fmt:?} {mode:?} negative={negative}");
                assert_eq!(enc(max), top, "{ctx}");
                assert_eq!(enc(tie.next_down()), top, "{ctx}");
                assert_eq!(enc(tie), if tie_overflows { over } else { top }, "{ctx}");
                for x in [tie.next_up(), 1e30, f32::MAX, f32::INFINITY] {
                    assert_eq!(enc(x), over, "{ctx} {x}");
                }
            }
        }
    }
}

#[test]
fn tiny_values_flush_by_rounding() {
    for fmt in Fp8Format::ALL {
        let half_min = fmt.decode(1) / 2.0;
        let neg_zero = negated(fmt, 0);
        for mode in MODES {
            let enc = |x: f32| fmt.encode(x, mode);
            assert_eq!(enc(half_min), 0, "{fmt:?}: a tie with zero goes to zero");
            assert_eq!(enc(half_min.next_up()), 1, "{fmt:?}");
            assert_eq!(enc(-half_min), neg_zero, "{fmt:?}");
            assert_eq!(enc(-half_min.next_up()), 0x81, "{fmt:?}");
            assert_eq!(enc(f32::from_bits(1)), 0, "{fmt:?}");
            assert_eq!(enc(-f32::from_bits(1)), neg_zero, "{fmt:?}");
            assert_eq!(enc(-0.0), neg_zero, "{fmt:?}");
            assert_eq!(enc(f32::MIN_POSITIVE), 0, "{fmt:?}");
        }
    }
}

fn any_f32() -> impl Strategy<Value = f32> {
    prop_oneof![
        any::<u32>()
            .prop_map(f32::from_bits)
            .prop_filter("not NaN", |x| !x.is_nan()),
        -70000.0f32..70000.0,
        -1.0f32..1.0,
        -0.01f32..0.01,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// The saturating code is the nearest finite one; on a tie it is the even one.
    #[test]
    fn encode_picks_the_nearest_code(x in any_f32()) {
        for fmt in Fp8Format::ALL {
            let code = fmt.encode(x, Saturate);
            let v = match meaning(fmt, code) {
                Meaning::Value(v) if v.is_finite() => v,
                other => return Err(TestCaseError::fail(format!("{fmt:?} {x}: {other:?}"))),
            };
            let x = f64::from(x);
            let dist = (x - v).abs();
            for (c, w) in finite_codes(fmt) {
                let other = (x - w).abs();
                prop_assert!(dist <= other, "{fmt:?} {x}: chose {v} but {w} ({c:#04x}) is nearer");
                if w != v && (v + w) / 2.0 == x {
                    prop_assert_eq!(code & 1, 0, "{:?} {}: tie between {} and {}", fmt, x, v, w);
                }
            }
            // Non-saturating differs only past the largest finite value.
            let ns = fmt.encode(x as f32, NonSaturate);
            if ns != code {
                prop_assert!(x.abs() > f64::from(fmt.max_finite()), "{:?} {}", fmt, x);
                prop_assert_eq!(ns, overflow_code(fmt, NonSaturate, x < 0.0));
            }
        }
    }
}
