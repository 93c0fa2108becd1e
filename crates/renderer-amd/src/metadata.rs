//! The code object's metadata: an `NT_AMDGPU_METADATA` note (owner `AMDGPU`, type 32)
//! holding a MessagePack map, with per kernel (`amdhsa.kernels`) what the compiler
//! decided: registers (`.sgpr_count`, `.vgpr_count`, `.agpr_count`), LDS and scratch
//! sizes, the kernarg segment size, the wavefront size and the workgroup limit. This is
//! a small MessagePack reader for it (no panics on any bytes; nesting and lengths are
//! bounded by the input) and the fields the tests compare with the descriptor.

use crate::AmdRenderError;

/// A MessagePack value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Nil,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Bin(Vec<u8>),
    Array(Vec<Value>),
    Map(Vec<(Value, Value)>),
}

impl Value {
    /// The value of key `key` of a map.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| matches!(k, Value::Str(s) if s == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Int(i) => u64::try_from(*i).ok(),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// Values nested deeper than this are refused.
const MAX_DEPTH: usize = 64;

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn fail(&self, why: &str) -> AmdRenderError {
        AmdRenderError::CodeObject(format!("metadata at byte {}: {why}", self.at))
    }

    fn take(&mut self, n: usize) -> Result<&[u8], AmdRenderError> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.b.len());
        let end = end.ok_or_else(|| self.fail("the MessagePack data ends early"))?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn uint(&mut self, n: usize) -> Result<u64, AmdRenderError> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |acc, &x| acc << 8 | u64::from(x)))
    }

    fn value(&mut self, depth: usize) -> Result<Value, AmdRenderError> {
        if depth > MAX_DEPTH {
            return Err(self.fail("values nest too deep"));
        }
        let tag = self.take(1)?[0];
        Ok(match tag {
            0x00..=0x7f => Value::Int(i128::from(tag)),
            0x80..=0x8f => self.map(usize::from(tag & 0xf), depth)?,
            0x90..=0x9f => self.array(usize::from(tag & 0xf), depth)?,
            0xa0..=0xbf => self.string(usize::from(tag & 0x1f))?,
            0xc0 => Value::Nil,
            0xc2 => Value::Bool(false),
            0xc3 => Value::Bool(true),
            0xc4..=0xc6 => {
                let n = self.uint(1 << (tag - 0xc4))? as usize;
                Value::Bin(self.take(n)?.to_vec())
            }
            0xca => Value::Float(f64::from(f32::from_bits(self.uint(4)? as u32))),
            0xcb => Value::Float(f64::from_bits(self.uint(8)?)),
            0xcc..=0xcf => Value::Int(i128::from(self.uint(1 << (tag - 0xcc))?)),
            0xd0..=0xd3 => {
                let n = 1usize << (tag - 0xd0);
                let raw = self.uint(n)?;
                let shift = 64 - 8 * n as u32;
                Value::Int(i128::from(((raw << shift) as i64) >> shift))
            }
            0xd9..=0xdb => {
                let n = self.uint(1 << (tag - 0xd9))? as usize;
                self.string(n)?
            }
            0xdc | 0xdd => {
                let n = self.uint(if tag == 0xdc { 2 } else { 4 })? as usize;
                self.array(n, depth)?
            }
            0xde | 0xdf => {
                let n = self.uint(if tag == 0xde { 2 } else { 4 })? as usize;
                self.map(n, depth)?
            }
            0xe0..=0xff => Value::Int(i128::from(tag as i8)),
            other => return Err(self.fail(&format!("tag {other:#04x} is not read here"))),
        })
    }

    fn string(&mut self, n: usize) -> Result<Value, AmdRenderError> {
        Ok(Value::Str(
            String::from_utf8_lossy(self.take(n)?).into_owned(),
        ))
    }

    fn array(&mut self, n: usize, depth: usize) -> Result<Value, AmdRenderError> {
        let mut out = Vec::with_capacity(n.min(self.b.len()));
        for _ in 0..n {
            out.push(self.value(depth + 1)?);
        }
        Ok(Value::Array(out))
    }

    fn map(&mut self, n: usize, depth: usize) -> Result<Value, AmdRenderError> {
        let mut out = Vec::with_capacity(n.min(self.b.len()));
        for _ in 0..n {
            let k = self.value(depth + 1)?;
            let v = self.value(depth + 1)?;
            out.push((k, v));
        }
        Ok(Value::Map(out))
    }
}

/// The first MessagePack value in `bytes`.
pub fn parse(bytes: &[u8]) -> Result<Value, AmdRenderError> {
    Reader { b: bytes, at: 0 }.value(0)
}

/// What the metadata says about one kernel.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KernelMetadata {
    pub name: String,
    pub sgpr_count: u64,
    pub vgpr_count: u64,
    pub agpr_count: u64,
    pub group_segment_fixed_size: u64,
    pub private_segment_fixed_size: u64,
    pub kernarg_segment_size: u64,
    pub wavefront_size: u64,
    pub max_flat_workgroup_size: u64,
    /// Sizes of the explicit arguments, in order.
    pub args: Vec<u64>,
}

/// The kernels of a metadata map.
pub fn kernels(root: &Value) -> Result<Vec<KernelMetadata>, AmdRenderError> {
    let missing = |what: &str| AmdRenderError::CodeObject(format!("the metadata has no {what}"));
    let Some(Value::Array(list)) = root.get("amdhsa.kernels") else {
        return Err(missing("amdhsa.kernels"));
    };
    list.iter()
        .map(|k| {
            let num = |key: &str| k.get(key).and_then(Value::as_u64).unwrap_or(0);
            let args = match k.get(".args") {
                Some(Value::Array(args)) => args
                    .iter()
                    .map(|a| a.get(".size").and_then(Value::as_u64).unwrap_or(0))
                    .collect(),
                _ => Vec::new(),
            };
            Ok(KernelMetadata {
                name: k
                    .get(".name")
                    .and_then(Value::as_str)
                    .ok_or_else(|| missing("kernel .name"))?
                    .to_string(),
                sgpr_count: num(".sgpr_count"),
                vgpr_count: num(".vgpr_count"),
                agpr_count: num(".agpr_count"),
                group_segment_fixed_size: num(".group_segment_fixed_size"),
                private_segment_fixed_size: num(".private_segment_fixed_size"),
                kernarg_segment_size: num(".kernarg_segment_size"),
                wavefront_size: num(".wavefront_size"),
                max_flat_workgroup_size: num(".max_flat_workgroup_size"),
                args,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn reads_maps_arrays_strings_and_integers() {
        // {"amdhsa.kernels": [{".name": "k", ".vgpr_count": 300, ".sgpr_count": -1}]}
        let mut b = vec![0x81, 0xae];
        b.extend_from_slice(b"amdhsa.kernels");
        b.extend([0x91, 0x83, 0xa5]);
        b.extend_from_slice(b".name");
        b.extend([0xa1, b'k', 0xab]);
        b.extend_from_slice(b".vgpr_count");
        b.extend([0xcd, 0x01, 0x2c, 0xab]);
        b.extend_from_slice(b".sgpr_count");
        b.push(0xff);
        let v = parse(&b).unwrap_or_else(|e| panic!("{e}"));
        let ks = kernels(&v).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ks.len(), 1);
        assert_eq!(
            (ks[0].name.as_str(), ks[0].vgpr_count, ks[0].sgpr_count),
            ("k", 300, 0)
        );
        assert!(parse(&b[..b.len() - 3]).is_err());
        assert!(kernels(&Value::Map(Vec::new())).is_err());
    }

    proptest! {
        #[test]
        fn no_bytes_make_it_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok(v) = parse(&bytes) {
                let _ = kernels(&v);
            }
        }
    }
}
