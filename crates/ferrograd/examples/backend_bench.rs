//! The two CPU backends kernel by kernel: for each kernel of the CPU benchmark's programs
//! (`a*b+1`, sum, softmax, matmuls), the same kernel AST is linearized for each device's
//! target, rendered, compiled (timed: 5 fresh compiles, each by a new device, `cc` with
//! no disk cache for C, LLVM in process) and launched on the same random inputs (timed:
//! 15 launches after a warm-up, the thread pool's clock, the two backends' launches
//! alternating). Each time is given as the minimum and the median.
//! `BACKEND_BENCH_DUMP=DIR` writes each kernel's source (C and LLVM IR) to DIR. Needs the
//! `llvm` feature: `cargo run --release -p ferrograd --features llvm --example backend_bench`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ferrograd::layers::device::{self, Buffer, Device};
use ferrograd::{Tensor, init};

/// Timed launches of each kernel on each backend (after one warm-up).
const RUNS: usize = 15;
/// Timed compiles of each kernel on each backend.
const COMPILES: usize = 5;

/// Milliseconds of a duration.
fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The minimum and the median.
fn spread(mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    (v[0], v[v.len() / 2])
}

/// A new device of `backend` (so that nothing is cached in memory).
fn fresh(backend: &str) -> Arc<dyn Device> {
    if backend == "LLVM" {
        Arc::new(runtime_llvm::LlvmCpuDevice::new("CPU:LLVM"))
    } else {
        Arc::new(runtime_cpu::CpuDevice::new(
            "CPU",
            Box::new(renderer_c::CRenderer::new()),
        ))
    }
}

/// The compile times of `source` by `COMPILES` fresh devices of `backend`.
fn compile_times(backend: &str, source: &device::Source) -> Result<Vec<Duration>, String> {
    (0..COMPILES)
        .map(|_| {
            let dev = fresh(backend);
            let t = Instant::now();
            dev.compile(source).map_err(|e| e.to_string())?;
            Ok(t.elapsed())
        })
        .collect()
}

/// A kernel compiled for one device, with inputs, ready to launch.
struct Ready {
    exe: Arc<dyn device::Program>,
    dims: device::LaunchDims,
    buffers: Vec<Buffer>,
    compile: Vec<Duration>,
}

impl Ready {
    /// The kernel's time on one launch, as its device measured it.
    fn launch(&self) -> Result<Duration, String> {
        let refs: Vec<&Buffer> = self.buffers.iter().collect();
        // SAFETY: every buffer has the element count the schedule gave it.
        let took =
            unsafe { self.exe.launch(&refs, &self.dims, &[], true) }.map_err(|e| e.to_string())?;
        Ok(took.unwrap_or_default())
    }
}

/// `kernel` linearized for `dev`'s target, rendered, compiled (timed) and given random
/// inputs.
fn prepare(
    kernel: &ferrograd::layers::engine::Kernel,
    dev: &Arc<dyn Device>,
) -> Result<Ready, String> {
    let sizes = kernel.buffer_sizes();
    let options = linearizer::LinearizeOptions {
        optimize: true,
        opts: None,
    };
    let program = linearizer::linearize(&kernel.ast, &sizes, dev.renderer().target(), &options)
        .map_err(|e| e.to_string())?;
    let source = dev.renderer().render(&program).map_err(|e| e.to_string())?;
    if let Some(dir) = std::env::var_os("BACKEND_BENCH_DUMP") {
        let target = dev.renderer().target().name;
        let path = std::path::Path::new(&dir).join(format!("{}.{target}.txt", program.name));
        std::fs::write(path, &source.code).map_err(|e| e.to_string())?;
    }
    let backend = dev.renderer().target().name;
    let compile = compile_times(backend, &source)?;
    let exe = dev.compile(&source).map_err(|e| e.to_string())?;
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let buffers: Vec<Buffer> = kernel
        .buffers
        .iter()
        .zip(&sizes)
        .map(|(b, &n)| {
            let bytes = n * b.dtype().itemsize();
            let buf = dev.alloc(bytes).map_err(|e| e.to_string())?;
            let data: Vec<u8> = (0..bytes / 4)
                .flat_map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                    ((seed >> 40) as f32 / (1u64 << 24) as f32).to_le_bytes()
                })
                .collect();
            buf.copy_in(0, &data).map_err(|e| e.to_string())?;
            Ok(buf)
        })
        .collect::<Result<_, String>>()?;
    Ok(Ready {
        exe,
        dims: program.dims,
        buffers,
        compile,
    })
}

fn main() -> Result<(), String> {
    // SAFETY: first thing in main, before any other thread exists.
    unsafe { std::env::set_var("DISABLE_COMPILER_CACHE", "1") };
    init();
    let c = device::open("CPU").map_err(|e| e.to_string())?;
    let llvm = device::open("CPU:LLVM").map_err(|e| e.to_string())?;
    let n = 1i64 << 22;
    let (a, b) = (
        Tensor::rand(&[n]).map_err(|e| e.to_string())?,
        Tensor::rand(&[n]).map_err(|e| e.to_string())?,
    );
    let s = Tensor::rand(&[2048, 2048]).map_err(|e| e.to_string())?;
    let mut programs: Vec<(String, Tensor)> = vec![
        (
            "a*b+1, 2^22 f32".into(),
            a.mul(&b)
                .and_then(|x| x.add_scalar(1.0))
                .map_err(|e| e.to_string())?,
        ),
        (
            "sum, 2^22 f32".into(),
            a.sum(&[], false).map_err(|e| e.to_string())?,
        ),
        (
            "softmax 2048x2048".into(),
            s.softmax(-1).map_err(|e| e.to_string())?,
        ),
    ];
    for m in [512i64, 1024, 2048] {
        let x = Tensor::rand(&[m, m]).map_err(|e| e.to_string())?;
        let y = Tensor::rand(&[m, m]).map_err(|e| e.to_string())?;
        programs.push((
            format!("matmul {m}^3 f32"),
            x.matmul(&y).map_err(|e| e.to_string())?,
        ));
    }
    println!(
        "{:<20} {:<22} {:>17} {:>17} {:>19} {:>19} {:>7}",
        "program", "kernel", "C compile ms", "LLVM compile ms", "C run ms", "LLVM run ms", "LLVM/C"
    );
    println!("{:>61} {:>17} {:>19} {:>19}", "(min, median)", "", "", "");
    for (name, t) in &programs {
        let sched = Tensor::schedule(&[t]).map_err(|e| e.to_string())?;
        for k in sched.kernels.iter().filter(|k| !k.ast.src().is_empty()) {
            let kernel_name = linearizer::kernel_name(&k.ast);
            let (rc, rl) = (prepare(k, &c)?, prepare(k, &llvm)?);
            // alternate the two, so that both see the same load on the machine
            let (mut tc, mut tl) = (Vec::new(), Vec::new());
            for round in 0..RUNS + 1 {
                let (x, y) = (rc.launch()?, rl.launch()?);
                if round > 0 {
                    tc.push(x);
                    tl.push(y);
                }
            }
            let (cc, lc, cr, lr) = (
                spread(rc.compile.clone()),
                spread(rl.compile.clone()),
                spread(tc),
                spread(tl),
            );
            println!(
                "{name:<20} {kernel_name:<22} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>7.2}",
                ms(cc.0),
                ms(cc.1),
                ms(lc.0),
                ms(lc.1),
                ms(cr.0),
                ms(cr.1),
                ms(lr.0),
                ms(lr.1),
                lr.1.as_secs_f64() / cr.1.as_secs_f64().max(1e-9)
            );
        }
    }
    Ok(())
}
