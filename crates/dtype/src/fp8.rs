//! Exact conversion between `f32` and the four 8-bit float formats.
//!
//! All four share one layout, `S EEEE MMM` or `S EEEEE MM`, and differ only in bias and in
//! which codes are special (see the `DType` variants for the full encodings):
//!
//! | format       | bias | max finite | infinities    | NaN              | -0   |
//! |--------------|------|------------|---------------|------------------|------|
//! | E4M3 ("fn")  | 7    | 448        | none          | S.1111.111       | 0x80 |
//! | E5M2         | 15   | 57344      | S.11111.00    | S.11111.xx, xx≠0 | 0x80 |
//! | E4M3 fnuz    | 8    | 240        | none          | 0x80 only        | none |
//! | E5M2 fnuz    | 16   | 57344      | none          | 0x80 only        | none |
//!
//! Encoding rounds to nearest, ties to even, with an unbounded exponent first: a value
//! whose rounded magnitude exceeds max finite has overflowed, and [`Fp8Overflow`] decides
//! what it becomes. Because the magnitude bits of a code grow monotonically with the value,
//! the code is computed in integers: `|x| = n * 2^q` with `q` the spacing of the target at
//! `|x|`, and the magnitude code is `((q - q_min) << mantissa_bits) + n`. No tables.

use crate::DType;

/// One of the four FP8 formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fp8Format {
    /// OCP E4M3 "fn": bias 7, no infinities, NaN is S.1111.111.
    E4M3,
    /// OCP E5M2: bias 15, IEEE-like infinities and NaNs.
    E5M2,
    /// E4M3 "fnuz": bias 8, no infinities, no negative zero, NaN is only 0x80.
    E4M3Fnuz,
    /// E5M2 "fnuz": bias 16, no infinities, no negative zero, NaN is only 0x80.
    E5M2Fnuz,
}

/// What an f32 → fp8 conversion does with values beyond the largest finite code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fp8Overflow {
    /// Finite overflow and infinities clamp to ±max finite (OCP "SAT").
    Saturate,
    /// Overflow and infinities become ±inf (E5M2) or NaN (formats without infinities),
    /// as a C cast does.
    NonSaturate,
}

/// Which codes of a format are special.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Specials {
    /// S.1...1.1...1 is NaN (two codes); no infinities.
    Fn,
    /// Exponent all ones: mantissa 0 is ±inf, anything else NaN.
    Ieee,
    /// 0x80 (the would-be -0) is the only NaN; no infinities.
    Fnuz,
}

/// The parameters that distinguish the formats.
#[derive(Clone, Copy)]
struct Spec {
    mantissa_bits: u32,
    bias: i32,
    specials: Specials,
    /// Magnitude (low 7 bits) of the largest finite code.
    max_code: u8,
}

const SIGN: u8 = 0x80;

impl Fp8Format {
    /// Every format, in `DType` declaration order.
    pub const ALL: [Fp8Format; 4] = [
        Fp8Format::E4M3,
        Fp8Format::E5M2,
        Fp8Format::E4M3Fnuz,
        Fp8Format::E5M2Fnuz,
    ];

    /// The format of an fp8 dtype; `None` for every other dtype.
    pub const fn from_dtype(dtype: DType) -> Option<Fp8Format> {
        match dtype {
            DType::Fp8E4M3 => Some(Fp8Format::E4M3),
            DType::Fp8E5M2 => Some(Fp8Format::E5M2),
            DType::Fp8E4M3Fnuz => Some(Fp8Format::E4M3Fnuz),
            DType::Fp8E5M2Fnuz => Some(Fp8Format::E5M2Fnuz),
            _ => None,
        }
    }

    pub const fn dtype(self) -> DType {
        match self {
            Fp8Format::E4M3 => DType::Fp8E4M3,
            Fp8Format::E5M2 => DType::Fp8E5M2,
            Fp8Format::E4M3Fnuz => DType::Fp8E4M3Fnuz,
            Fp8Format::E5M2Fnuz => DType::Fp8E5M2Fnuz,
        }
    }

    const fn spec(self) -> Spec {
        let (mantissa_bits, bias, specials, max_code) = match self {
            Fp8Format::E4M3 => (3, 7, Specials::Fn, 0x7E),
            Fp8Format::E5M2 => (2, 15, Specials::Ieee, 0x7B),
            Fp8Format::E4M3Fnuz => (3, 8, Specials::Fnuz, 0x7F),
            Fp8Format::E5M2Fnuz => (2, 16, Specials::Fnuz, 0x7F),
        };
        Spec {
            mantissa_bits,
            bias,
            specials,
            max_code,
        }
    }

    /// The largest finite value: 448, 57344, 240 or 57344.
    pub fn max_finite(self) -> f32 {
        self.decode(self.spec().max_code)
    }

    /// Whether `code` is a NaN of this format.
    pub const fn is_nan(self, code: u8) -> bool {
        let mag = code & !SIGN;
        match self.spec().specials {
            Specials::Fn => mag == 0x7F,
            Specials::Ieee => mag > 0x7C,
            Specials::Fnuz => code == SIGN,
        }
    }

    /// The exact value of `code`. NaN codes decode to NaN carrying the code's sign bit.
    pub fn decode(self, code: u8) -> f32 {
        let spec = self.spec();
        let negative = code & SIGN != 0;
        let mag = code & !SIGN;
        let value = if self.is_nan(code) {
            f32::NAN
        } else if spec.specials == Specials::Ieee && mag == 0x7C {
            f32::INFINITY
        } else {
            let m = spec.mantissa_bits;
            let exp = i32::from(mag >> m);
            let frac = u32::from(mag) & ((1 << m) - 1);
            // Subnormals have exponent field 0 and the same scale as exponent field 1.
            let (n, e) = if exp == 0 {
                (frac, 1)
            } else {
                (frac | (1 << m), exp)
            };
            n as f32 * pow2(e - spec.bias - m as i32)
        };
        if negative { -value } else { value }
    }

    /// The code of `x`, rounded to nearest with ties to even; see the module docs for
    /// overflow. NaN gives the format's NaN (0x7F/0xFF for E4M3, 0x7E/0xFE for E5M2, 0x80
    /// for fnuz). In the fnuz formats, values that round to zero give 0x00 whatever their
    /// sign.
    pub fn encode(self, x: f32, overflow: Fp8Overflow) -> u8 {
        let spec = self.spec();
        let sign = if x.is_sign_negative() { SIGN } else { 0 };
        if x.is_nan() {
            return match spec.specials {
                Specials::Fn => sign | 0x7F,
                Specials::Ieee => sign | 0x7E,
                Specials::Fnuz => SIGN,
            };
        }
        let mag = if x.is_infinite() {
            None
        } else {
            magnitude_code(x, spec)
        };
        match mag {
            Some(0) if spec.specials == Specials::Fnuz => 0,
            Some(mag) if mag <= spec.max_code => sign | mag,
            _ => match (overflow, spec.specials) {
                (Fp8Overflow::Saturate, _) => sign | spec.max_code,
                (Fp8Overflow::NonSaturate, Specials::Ieee) => sign | 0x7C,
                (Fp8Overflow::NonSaturate, Specials::Fn) => sign | 0x7F,
                (Fp8Overflow::NonSaturate, Specials::Fnuz) => SIGN,
            },
        }
    }
}

impl DType {
    /// The fp8 format of this dtype; `None` unless [`DType::is_fp8`].
    pub const fn fp8_format(self) -> Option<Fp8Format> {
        Fp8Format::from_dtype(self)
    }
}

/// The magnitude code of finite `x` rounded to nearest even, with an unbounded exponent:
/// `None` if it does not even fit in 7 bits (it then exceeds every format's max).
fn magnitude_code(x: f32, spec: Spec) -> Option<u8> {
    let bits = x.to_bits();
    let exp_field = ((bits >> 23) & 0xFF) as i32;
    let frac = bits & 0x007F_FFFF;
    // |x| = m * 2^e exactly.
    let (m, e) = if exp_field == 0 {
        (frac, -149)
    } else {
        (frac | 0x0080_0000, exp_field - 150)
    };
    if m == 0 {
        return Some(0);
    }
    let man = spec.mantissa_bits as i32;
    let e_min = 1 - spec.bias;
    let q_min = e_min - man;
    let top = e + (31 - m.leading_zeros() as i32); // floor(log2 |x|)
    let q = top.max(e_min) - man; // spacing of the target's codes around |x|
    let n = if e >= q {
        m << (e - q)
    } else {
        round_shift_even(m, (q - e) as u32)
    };
    let code = (i64::from(q - q_min) << man) + i64::from(n);
    u8::try_from(code).ok().filter(|&c| c <= 0x7F)
}

/// `m / 2^s` rounded to nearest, ties to even.
fn round_shift_even(m: u32, s: u32) -> u32 {
    match s {
        0 => return m,
        33.. => return 0, // m < 2^32 <= 2^(s-1): below half of the last place
        _ => {}
    }
    let m = u64::from(m);
    let q = m >> s;
    let rem = m - (q << s);
    let half = 1u64 << (s - 1);
    let up = rem > half || (rem == half && q & 1 == 1);
    (q + u64::from(up)) as u32
}

/// `2^k` for `k` in the normal f32 range, built from its bits.
fn pow2(k: i32) -> f32 {
    f32::from_bits(((k + 127) as u32) << 23)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Fp8Format::*;
    use Fp8Overflow::*;

    #[test]
    fn dtype_mapping_round_trips() {
        for f in Fp8Format::ALL {
            assert_eq!(f.dtype().fp8_format(), Some(f));
        }
        assert_eq!(DType::F16.fp8_format(), None);
    }

    #[test]
    fn max_finite_matches_the_specs() {
        assert_eq!(E4M3.max_finite(), 448.0);
        assert_eq!(E5M2.max_finite(), 57344.0);
        assert_eq!(E4M3Fnuz.max_finite(), 240.0);
        assert_eq!(E5M2Fnuz.max_finite(), 57344.0);
    }

    #[test]
    fn nan_codes_keep_the_sign_where_the_format_has_one() {
        assert_eq!(E4M3.encode(f32::NAN, NonSaturate), 0x7F);
        assert_eq!(E4M3.encode(-f32::NAN, Saturate), 0xFF);
        assert_eq!(E5M2.encode(f32::NAN, Saturate), 0x7E);
        assert_eq!(E5M2.encode(-f32::NAN, NonSaturate), 0xFE);
        assert_eq!(E4M3Fnuz.encode(-f32::NAN, NonSaturate), 0x80);
        assert_eq!(E5M2Fnuz.encode(f32::NAN, Saturate), 0x80);
    }

    #[test]
    fn round_shift_even_ties() {
        assert_eq!(round_shift_even(0b1010, 2), 0b10); // 2.5 -> 2
        assert_eq!(round_shift_even(0b1110, 2), 0b100); // 3.5 -> 4
        assert_eq!(round_shift_even(0b1011, 2), 0b11); // 2.75 -> 3
        assert_eq!(round_shift_even(u32::MAX, 33), 0);
        assert_eq!(round_shift_even(u32::MAX, 32), 1); // just above one half
    }
}
