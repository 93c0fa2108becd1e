//! One test body, every backend: each `device_test!` runs on the CPU and, with the
//! `cuda` feature, on `CUDA` (skipping with the reason printed where no GPU or driver is
//! present). Ops against plain f64 loops at odd shapes and several dtypes, kernel
//! counts, gradients, moving tensors between devices, and out-of-memory errors.
// the test bodies live in helper functions (one per device), not in #[test] fns
#![allow(clippy::unwrap_used)]

use ferrograd::{DType, Tensor};

/// Why `device` cannot run here, or `None`.
fn unavailable(device: &str) -> Option<String> {
    ferrograd::init();
    match device {
        #[cfg(feature = "cuda")]
        "CUDA" => ferrograd::cuda::unavailable(),
        _ => ferrograd::layers::device::open(device)
            .err()
            .map(|e| e.to_string()),
    }
}

macro_rules! device_test {
    ($name:ident, |$dev:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            fn run($dev: &str) $body

            #[test]
            fn cpu() {
                if let Some(why) = unavailable("CPU") {
                    eprintln!("skipping {} on CPU: {why}", stringify!($name));
                    return;
                }
                run("CPU");
            }

            #[cfg(feature = "cuda")]
            #[test]
            fn cuda() {
                if let Some(why) = unavailable("CUDA") {
                    eprintln!("skipping {} on CUDA: {why}", stringify!($name));
                    return;
                }
                run("CUDA");
            }
        }
    };
}

/// Reproducible values in [-2, 2), none of them zero.
fn data(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let x = (s >> 40) as f32 / (1u64 << 24) as f32 * 4.0 - 2.0;
            if x == 0.0 { 0.5 } else { x }
        })
        .collect()
}

fn tensor(dev: &str, shape: &[i64], seed: u64) -> (Tensor, Vec<f32>) {
    let n: i64 = shape.iter().product();
    let v = data(n as usize, seed);
    (Tensor::from_slice_on(&v, shape, dev).expect("tensor"), v)
}

fn close(got: &[f32], want: &[f64], rtol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let err = (f64::from(*g) - w).abs();
        assert!(
            err <= rtol * w.abs().max(1.0),
            "{what}: element {i}: {g} vs {w}"
        );
    }
}

const SHAPES: &[&[i64]] = &[&[7], &[3, 16], &[13, 5], &[2, 3, 5], &[1, 1024], &[64, 130]];

device_test!(elementwise_ops, |dev| {
    for (k, shape) in SHAPES.iter().enumerate() {
        let (a, va) = tensor(dev, shape, 1 + k as u64);
        let (b, vb) = tensor(dev, shape, 100 + k as u64);
        let out = a.mul(&b).unwrap().add_scalar(1.0).unwrap();
        let want: Vec<f64> = va
            .iter()
            .zip(&vb)
            .map(|(x, y)| f64::from(*x) * f64::from(*y) + 1.0)
            .collect();
        close(&out.to_vec::<f32>().unwrap(), &want, 1e-6, "a*b+1");
        let out = a
            .exp()
            .unwrap()
            .add(&b.abs().unwrap().sqrt().unwrap())
            .unwrap();
        let want: Vec<f64> = va
            .iter()
            .zip(&vb)
            .map(|(x, y)| f64::from(*x).exp() + f64::from(*y).abs().sqrt())
            .collect();
        close(&out.to_vec::<f32>().unwrap(), &want, 1e-5, "exp + sqrt");
        let out = a.maximum(&b).unwrap().div(&b).unwrap();
        let want: Vec<f64> = va
            .iter()
            .zip(&vb)
            .map(|(x, y)| f64::from(x.max(*y)) / f64::from(*y))
            .collect();
        close(&out.to_vec::<f32>().unwrap(), &want, 1e-6, "max / b");
    }
});

device_test!(dtypes_round_trip, |dev| {
    let (a, va) = tensor(dev, &[5, 33], 3);
    for d in [
        DType::F16,
        DType::BF16,
        DType::F64,
        DType::I32,
        DType::Fp8E4M3,
    ] {
        let back = a
            .cast(d)
            .unwrap()
            .mul_scalar(2.0)
            .unwrap()
            .cast(DType::F32)
            .unwrap();
        let got = back.to_vec::<f32>().unwrap();
        let tol = match d {
            DType::F16 => 2e-3,
            DType::BF16 => 1e-2,
            DType::Fp8E4M3 => 0.13,
            _ => 1e-7,
        };
        let want: Vec<f64> = va
            .iter()
            .map(|x| {
                if d == DType::I32 {
                    f64::from(x.trunc()) * 2.0
                } else {
                    f64::from(*x) * 2.0
                }
            })
            .collect();
        close(&got, &want, tol, &format!("cast to {d}"));
    }
});

device_test!(reductions, |dev| {
    for (k, shape) in SHAPES.iter().enumerate() {
        let (a, va) = tensor(dev, shape, 10 + k as u64);
        let last = *shape.last().unwrap() as usize;
        let rows = va.len() / last;
        let sum: Vec<f64> = (0..rows)
            .map(|r| {
                va[r * last..(r + 1) * last]
                    .iter()
                    .map(|x| f64::from(*x))
                    .sum()
            })
            .collect();
        let got = a.sum(&[-1], false).unwrap().to_vec::<f32>().unwrap();
        close(&got, &sum, 1e-5, "sum over the last axis");
        let max: Vec<f64> = (0..rows)
            .map(|r| {
                va[r * last..(r + 1) * last]
                    .iter()
                    .fold(f64::MIN, |m, x| m.max(f64::from(*x)))
            })
            .collect();
        let got = a.max(&[-1], false).unwrap().to_vec::<f32>().unwrap();
        close(&got, &max, 0.0, "max over the last axis");
        let total: f64 = va.iter().map(|x| f64::from(*x)).sum();
        let all: Vec<isize> = (0..shape.len() as isize).collect();
        let got = a.sum(&all, false).unwrap().to_vec::<f32>().unwrap();
        close(&got, &[total], 1e-5, "full sum");
    }
    // a sum large enough to be split in two kernels and grouped on a GPU
    let (a, va) = tensor(dev, &[1 << 20], 99);
    let total: f64 = va.iter().map(|x| f64::from(*x)).sum();
    let got = a.sum(&[0], false).unwrap().to_vec::<f32>().unwrap();
    close(&got, &[total], 1e-4, "sum of 2^20");
});

device_test!(softmax_rows, |dev| {
    for shape in [&[3, 7][..], &[64, 1024], &[8, 8192]] {
        let (a, va) = tensor(dev, shape, 5);
        let cols = shape[1] as usize;
        let want: Vec<f64> = va
            .chunks(cols)
            .flat_map(|row| {
                let m = row.iter().fold(f64::MIN, |m, x| m.max(f64::from(*x)));
                let e: Vec<f64> = row.iter().map(|x| (f64::from(*x) - m).exp()).collect();
                let s: f64 = e.iter().sum();
                e.into_iter().map(move |x| x / s)
            })
            .collect();
        let got = a.softmax(-1).unwrap().to_vec::<f32>().unwrap();
        close(&got, &want, 1e-5, "softmax");
    }
});

device_test!(matmul_shapes, |dev| {
    for (m, k, n) in [
        (1, 1, 1),
        (5, 7, 3),
        (64, 32, 128),
        (128, 256, 64),
        (33, 65, 17),
    ] {
        let (a, va) = tensor(dev, &[m, k], 7);
        let (b, vb) = tensor(dev, &[k, n], 8);
        let (m, k, n) = (m as usize, k as usize, n as usize);
        let want: Vec<f64> = (0..m * n)
            .map(|ij| {
                let (i, j) = (ij / n, ij % n);
                (0..k)
                    .map(|p| f64::from(va[i * k + p]) * f64::from(vb[p * n + j]))
                    .sum()
            })
            .collect();
        let got = a.matmul(&b).unwrap().to_vec::<f32>().unwrap();
        close(&got, &want, 1e-4, &format!("matmul {m}x{k}x{n}"));
    }
});

device_test!(movement, |dev| {
    let (a, va) = tensor(dev, &[3, 4, 5], 11);
    let p = a.permute(&[2, 0, 1]).unwrap().contiguous();
    let want: Vec<f64> = (0..60)
        .map(|i| {
            let (z, x, y) = (i / 12, (i / 4) % 3, i % 4);
            f64::from(va[x * 20 + y * 5 + z])
        })
        .collect();
    close(&p.to_vec::<f32>().unwrap(), &want, 0.0, "permute");
    let f = a.flip(&[1]).unwrap().sum(&[2], false).unwrap();
    let want: Vec<f64> = (0..12)
        .map(|i| {
            let (x, y) = (i / 4, 3 - i % 4);
            (0..5).map(|z| f64::from(va[x * 20 + y * 5 + z])).sum()
        })
        .collect();
    close(&f.to_vec::<f32>().unwrap(), &want, 1e-6, "flip + sum");
});

device_test!(kernel_counts, |dev| {
    let (a, _) = tensor(dev, &[256, 256], 1);
    let (b, _) = tensor(dev, &[256, 256], 2);
    let chain = a
        .mul(&b)
        .unwrap()
        .add_scalar(1.0)
        .unwrap()
        .exp()
        .unwrap()
        .relu()
        .unwrap();
    assert_eq!(
        Tensor::schedule(&[&chain]).unwrap().kernels.len(),
        1,
        "elementwise chain"
    );
    let sm = a.softmax(-1).unwrap();
    assert_eq!(
        Tensor::schedule(&[&sm]).unwrap().kernels.len(),
        1,
        "softmax"
    );
    let mm = a.matmul(&b).unwrap().add(&a).unwrap().relu().unwrap();
    assert_eq!(
        Tensor::schedule(&[&mm]).unwrap().kernels.len(),
        1,
        "matmul + bias + relu"
    );
    let stats = Tensor::realize_all_stats(&[&chain, &sm, &mm]).unwrap();
    assert_eq!(stats.kernels, 3, "the three together");
});

device_test!(gradients, |dev| {
    let (x, vx) = tensor(dev, &[4, 8], 21);
    let (w, vw) = tensor(dev, &[8, 3], 22);
    let w = w.requires_grad_(true).unwrap();
    let loss = x
        .matmul(&w)
        .unwrap()
        .relu()
        .unwrap()
        .sum(&[0, 1], false)
        .unwrap();
    loss.backward().unwrap();
    let g = w.grad().expect("w has a gradient").to_vec::<f32>().unwrap();
    // d/dw[p][j] = sum over rows i where (x@w)[i][j] > 0 of x[i][p]
    let want: Vec<f64> = (0..24)
        .map(|pj| {
            let (p, j) = (pj / 3, pj % 3);
            (0..4)
                .filter(|i| (0..8).map(|q| vx[i * 8 + q] * vw[q * 3 + j]).sum::<f32>() > 0.0)
                .map(|i| f64::from(vx[i * 8 + p]))
                .sum()
        })
        .collect();
    close(&g, &want, 1e-5, "gradient of sum(relu(x @ w))");
});

device_test!(moves_between_devices, |dev| {
    let (a, va) = tensor("CPU", &[3, 5], 31);
    let there = a.to(dev).unwrap();
    assert_eq!(there.device(), dev);
    let doubled = there.mul_scalar(2.0).unwrap();
    let back = doubled.to("CPU").unwrap();
    assert_eq!(back.device(), "CPU");
    let want: Vec<f64> = va.iter().map(|x| f64::from(*x) * 2.0).collect();
    close(&back.to_vec::<f32>().unwrap(), &want, 0.0, "to and back");
    if dev != "CPU" {
        let err = a
            .add(&there)
            .and_then(|t| t.to_vec::<f32>())
            .expect_err("mixed devices");
        assert!(err.to_string().contains("to("), "{err}");
    }
});

device_test!(out_of_memory_is_an_error, |dev| {
    let huge: usize = 1 << 50;
    let d = ferrograd::layers::device::open(dev).unwrap();
    let err = d.alloc(huge).expect_err("a petabyte");
    assert!(err.to_string().contains(&huge.to_string()), "{err}");
});

/// f16 values of `v` as f32, and the tensor holding them on `dev`.
fn half_tensor(dev: &str, shape: &[i64], seed: u64, dtype: DType) -> (Tensor, Vec<f32>) {
    let (t, v) = tensor(dev, shape, seed);
    let t = t.cast(dtype).unwrap();
    let rounded = t.cast(DType::F32).unwrap().to_vec::<f32>().unwrap();
    assert_eq!(rounded.len(), v.len());
    (t, rounded)
}

device_test!(half_matmuls, |dev| {
    // on a GPU with tensor cores these run as the TC GEMM
    // K = 2048 is summed in blocks (rangeify's block_reduce), which the TC opt merges
    for (dtype, (m, k, n)) in [
        (DType::F16, (128usize, 96usize, 192usize)),
        (DType::BF16, (128, 96, 192)),
        (DType::F16, (128, 2048, 64)),
    ] {
        let (a, va) = half_tensor(dev, &[m as i64, k as i64], 41, dtype);
        let (b, vb) = half_tensor(dev, &[k as i64, n as i64], 42, dtype);
        let got = a
            .matmul(&b)
            .unwrap()
            .cast(DType::F32)
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
        let want: Vec<f64> = (0..m * n)
            .map(|ij| {
                (0..k)
                    .map(|p| f64::from(va[ij / n * k + p]) * f64::from(vb[p * n + ij % n]))
                    .sum()
            })
            .collect();
        let tol = if dtype == DType::F16 { 2e-3 } else { 1e-2 };
        close(&got, &want, tol, &format!("{dtype} matmul"));
    }
    // batched q @ k^T, scaled after the cast: attention's scores
    let (bh, s, d) = (6usize, 64usize, 64usize);
    let (q, vq) = half_tensor(dev, &[2, 3, s as i64, d as i64], 43, DType::F16);
    let (kk, vk) = half_tensor(dev, &[2, 3, s as i64, d as i64], 44, DType::F16);
    let scores = q
        .matmul(&kk.transpose(2, 3).unwrap())
        .unwrap()
        .mul_scalar(0.125)
        .unwrap();
    let got = scores.cast(DType::F32).unwrap().to_vec::<f32>().unwrap();
    let want: Vec<f64> = (0..bh * s * s)
        .map(|x| {
            let (b, i, j) = (x / (s * s), (x / s) % s, x % s);
            let dot: f64 = (0..d)
                .map(|e| f64::from(vq[(b * s + i) * d + e]) * f64::from(vk[(b * s + j) * d + e]))
                .sum();
            dot * 0.125
        })
        .collect();
    close(&got, &want, 2e-3, "q @ k^T * 0.125");
});

device_test!(attention_f16, |dev| {
    // softmax(q @ k^T / 8) @ v in f16: on a GPU the scores are a TC GEMM stored as f32
    let (bh, s, d) = (4usize, 128usize, 64usize);
    let (q, vq) = half_tensor(dev, &[2, 2, s as i64, d as i64], 51, DType::F16);
    let (k, vk) = half_tensor(dev, &[2, 2, s as i64, d as i64], 52, DType::F16);
    let (v, vv) = half_tensor(dev, &[2, 2, s as i64, d as i64], 53, DType::F16);
    let scores = q
        .matmul(&k.transpose(2, 3).unwrap())
        .unwrap()
        .mul_scalar(0.125)
        .unwrap();
    let out = scores.softmax(-1).unwrap().matmul(&v).unwrap();
    let got = out.cast(DType::F32).unwrap().to_vec::<f32>().unwrap();
    let mut want = Vec::with_capacity(bh * s * d);
    for b in 0..bh {
        for i in 0..s {
            let row: Vec<f64> = (0..s)
                .map(|j| {
                    (0..d)
                        .map(|e| {
                            f64::from(vq[(b * s + i) * d + e]) * f64::from(vk[(b * s + j) * d + e])
                        })
                        .sum::<f64>()
                        * 0.125
                })
                .collect();
            let m = row.iter().fold(f64::MIN, |a, x| a.max(*x));
            let p: Vec<f64> = row.iter().map(|x| (x - m).exp()).collect();
            let z: f64 = p.iter().sum();
            for e in 0..d {
                want.push(
                    (0..s)
                        .map(|j| p[j] / z * f64::from(vv[(b * s + j) * d + e]))
                        .sum(),
                );
            }
        }
    }
    close(&got, &want, 1e-2, "attention");
});
