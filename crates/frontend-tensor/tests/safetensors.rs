//! safetensors files: every dtype round-trips bit for bit; a module saves and loads its
//! state dict; bad files (missing, not safetensors, a tensor whose bytes do not hold its
//! shape, a dtype ferrograd lacks) are errors naming the file and the tensor; and files
//! go both ways with Python's `safetensors` package (skipped, saying why, without it).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use frontend_tensor::nn::{BatchNorm2d, Linear, Module};
use frontend_tensor::{DType, Tensor, load_safetensors, manual_seed, save_safetensors};

/// A fresh path under the test target's scratch directory.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("safetensors-tests");
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir.join(format!("{}-{name}", std::process::id()))
}

/// Byte patterns for a tensor of `n` elements of `dtype` (bools as 0/1).
fn pattern(dtype: DType, n: usize) -> Vec<u8> {
    let size = n * dtype.itemsize();
    if dtype == DType::Bool {
        return (0..n).map(|i| (i % 3 == 0) as u8).collect();
    }
    // avoid NaN encodings so values compare by bits either way
    (0..size)
        .map(|i| (i as u8).wrapping_mul(37) & 0x3f)
        .collect()
}

fn tensor_of(dtype: DType, shape: &[i64]) -> Tensor {
    let n: i64 = shape.iter().product();
    Tensor::from_bytes(&pattern(dtype, n as usize), dtype, shape, "CPU").expect("from_bytes")
}

#[test]
fn every_dtype_round_trips_bit_for_bit() {
    if !common::cpu() {
        return;
    }
    let dtypes: Vec<DType> = DType::ALL
        .into_iter()
        .filter(|d| !matches!(d, DType::Void | DType::Index))
        .collect();
    let shapes: [&[i64]; 3] = [&[2, 3], &[], &[5]];
    let tensors: Vec<(String, Tensor)> = dtypes
        .iter()
        .enumerate()
        .map(|(i, d)| (format!("t.{d}"), tensor_of(*d, shapes[i % 3])))
        .collect();
    let path = scratch("all.safetensors");
    save_safetensors(&path, &tensors).expect("save");
    let loaded = load_safetensors(&path).expect("load");
    let mut want: Vec<&(String, Tensor)> = tensors.iter().collect();
    want.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(loaded.len(), want.len());
    for ((name, got), (want_name, t)) in loaded.iter().zip(want) {
        assert_eq!(name, want_name);
        assert_eq!(got.dtype(), t.dtype(), "{name}");
        assert_eq!(got.shape(), t.shape(), "{name}");
        assert_eq!(
            got.to_bytes().expect("bytes"),
            t.to_bytes().expect("bytes"),
            "{name}"
        );
    }
}

#[test]
fn a_module_saves_and_loads_its_state_dict() {
    if !common::cpu() {
        return;
    }
    manual_seed(3);
    let path = scratch("linear.safetensors");
    let a = Linear::new(3, 2).expect("a");
    a.save(&path).expect("save");
    let b = Linear::new(3, 2).expect("b");
    assert_ne!(
        a.weight.to_vec::<f32>().expect("a"),
        b.weight.to_vec::<f32>().expect("b")
    );
    let node = b.weight.node();
    b.load(&path).expect("load");
    assert_eq!(
        a.weight.to_vec::<f32>().expect("a"),
        b.weight.to_vec::<f32>().expect("b")
    );
    assert_eq!(b.weight.node(), node, "loaded into the same buffer");
    // a batch norm's buffers (num_batches_tracked is an i64 scalar) too
    let bn = BatchNorm2d::new(2).expect("bn");
    bn.forward(&Tensor::ones(&[2, 2, 1, 1], DType::F32).expect("x"))
        .expect("forward");
    let path = scratch("bn.safetensors");
    bn.save(&path).expect("save bn");
    let other = BatchNorm2d::new(2).expect("other");
    other.load(&path).expect("load bn");
    assert_eq!(other.num_batches_tracked().to_vec::<i64>().expect("n"), [1]);
    // a file of another module is refused, naming what does not fit
    let e = other
        .load(&scratch("linear.safetensors"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("missing: running_mean, running_var, num_batches_tracked"),
        "{e}"
    );
    assert!(
        e.contains("mismatched: weight") && e.contains("[2, 3]"),
        "{e}"
    );
    assert_eq!(other.num_batches_tracked().to_vec::<i64>().expect("n"), [1]);
}

/// A safetensors file with a hand-written header and `data`.
fn raw_file(name: &str, header: &str, data: &[u8]) -> PathBuf {
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    let path = scratch(name);
    std::fs::write(&path, bytes).expect("write");
    path
}

fn load_error(path: &Path) -> String {
    match load_safetensors(path) {
        Ok(t) => panic!(
            "{}: loaded {} tensors, want an error",
            path.display(),
            t.len()
        ),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_files_are_errors_naming_the_file_and_the_tensor() {
    if !common::cpu() {
        return;
    }
    let missing = scratch("nowhere.safetensors");
    let e = load_error(&missing);
    assert!(
        e.contains("nowhere.safetensors") && e.contains("cannot read"),
        "{e}"
    );

    let junk = scratch("junk.safetensors");
    std::fs::write(&junk, b"not a safetensors file at all").expect("write");
    let e = load_error(&junk);
    assert!(e.contains("junk.safetensors"), "{e}");

    let short = raw_file(
        "short.safetensors",
        r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[3],"data_offsets":[4,12]}}"#,
        &[0; 12],
    );
    let e = load_error(&short);
    assert!(
        e.contains("short.safetensors") && e.contains("'b'") && e.contains("12 bytes"),
        "{e}"
    );

    let complex = raw_file(
        "complex.safetensors",
        r#"{"z":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}"#,
        &[0; 8],
    );
    let e = load_error(&complex);
    assert!(
        e.contains("complex.safetensors") && e.contains("'z'") && e.contains("C64"),
        "{e}"
    );

    let truncated = raw_file(
        "truncated.safetensors",
        r#"{"w":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}}"#,
        &[0; 5],
    );
    let e = load_error(&truncated);
    assert!(e.contains("truncated.safetensors"), "{e}");

    let twice = [
        ("x".to_string(), tensor_of(DType::F32, &[1])),
        ("x".to_string(), tensor_of(DType::F32, &[1])),
    ];
    let e = save_safetensors(scratch("twice.safetensors"), &twice)
        .unwrap_err()
        .to_string();
    assert!(e.contains("'x'") && e.contains("twice"), "{e}");
}

/// A Python with `safetensors` and `numpy`, or why there is none.
fn python() -> Result<String, String> {
    let exe = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    match Command::new(&exe)
        .args(["-c", "import safetensors, numpy"])
        .output()
    {
        Err(e) => Err(format!("cannot run {exe}: {e}")),
        Ok(o) if !o.status.success() => Err(format!(
            "{exe} lacks safetensors or numpy (pip install safetensors numpy): {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Ok(_) => Ok(exe),
    }
}

fn run_python(exe: &str, script: &str, path: &Path) {
    let out = Command::new(exe)
        .args(["-c", script, &path.display().to_string()])
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "python failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

const PYTHON_WRITES: &str = r#"
import sys, numpy as np
from safetensors.numpy import save_file
save_file({
    "f32": np.array([[1.5, -2.25, 3.0], [0.5, 4.0, -1.0]], dtype=np.float32),
    "f64": np.array([1/3, -2/3, 1e300, 5e-324]),
    "f16": np.array([0.1, 65504.0, -2.0], dtype=np.float16),
    "i64": np.array([-3, 2**40], dtype=np.int64),
    "i32": np.array([-7, 2**31 - 1], dtype=np.int32),
    "i16": np.array([-300, 300], dtype=np.int16),
    "i8": np.array([-128, 127], dtype=np.int8),
    "u8": np.array([0, 255], dtype=np.uint8),
    "u16": np.array([65535], dtype=np.uint16),
    "u32": np.array([2**32 - 1], dtype=np.uint32),
    "u64": np.array([2**64 - 1], dtype=np.uint64),
    "mask": np.array([True, False, True]),
    "scalar": np.array(2.5, dtype=np.float32),
}, sys.argv[1])
"#;

#[test]
fn python_writes_and_ferrograd_reads() {
    if !common::cpu() {
        return;
    }
    let exe = match python() {
        Ok(exe) => exe,
        Err(why) => {
            eprintln!("skipping the Python interop test: {why}");
            return;
        }
    };
    let path = scratch("from-python.safetensors");
    run_python(&exe, PYTHON_WRITES, &path);
    let loaded = load_safetensors(&path).expect("load");
    let get = |name: &str| {
        loaded
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.clone())
            .unwrap_or_else(|| panic!("no tensor {name}"))
    };
    let f32s = get("f32");
    assert_eq!(f32s.shape(), [2, 3]);
    assert_eq!(
        f32s.to_vec::<f32>().expect("f32"),
        [1.5, -2.25, 3.0, 0.5, 4.0, -1.0]
    );
    assert_eq!(
        get("f64").to_vec::<f64>().expect("f64"),
        [1.0 / 3.0, -2.0 / 3.0, 1e300, 5e-324]
    );
    let f16s: Vec<half::f16> = [0.1, 65504.0, -2.0].map(half::f16::from_f64).to_vec();
    assert_eq!(get("f16").to_vec::<half::f16>().expect("f16"), f16s);
    assert_eq!(get("i64").to_vec::<i64>().expect("i64"), [-3, 1 << 40]);
    assert_eq!(get("i32").to_vec::<i32>().expect("i32"), [-7, i32::MAX]);
    assert_eq!(get("i16").to_vec::<i16>().expect("i16"), [-300, 300]);
    assert_eq!(get("i8").to_vec::<i8>().expect("i8"), [-128, 127]);
    assert_eq!(get("u8").to_vec::<u8>().expect("u8"), [0, 255]);
    assert_eq!(get("u16").to_vec::<u16>().expect("u16"), [u16::MAX]);
    assert_eq!(get("u32").to_vec::<u32>().expect("u32"), [u32::MAX]);
    assert_eq!(get("u64").to_vec::<u64>().expect("u64"), [u64::MAX]);
    assert_eq!(
        get("mask").to_vec::<bool>().expect("bool"),
        [true, false, true]
    );
    let scalar = get("scalar");
    assert_eq!(scalar.shape(), [] as [i64; 0]);
    assert_eq!(scalar.to_vec::<f32>().expect("scalar"), [2.5]);
}

const PYTHON_READS: &str = r#"
import sys, json, struct, numpy as np
path = sys.argv[1]
raw = open(path, "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
def data(name):
    b, e = header[name]["data_offsets"]
    return raw[8 + n + b:8 + n + e]
want = {"0.weight": ("F32", [2, 2]), "0.bias": ("BF16", [2]), "norm.num_batches_tracked": ("I64", []),
        "q": ("F8_E4M3", [3]), "r": ("F8_E5M2", [1]), "mask": ("BOOL", [2]), "x64": ("F64", [1]),
        "h": ("F16", [2]), "u": ("U8", [1])}
for name, (dtype, shape) in want.items():
    assert header[name]["dtype"] == dtype, (name, header[name])
    assert header[name]["shape"] == shape, (name, header[name])
assert data("0.bias") == struct.pack("<f", 1.5)[2:] + struct.pack("<f", -2.0)[2:]
assert data("q") == bytes([0x38, 0xC0, 0x7E])
assert data("r") == bytes([0x3C])
from safetensors import safe_open
with safe_open(path, framework="numpy") as f:
    assert f.get_tensor("0.weight").tolist() == [[1.0, -2.0], [0.25, 8.0]]
    assert f.get_tensor("norm.num_batches_tracked").dtype == np.int64
    assert int(f.get_tensor("norm.num_batches_tracked")) == 7
    assert f.get_tensor("mask").tolist() == [True, False]
    assert f.get_tensor("x64").tolist() == [1 / 3]
    assert f.get_tensor("h").tolist() == [0.5, -3.0]
    assert f.get_tensor("u").tolist() == [200]
print("python read every tensor")
"#;

#[test]
fn ferrograd_writes_and_python_reads() {
    if !common::cpu() {
        return;
    }
    let exe = match python() {
        Ok(exe) => exe,
        Err(why) => {
            eprintln!("skipping the Python interop test: {why}");
            return;
        }
    };
    let cpu = |bytes: &[u8], dtype, shape: &[i64]| {
        Tensor::from_bytes(bytes, dtype, shape, "CPU").expect("from_bytes")
    };
    let bf16: Vec<half::bf16> = [1.5, -2.0].map(half::bf16::from_f32).to_vec();
    let h: Vec<half::f16> = [0.5, -3.0].map(half::f16::from_f32).to_vec();
    let tensors = vec![
        (
            "0.weight".to_string(),
            Tensor::from_slice(&[1.0f32, -2.0, 0.25, 8.0], &[2, 2]).expect("w"),
        ),
        (
            "0.bias".to_string(),
            Tensor::from_slice(&bf16, &[2]).expect("bf16"),
        ),
        (
            "norm.num_batches_tracked".to_string(),
            Tensor::from_slice(&[7i64], &[]).expect("i64"),
        ),
        (
            "q".to_string(),
            cpu(&[0x38, 0xC0, 0x7E], DType::Fp8E4M3, &[3]),
        ),
        ("r".to_string(), cpu(&[0x3C], DType::Fp8E5M2, &[1])),
        (
            "mask".to_string(),
            Tensor::from_slice(&[true, false], &[2]).expect("bool"),
        ),
        (
            "x64".to_string(),
            Tensor::from_slice(&[1.0f64 / 3.0], &[1]).expect("f64"),
        ),
        ("h".to_string(), Tensor::from_slice(&h, &[2]).expect("f16")),
        // a lazy tensor is realized on save
        (
            "u".to_string(),
            Tensor::from_slice(&[100u8], &[1])
                .and_then(|t| t.mul_scalar(2.0))
                .expect("u8"),
        ),
    ];
    let path = scratch("to-python.safetensors");
    save_safetensors(&path, &tensors).expect("save");
    run_python(&exe, PYTHON_READS, &path);
}
