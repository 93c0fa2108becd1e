//! `TensorProto` to `HostTensor`: every element type ferrograd can hold, from whichever
//! field carries the data (`raw_data`, the typed repeated fields, or an external file
//! next to the model), with the element count checked against the dims. 4-bit types are
//! unpacked (low nibble first); little-endian raw data is converted to the host's order.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Component, Path};

use dtype::DType;

use crate::elem::{ElemType, e8m0_decode, float4_decode};
use crate::error::{OnnxError, Result, invalid};
use crate::host::{HostTensor, encode_f64, encode_int, numel_of};
use crate::proto::TensorProto;

/// `data_location` of a tensor whose bytes are in an external file.
const EXTERNAL: i32 = 1;

/// The values of `t`; `dir` is the model's directory, where external data files are.
pub fn decode_tensor(t: &TensorProto, dir: Option<&Path>) -> Result<HostTensor> {
    let name = t.name.clone().unwrap_or_default();
    decode(t, dir).map_err(|e| match e {
        OnnxError::Invalid(why) => OnnxError::TensorData { name, why },
        other => other,
    })
}

fn decode(t: &TensorProto, dir: Option<&Path>) -> Result<HostTensor> {
    if t.segment.is_some() {
        return Err(invalid!("segmented tensors are not supported"));
    }
    let elem = ElemType::from_onnx(t.data_type.unwrap_or(0))?;
    let shape = t.dims.clone();
    let numel = numel_of(&shape)?;
    let raw = if t.data_location == Some(EXTERNAL) {
        Some(read_external(t, dir)?)
    } else {
        t.raw_data.clone()
    };
    if let Some(raw) = raw {
        return from_raw(elem, shape, numel, &raw);
    }
    from_fields(t, elem, shape, numel)
}

/// The bytes of an external tensor: `location` (relative to the model, never leaving its
/// directory), from `offset`, `length` bytes (or to the end).
fn read_external(t: &TensorProto, dir: Option<&Path>) -> Result<Vec<u8>> {
    let (mut location, mut offset, mut length) = (None, 0u64, None);
    for entry in &t.external_data {
        let value = entry.value.as_deref().unwrap_or_default();
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| invalid!("external data {:?} is not a number: {value:?}", entry.key))
        };
        match entry.key.as_deref().unwrap_or_default() {
            "location" => location = Some(value.to_string()),
            "offset" => offset = number()?,
            "length" => length = Some(number()?),
            _ => {}
        }
    }
    let location = location.ok_or_else(|| invalid!("external data without a location"))?;
    let rel = Path::new(&location);
    if rel
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(invalid!(
            "external data location {location:?} must be a path inside the model's directory"
        ));
    }
    let dir = dir.ok_or_else(|| {
        invalid!("external data {location:?} needs the model's path (load the model from a file)")
    })?;
    let path = dir.join(rel);
    let io = |source| OnnxError::Io {
        path: path.clone(),
        source,
    };
    let mut file = std::fs::File::open(&path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    let length = length.unwrap_or(size.saturating_sub(offset));
    if offset.checked_add(length).is_none_or(|end| end > size) {
        return Err(invalid!(
            "external data {location:?}: {length} bytes at offset {offset} pass the end of the file ({size} bytes)"
        ));
    }
    file.seek(SeekFrom::Start(offset)).map_err(io)?;
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(length as usize)
        .map_err(|_| invalid!("cannot allocate {length} bytes for external data"))?;
    file.take(length).read_to_end(&mut bytes).map_err(io)?;
    Ok(bytes)
}

/// Values from little-endian packed bytes.
fn from_raw(elem: ElemType, shape: Vec<i64>, numel: usize, raw: &[u8]) -> Result<HostTensor> {
    let want = (numel * elem.bits()).div_ceil(8);
    if raw.len() != want {
        return Err(invalid!(
            "raw data of {} bytes for {shape:?} of {elem} ({want} bytes expected)",
            raw.len()
        ));
    }
    let bytes = match elem {
        ElemType::Native(d) if cfg!(target_endian = "little") || d.itemsize() == 1 => {
            if d.is_bool() {
                raw.iter().map(|&b| u8::from(b != 0)).collect()
            } else {
                raw.to_vec()
            }
        }
        ElemType::Native(d) => raw
            .chunks_exact(d.itemsize())
            .flat_map(|c| c.iter().rev().copied())
            .collect(),
        ElemType::Int4 | ElemType::UInt4 | ElemType::Float4E2M1 => {
            let nibbles = (0..numel).map(|i| (raw[i / 2] >> (4 * (i % 2))) & 0xF);
            nibbles_to_storage(elem, nibbles)
        }
        ElemType::Float8E8M0 => {
            let mut out = Vec::with_capacity(raw.len() * 4);
            for &b in raw {
                out.extend_from_slice(&e8m0_decode(b).to_ne_bytes());
            }
            out
        }
    };
    HostTensor::new(elem, shape, bytes)
}

/// 4-bit codes as their storage dtype's bytes.
fn nibbles_to_storage(elem: ElemType, nibbles: impl Iterator<Item = u8>) -> Vec<u8> {
    let mut out = Vec::new();
    for n in nibbles {
        match elem {
            // sign-extend the low nibble
            ElemType::Int4 => out.push((((n << 4) as i8) >> 4) as u8),
            ElemType::Float4E2M1 => out.extend_from_slice(&float4_decode(n).to_ne_bytes()),
            _ => out.push(n),
        }
    }
    out
}

/// Values from the typed repeated fields.
fn from_fields(
    t: &TensorProto,
    elem: ElemType,
    shape: Vec<i64>,
    numel: usize,
) -> Result<HostTensor> {
    let dtype = elem.storage();
    let count = |have: usize| -> Result<()> {
        if have != numel {
            return Err(invalid!(
                "{have} values for shape {shape:?} ({numel} elements) of {elem}"
            ));
        }
        Ok(())
    };
    let mut bytes = Vec::new();
    match elem {
        ElemType::Native(DType::F32) => {
            count(t.float_data.len())?;
            t.float_data
                .iter()
                .for_each(|v| bytes.extend_from_slice(&v.to_ne_bytes()));
        }
        ElemType::Native(DType::F64) => {
            count(t.double_data.len())?;
            t.double_data
                .iter()
                .for_each(|v| bytes.extend_from_slice(&v.to_ne_bytes()));
        }
        ElemType::Native(DType::I64) => {
            count(t.int64_data.len())?;
            t.int64_data
                .iter()
                .for_each(|v| bytes.extend_from_slice(&v.to_ne_bytes()));
        }
        ElemType::Native(DType::U32 | DType::U64) => {
            count(t.uint64_data.len())?;
            t.uint64_data
                .iter()
                .for_each(|&v| encode_int(dtype, i128::from(v), &mut bytes));
        }
        ElemType::Native(DType::F16 | DType::BF16) => {
            count(t.int32_data.len())?;
            for &v in &t.int32_data {
                bytes.extend_from_slice(&(v as u16).to_ne_bytes());
            }
        }
        ElemType::Native(d) if d.is_fp8() => {
            count(t.int32_data.len())?;
            bytes.extend(t.int32_data.iter().map(|&v| v as u8));
        }
        ElemType::Native(_) => {
            count(t.int32_data.len())?;
            for &v in &t.int32_data {
                encode_int(dtype, i128::from(v), &mut bytes);
            }
        }
        ElemType::Int4 | ElemType::UInt4 | ElemType::Float4E2M1 => {
            let packed = numel.div_ceil(2);
            if t.int32_data.len() != packed {
                return Err(invalid!(
                    "{} packed values for shape {shape:?} of {elem} ({packed} expected)",
                    t.int32_data.len()
                ));
            }
            let nibbles = (0..numel).map(|i| ((t.int32_data[i / 2] >> (4 * (i % 2))) & 0xF) as u8);
            bytes = nibbles_to_storage(elem, nibbles);
        }
        ElemType::Float8E8M0 => {
            count(t.int32_data.len())?;
            for &v in &t.int32_data {
                encode_f64(DType::F32, f64::from(e8m0_decode(v as u8)), &mut bytes);
            }
        }
    }
    HostTensor::new(elem, shape, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proto(data_type: i32, dims: Vec<i64>) -> TensorProto {
        TensorProto {
            data_type: Some(data_type),
            dims,
            name: Some("t".into()),
            ..Default::default()
        }
    }

    #[test]
    fn raw_data_and_typed_fields_give_the_same_values() {
        let mut a = proto(1, vec![2]);
        a.raw_data = Some([1.5f32.to_le_bytes(), (-2.0f32).to_le_bytes()].concat());
        let mut b = proto(1, vec![2]);
        b.float_data = vec![1.5, -2.0];
        assert_eq!(
            decode_tensor(&a, None).expect("valid").to_f64s(),
            decode_tensor(&b, None).expect("valid").to_f64s()
        );
    }

    #[test]
    fn int4_unpacks_low_nibble_first_with_sign() {
        let mut t = proto(22, vec![3]);
        t.raw_data = Some(vec![0xF7, 0x08]);
        assert_eq!(
            decode_tensor(&t, None).expect("valid").to_i64s(),
            vec![7, -1, -8]
        );
    }

    #[test]
    fn a_count_that_does_not_fill_the_dims_names_the_tensor() {
        let mut t = proto(7, vec![3]);
        t.int64_data = vec![1, 2];
        let err = decode_tensor(&t, None)
            .expect_err("too few values")
            .to_string();
        assert!(err.contains("tensor 't'"), "{err}");
    }

    #[test]
    fn external_data_may_not_leave_the_model_directory() {
        let mut t = proto(1, vec![1]);
        t.data_location = Some(EXTERNAL);
        t.external_data = vec![crate::proto::StringStringEntryProto {
            key: Some("location".into()),
            value: Some("../secret".into()),
        }];
        let err = decode_tensor(&t, Some(Path::new("/tmp")))
            .expect_err("outside the directory")
            .to_string();
        assert!(err.contains("inside the model's directory"), "{err}");
    }
}
