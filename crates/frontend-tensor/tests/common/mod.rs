//! Test setup: the CPU device with the C renderer, and a check that a C compiler exists.
//! Also the oracle the op tests compare against: `Ref`, a row-major tensor of f64 with
//! the same ops as `Tensor` written as plain loops, a seeded generator of non-zero data,
//! and comparisons that say which element differs; the shapes and tolerances the op tests
//! share, and their proptest strategies (`prop`).

// each test binary uses a different part of this module
#![allow(dead_code)]

pub mod memory;
pub mod prop;

use std::sync::{Arc, Once};

use frontend_tensor::{DType, Tensor};

/// Registers the CPU device; returns false (after saying why) when no C compiler exists.
/// With `CPU_LLVM=1` the device is the LLVM one (`runtime-llvm`, which needs its `llvm`
/// feature: `--features runtime-llvm/llvm`), so every test body runs on both backends.
pub fn cpu() -> bool {
    static INIT: Once = Once::new();
    let llvm = std::env::var("CPU_LLVM").is_ok_and(|v| !v.is_empty() && v != "0");
    INIT.call_once(|| {
        if llvm {
            device::register("CPU", runtime_llvm::open);
        } else {
            device::register("CPU", |name| {
                Ok(Arc::new(runtime_cpu::CpuDevice::new(
                    name,
                    Box::new(renderer_c::CRenderer::new()),
                )))
            });
        }
    });
    if llvm {
        return true;
    }
    let ok =
        std::process::Command::new(std::env::var("FERROGRAD_CC").unwrap_or_else(|_| "cc".into()))
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipping: no C compiler (cc) to run CPU kernels");
    }
    ok
}

// ---------------------------------------------------------------------------------------
// shapes and tolerances of the op tests

/// Odd sizes and size-1 dims, and one shape whose last axis takes full vectors (so every
/// op also runs through the vector opt, for every dtype).
pub const SHAPES: &[&[usize]] = &[
    &[7],
    &[3, 16],
    &[1],
    &[13, 5],
    &[1, 9],
    &[3, 1, 4],
    &[2, 3, 5, 1],
    &[1, 1, 1],
];

// Tolerances: exact for integer ops, comparisons, casts and data movement; `F32` for f32
// arithmetic; `TRANS` for exp/log/sin and what is built from them; sums get an absolute
// slack proportional to the number of terms.

/// Relative tolerance of f32 arithmetic.
pub const F32: f64 = 1e-5;
/// Relative tolerance of transcendental functions and what is built from them.
pub const TRANS: f64 = 3e-5;
/// Absolute slack for results near zero.
pub const ATOL: f64 = 1e-6;

/// A shape as the Tensor API takes it.
pub fn dims(shape: &[usize]) -> Vec<i64> {
    shape.iter().map(|&d| d as i64).collect()
}

// ---------------------------------------------------------------------------------------
// seeded data

/// splitmix64: a small, seeded, reproducible generator.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `lo..hi` (integers).
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % (hi - lo) as u64) as i64
    }

    /// `n` f32 values with magnitude in [0.25, 2) and a random sign: never zero.
    pub fn nonzero(&mut self, n: usize) -> Vec<f32> {
        (0..n)
            .map(|_| {
                let m = 0.25 + 1.75 * self.unit();
                (if self.next_u64() & 1 == 0 { m } else { -m }) as f32
            })
            .collect()
    }

    /// `n` f32 values in [lo, hi), for ops defined only there (log, sqrt, recip).
    pub fn uniform(&mut self, n: usize, lo: f64, hi: f64) -> Vec<f32> {
        (0..n)
            .map(|_| (lo + (hi - lo) * self.unit()) as f32)
            .collect()
    }

    /// `n` non-zero i32 values in `-m..=m`.
    pub fn nonzero_i32(&mut self, n: usize, m: i64) -> Vec<i32> {
        (0..n)
            .map(|_| {
                let v = self.range(1, m + 1) as i32;
                if self.next_u64() & 1 == 0 { v } else { -v }
            })
            .collect()
    }

    /// A random f32 tensor (non-zero data) and its reference.
    pub fn tensor(&mut self, shape: &[usize]) -> (Tensor, Ref) {
        let data = self.nonzero(shape.iter().product());
        pair(&data, shape)
    }

    /// A random f32 tensor with data in [lo, hi), and its reference.
    pub fn tensor_in(&mut self, shape: &[usize], lo: f64, hi: f64) -> (Tensor, Ref) {
        let data = self.uniform(shape.iter().product(), lo, hi);
        pair(&data, shape)
    }

    /// A random i32 tensor (non-zero, |v| <= m) and its reference.
    pub fn tensor_i32(&mut self, shape: &[usize], m: i64) -> (Tensor, Ref) {
        let data = self.nonzero_i32(shape.iter().product(), m);
        let t = Tensor::from_slice(&data, &dims(shape)).expect("from_slice");
        let r = Ref::new(shape, data.iter().map(|&v| f64::from(v)).collect());
        (t, r)
    }
}

/// A tensor of `data` and the same data as a reference.
pub fn pair(data: &[f32], shape: &[usize]) -> (Tensor, Ref) {
    let t = Tensor::from_slice(data, &dims(shape)).expect("from_slice");
    let r = Ref::new(shape, data.iter().map(|&v| f64::from(v)).collect());
    (t, r)
}

// ---------------------------------------------------------------------------------------
// the reference tensor

/// A row-major tensor of f64 whose ops are written as plain loops over indices.
#[derive(Clone, Debug, PartialEq)]
pub struct Ref {
    pub shape: Vec<usize>,
    pub data: Vec<f64>,
}

fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

fn unravel(mut i: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for d in (0..shape.len()).rev() {
        idx[d] = i % shape[d];
        i /= shape[d];
    }
    idx
}

/// The shape `a` and `b` broadcast to (numpy rules), or None.
pub fn broadcast(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let rank = a.len().max(b.len());
    let get = |s: &[usize], i: usize| {
        if i + s.len() >= rank {
            s[i + s.len() - rank]
        } else {
            1
        }
    };
    (0..rank)
        .map(|i| match (get(a, i), get(b, i)) {
            (x, y) if x == y => Some(x),
            (1, y) => Some(y),
            (x, 1) => Some(x),
            _ => None,
        })
        .collect()
}

impl Ref {
    pub fn new(shape: &[usize], data: Vec<f64>) -> Ref {
        assert_eq!(shape.iter().product::<usize>(), data.len(), "Ref::new");
        Ref {
            shape: shape.to_vec(),
            data,
        }
    }

    pub fn from_fn(shape: &[usize], f: impl Fn(&[usize]) -> f64) -> Ref {
        let n = shape.iter().product();
        Ref::new(shape, (0..n).map(|i| f(&unravel(i, shape))).collect())
    }

    pub fn numel(&self) -> usize {
        self.data.len()
    }

    pub fn at(&self, idx: &[usize]) -> f64 {
        let i: usize = idx
            .iter()
            .zip(strides(&self.shape))
            .map(|(i, s)| i * s)
            .sum();
        self.data[i]
    }

    pub fn map(&self, f: impl Fn(f64) -> f64) -> Ref {
        Ref::new(&self.shape, self.data.iter().map(|&v| f(v)).collect())
    }

    /// `self` broadcast to `shape` (numpy rules: align right, size-1 dims grow).
    pub fn broadcast_to(&self, shape: &[usize]) -> Ref {
        let off = shape.len() - self.shape.len();
        Ref::from_fn(shape, |idx| {
            let src: Vec<usize> = self
                .shape
                .iter()
                .enumerate()
                .map(|(d, &s)| if s == 1 { 0 } else { idx[d + off] })
                .collect();
            self.at(&src)
        })
    }

    /// Elementwise `f` after broadcasting both operands.
    pub fn zip(&self, other: &Ref, f: impl Fn(f64, f64) -> f64) -> Ref {
        let shape = broadcast(&self.shape, &other.shape).expect("reference shapes broadcast");
        let (a, b) = (self.broadcast_to(&shape), other.broadcast_to(&shape));
        Ref::new(
            &shape,
            a.data.iter().zip(&b.data).map(|(&x, &y)| f(x, y)).collect(),
        )
    }

    /// `self != 0 ? a : b`, all three broadcast.
    pub fn where_(&self, a: &Ref, b: &Ref) -> Ref {
        let shape =
            broadcast(&self.shape, &broadcast(&a.shape, &b.shape).expect("where")).expect("where");
        let (c, a, b) = (
            self.broadcast_to(&shape),
            a.broadcast_to(&shape),
            b.broadcast_to(&shape),
        );
        Ref::from_fn(&shape, |idx| {
            if c.at(idx) != 0.0 {
                a.at(idx)
            } else {
                b.at(idx)
            }
        })
    }

    pub fn reshape(&self, shape: &[usize]) -> Ref {
        Ref::new(shape, self.data.clone())
    }

    pub fn permute(&self, axes: &[usize]) -> Ref {
        let shape: Vec<usize> = axes.iter().map(|&a| self.shape[a]).collect();
        Ref::from_fn(&shape, |idx| {
            let mut src = vec![0; axes.len()];
            for (o, &a) in axes.iter().enumerate() {
                src[a] = idx[o];
            }
            self.at(&src)
        })
    }

    /// Same rank: size-1 dims grow to `shape`.
    pub fn expand(&self, shape: &[usize]) -> Ref {
        assert_eq!(shape.len(), self.shape.len(), "expand keeps the rank");
        self.broadcast_to(shape)
    }

    pub fn pad(&self, pads: &[(usize, usize)]) -> Ref {
        let shape: Vec<usize> = self
            .shape
            .iter()
            .zip(pads)
            .map(|(s, (b, a))| s + b + a)
            .collect();
        Ref::from_fn(&shape, |idx| {
            let mut src = Vec::with_capacity(idx.len());
            for (d, &i) in idx.iter().enumerate() {
                let b = pads[d].0;
                if i < b || i >= b + self.shape[d] {
                    return 0.0;
                }
                src.push(i - b);
            }
            self.at(&src)
        })
    }

    pub fn shrink(&self, ranges: &[(usize, usize)]) -> Ref {
        let shape: Vec<usize> = ranges.iter().map(|(b, e)| e - b).collect();
        Ref::from_fn(&shape, |idx| {
            let src: Vec<usize> = idx.iter().zip(ranges).map(|(i, (b, _))| i + b).collect();
            self.at(&src)
        })
    }

    pub fn flip(&self, axes: &[usize]) -> Ref {
        Ref::from_fn(&self.shape, |idx| {
            let src: Vec<usize> = idx
                .iter()
                .enumerate()
                .map(|(d, &i)| {
                    if axes.contains(&d) {
                        self.shape[d] - 1 - i
                    } else {
                        i
                    }
                })
                .collect();
            self.at(&src)
        })
    }

    /// Folds `f` over `axes` (all when empty), starting from the first element.
    pub fn reduce(&self, axes: &[usize], keepdim: bool, f: impl Fn(f64, f64) -> f64) -> Ref {
        let axes: Vec<usize> = if axes.is_empty() {
            (0..self.shape.len()).collect()
        } else {
            axes.to_vec()
        };
        let kept: Vec<usize> = self
            .shape
            .iter()
            .enumerate()
            .map(|(d, &s)| if axes.contains(&d) { 1 } else { s })
            .collect();
        let mut out: Vec<Option<f64>> = vec![None; kept.iter().product()];
        let ks = strides(&kept);
        for (i, &v) in self.data.iter().enumerate() {
            let idx = unravel(i, &self.shape);
            let o: usize = idx
                .iter()
                .enumerate()
                .map(|(d, &x)| if axes.contains(&d) { 0 } else { x * ks[d] })
                .sum();
            out[o] = Some(out[o].map_or(v, |acc| f(acc, v)));
        }
        let data = out.into_iter().map(|v| v.expect("non-empty")).collect();
        let shape: Vec<usize> = if keepdim {
            kept
        } else {
            kept.iter()
                .enumerate()
                .filter(|(d, _)| !axes.contains(d))
                .map(|(_, &s)| s)
                .collect()
        };
        Ref::new(&shape, data)
    }

    pub fn sum(&self, axes: &[usize], keepdim: bool) -> Ref {
        self.reduce(axes, keepdim, |a, b| a + b)
    }

    pub fn max(&self, axes: &[usize], keepdim: bool) -> Ref {
        self.reduce(axes, keepdim, f64::max)
    }

    pub fn min(&self, axes: &[usize], keepdim: bool) -> Ref {
        self.reduce(axes, keepdim, f64::min)
    }

    fn count(&self, axes: &[usize]) -> f64 {
        if axes.is_empty() {
            self.numel() as f64
        } else {
            axes.iter().map(|&a| self.shape[a] as f64).product()
        }
    }

    pub fn mean(&self, axes: &[usize], keepdim: bool) -> Ref {
        let n = self.count(axes);
        self.sum(axes, keepdim).map(|v| v / n)
    }

    /// Population variance.
    pub fn var(&self, axes: &[usize], keepdim: bool) -> Ref {
        let c = self.zip(&self.mean(axes, true), |x, m| x - m);
        c.map(|v| v * v).mean(axes, keepdim)
    }

    pub fn matmul(&self, other: &Ref) -> Ref {
        let (m, k, n) = (self.shape[0], self.shape[1], other.shape[1]);
        assert_eq!(k, other.shape[0], "matmul inner dims");
        Ref::from_fn(&[m, n], |idx| {
            (0..k)
                .map(|j| self.at(&[idx[0], j]) * other.at(&[j, idx[1]]))
                .sum()
        })
    }

    pub fn softmax(&self, axis: usize) -> Ref {
        let e = self.zip(&self.max(&[axis], true), |x, m| (x - m).exp());
        e.zip(&e.sum(&[axis], true), |x, s| x / s)
    }

    pub fn layernorm(&self, axis: usize, eps: f64) -> Ref {
        let c = self.zip(&self.mean(&[axis], true), |x, m| x - m);
        let v = c.map(|x| x * x).mean(&[axis], true);
        c.zip(&v, |x, v| x / (v + eps).sqrt())
    }
}

// ---------------------------------------------------------------------------------------
// comparisons

/// Every element within `atol + rtol * |want|`; the message names the first that is not.
pub fn assert_close(got: &[f32], want: &Ref, rtol: f64, atol: f64, what: &str) {
    assert_eq!(
        got.len(),
        want.numel(),
        "{what}: {} values for shape {:?}",
        got.len(),
        want.shape
    );
    for (i, (&g, &w)) in got.iter().zip(&want.data).enumerate() {
        let g = f64::from(g);
        let ok = (g - w).abs() <= atol + rtol * w.abs() || (g.is_nan() && w.is_nan());
        assert!(
            ok,
            "{what}: element {i} (index {:?} of {:?}) is {g}, want {w} (rtol {rtol}, atol {atol})\n got: {got:?}\nwant: {:?}",
            unravel(i, &want.shape),
            want.shape,
            want.data
        );
    }
}

/// Exactly equal after conversion to f64 (integers, bools, pure data movement).
pub fn assert_exact<T: Copy + Into<f64> + std::fmt::Debug>(got: &[T], want: &Ref, what: &str) {
    let got: Vec<f64> = got.iter().map(|&v| v.into()).collect();
    assert_eq!(
        got.len(),
        want.numel(),
        "{what}: {} values for shape {:?}",
        got.len(),
        want.shape
    );
    if let Some(i) = (0..got.len()).find(|&i| got[i] != want.data[i]) {
        panic!(
            "{what}: element {i} (index {:?} of {:?}) is {}, want {}\n got: {got:?}\nwant: {:?}",
            unravel(i, &want.shape),
            want.shape,
            got[i],
            want.data[i],
            want.data
        );
    }
}

/// Bools as 0/1 for `assert_exact`.
pub fn bools(v: &[bool]) -> Vec<f64> {
    v.iter().map(|&b| f64::from(u8::from(b))).collect()
}

/// Realizes `t` as f32 and checks its shape and values.
pub fn check_f32(t: &Tensor, want: &Ref, rtol: f64, atol: f64, what: &str) {
    assert_eq!(t.shape(), dims(&want.shape).as_slice(), "{what}: shape");
    let got = t.to_vec::<f32>().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_close(&got, want, rtol, atol, what);
}

/// Realizes `t` (i32, or i64 as integer sums are) and checks shape and values exactly.
pub fn check_i32(t: &Tensor, want: &Ref, what: &str) {
    assert_eq!(t.shape(), dims(&want.shape).as_slice(), "{what}: shape");
    let got: Vec<f64> = if t.dtype() == DType::I64 {
        let v = t.to_vec::<i64>().unwrap_or_else(|e| panic!("{what}: {e}"));
        v.iter().map(|&x| x as f64).collect()
    } else {
        let v = t.to_vec::<i32>().unwrap_or_else(|e| panic!("{what}: {e}"));
        v.iter().map(|&x| f64::from(x)).collect()
    };
    assert_exact(&got, want, what);
}

/// Realizes `t` as bool and checks shape and values exactly.
pub fn check_bool(t: &Tensor, want: &Ref, what: &str) {
    assert_eq!(t.shape(), dims(&want.shape).as_slice(), "{what}: shape");
    let got = t.to_vec::<bool>().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_exact(&bools(&got), want, what);
}
