//! The rows of the GPU benchmark: memory-bound ops against the device-to-device copy,
//! softmax, matrix products in four precisions, a convolution, attention, the time per
//! tiny op (eager, and replayed from a CUDA graph) and the time to a fresh op's first
//! result in a fresh process. Each row prints as soon as it is measured.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ferrograd::cuda::CudaDevice;
use ferrograd::layers::device::RawBuffer;
use ferrograd::{Conv2dOpts, DType};

use crate::Row;
use crate::harness::{Compiled, cuda_tensor, random, rel_error};

fn print(r: &Row) {
    let err = if r.error.is_nan() {
        "-".into()
    } else {
        format!("{:.1e}", r.error)
    };
    eprintln!(
        "  {:<34} {:>10.1} {:<8} error {err} {}",
        r.name, r.ours, r.unit, r.note
    );
}

fn row(name: &str, unit: &'static str, ours: f64, error: f64, note: String) -> Row {
    let r = Row {
        name: name.into(),
        unit,
        ours,
        error,
        note,
    };
    print(&r);
    r
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// Every row, in order.
pub fn all(dev: &Arc<CudaDevice>, quick: bool) -> Vec<Row> {
    let n: usize = if quick { 1 << 24 } else { 1 << 28 };
    let mut rows = vec![
        copy(dev, n),
        mul_add(dev, n),
        sum(dev, n),
        softmax(dev, quick),
    ];
    let mm = if quick { 1024 } else { 4096 };
    for (name, dtype) in [
        ("matmul f32", DType::F32),
        ("matmul tf32", DType::F32),
        ("matmul f16", DType::F16),
        ("matmul bf16", DType::BF16),
    ] {
        rows.push(matmul(dev, name, mm, dtype));
    }
    rows.push(dispatch_eager());
    rows.push(dispatch_graph(dev));
    rows.push(first_result());
    rows.push(conv2d(dev, quick));
    rows.push(attention(dev, quick));
    rows
}

fn copy(dev: &Arc<CudaDevice>, n: usize) -> Row {
    let bytes = n * 4;
    let (a, b) = (
        dev.alloc_buffer(bytes).expect("a"),
        dev.alloc_buffer(bytes).expect("b"),
    );
    a.copy_in(0, bytemuck_f32(&random(n, 1))).expect("fill");
    let once = || {
        // SAFETY: both buffers hold `bytes` and live until the end of this function.
        dev.time(|| unsafe { dev.copy_device(b.addr(), a.addr(), bytes) })
            .expect("copy")
    };
    for _ in 0..3 {
        once();
    }
    let mut t: Vec<Duration> = (0..20).map(|_| once()).collect();
    t.sort();
    let mut back = vec![0u8; 4096];
    b.copy_out(bytes - 4096, &mut back).expect("read");
    let mut src = vec![0u8; 4096];
    a.copy_out(bytes - 4096, &mut src).expect("read");
    let err = if back == src { 0.0 } else { 1.0 };
    row(
        "copy 2^28 f32 (ceiling)",
        "GB/s",
        2.0 * bytes as f64 / secs(t[10]) / 1e9,
        err,
        String::new(),
    )
}

fn bytemuck_f32(v: &[f32]) -> &[u8] {
    // SAFETY: f32 has no padding and any bytes are valid u8.
    unsafe { std::slice::from_raw_parts(v.as_ptr().cast(), v.len() * 4) }
}

fn mul_add(dev: &Arc<CudaDevice>, n: usize) -> Row {
    let (a, va) = cuda_tensor(&random(n, 2), &[n as i64], DType::F32);
    let (b, vb) = cuda_tensor(&random(n, 3), &[n as i64], DType::F32);
    let out = a.mul(&b).expect("mul").add_scalar(1.0).expect("add");
    let c = Compiled::new(&out, dev);
    let t = c.time(3, 20);
    let got = c.output_f32(DType::F32);
    let err = rel_error(
        got.iter()
            .zip(va.iter().zip(&vb))
            .map(|(g, (x, y))| (f64::from(*g), f64::from(*x) * f64::from(*y) + 1.0)),
    );
    row(
        "a*b+1 2^28 f32",
        "GB/s",
        12.0 * n as f64 / secs(t) / 1e9,
        err,
        c.names.join("; "),
    )
}

fn sum(dev: &Arc<CudaDevice>, n: usize) -> Row {
    let (a, va) = cuda_tensor(&random(n, 4), &[n as i64], DType::F32);
    let out = a.sum(&[0], false).expect("sum");
    let c = Compiled::new(&out, dev);
    let t = c.time(3, 20);
    let got = c.output_f32(DType::F32);
    let want: f64 = va.iter().map(|x| f64::from(*x)).sum();
    let err = ((f64::from(got[0]) - want) / want.abs().max(1.0)).abs();
    row(
        "sum 2^28 f32",
        "GB/s",
        4.0 * n as f64 / secs(t) / 1e9,
        err,
        c.names.join("; "),
    )
}

fn softmax(dev: &Arc<CudaDevice>, quick: bool) -> Row {
    let (rows, cols) = if quick { (1024, 8192) } else { (8192, 8192) };
    let (x, vx) = cuda_tensor(
        &random(rows * cols, 5),
        &[rows as i64, cols as i64],
        DType::F32,
    );
    let out = x.softmax(-1).expect("softmax");
    let c = Compiled::new(&out, dev);
    let t = c.time(3, 20);
    let got = c.output_f32(DType::F32);
    let checked = (0..rows).step_by(rows / 64);
    let err = rel_error(checked.flat_map(|r| {
        let row = &vx[r * cols..(r + 1) * cols];
        let m = row.iter().fold(f64::MIN, |m, x| m.max(f64::from(*x)));
        let s: f64 = row.iter().map(|x| (f64::from(*x) - m).exp()).sum();
        let got = &got[r * cols..(r + 1) * cols];
        row.iter()
            .zip(got)
            .map(move |(x, g)| (f64::from(*g), (f64::from(*x) - m).exp() / s))
            .collect::<Vec<_>>()
    }));
    let note = format!("{} kernel(s): {}", c.kernels.len(), c.names.join("; "));
    row(
        "softmax 8192x8192 f32",
        "GB/s",
        8.0 * (rows * cols) as f64 / secs(t) / 1e9,
        err,
        note,
    )
}

fn matmul(dev: &Arc<CudaDevice>, name: &str, n: usize, dtype: DType) -> Row {
    let (a, va) = cuda_tensor(&random(n * n, 6), &[n as i64, n as i64], dtype);
    let (b, vb) = cuda_tensor(&random(n * n, 7), &[n as i64, n as i64], dtype);
    let out = a.matmul(&b).expect("matmul");
    let c = Compiled::new(&out, dev);
    let t = c.time(2, 10);
    let got = c.output_f32(dtype);
    let samples = (0..256).map(|s| (s * 7919) % (n * n));
    let err = rel_error(samples.map(|ij| {
        let (i, j) = (ij / n, ij % n);
        let want: f64 = (0..n)
            .map(|k| f64::from(va[i * n + k]) * f64::from(vb[k * n + j]))
            .sum();
        (f64::from(got[ij]), want)
    }));
    let tc = if name.contains("tf32") {
        "no TF32 path: the f32 kernel; "
    } else {
        ""
    };
    row(
        name,
        "TFLOP/s",
        2.0 * (n as f64).powi(3) / secs(t) / 1e12,
        err,
        format!("{tc}{}", c.names.join("; ")),
    )
}

fn conv2d(dev: &Arc<CudaDevice>, quick: bool) -> Row {
    let (n, ci, co, h, w) = if quick {
        (4, 64, 64, 56, 56)
    } else {
        (32, 256, 256, 56, 56)
    };
    let (x, vx) = cuda_tensor(
        &random(n * ci * h * w, 8),
        &[n as i64, ci as i64, h as i64, w as i64],
        DType::F16,
    );
    let (k, vk) = cuda_tensor(
        &random(co * ci * 9, 9),
        &[co as i64, ci as i64, 3, 3],
        DType::F16,
    );
    let opts = Conv2dOpts {
        padding: (1, 1),
        ..Conv2dOpts::default()
    };
    let out = x.conv2d(&k, None, &opts).expect("conv2d");
    let c = Compiled::new(&out, dev);
    let t = c.time(1, 5);
    let got = c.output_f32(DType::F16);
    let samples = (0..64).map(|s| (s * 104729) % (n * co * h * w));
    let err = rel_error(samples.map(|o| {
        let (b, oc, y, xx) = (o / (co * h * w), (o / (h * w)) % co, (o / w) % h, o % w);
        let mut acc = 0.0f64;
        for c_in in 0..ci {
            for dy in 0..3 {
                for dx in 0..3 {
                    let (iy, ix) = (y as i64 + dy as i64 - 1, xx as i64 + dx as i64 - 1);
                    if iy < 0 || ix < 0 || iy >= h as i64 || ix >= w as i64 {
                        continue;
                    }
                    let xv = vx[((b * ci + c_in) * h + iy as usize) * w + ix as usize];
                    let kv = vk[((oc * ci + c_in) * 3 + dy) * 3 + dx];
                    acc += f64::from(xv) * f64::from(kv);
                }
            }
        }
        (f64::from(got[o]), acc)
    }));
    let flops = 2.0 * (n * co * h * w * ci * 9) as f64;
    row(
        "conv2d f16 32x256x56x56 3x3",
        "TFLOP/s",
        flops / secs(t) / 1e12,
        err,
        c.names.join("; "),
    )
}

fn attention(dev: &Arc<CudaDevice>, quick: bool) -> Row {
    let (b, h, s, d) = if quick {
        (1, 4, 512, 64)
    } else {
        (8, 16, 2048, 64)
    };
    let shape = [b as i64, h as i64, s as i64, d as i64];
    let (q, vq) = cuda_tensor(&random(b * h * s * d, 10), &shape, DType::F16);
    let (k, vk) = cuda_tensor(&random(b * h * s * d, 11), &shape, DType::F16);
    let (v, vv) = cuda_tensor(&random(b * h * s * d, 12), &shape, DType::F16);
    let scores = q
        .matmul(&k.transpose(2, 3).expect("k^T"))
        .expect("q k^T")
        .mul_scalar(1.0 / (d as f64).sqrt())
        .expect("scale");
    let out = scores
        .softmax(-1)
        .expect("softmax")
        .matmul(&v)
        .expect("@ v");
    let c = Compiled::new(&out, dev);
    let t = c.time(1, 5);
    let got = c.output_f32(DType::F16);
    let checked: Vec<usize> = (0..8).map(|r| (r * 7919) % (b * h * s)).collect();
    let err = rel_error(checked.iter().flat_map(|&row| {
        let (bh, i) = (row / s, row % s);
        let base = bh * s * d;
        let sc: Vec<f64> = (0..s)
            .map(|j| {
                (0..d)
                    .map(|e| f64::from(vq[base + i * d + e]) * f64::from(vk[base + j * d + e]))
                    .sum::<f64>()
                    / (d as f64).sqrt()
            })
            .collect();
        let m = sc.iter().fold(f64::MIN, |m, x| m.max(*x));
        let p: Vec<f64> = sc.iter().map(|x| (x - m).exp()).collect();
        let z: f64 = p.iter().sum();
        (0..d)
            .map(|e| {
                let want: f64 = (0..s)
                    .map(|j| p[j] / z * f64::from(vv[base + j * d + e]))
                    .sum();
                (f64::from(got[row * d + e]), want)
            })
            .collect::<Vec<_>>()
    }));
    let flops = 4.0 * (b * h * s * s * d) as f64;
    let note = format!("{} kernels: {}", c.kernels.len(), c.names.join("; "));
    row(
        "attention f16 8x16x2048x64",
        "TFLOP/s",
        flops / secs(t) / 1e12,
        err,
        note,
    )
}

/// Wall time per `(x + 1).realize()` through the Tensor API on a 1024-element tensor:
/// schedule (cached), launch, synchronize.
fn dispatch_eager() -> Row {
    let (x, _) = cuda_tensor(&random(1024, 13), &[1024], DType::F32);
    let step = || {
        x.add_scalar(1.0)
            .expect("add")
            .realize()
            .map(|_| ())
            .expect("realize")
    };
    for _ in 0..20 {
        step();
    }
    let mut t: Vec<Duration> = (0..200)
        .map(|_| {
            let t0 = Instant::now();
            step();
            t0.elapsed()
        })
        .collect();
    t.sort();
    row(
        "tiny op, eager (per call)",
        "us",
        secs(t[100]) * 1e6,
        f64::NAN,
        "Tensor API: schedule, launch, sync".into(),
    )
}

/// Time per tiny kernel replayed from a CUDA graph of 1000 launches.
fn dispatch_graph(dev: &Arc<CudaDevice>) -> Row {
    let (x, _) = cuda_tensor(&random(1024, 14), &[1024], DType::F32);
    let out = x.add_scalar(1.0).expect("add");
    let c = Compiled::new(&out, dev);
    c.time(2, 3);
    const OPS: usize = 1000;
    let graph = dev
        .capture(|| (0..OPS).try_for_each(|_| c.queue()))
        .expect("capture");
    let replay = || {
        // SAFETY: the captured buffers are held by `c` and `x` until the end.
        dev.time(|| unsafe { graph.replay() }).expect("replay")
    };
    for _ in 0..3 {
        replay();
    }
    let mut wall: Vec<Duration> = (0..10)
        .map(|_| {
            let t0 = Instant::now();
            replay();
            t0.elapsed()
        })
        .collect();
    wall.sort();
    row(
        "tiny op, graph replay (per op)",
        "us",
        secs(wall[5]) * 1e6 / OPS as f64,
        f64::NAN,
        format!("{OPS} launches per graph, wall time"),
    )
}

/// Starts this binary again with `--first-result` and no compile cache, and reads the
/// times it prints.
fn first_result() -> Row {
    let exe = std::env::current_exe().expect("own path");
    let out = std::process::Command::new(exe)
        .arg("--first-result")
        .env("DISABLE_COMPILER_CACHE", "1")
        .output()
        .expect("child runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let get = |key: &str| {
        text.lines()
            .find_map(|l| {
                l.strip_prefix(key)
                    .and_then(|v| v.trim().parse::<f64>().ok())
            })
            .unwrap_or(f64::NAN)
    };
    let (ctx, first, err) = (get("context_ms"), get("first_ms"), get("error"));
    row(
        "first result, fresh process",
        "ms",
        first,
        err,
        format!("compile + launch + read back; device open before it: {ctx:.0} ms"),
    )
}

/// The child of `first_result`: opens the device, then times a fresh op to its result.
pub fn first_result_child() {
    let t0 = Instant::now();
    let (x, vx) = cuda_tensor(&random(4096, 15), &[4096], DType::F32);
    let ctx = t0.elapsed();
    let salt = (std::process::id() % 1000) as f64 / 1000.0 + 0.5;
    let t1 = Instant::now();
    let got = x
        .mul_scalar(salt)
        .expect("mul")
        .exp()
        .expect("exp")
        .to_vec::<f32>()
        .expect("result");
    let first = t1.elapsed();
    let err = rel_error(
        got.iter()
            .zip(&vx)
            .map(|(g, x)| (f64::from(*g), (f64::from(*x) * salt).exp())),
    );
    println!("context_ms {}", ctx.as_secs_f64() * 1e3);
    println!("first_ms {}", first.as_secs_f64() * 1e3);
    println!("error {err}");
}
