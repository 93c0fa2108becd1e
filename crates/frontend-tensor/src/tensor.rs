//! `Tensor`: a handle to a lazy tensor-graph node with its shape, dtype and device.
//! Building a tensor runs nothing; `realize` (or `to_vec`) schedules and runs the graph,
//! after which the tensor (and every clone of it) refers to its buffer.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use dtype::DType;
use engine::RunStats;
use parking_lot::RwLock;
use uop_ir::{Arg, ConstValue, Op, UOp, checked_numel};

use crate::element::Element;
use crate::error::{Result, TensorError, named};

/// The device tensors are created on when neither `DEV` nor `set_default_device` says
/// otherwise (see `device.rs`).
pub const DEFAULT_DEVICE: &str = "CPU";

/// A lazy tensor. Cloning gives another handle to the same tensor: clones share the graph
/// node (an assign or a realize is seen by all of them), `requires_grad` and `grad`.
#[derive(Clone)]
pub struct Tensor {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    node: RwLock<UOp>,
    shape: Arc<[i64]>,
    dtype: DType,
    device: Arc<str>,
    /// Set by `requires_grad_` on a leaf: `backward` fills its `grad`.
    pub(crate) requires_grad: AtomicBool,
    pub(crate) grad: RwLock<Option<Tensor>>,
}

impl std::fmt::Debug for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Tensor({:?}, {}, {})",
            self.shape(),
            self.dtype(),
            self.device()
        )
    }
}

impl Tensor {
    pub(crate) fn from_node(node: UOp, shape: Vec<i64>, device: &str) -> Tensor {
        Tensor::with_device(node, shape, device.into())
    }

    fn with_device(node: UOp, shape: Vec<i64>, device: Arc<str>) -> Tensor {
        debug_assert_eq!(node.shape(), Some(&shape[..]), "{node:?}");
        let dtype = node.dtype();
        Tensor {
            inner: Arc::new(Inner {
                node: RwLock::new(node),
                shape: shape.into(),
                dtype,
                device,
                requires_grad: AtomicBool::new(false),
                grad: RwLock::new(None),
            }),
        }
    }

    /// A new tensor of this tensor's device from a node: the result of an op. Inside a
    /// [`crate::no_grad`] scope the node is detached, so no gradient flows through it.
    pub(crate) fn derive(&self, node: UOp, shape: Vec<i64>) -> Tensor {
        let node = if crate::autograd::grad_enabled() {
            node
        } else {
            crate::autograd::detached(node)
        };
        Tensor::with_device(node, shape, self.inner.device.clone())
    }

    /// `shape`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// assert_eq!(x.shape(), &[2, 2]);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn shape(&self) -> &[i64] {
        &self.inner.shape
    }

    /// `dtype`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// assert_eq!(x.dtype(), DType::F32);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn dtype(&self) -> DType {
        self.inner.dtype
    }

    /// `device`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// assert_eq!(x.device(), "CPU");
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn device(&self) -> &str {
        &self.inner.device
    }

    /// `numel`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// assert_eq!(x.numel(), 4);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn numel(&self) -> i64 {
        self.inner.shape.iter().product()
    }

    /// The current graph node.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let n = x.node(); // the graph node behind x
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn node(&self) -> UOp {
        self.inner.node.read().clone()
    }

    /// Points this tensor (and its clones) at another graph node.
    pub(crate) fn set_node(&self, node: UOp) {
        *self.inner.node.write() = node;
    }

    pub(crate) fn inner(&self) -> &Arc<Inner> {
        &self.inner
    }

    pub(crate) fn from_inner(inner: Arc<Inner>) -> Tensor {
        Tensor { inner }
    }

    /// Whether two handles are the same tensor (clones of one another).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.clone();
    /// assert!(x.same(&y));
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn same(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    pub(crate) fn requires_grad_flag(&self) -> bool {
        self.inner.requires_grad.load(Ordering::Relaxed)
    }

    /// A tensor with `data` (row-major) of `shape` on the default device.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn from_slice<T: Element>(data: &[T], shape: &[i64]) -> Result<Tensor> {
        Tensor::from_slice_on(data, shape, &crate::device::default_device())
    }

    /// `from_slice_on`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice_on(&[1.0f32, 2.0], &[2], "CPU")?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn from_slice_on<T: Element>(data: &[T], shape: &[i64], device: &str) -> Result<Tensor> {
        let numel = checked_numel(shape).map_err(|error| TensorError::Shape {
            op: "from_slice",
            error,
        })?;
        if numel as usize != data.len() {
            return Err(TensorError::DataLength {
                len: data.len(),
                shape: shape.to_vec(),
                numel,
            });
        }
        let dev = device::open(device)?;
        crate::autograd::forget_dead_origins();
        let buffer = UOp::new_buffer(T::DTYPE, data.len(), dev.name());
        let memory = engine::store::alloc_for(&buffer, &dev, data.len() * T::DTYPE.itemsize())?;
        memory.copy_in(0, &T::write_bytes(data))?;
        let node = UOp::new(Op::Reshape, T::DTYPE, [buffer], Arg::Shape(shape.into()));
        Ok(Tensor::from_node(node, shape.to_vec(), dev.name()))
    }

    /// A tensor of `shape` filled with `value` (lazy: no memory until realized).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::full(&[2, 2], 7.0, DType::F32)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn full(shape: &[i64], value: f64, dtype: DType) -> Result<Tensor> {
        checked_numel(shape).map_err(|error| TensorError::Shape { op: "full", error })?;
        let c = UOp::const_of(dtype, ConstValue::Float(value));
        let c = if dtype.is_float() {
            c
        } else {
            UOp::const_of(dtype, ConstValue::Int(value as i128))
        };
        Tensor::from_node(c, Vec::new(), &crate::device::default_device()).broadcast_to(shape)
    }

    /// `zeros`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::zeros(&[2, 3], DType::F32)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn zeros(shape: &[i64], dtype: DType) -> Result<Tensor> {
        named("zeros", || Tensor::full(shape, 0.0, dtype))
    }

    /// `ones`.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::ones(&[2, 3], DType::F32)?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn ones(shape: &[i64], dtype: DType) -> Result<Tensor> {
        named("ones", || Tensor::full(shape, 1.0, dtype))
    }

    /// A scalar constant on this tensor's device. A literal is weak: it takes this
    /// tensor's dtype, except that a fractional value next to an integer tensor is a
    /// float (as `i32 * 0.5` is in numpy and tinygrad).
    pub(crate) fn scalar_like(&self, v: f64) -> Tensor {
        let c = if self.dtype().is_float() {
            UOp::const_of(self.dtype(), ConstValue::Float(v))
        } else if self.dtype().is_bool() && v.fract() == 0.0 && v.is_finite() {
            // an integer next to bools is a (weak) default integer, as in PyTorch
            UOp::const_of(dtype::DEFAULT_INT, ConstValue::Int(v as i128))
        } else if v.fract() == 0.0 && v.is_finite() {
            UOp::const_of(self.dtype(), ConstValue::Int(v as i128))
        } else {
            UOp::const_of(dtype::DEFAULT_FLOAT, ConstValue::Float(v))
        };
        // a literal has no gradient path: never detached, so it stays a literal
        Tensor::with_device(c, Vec::new(), self.inner.device.clone())
    }

    /// `0, 1, .., n-1` as f32... or any dtype.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::arange(5, DType::I64)?; // tensor([0, 1, 2, 3, 4])
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn arange(n: i64, dtype: DType) -> Result<Tensor> {
        named("arange", || {
            checked_numel(&[n]).map_err(|error| TensorError::Shape {
                op: "arange",
                error,
            })?;
            match dtype {
                DType::F32 => {
                    Tensor::from_slice(&(0..n).map(|i| i as f32).collect::<Vec<_>>(), &[n])
                }
                DType::F64 => {
                    Tensor::from_slice(&(0..n).map(|i| i as f64).collect::<Vec<_>>(), &[n])
                }
                DType::I64 => Tensor::from_slice(&(0..n).collect::<Vec<_>>(), &[n]),
                _ => Tensor::from_slice(&(0..n).map(|i| i as i32).collect::<Vec<_>>(), &[n])?
                    .cast(dtype),
            }
        })
    }

    /// `0..n` as i64 for ops that compare with positions (one_hot, argmax, losses): small
    /// ones are made once and shared (read only), so such ops read the same buffer on
    /// every call and a repeated graph schedules alike.
    pub(crate) fn positions(n: i64, device: &str) -> Result<Tensor> {
        const CACHED: i64 = 1 << 16;
        type Cache = std::collections::HashMap<(i64, String), UOp>;
        static CACHE: std::sync::LazyLock<parking_lot::Mutex<Cache>> =
            std::sync::LazyLock::new(Default::default);
        let make = || Tensor::from_slice_on(&(0..n.max(0)).collect::<Vec<i64>>(), &[n], device);
        if !(0..=CACHED).contains(&n) {
            return named("arange", make);
        }
        let key = (n, device.to_string());
        let cached = CACHE.lock().get(&key).cloned();
        let node = match cached {
            Some(node) => node,
            None => {
                let t = named("arange", make)?;
                CACHE.lock().insert(key, t.node());
                t.node()
            }
        };
        Ok(Tensor::from_node(node, vec![n], device))
    }

    /// Computes this tensor.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.exp()?;
    /// y.realize()?; // runs its kernel
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn realize(&self) -> Result<&Tensor> {
        Tensor::realize_all(&[self])?;
        Ok(self)
    }

    /// Computes several tensors in one schedule.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let (a, b) = (x.exp()?, x.sin()?);
    /// Tensor::realize_all(&[&a, &b])?; // one schedule
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn realize_all(tensors: &[&Tensor]) -> Result<()> {
        Tensor::realize_all_stats(tensors).map(|_| ())
    }

    /// Like [`Tensor::realize_all`], and says what it did: kernels, and the time spent
    /// scheduling, compiling and running (all zero when everything was realized already).
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.exp()?;
    /// let stats = Tensor::realize_all_stats(&[&y])?;
    /// println!("{} kernels", stats.kernels);
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn realize_all_stats(tensors: &[&Tensor]) -> Result<RunStats> {
        let pending: Vec<&Tensor> = tensors
            .iter()
            .copied()
            .filter(|t| !t.is_realized())
            .collect();
        let Some(first) = pending.first() else {
            return Ok(RunStats::default());
        };
        // a scalar has no loops: realize it as one element
        let nodes: Vec<UOp> = pending
            .iter()
            .map(|t| {
                let n = t.node();
                if t.shape().is_empty() {
                    UOp::new(Op::Reshape, n.dtype(), [n], Arg::Shape(vec![1].into()))
                } else {
                    n
                }
            })
            .collect();
        crate::autograd::forget_dead_origins();
        // tensors whose graph leads to a parameter keep it for `backward`
        let tracked = crate::autograd::tracked(&pending);
        let (buffers, stats) = engine::realize_outputs(&nodes, first.device())?;
        for ((t, buffer), tracked) in pending.iter().zip(buffers).zip(tracked) {
            let Some(buffer) = buffer else {
                continue;
            };
            let view = UOp::new(
                Op::Reshape,
                t.dtype(),
                [buffer],
                Arg::Shape(t.inner.shape.clone()),
            );
            let old = std::mem::replace(&mut *t.inner.node.write(), view.clone());
            if tracked {
                crate::autograd::record_origin(&view, old);
            }
        }
        Ok(stats)
    }

    /// Whether the tensor is a view of a whole buffer already.
    fn is_realized(&self) -> bool {
        let n = self.node();
        n.op() == Op::Reshape
            && n.src()[0].op() == Op::Buffer
            && engine::store::get(&n.src()[0]).is_some()
    }

    /// The values, row-major. Realizes the tensor first.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let v: Vec<f32> = x.to_vec()?;
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn to_vec<T: Element>(&self) -> Result<Vec<T>> {
        if T::DTYPE != self.dtype() {
            return Err(TensorError::WrongType {
                want: T::DTYPE,
                have: self.dtype(),
            });
        }
        self.realize()?;
        let n = self.node();
        let buffer = &n.src()[0];
        let memory = engine::store::get(buffer)
            .ok_or_else(|| engine::EngineError::MissingBuffer(buffer.arg().to_string()))?;
        let mut bytes = vec![0u8; self.numel() as usize * self.dtype().itemsize()];
        memory.copy_out(0, &mut bytes)?;
        Ok(T::read_bytes(&bytes))
    }

    /// The kernels realizing these tensors would run, without running them.
    ///
    /// ```no_run
    /// # use frontend_tensor::*;
    /// let x = Tensor::from_slice(&[0.5f32, -1.5, 2.0, 4.0], &[2, 2])?;
    /// let y = x.exp()?;
    /// let s = Tensor::schedule(&[&y])?;
    /// println!("{} kernels", s.kernels.len());
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn schedule(tensors: &[&Tensor]) -> Result<engine::Schedule> {
        let nodes: Vec<UOp> = tensors.iter().map(|t| t.node()).collect();
        let sink = UOp::new(Op::Sink, DType::Void, nodes, Arg::None);
        Ok(engine::schedule(
            &sink,
            &tensors
                .first()
                .map_or_else(crate::device::default_device, |t| t.device().into()),
        )?)
    }
}
