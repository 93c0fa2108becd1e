//! Values flowing between nodes: tensors (known on the host, lazy on a device, or both),
//! sequences of tensors, and empty optionals. A tensor known on the host (an initializer,
//! a constant, a folded shape computation) becomes a device tensor only when an op needs
//! one, once; a lazy tensor becomes a host one only when an op needs its values (a shape,
//! an axis list), which realizes it.

use std::sync::{Arc, OnceLock};

use frontend_tensor::Tensor;

use crate::elem::ElemType;
use crate::error::{Result, invalid};
use crate::host::HostTensor;

/// A tensor value. Cloning shares the host data and the device tensor.
#[derive(Clone)]
pub struct TensorValue {
    elem: ElemType,
    shape: Arc<[i64]>,
    host: Arc<OnceLock<Arc<HostTensor>>>,
    device: Arc<OnceLock<Tensor>>,
}

impl std::fmt::Debug for TensorValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TensorValue({:?}, {}", self.shape, self.elem)?;
        if self.host.get().is_some() {
            f.write_str(", host")?;
        }
        f.write_str(")")
    }
}

impl TensorValue {
    pub fn from_host(h: HostTensor) -> TensorValue {
        TensorValue::from_host_arc(Arc::new(h))
    }

    pub fn from_host_arc(h: Arc<HostTensor>) -> TensorValue {
        let v = TensorValue {
            elem: h.elem(),
            shape: h.shape().into(),
            host: Arc::default(),
            device: Arc::default(),
        };
        let _ = v.host.set(h);
        v
    }

    /// A lazy device tensor holding values of `elem` (its dtype must be `elem`'s storage).
    pub fn from_tensor_as(t: Tensor, elem: ElemType) -> Result<TensorValue> {
        if t.dtype() != elem.storage() {
            return Err(invalid!("a {} tensor cannot hold {elem} values", t.dtype()));
        }
        let v = TensorValue {
            elem,
            shape: t.shape().into(),
            host: Arc::default(),
            device: Arc::default(),
        };
        let _ = v.device.set(t);
        Ok(v)
    }

    /// A lazy device tensor of a native dtype.
    pub fn from_tensor(t: Tensor) -> TensorValue {
        let elem = ElemType::Native(t.dtype());
        let v = TensorValue {
            elem,
            shape: t.shape().into(),
            host: Arc::default(),
            device: Arc::default(),
        };
        let _ = v.device.set(t);
        v
    }

    pub fn elem(&self) -> ElemType {
        self.elem
    }

    pub fn shape(&self) -> &[i64] {
        &self.shape
    }

    pub fn rank(&self) -> usize {
        self.shape.len()
    }

    pub fn numel(&self) -> i64 {
        self.shape.iter().product()
    }

    /// The host values, if known without running anything.
    pub fn host(&self) -> Option<&Arc<HostTensor>> {
        self.host.get()
    }

    /// The device tensor (uploading host values the first time) on `device`.
    pub fn tensor_on(&self, device: &str) -> Result<Tensor> {
        if let Some(t) = self.device.get() {
            return Ok(t.clone());
        }
        let h = self
            .host
            .get()
            .ok_or_else(|| invalid!("a value with neither host nor device data"))?;
        let t = h.to_tensor(device)?;
        Ok(self.device.get_or_init(|| t).clone())
    }

    /// The values on the host (realizing the device tensor the first time).
    pub fn to_host(&self) -> Result<Arc<HostTensor>> {
        if let Some(h) = self.host.get() {
            return Ok(h.clone());
        }
        let t = self
            .device
            .get()
            .ok_or_else(|| invalid!("a value with neither host nor device data"))?;
        let h = Arc::new(HostTensor::from_tensor(t, self.elem)?);
        Ok(self.host.get_or_init(|| h).clone())
    }

    /// The values as integers (floats truncated).
    pub fn ints(&self) -> Result<Vec<i64>> {
        Ok(self.to_host()?.to_i64s())
    }

    pub fn floats(&self) -> Result<Vec<f64>> {
        Ok(self.to_host()?.to_f64s())
    }

    /// The only value of a one-element tensor.
    pub fn scalar_f64(&self) -> Result<f64> {
        let v = self.floats()?;
        match v[..] {
            [x] => Ok(x),
            _ => Err(invalid!("expected one value, got shape {:?}", self.shape())),
        }
    }

    pub fn scalar_i64(&self) -> Result<i64> {
        let v = self.ints()?;
        match v[..] {
            [x] => Ok(x),
            _ => Err(invalid!("expected one value, got shape {:?}", self.shape())),
        }
    }
}

/// Anything a node input or output can be.
#[derive(Clone, Debug)]
pub enum Value {
    Tensor(TensorValue),
    Sequence(Sequence),
    /// An optional without a value.
    None,
}

/// A sequence of tensors of one element type.
#[derive(Clone, Debug)]
pub struct Sequence {
    pub elem: ElemType,
    pub items: Vec<TensorValue>,
}

impl Value {
    pub fn tensor(&self) -> Option<&TensorValue> {
        match self {
            Value::Tensor(t) => Some(t),
            _ => None,
        }
    }

    /// What kind of value this is, for messages.
    pub fn kind(&self) -> String {
        match self {
            Value::Tensor(t) => format!("tensor {:?} {}", t.shape(), t.elem()),
            Value::Sequence(s) => format!("sequence of {} {}", s.items.len(), s.elem),
            Value::None => "an empty optional".into(),
        }
    }
}

impl From<TensorValue> for Value {
    fn from(t: TensorValue) -> Value {
        Value::Tensor(t)
    }
}
