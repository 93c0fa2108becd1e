//! Loading a model: decode the protobuf (a truncated or corrupted file is an error, never a
//! panic), check the opsets it imports, and convert its graph. External data files are
//! read from the model's directory.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use prost::Message;

use crate::error::{OnnxError, Result};
use crate::graph::{Graph, normalize_domain};
use crate::proto;

/// The newest version of the default domain (`ai.onnx`) this importer knows.
pub const MAX_ONNX_OPSET: i64 = 24;

/// Domains whose ops the importer runs, with the newest version of each it knows.
pub const KNOWN_DOMAINS: &[(&str, i64)] = &[
    ("ai.onnx", MAX_ONNX_OPSET),
    ("ai.onnx.ml", 5),
    ("ai.onnx.preview.training", 1),
    ("com.microsoft", 1),
];

/// A loaded model.
#[derive(Debug)]
pub struct Model {
    pub ir_version: i64,
    pub producer: String,
    /// Imported opset version by (normalized) domain.
    pub opsets: BTreeMap<String, i64>,
    pub graph: Arc<Graph>,
}

impl Model {
    /// Reads and converts the model at `path` (external data next to it).
    pub fn load(path: impl AsRef<Path>) -> Result<Model> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| OnnxError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Model::from_bytes(&bytes, path.parent())
    }

    /// Converts a serialized model; `dir` is where its external data files are (`None`:
    /// it may have none).
    pub fn from_bytes(bytes: &[u8], dir: Option<&Path>) -> Result<Model> {
        let m = proto::ModelProto::decode(bytes).map_err(|source| OnnxError::Decode {
            what: "model (ModelProto)",
            source,
        })?;
        Model::from_proto(&m, dir)
    }

    pub fn from_proto(m: &proto::ModelProto, dir: Option<&Path>) -> Result<Model> {
        let opsets = check_opsets(&m.opset_import)?;
        if !m.functions.is_empty() {
            let names: Vec<String> = m
                .functions
                .iter()
                .map(|f| f.name.clone().unwrap_or_default())
                .collect();
            return Err(OnnxError::Model(format!(
                "model-local functions are not supported ({})",
                names.join(", ")
            )));
        }
        let graph = m
            .graph
            .as_ref()
            .ok_or_else(|| OnnxError::Model("the model has no graph".into()))?;
        Ok(Model {
            ir_version: m.ir_version.unwrap_or(0),
            producer: [m.producer_name.as_deref(), m.producer_version.as_deref()]
                .iter()
                .flatten()
                .copied()
                .collect::<Vec<_>>()
                .join(" "),
            opsets,
            graph: Arc::new(Graph::from_proto(graph, dir)?),
        })
    }

    /// The imported version of `domain` (0: not imported).
    pub fn opset(&self, domain: &str) -> i64 {
        self.opsets
            .get(normalize_domain(domain))
            .copied()
            .unwrap_or(0)
    }
}

/// The opset imports by domain, checked: each version is positive, each domain imported
/// once, and a known domain's version is one this importer knows. Unknown domains are
/// allowed here: a node of one is reported when it runs.
fn check_opsets(imports: &[proto::OperatorSetIdProto]) -> Result<BTreeMap<String, i64>> {
    let mut out = BTreeMap::new();
    for o in imports {
        let domain = normalize_domain(o.domain.as_deref().unwrap_or_default()).to_string();
        let version = o.version.unwrap_or(0);
        if version < 1 {
            return Err(OnnxError::Opset(format!(
                "domain '{domain}' is imported at version {version}"
            )));
        }
        if let Some((_, max)) = KNOWN_DOMAINS.iter().find(|(d, _)| *d == domain)
            && version > *max
        {
            return Err(OnnxError::Opset(format!(
                "domain '{domain}' version {version} is newer than this importer knows ({max})"
            )));
        }
        if out.insert(domain.clone(), version).is_some() {
            return Err(OnnxError::Opset(format!(
                "domain '{domain}' is imported twice"
            )));
        }
    }
    if !out.contains_key("ai.onnx") && imports.is_empty() {
        // IR version 1 models have no imports: they mean opset 1
        out.insert("ai.onnx".to_string(), 1);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn import(domain: &str, version: i64) -> proto::OperatorSetIdProto {
        proto::OperatorSetIdProto {
            domain: Some(domain.into()),
            version: Some(version),
        }
    }

    #[test]
    fn opsets_are_checked() {
        assert!(check_opsets(&[import("", 13)]).is_ok());
        let too_new = check_opsets(&[import("", MAX_ONNX_OPSET + 1)]).expect_err("too new");
        assert!(too_new.to_string().contains("newer"), "{too_new}");
        assert!(check_opsets(&[import("", 13), import("ai.onnx", 14)]).is_err());
        assert!(check_opsets(&[import("", 0)]).is_err());
        assert!(check_opsets(&[import("com.example", 3)]).is_ok());
    }

    #[test]
    fn garbage_is_a_decode_error() {
        let err = Model::from_bytes(&[0xFF, 0xFF, 0xFF], None).expect_err("not a model");
        assert!(matches!(err, OnnxError::Decode { .. }), "{err}");
        let err = Model::from_bytes(&[], None).expect_err("empty");
        assert!(err.to_string().contains("no graph"), "{err}");
    }
}
