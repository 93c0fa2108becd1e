//! Finding the tensor at fault in a safetensors file the format's parser refused: some of
//! its errors ("invalid shape, data type, or offset for tensor") do not say which tensor.
//! This reads the JSON header on its own and names the first entry (by name) whose dtype
//! is unknown or whose byte range does not hold its shape.

use ::safetensors::Dtype;
use serde_json::{Map, Value};

/// The size of the header-length prefix.
const PREFIX: usize = 8;

/// The entry of `file`'s header at fault and what is wrong with it, if one is.
pub(super) fn tensor_at_fault(file: &[u8]) -> Option<(String, String)> {
    let len = u64::from_le_bytes(file.get(..PREFIX)?.try_into().ok()?);
    let end = PREFIX.checked_add(usize::try_from(len).ok()?)?;
    let header: Map<String, Value> = serde_json::from_slice(file.get(PREFIX..end)?).ok()?;
    let mut entries: Vec<(&String, &Value)> = header
        .iter()
        .filter(|(name, _)| name.as_str() != "__metadata__")
        .collect();
    entries.sort_by_key(|(name, _)| *name);
    entries
        .into_iter()
        .find_map(|(name, entry)| problem(entry).map(|why| (name.clone(), why)))
}

/// What is wrong with one header entry (`{"dtype", "shape", "data_offsets"}`), if anything.
fn problem(entry: &Value) -> Option<String> {
    let dtype_name = entry.get("dtype").and_then(Value::as_str);
    let Some(dtype) = dtype_name.and_then(|d| serde_json::from_value::<Dtype>(d.into()).ok())
    else {
        return Some(format!("unknown dtype {}", entry.get("dtype")?));
    };
    let shape: Option<Vec<u64>> = entry
        .get("shape")?
        .as_array()?
        .iter()
        .map(Value::as_u64)
        .collect();
    let Some(shape) = shape else {
        return Some(format!("bad shape {}", entry.get("shape")?));
    };
    let offsets: Option<Vec<u64>> = entry
        .get("data_offsets")?
        .as_array()?
        .iter()
        .map(Value::as_u64)
        .collect();
    let (begin, end) = match offsets.as_deref() {
        Some(&[b, e]) if b <= e => (b, e),
        _ => return Some(format!("bad data_offsets {}", entry.get("data_offsets")?)),
    };
    let bits = shape
        .iter()
        .try_fold(dtype.bitsize() as u64, |acc, &d| acc.checked_mul(d));
    match bits {
        None => Some(format!("shape {shape:?} is too large")),
        Some(bits) if bits.div_ceil(8) != end - begin => Some(format!(
            "shape {shape:?} of {dtype} needs {} bytes, its data_offsets [{begin}, {end}] hold {}",
            bits.div_ceil(8),
            end - begin
        )),
        Some(_) => None,
    }
}
