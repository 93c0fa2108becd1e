//! NumPy `.npy` files (format versions 1 to 3, little-endian, C order) to and from
//! [`HostTensor`]s: how `ferrograd run` takes inputs and writes outputs, and how
//! `onnx-diff` exchanges tensors with onnxruntime. Element types: bool, i8..i64,
//! u8..u64, f16, f32, f64.

use dtype::DType;

use crate::elem::ElemType;
use crate::error::{OnnxError, Result};
use crate::host::HostTensor;

const MAGIC: &[u8] = b"\x93NUMPY";

fn bad(why: impl Into<String>) -> OnnxError {
    OnnxError::TensorData {
        name: ".npy".into(),
        why: why.into(),
    }
}

/// The dtype of a NumPy `descr` string (`'<f4'`).
fn dtype_of(descr: &str) -> Result<DType> {
    Ok(match descr {
        "|b1" => DType::Bool,
        "|i1" => DType::I8,
        "<i2" => DType::I16,
        "<i4" => DType::I32,
        "<i8" => DType::I64,
        "|u1" => DType::U8,
        "<u2" => DType::U16,
        "<u4" => DType::U32,
        "<u8" => DType::U64,
        "<f2" => DType::F16,
        "<f4" => DType::F32,
        "<f8" => DType::F64,
        other => {
            return Err(bad(format!(
                "unsupported dtype '{other}' (little-endian bool, ints, f16, f32, f64 only)"
            )));
        }
    })
}

fn descr_of(d: DType) -> Result<&'static str> {
    Ok(match d {
        DType::Bool => "|b1",
        DType::I8 => "|i1",
        DType::I16 => "<i2",
        DType::I32 => "<i4",
        DType::I64 => "<i8",
        DType::U8 => "|u1",
        DType::U16 => "<u2",
        DType::U32 => "<u4",
        DType::U64 => "<u8",
        DType::F16 => "<f2",
        DType::F32 => "<f4",
        DType::F64 => "<f8",
        other => return Err(bad(format!("{other} has no .npy dtype"))),
    })
}

/// The value of `key` in the header dict (`'descr': '<f4', ...`), as written.
fn field<'a>(header: &'a str, key: &str) -> Result<&'a str> {
    let pat = format!("'{key}':");
    let at = header
        .find(&pat)
        .ok_or_else(|| bad(format!("the header has no '{key}'")))?;
    let rest = header[at + pat.len()..].trim_start();
    let end = if rest.starts_with('(') {
        rest.find(')').map(|e| e + 1)
    } else {
        rest.find([',', '}'])
    }
    .ok_or_else(|| bad(format!("the header's '{key}' does not end")))?;
    Ok(rest[..end].trim())
}

/// Reads a `.npy` file's bytes.
pub fn read_npy(bytes: &[u8]) -> Result<HostTensor> {
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err(bad("not a .npy file (no \\x93NUMPY magic)"));
    }
    let (len, start): (usize, usize) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(bad(format!("unsupported .npy version {v}"))),
    };
    let header = bytes
        .get(start..start.saturating_add(len))
        .ok_or_else(|| bad("the header runs past the end of the file"))?;
    let header = std::str::from_utf8(header).map_err(|_| bad("the header is not text"))?;
    let descr = field(header, "descr")?.trim_matches(['\'', '"']);
    if field(header, "fortran_order")? != "False" {
        return Err(bad("Fortran-order arrays are not supported"));
    }
    let shape_text = field(header, "shape")?;
    let shape: Vec<i64> = shape_text
        .trim_matches(['(', ')'])
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<i64>()
                .map_err(|_| bad(format!("bad shape {shape_text}")))
        })
        .collect::<Result<_>>()?;
    let dtype = dtype_of(descr)?;
    HostTensor::new(
        ElemType::Native(dtype),
        shape,
        bytes[start + len..].to_vec(),
    )
}

/// The `.npy` (version 1) bytes of `h`.
pub fn write_npy(h: &HostTensor) -> Result<Vec<u8>> {
    let descr = descr_of(h.elem().storage())?;
    let dims: Vec<String> = h.shape().iter().map(|d| d.to_string()).collect();
    let shape = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    // the data starts 64-byte aligned; the header ends in a newline
    let used = MAGIC.len() + 4 + header.len() + 1;
    header.push_str(&" ".repeat((64 - used % 64) % 64));
    header.push('\n');
    let len = u16::try_from(header.len()).map_err(|_| bad("the header is too long"))?;
    let mut out = Vec::with_capacity(MAGIC.len() + 4 + header.len() + h.bytes().len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(h.bytes());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_shapes_and_dtypes() {
        let cases = [
            (DType::F32, vec![2, 3]),
            (DType::I64, vec![4]),
            (DType::Bool, vec![]),
            (DType::F16, vec![1, 0, 2]),
        ];
        for (d, shape) in cases {
            let n: i64 = shape.iter().product();
            let vals: Vec<i64> = (0..n).map(|v| v % 2).collect();
            let h = HostTensor::from_i64s(ElemType::Native(d), shape.clone(), &vals).unwrap();
            let bytes = write_npy(&h).unwrap();
            assert_eq!(
                (bytes.len() - h.bytes().len()) % 64,
                0,
                "data 64-byte aligned"
            );
            let back = read_npy(&bytes).unwrap();
            assert_eq!(back, h);
        }
    }

    #[test]
    fn reads_numpy_written_header() {
        // the header numpy 2 writes for np.arange(3, dtype=np.float32)
        let mut b = Vec::from(&b"\x93NUMPY\x01\x00v\x00"[..]);
        let mut header = String::from("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }");
        header.push_str(&" ".repeat(118 - header.len() - 1));
        header.push('\n');
        b.extend_from_slice(header.as_bytes());
        for v in [0.0f32, 1.0, 2.0] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        let h = read_npy(&b).unwrap();
        assert_eq!(h.shape(), &[3]);
        assert_eq!(h.to_f64s(), vec![0.0, 1.0, 2.0]);
    }

    #[test]
    fn rejects_truncated_and_foreign_files() {
        assert!(read_npy(b"").is_err());
        assert!(read_npy(b"\x93NUMPY\x01\x00\xff\xff{").is_err());
        assert!(read_npy(b"PK\x03\x04 not npy at all").is_err());
        let h =
            HostTensor::from_i64s(ElemType::Native(DType::F32), vec![4], &[1, 2, 3, 4]).unwrap();
        let bytes = write_npy(&h).unwrap();
        assert!(
            read_npy(&bytes[..bytes.len() - 1]).is_err(),
            "one byte short"
        );
    }
}
