//! `Element`: Rust types that can fill a tensor and be read back from one, with their
//! dtype and byte encoding (native endianness, as device memory holds them).

use dtype::DType;

pub trait Element: Copy + Send + Sync + 'static {
    const DTYPE: DType;
    fn write_bytes(values: &[Self]) -> Vec<u8>;
    fn read_bytes(bytes: &[u8]) -> Vec<Self>;
}

macro_rules! numeric_element {
    ($($t:ty => $d:expr),*) => {$(
        impl Element for $t {
            const DTYPE: DType = $d;
            fn write_bytes(values: &[Self]) -> Vec<u8> {
                values.iter().flat_map(|v| v.to_ne_bytes()).collect()
            }
            fn read_bytes(bytes: &[u8]) -> Vec<Self> {
                bytes
                    .chunks_exact(std::mem::size_of::<$t>())
                    .map(|c| {
                        let mut a = [0u8; std::mem::size_of::<$t>()];
                        a.copy_from_slice(c);
                        <$t>::from_ne_bytes(a)
                    })
                    .collect()
            }
        }
    )*};
}

numeric_element!(f32 => DType::F32, f64 => DType::F64, i8 => DType::I8, i16 => DType::I16, i32 => DType::I32,
    i64 => DType::I64, u8 => DType::U8, u16 => DType::U16, u32 => DType::U32, u64 => DType::U64);

impl Element for bool {
    const DTYPE: DType = DType::Bool;
    fn write_bytes(values: &[Self]) -> Vec<u8> {
        values.iter().map(|b| u8::from(*b)).collect()
    }
    fn read_bytes(bytes: &[u8]) -> Vec<Self> {
        bytes.iter().map(|b| *b != 0).collect()
    }
}

macro_rules! half_element {
    ($($t:ty => $d:expr),*) => {$(
        impl Element for $t {
            const DTYPE: DType = $d;
            fn write_bytes(values: &[Self]) -> Vec<u8> {
                values.iter().flat_map(|v| v.to_bits().to_ne_bytes()).collect()
            }
            fn read_bytes(bytes: &[u8]) -> Vec<Self> {
                bytes
                    .chunks_exact(2)
                    .map(|c| <$t>::from_bits(u16::from_ne_bytes([c[0], c[1]])))
                    .collect()
            }
        }
    )*};
}

half_element!(half::f16 => DType::F16, half::bf16 => DType::BF16);
