//! The ONNX protobuf schema as Rust types, generated at build time by prost from
//! `proto/onnx/onnx-ml.proto` and `onnx-data.proto` (copied from the onnx 1.19.1 Python
//! wheel, Apache-2.0; see `proto/LICENSE`).

#![allow(clippy::all, missing_debug_implementations, missing_docs)]

include!(concat!(env!("OUT_DIR"), "/onnx.rs"));
