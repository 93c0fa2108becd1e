//! The measuring half of the GPU benchmark: a tensor program is scheduled by the engine,
//! each of its kernels linearized for the device, rendered, compiled with NVRTC and
//! loaded on a `CudaDevice` of the benchmark's own, and then the whole schedule is timed
//! with CUDA events around its launches (warm-up first, the median of many repetitions).
//! Inputs are tensors made on `CUDA` from fresh random host data; the output is read back
//! and checked against a float64 reference by the caller.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use ferrograd::cuda::{CudaDevice, CudaProgram};
use ferrograd::layers::{device, engine, uop_ir};
use ferrograd::{DType, Tensor};
use linearizer::{LaunchDims, LinearizeOptions, linearize};
use uop_ir::UOp;

/// A schedule compiled on the benchmark's device, with its buffers.
pub struct Compiled {
    pub kernels: Vec<(Arc<CudaProgram>, LaunchDims, Vec<u64>)>,
    /// Memory the benchmark allocated (outputs and temporaries), kept alive.
    _owned: Vec<Arc<ferrograd::cuda::CudaBuffer>>,
    output: Arc<ferrograd::cuda::CudaBuffer>,
    pub names: Vec<String>,
    pub device: Arc<CudaDevice>,
}

/// Reproducible random floats in [-1, 1).
pub fn random(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

/// A tensor on `CUDA` of `dtype` holding `values` (rounded to the dtype), and the values
/// as the dtype holds them.
pub fn cuda_tensor(values: &[f32], shape: &[i64], dtype: DType) -> (Tensor, Vec<f32>) {
    match dtype {
        DType::F16 => {
            let h: Vec<half::f16> = values.iter().map(|x| half::f16::from_f32(*x)).collect();
            let back = h.iter().map(|x| x.to_f32()).collect();
            (
                Tensor::from_slice_on(&h, shape, "CUDA").expect("f16 tensor"),
                back,
            )
        }
        DType::BF16 => {
            let h: Vec<half::bf16> = values.iter().map(|x| half::bf16::from_f32(*x)).collect();
            let back = h.iter().map(|x| x.to_f32()).collect();
            (
                Tensor::from_slice_on(&h, shape, "CUDA").expect("bf16 tensor"),
                back,
            )
        }
        _ => (
            Tensor::from_slice_on(values, shape, "CUDA").expect("f32 tensor"),
            values.to_vec(),
        ),
    }
}

impl Compiled {
    /// Schedules `out`, compiles its kernels on `device` and binds their buffers.
    pub fn new(out: &Tensor, device: &Arc<CudaDevice>) -> Compiled {
        let sched = Tensor::schedule(&[out]).expect("schedule");
        let renderer = device::Device::renderer(&**device);
        let options = LinearizeOptions {
            optimize: true,
            opts: None,
        };
        let mut owned: HashMap<UOp, Arc<ferrograd::cuda::CudaBuffer>> = HashMap::new();
        let mut kernels = Vec::new();
        let mut names = Vec::new();
        for k in &sched.kernels {
            let program = linearize(&k.ast, &k.buffer_sizes(), renderer.target(), &options)
                .expect("linearize");
            let source = renderer.render(&program).expect("render");
            if std::env::var_os("SHOW_CUDA").is_some() {
                eprintln!("{}", source.code);
            }
            let loaded = device.load(&source).expect("compile");
            let addrs: Vec<u64> = k
                .buffers
                .iter()
                .map(|b| match engine::store::get(b) {
                    Some(m) => m.addr(),
                    None => {
                        let m = owned.entry(b.clone()).or_insert_with(|| {
                            Arc::new(device.alloc_buffer(engine::bytes_of(b)).expect("allocate"))
                        });
                        device::RawBuffer::addr(&**m)
                    }
                })
                .collect();
            names.push(format!(
                "{} grid {:?} block {:?}",
                program.name, program.dims.global, program.dims.local
            ));
            kernels.push((loaded, program.dims, addrs));
        }
        let out_buf = sched
            .buffer_of(&out.node())
            .or_else(|| sched.buffer_of(&out.node().src()[0]))
            .expect("output buffer");
        let output = owned.get(&out_buf).expect("output memory").clone();
        Compiled {
            kernels,
            _owned: owned.into_values().collect(),
            output,
            names,
            device: device.clone(),
        }
    }

    /// Queues every kernel once.
    pub fn queue(&self) -> ferrograd::cuda::Result<()> {
        for (p, dims, addrs) in &self.kernels {
            // SAFETY: every address is a live buffer of the size the kernel was
            // scheduled with, held by the input tensors or by `_owned`.
            unsafe { p.enqueue(addrs, dims)? };
        }
        Ok(())
    }

    /// The median time of the schedule over `reps` runs after `warmup` runs.
    pub fn time(&self, warmup: usize, reps: usize) -> Duration {
        for _ in 0..warmup {
            self.device.time(|| self.queue()).expect("warm-up");
        }
        let mut t: Vec<Duration> = (0..reps)
            .map(|_| self.device.time(|| self.queue()).expect("timed run"))
            .collect();
        t.sort();
        t[t.len() / 2]
    }

    /// The output's bytes, after running the schedule once more.
    pub fn output_bytes(&self) -> Vec<u8> {
        self.queue().expect("run");
        let mut out = vec![0u8; device::RawBuffer::size(&*self.output)];
        device::RawBuffer::copy_out(&*self.output, 0, &mut out).expect("read back");
        out
    }

    /// The output as f32 (converting from f16/bf16 when `dtype` says so).
    pub fn output_f32(&self, dtype: DType) -> Vec<f32> {
        let b = self.output_bytes();
        match dtype {
            DType::F16 => b
                .chunks_exact(2)
                .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            DType::BF16 => b
                .chunks_exact(2)
                .map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            _ => b
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        }
    }
}

/// `‖got - want‖ / ‖want‖` over the pairs given.
pub fn rel_error(pairs: impl Iterator<Item = (f64, f64)>) -> f64 {
    let (mut num, mut den) = (0.0f64, 0.0f64);
    for (g, w) in pairs {
        if !g.is_finite() {
            return f64::INFINITY;
        }
        num += (g - w) * (g - w);
        den += w * w;
    }
    (num / den.max(1e-300)).sqrt()
}
