//! The `DType` enum and its basic properties (size, kind, bounds, names).

use std::fmt;

/// What family of scalar a dtype belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScalarKind {
    Void,
    Bool,
    Signed,
    Unsigned,
    Float,
}

/// An element type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DType {
    /// No value: the dtype of SINK, STORE, RANGE ends and other statements.
    Void,
    /// One byte, 0 or 1.
    Bool,
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    /// Abstract integer of index math: signed, 64-bit semantics, lowered late.
    Index,
    /// OCP FP8 E4M3 "fn": bias 7, no infinities, NaN is S.1111.111; max finite 448.
    Fp8E4M3,
    /// OCP FP8 E5M2: bias 15, IEEE-like infinities (S.11111.00) and NaNs (S.11111.xx, xx != 0); max finite 57344.
    Fp8E5M2,
    /// FP8 E4M3 "fnuz": bias 8, no infinities, no negative zero, NaN is only 0x80; max finite 240.
    Fp8E4M3Fnuz,
    /// FP8 E5M2 "fnuz": bias 16, no infinities, no negative zero, NaN is only 0x80; max finite 57344.
    Fp8E5M2Fnuz,
    /// IEEE 754 binary16: bias 15, 10-bit mantissa.
    F16,
    /// bfloat16: the top 16 bits of an f32 (bias 127, 7-bit mantissa).
    BF16,
    /// IEEE 754 binary32.
    F32,
    /// IEEE 754 binary64.
    F64,
}

impl DType {
    /// Every dtype, in declaration order.
    pub const ALL: [DType; 19] = [
        DType::Void,
        DType::Bool,
        DType::I8,
        DType::I16,
        DType::I32,
        DType::I64,
        DType::U8,
        DType::U16,
        DType::U32,
        DType::U64,
        DType::Index,
        DType::Fp8E4M3,
        DType::Fp8E5M2,
        DType::Fp8E4M3Fnuz,
        DType::Fp8E5M2Fnuz,
        DType::F16,
        DType::BF16,
        DType::F32,
        DType::F64,
    ];

    /// Size of one element in bytes (`Index` counts as 8, `Void` as 0).
    pub const fn itemsize(self) -> usize {
        match self {
            DType::Void => 0,
            DType::Bool | DType::I8 | DType::U8 => 1,
            DType::Fp8E4M3 | DType::Fp8E5M2 | DType::Fp8E4M3Fnuz | DType::Fp8E5M2Fnuz => 1,
            DType::I16 | DType::U16 | DType::F16 | DType::BF16 => 2,
            DType::I32 | DType::U32 | DType::F32 => 4,
            DType::I64 | DType::U64 | DType::F64 | DType::Index => 8,
        }
    }

    /// Size of one element in bits.
    pub const fn bitsize(self) -> u32 {
        (self.itemsize() * 8) as u32
    }

    pub const fn kind(self) -> ScalarKind {
        match self {
            DType::Void => ScalarKind::Void,
            DType::Bool => ScalarKind::Bool,
            DType::I8 | DType::I16 | DType::I32 | DType::I64 | DType::Index => ScalarKind::Signed,
            DType::U8 | DType::U16 | DType::U32 | DType::U64 => ScalarKind::Unsigned,
            _ => ScalarKind::Float,
        }
    }

    pub const fn is_float(self) -> bool {
        matches!(self.kind(), ScalarKind::Float)
    }

    /// Signed or unsigned integer, including `Index` (not `Bool`).
    pub const fn is_int(self) -> bool {
        matches!(self.kind(), ScalarKind::Signed | ScalarKind::Unsigned)
    }

    pub const fn is_unsigned(self) -> bool {
        matches!(self.kind(), ScalarKind::Unsigned)
    }

    pub const fn is_bool(self) -> bool {
        matches!(self, DType::Bool)
    }

    pub const fn is_fp8(self) -> bool {
        matches!(
            self,
            DType::Fp8E4M3 | DType::Fp8E5M2 | DType::Fp8E4M3Fnuz | DType::Fp8E5M2Fnuz
        )
    }

    /// A float narrower than f32 (f16, bf16, fp8): arithmetic on it is done in f32 and
    /// rounded to the dtype after each op, as PyTorch computes it.
    pub const fn is_narrow_float(self) -> bool {
        matches!(self, DType::F16 | DType::BF16) || self.is_fp8()
    }

    /// Smallest value of an integer or bool dtype, as i128. `None` for floats and void.
    pub const fn int_min(self) -> Option<i128> {
        Some(match self {
            DType::Bool => 0,
            DType::I8 => i8::MIN as i128,
            DType::I16 => i16::MIN as i128,
            DType::I32 => i32::MIN as i128,
            DType::I64 | DType::Index => i64::MIN as i128,
            DType::U8 | DType::U16 | DType::U32 | DType::U64 => 0,
            _ => return None,
        })
    }

    /// Largest value of an integer or bool dtype, as i128. `None` for floats and void.
    pub const fn int_max(self) -> Option<i128> {
        Some(match self {
            DType::Bool => 1,
            DType::I8 => i8::MAX as i128,
            DType::I16 => i16::MAX as i128,
            DType::I32 => i32::MAX as i128,
            DType::I64 | DType::Index => i64::MAX as i128,
            DType::U8 => u8::MAX as i128,
            DType::U16 => u16::MAX as i128,
            DType::U32 => u32::MAX as i128,
            DType::U64 => u64::MAX as i128,
            _ => return None,
        })
    }

    /// Wraps an integer to this dtype's width (two's complement), as C does on overflow of
    /// unsigned types and as every backend does for signed ones. Bool becomes `v != 0`.
    /// Floats and void return the value unchanged.
    pub const fn wrap_int(self, v: i128) -> i128 {
        match self {
            DType::Bool => (v != 0) as i128,
            DType::I8 => v as i8 as i128,
            DType::I16 => v as i16 as i128,
            DType::I32 => v as i32 as i128,
            DType::I64 | DType::Index => v as i64 as i128,
            DType::U8 => v as u8 as i128,
            DType::U16 => v as u16 as i128,
            DType::U32 => v as u32 as i128,
            DType::U64 => v as u64 as i128,
            _ => v,
        }
    }

    /// The short name used in printed IR and kernel names (`f32`, `bf16`, `fp8e4m3`).
    pub const fn name(self) -> &'static str {
        match self {
            DType::Void => "void",
            DType::Bool => "bool",
            DType::I8 => "i8",
            DType::I16 => "i16",
            DType::I32 => "i32",
            DType::I64 => "i64",
            DType::U8 => "u8",
            DType::U16 => "u16",
            DType::U32 => "u32",
            DType::U64 => "u64",
            DType::Index => "index",
            DType::Fp8E4M3 => "fp8e4m3",
            DType::Fp8E5M2 => "fp8e5m2",
            DType::Fp8E4M3Fnuz => "fp8e4m3fnuz",
            DType::Fp8E5M2Fnuz => "fp8e5m2fnuz",
            DType::F16 => "f16",
            DType::BF16 => "bf16",
            DType::F32 => "f32",
            DType::F64 => "f64",
        }
    }

    /// Parses a name produced by [`DType::name`].
    pub fn from_name(name: &str) -> Option<DType> {
        DType::ALL.into_iter().find(|d| d.name() == name)
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for d in DType::ALL {
            assert_eq!(DType::from_name(d.name()), Some(d));
        }
        assert_eq!(DType::from_name("float"), None);
    }

    #[test]
    fn wrap_matches_rust_casts() {
        assert_eq!(DType::U8.wrap_int(257), 1);
        assert_eq!(DType::I8.wrap_int(128), -128);
        assert_eq!(DType::U32.wrap_int(-1), u32::MAX as i128);
        assert_eq!(DType::Bool.wrap_int(5), 1);
    }

    #[test]
    fn bounds_are_consistent_with_size() {
        for d in DType::ALL.into_iter().filter(|d| d.is_int()) {
            let (lo, hi) = (d.int_min().unwrap_or(0), d.int_max().unwrap_or(0));
            assert_eq!(hi - lo + 1, 1i128 << d.bitsize(), "{d}");
        }
    }
}
