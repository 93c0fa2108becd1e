//! Compiles the ONNX protobuf schema (`proto/onnx/*.proto`, copied from the onnx 1.19.1
//! Python wheel, Apache-2.0) into Rust types with prost. protox parses the schema in Rust,
//! so no system `protoc` is needed.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = ["proto/onnx/onnx-ml.proto", "proto/onnx/onnx-data.proto"];
    for file in files {
        println!("cargo:rerun-if-changed={file}");
    }
    let descriptors = protox::compile(files, ["proto"])?;
    prost_build::Config::new().compile_fds(descriptors)?;
    Ok(())
}
