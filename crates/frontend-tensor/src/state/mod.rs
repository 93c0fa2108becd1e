//! Named tensors in safetensors files, as PyTorch writes and reads them
//! (`safetensors.torch.save_file(model.state_dict(), path)`): every ferrograd dtype that
//! the format has, by the format's names (`F32`, `BF16`, `F8_E4M3`, `BOOL`...), data
//! little-endian. A bad file is an error naming the file (and the tensor), never a panic.

mod header;

use std::collections::HashMap;
use std::path::Path;

use ::safetensors::{Dtype, SafeTensors, tensor::TensorView};
use dtype::DType;

use crate::error::{Result, TensorError};
use crate::tensor::Tensor;

/// ferrograd's dtypes and the format's names for them (every dtype with values has one).
const DTYPES: [(DType, Dtype); 17] = [
    (DType::Bool, Dtype::BOOL),
    (DType::I8, Dtype::I8),
    (DType::I16, Dtype::I16),
    (DType::I32, Dtype::I32),
    (DType::I64, Dtype::I64),
    (DType::U8, Dtype::U8),
    (DType::U16, Dtype::U16),
    (DType::U32, Dtype::U32),
    (DType::U64, Dtype::U64),
    (DType::Fp8E4M3, Dtype::F8_E4M3),
    (DType::Fp8E5M2, Dtype::F8_E5M2),
    (DType::Fp8E4M3Fnuz, Dtype::F8_E4M3FNUZ),
    (DType::Fp8E5M2Fnuz, Dtype::F8_E5M2FNUZ),
    (DType::F16, Dtype::F16),
    (DType::BF16, Dtype::BF16),
    (DType::F32, Dtype::F32),
    (DType::F64, Dtype::F64),
];

fn to_format(dtype: DType) -> Option<Dtype> {
    DTYPES.iter().find(|(d, _)| *d == dtype).map(|(_, f)| *f)
}

fn from_format(dtype: Dtype) -> Option<DType> {
    DTYPES.iter().find(|(_, f)| *f == dtype).map(|(d, _)| *d)
}

/// Host byte order <-> little-endian, for elements of `itemsize` bytes (a no-op on
/// little-endian hosts).
fn swap_to_little_endian(bytes: &mut [u8], itemsize: usize) {
    if cfg!(target_endian = "big") && itemsize > 1 {
        bytes.chunks_exact_mut(itemsize).for_each(<[u8]>::reverse);
    }
}

fn error(path: &Path, tensor: Option<&str>, why: impl Into<String>) -> TensorError {
    TensorError::Safetensors {
        path: path.display().to_string(),
        tensor: tensor.map(str::to_string),
        why: why.into(),
    }
}

/// Writes `tensors` to a safetensors file at `path` (realizing them, in one schedule).
/// Names must be unique; `Void` and `Index` tensors cannot be saved.
///
/// ```
/// # use frontend_tensor::*;
/// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
/// let path = std::env::temp_dir().join("frontend_tensor_doc_save.safetensors");
/// let x = Tensor::from_slice(&[1.0f32, 2.0], &[2])?;
/// save_safetensors(&path, &[("x".to_string(), x)])?;
/// assert!(path.exists());
/// # Ok::<(), TensorError>(())
/// ```
pub fn save_safetensors(path: impl AsRef<Path>, tensors: &[(String, Tensor)]) -> Result<()> {
    let path = path.as_ref();
    let mut seen = HashMap::new();
    for (name, t) in tensors {
        if seen.insert(name.as_str(), ()).is_some() {
            return Err(error(path, Some(name), "the name is given twice"));
        }
        if to_format(t.dtype()).is_none() {
            return Err(error(
                path,
                Some(name),
                format!("dtype {} has no safetensors name", t.dtype()),
            ));
        }
    }
    let refs: Vec<&Tensor> = tensors.iter().map(|(_, t)| t).collect();
    Tensor::realize_all(&refs)?;
    let mut data = Vec::with_capacity(tensors.len());
    for (name, t) in tensors {
        let mut bytes = t.to_bytes()?;
        swap_to_little_endian(&mut bytes, t.dtype().itemsize());
        data.push((name.clone(), t.dtype(), t.shape().to_vec(), bytes));
    }
    let mut views = Vec::with_capacity(data.len());
    for (name, dtype, shape, bytes) in &data {
        let format = to_format(*dtype).ok_or_else(|| error(path, Some(name), "no dtype"))?;
        let dims = shape.iter().map(|&d| d as usize).collect();
        let view = TensorView::new(format, dims, bytes)
            .map_err(|e| error(path, Some(name), e.to_string()))?;
        views.push((name.as_str(), view));
    }
    ::safetensors::serialize_to_file(views, None, path)
        .map_err(|e| error(path, None, e.to_string()))
}

/// The tensors of the safetensors file at `path`, on the default device, sorted by name.
///
/// ```
/// # use frontend_tensor::*;
/// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
/// let path = std::env::temp_dir().join("frontend_tensor_doc_load.safetensors");
/// let x = Tensor::from_slice(&[1.0f32, 2.0], &[2])?;
/// save_safetensors(&path, &[("x".to_string(), x)])?;
/// let loaded = load_safetensors(&path)?;
/// assert_eq!(loaded[0].0, "x");
/// assert_eq!(loaded[0].1.to_vec::<f32>()?, [1.0, 2.0]);
/// # Ok::<(), TensorError>(())
/// ```
pub fn load_safetensors(path: impl AsRef<Path>) -> Result<Vec<(String, Tensor)>> {
    load_safetensors_on(path, &crate::device::default_device())
}

/// The tensors of the safetensors file at `path`, on `device`, sorted by name.
///
/// ```
/// # use frontend_tensor::*;
/// # device::register("CPU", |n| Ok(std::sync::Arc::new(runtime_cpu::CpuDevice::new(n, Box::new(renderer_c::CRenderer::new())))));
/// let path = std::env::temp_dir().join("frontend_tensor_doc_load_on.safetensors");
/// let x = Tensor::from_slice(&[1.0f32, 2.0], &[2])?;
/// save_safetensors(&path, &[("x".to_string(), x)])?;
/// let loaded = load_safetensors_on(&path, "CPU")?;
/// assert_eq!(loaded[0].1.device(), "CPU");
/// # Ok::<(), TensorError>(())
/// ```
pub fn load_safetensors_on(path: impl AsRef<Path>, device: &str) -> Result<Vec<(String, Tensor)>> {
    let path = path.as_ref();
    let file = std::fs::read(path).map_err(|e| error(path, None, format!("cannot read: {e}")))?;
    let parsed =
        SafeTensors::deserialize(&file).map_err(|e| match header::tensor_at_fault(&file) {
            Some((name, why)) => error(path, Some(&name), why),
            None => error(path, None, e.to_string()),
        })?;
    let mut names: Vec<&str> = parsed.names();
    names.sort_unstable();
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let view = parsed
            .tensor(name)
            .map_err(|e| error(path, Some(name), e.to_string()))?;
        let dtype = from_format(view.dtype()).ok_or_else(|| {
            error(
                path,
                Some(name),
                format!("dtype {:?} is not supported by ferrograd", view.dtype()),
            )
        })?;
        let shape: Vec<i64> = view
            .shape()
            .iter()
            .map(|&d| i64::try_from(d))
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| {
                error(
                    path,
                    Some(name),
                    format!("shape {:?} is too large", view.shape()),
                )
            })?;
        let mut bytes = view.data().to_vec();
        swap_to_little_endian(&mut bytes, dtype.itemsize());
        if dtype == DType::Bool {
            bytes.iter_mut().for_each(|b| *b = u8::from(*b != 0));
        }
        let t = Tensor::from_bytes(&bytes, dtype, &shape, device)
            .map_err(|e| error(path, Some(name), e.to_string()))?;
        out.push((name.to_string(), t));
    }
    Ok(out)
}
