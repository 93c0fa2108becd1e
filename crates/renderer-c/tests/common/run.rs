//! Buffers of raw element bits that compiled kernels run on (`Buf`), the values of those
//! bits, and a small seeded generator. Shared by every backend's compile tests: the
//! kernel builder (`crate::kernel`) is the backend's own.

use std::ffi::c_void;

use dtype::Fp8Format;
use uop_ir::{ConstValue, DType};

/// A buffer of `len` elements of `dtype`, stored in 8-byte words (so it is aligned).
#[derive(Clone, Debug)]
pub struct Buf {
    pub dtype: DType,
    pub len: usize,
    words: Vec<u64>,
}

impl Buf {
    pub fn zeros(dtype: DType, len: usize) -> Buf {
        Buf {
            dtype,
            len,
            words: vec![0; (len * dtype.itemsize()).div_ceil(8).max(1)],
        }
    }

    /// The address of the first element, for a kernel's argument array.
    pub fn as_mut_ptr(&mut self) -> *mut c_void {
        self.words.as_mut_ptr().cast()
    }

    /// Elements with the raw bits `bits` (truncated to the element size).
    pub fn from_bits(dtype: DType, bits: &[u64]) -> Buf {
        let mut b = Buf::zeros(dtype, bits.len());
        let size = dtype.itemsize();
        let mask = if size == 8 {
            u64::MAX
        } else {
            (1u64 << (8 * size)) - 1
        };
        for (k, &v) in bits.iter().enumerate() {
            let (word, shift) = (k * size / 8, (k * size % 8) * 8);
            b.words[word] |= (v & mask) << shift;
        }
        b
    }

    /// Elements of any dtype but the narrow floats (build those `from_bits`).
    pub fn from_values(dtype: DType, values: &[ConstValue]) -> Buf {
        let bits: Vec<u64> = values.iter().map(|&v| to_bits(dtype, v)).collect();
        Buf::from_bits(dtype, &bits)
    }

    /// An f32 buffer holding `values`.
    pub fn f32s(values: &[f32]) -> Buf {
        let v: Vec<ConstValue> = values
            .iter()
            .map(|&x| ConstValue::Float(f64::from(x)))
            .collect();
        Buf::from_values(DType::F32, &v)
    }

    /// The elements of an f32 buffer.
    pub fn to_f32s(&self) -> Vec<f32> {
        self.bits()
            .into_iter()
            .map(|b| f32::from_bits(b as u32))
            .collect()
    }

    pub fn bits(&self) -> Vec<u64> {
        let size = self.dtype.itemsize();
        let mask = if size == 8 {
            u64::MAX
        } else {
            (1u64 << (8 * size)) - 1
        };
        (0..self.len)
            .map(|k| (self.words[k * size / 8] >> ((k * size % 8) * 8)) & mask)
            .collect()
    }

    pub fn values(&self) -> Vec<ConstValue> {
        self.bits()
            .into_iter()
            .map(|b| from_bits(self.dtype, b))
            .collect()
    }
}

fn to_bits(dtype: DType, v: ConstValue) -> u64 {
    match dtype {
        DType::F32 => u64::from((v.as_f64().expect("a number") as f32).to_bits()),
        DType::F64 => v.as_f64().expect("a number").to_bits(),
        d if d.is_float() => panic!("build {d} buffers from bits"),
        d => d.wrap_int(v.as_int().expect("an integer")) as u64,
    }
}

/// The value of the bits `b` of an element of `dtype`.
pub fn from_bits(dtype: DType, b: u64) -> ConstValue {
    let float = |x: f64| ConstValue::Float(x);
    match dtype {
        DType::Bool => ConstValue::Bool(b != 0),
        DType::F32 => float(f64::from(f32::from_bits(b as u32))),
        DType::F64 => float(f64::from_bits(b)),
        DType::F16 => float(f16_value(b as u16)),
        DType::BF16 => float(f64::from(f32::from_bits((b as u32) << 16))),
        d => match d.fp8_format() {
            Some(fmt) => float(f64::from(fmt.decode(b as u8))),
            None if d.is_unsigned() => ConstValue::Int(i128::from(b)),
            None => {
                let unused = 64 - d.bitsize();
                ConstValue::Int(i128::from(((b << unused) as i64) >> unused))
            }
        },
    }
}

/// The exact value of an IEEE binary16 code.
pub fn f16_value(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let (e, m) = (i32::from((h >> 10) & 0x1f), f64::from(h & 0x3ff));
    sign * match e {
        0 => m * 2f64.powi(-24),
        0x1f if m == 0.0 => f64::INFINITY,
        0x1f => f64::NAN,
        _ => (1024.0 + m) * 2f64.powi(e - 25),
    }
}

/// Whether `bits` is a NaN of the narrow float `dtype` (false for other dtypes).
pub fn is_narrow_nan(dtype: DType, bits: u64) -> bool {
    match dtype {
        DType::F16 => f16_value(bits as u16).is_nan(),
        DType::BF16 => f32::from_bits((bits as u32) << 16).is_nan(),
        d => d
            .fp8_format()
            .is_some_and(|f: Fp8Format| f.is_nan(bits as u8)),
    }
}

/// A small deterministic generator (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A float in `[-scale, scale)`.
    pub fn float(&mut self, scale: f32) -> f32 {
        ((self.next() >> 40) as f32 / (1u64 << 23) as f32 - 1.0) * scale
    }
}
