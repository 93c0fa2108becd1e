//! `HostTensor`: a tensor's values in host memory (row-major, each element in its storage
//! dtype's native encoding, as `Tensor::from_bytes` takes them), with the ONNX element
//! type they stand for. Initializers, constants and folded shape computations live here
//! until an op needs them on a device.

use dtype::{DType, Fp8Overflow};
use frontend_tensor::Tensor;
use half::{bf16, f16};

use crate::elem::ElemType;
use crate::error::{OnnxError, Result, invalid};

#[derive(Clone, PartialEq)]
pub struct HostTensor {
    elem: ElemType,
    shape: Vec<i64>,
    bytes: Vec<u8>,
}

impl std::fmt::Debug for HostTensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HostTensor({:?}, {})", self.shape, self.elem)
    }
}

/// The element count of `shape`, or why it has none (a negative dim, or overflow).
pub fn numel_of(shape: &[i64]) -> Result<usize> {
    let mut n: usize = 1;
    for &d in shape {
        let d = usize::try_from(d).map_err(|_| invalid!("negative dim in shape {shape:?}"))?;
        n = n
            .checked_mul(d)
            .ok_or_else(|| invalid!("shape {shape:?} has too many elements"))?;
    }
    Ok(n)
}

impl HostTensor {
    /// Values of `elem` (stored in its storage dtype's encoding) of `shape`.
    pub fn new(elem: ElemType, shape: Vec<i64>, bytes: Vec<u8>) -> Result<HostTensor> {
        let want = numel_of(&shape)?
            .checked_mul(elem.storage().itemsize())
            .ok_or_else(|| invalid!("shape {shape:?} is too large"))?;
        if bytes.len() != want {
            return Err(invalid!(
                "{} bytes do not hold {shape:?} of {elem} ({want} bytes)",
                bytes.len()
            ));
        }
        Ok(HostTensor { elem, shape, bytes })
    }

    /// Integers (or bools) converted to `elem` as a cast would convert them.
    pub fn from_i64s(elem: ElemType, shape: Vec<i64>, values: &[i64]) -> Result<HostTensor> {
        let dtype = elem.storage();
        let mut bytes = Vec::with_capacity(values.len() * dtype.itemsize());
        for &v in values {
            if dtype.is_float() {
                encode_f64(dtype, v as f64, &mut bytes);
            } else {
                encode_int(dtype, i128::from(v), &mut bytes);
            }
        }
        HostTensor::new(elem, shape, bytes)
    }

    /// Floats converted to `elem` (rounded to nearest; to an integer type truncated).
    pub fn from_f64s(elem: ElemType, shape: Vec<i64>, values: &[f64]) -> Result<HostTensor> {
        let dtype = elem.storage();
        let mut bytes = Vec::with_capacity(values.len() * dtype.itemsize());
        for &v in values {
            if dtype.is_float() {
                encode_f64(dtype, v, &mut bytes);
            } else if dtype.is_bool() {
                bytes.push(u8::from(v != 0.0));
            } else {
                encode_int(dtype, float_to_int(v), &mut bytes);
            }
        }
        HostTensor::new(elem, shape, bytes)
    }

    /// A scalar of `elem`.
    pub fn scalar_f64(elem: ElemType, v: f64) -> Result<HostTensor> {
        HostTensor::from_f64s(elem, Vec::new(), &[v])
    }

    pub fn elem(&self) -> ElemType {
        self.elem
    }

    pub fn dtype(&self) -> DType {
        self.elem.storage()
    }

    pub fn shape(&self) -> &[i64] {
        &self.shape
    }

    pub fn numel(&self) -> usize {
        self.bytes.len() / self.dtype().itemsize().max(1)
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The same values under another shape of as many elements.
    pub fn reshaped(&self, shape: Vec<i64>) -> Result<HostTensor> {
        HostTensor::new(self.elem, shape, self.bytes.clone())
    }

    /// The same bytes read as another element type of the same storage.
    pub fn retyped(mut self, elem: ElemType) -> HostTensor {
        if elem.storage() == self.dtype() {
            self.elem = elem;
        }
        self
    }

    /// Element `i` as f64 (integers exactly up to 2^53).
    pub fn get_f64(&self, i: usize) -> f64 {
        let size = self.dtype().itemsize();
        decode_f64(self.dtype(), &self.bytes[i * size..(i + 1) * size])
    }

    /// Element `i` as i64 (floats truncated, saturating; u64 above i64::MAX wraps).
    pub fn get_i64(&self, i: usize) -> i64 {
        let dtype = self.dtype();
        let size = dtype.itemsize();
        let b = &self.bytes[i * size..(i + 1) * size];
        if dtype.is_float() {
            float_to_int(decode_f64(dtype, b)) as i64
        } else {
            decode_int(dtype, b) as i64
        }
    }

    pub fn to_f64s(&self) -> Vec<f64> {
        (0..self.numel()).map(|i| self.get_f64(i)).collect()
    }

    pub fn to_i64s(&self) -> Vec<i64> {
        (0..self.numel()).map(|i| self.get_i64(i)).collect()
    }

    /// The elements `picks` (indices into this tensor), as a tensor of `shape`.
    pub fn gather_elements(&self, picks: &[usize], shape: Vec<i64>) -> Result<HostTensor> {
        let size = self.dtype().itemsize();
        let mut bytes = Vec::with_capacity(picks.len() * size);
        for &p in picks {
            let chunk = self
                .bytes
                .get(p * size..(p + 1) * size)
                .ok_or_else(|| invalid!("index {p} is out of range for {:?}", self.shape))?;
            bytes.extend_from_slice(chunk);
        }
        HostTensor::new(self.elem, shape, bytes)
    }

    /// A device tensor with these values.
    pub fn to_tensor(&self, device: &str) -> Result<Tensor> {
        Ok(Tensor::from_bytes(
            &self.bytes,
            self.dtype(),
            &self.shape,
            device,
        )?)
    }

    /// The values of a device tensor (realizing it).
    pub fn from_tensor(t: &Tensor, elem: ElemType) -> Result<HostTensor> {
        if elem.storage() != t.dtype() {
            return Err(OnnxError::Invalid(format!(
                "a {} tensor does not hold {elem}",
                t.dtype()
            )));
        }
        HostTensor::new(elem, t.shape().to_vec(), t.to_bytes()?)
    }
}

/// `v` truncated toward zero, saturating at the i128 range (NaN gives 0), as the first
/// step of a float-to-integer cast.
fn float_to_int(v: f64) -> i128 {
    if v.is_nan() { 0 } else { v.trunc() as i128 }
}

/// Appends `v` (wrapped to the dtype's width) in `dtype`'s encoding.
pub(crate) fn encode_int(dtype: DType, v: i128, out: &mut Vec<u8>) {
    match dtype {
        DType::Bool => out.push(u8::from(v != 0)),
        DType::I8 | DType::U8 => out.push(v as u8),
        DType::I16 | DType::U16 => out.extend_from_slice(&(v as u16).to_ne_bytes()),
        DType::I32 | DType::U32 => out.extend_from_slice(&(v as u32).to_ne_bytes()),
        _ => out.extend_from_slice(&(v as u64).to_ne_bytes()),
    }
}

/// Appends `v` rounded to the float `dtype`, in its encoding.
pub(crate) fn encode_f64(dtype: DType, v: f64, out: &mut Vec<u8>) {
    let v = dtype.round_float(v);
    match dtype {
        DType::F64 => out.extend_from_slice(&v.to_ne_bytes()),
        DType::F32 => out.extend_from_slice(&(v as f32).to_ne_bytes()),
        DType::F16 => out.extend_from_slice(&f16::from_f64(v).to_bits().to_ne_bytes()),
        DType::BF16 => out.extend_from_slice(&bf16::from_f64(v).to_bits().to_ne_bytes()),
        other => match other.fp8_format() {
            Some(fmt) => out.push(fmt.encode(v as f32, Fp8Overflow::NonSaturate)),
            None => encode_int(other, float_to_int(v), out),
        },
    }
}

/// An integer element of `dtype` from its bytes.
pub(crate) fn decode_int(dtype: DType, b: &[u8]) -> i128 {
    match dtype {
        DType::Bool => i128::from(b[0] != 0),
        DType::I8 => i128::from(b[0] as i8),
        DType::U8 => i128::from(b[0]),
        DType::I16 => i128::from(i16::from_ne_bytes([b[0], b[1]])),
        DType::U16 => i128::from(u16::from_ne_bytes([b[0], b[1]])),
        DType::I32 => i128::from(i32::from_ne_bytes([b[0], b[1], b[2], b[3]])),
        DType::U32 => i128::from(u32::from_ne_bytes([b[0], b[1], b[2], b[3]])),
        DType::U64 => i128::from(u64::from_ne_bytes(eight(b))),
        _ => i128::from(i64::from_ne_bytes(eight(b))),
    }
}

fn eight(b: &[u8]) -> [u8; 8] {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    a
}

/// Any element of `dtype` from its bytes, as f64.
pub(crate) fn decode_f64(dtype: DType, b: &[u8]) -> f64 {
    match dtype {
        DType::F64 => f64::from_ne_bytes(eight(b)),
        DType::F32 => f64::from(f32::from_ne_bytes([b[0], b[1], b[2], b[3]])),
        DType::F16 => f16::from_bits(u16::from_ne_bytes([b[0], b[1]])).to_f64(),
        DType::BF16 => bf16::from_bits(u16::from_ne_bytes([b[0], b[1]])).to_f64(),
        other => match other.fp8_format() {
            Some(fmt) => f64::from(fmt.decode(b[0])),
            None => decode_int(other, b) as f64,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_through_every_storage_dtype() {
        for dtype in DType::ALL {
            if matches!(dtype, DType::Void | DType::Index) {
                continue;
            }
            let vals = [0i64, 1, 2, 7];
            let t =
                HostTensor::from_i64s(ElemType::Native(dtype), vec![2, 2], &vals).expect("fits");
            let back: Vec<i64> = t.to_i64s();
            let want: Vec<i64> = if dtype.is_bool() {
                vec![0, 1, 1, 1]
            } else {
                vals.to_vec()
            };
            assert_eq!(back, want, "{dtype}");
        }
    }

    #[test]
    fn integers_wrap_and_floats_truncate() {
        let t =
            HostTensor::from_i64s(ElemType::Native(DType::U8), vec![2], &[256, -1]).expect("fits");
        assert_eq!(t.to_i64s(), vec![0, 255]);
        let t = HostTensor::from_f64s(
            ElemType::Native(DType::I32),
            vec![3],
            &[-2.7, 2.7, f64::NAN],
        )
        .expect("fits");
        assert_eq!(t.to_i64s(), vec![-2, 2, 0]);
    }

    #[test]
    fn a_wrong_byte_count_is_an_error() {
        assert!(HostTensor::new(ElemType::Native(DType::F32), vec![2], vec![0; 7]).is_err());
        assert!(HostTensor::new(ElemType::Native(DType::F32), vec![-1], vec![]).is_err());
        assert!(HostTensor::new(ElemType::Native(DType::F32), vec![i64::MAX, 4], vec![]).is_err());
    }
}
