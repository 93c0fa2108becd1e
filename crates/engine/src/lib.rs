//! The engine runs tensor graphs: schedule (rangeify) -> memory plan -> for each kernel:
//! linearize, render and compile (cached by the kernel's content key in a bounded LRU, see
//! [`set_program_cache_capacity`]) -> launch. Devices
//! are reached only through the registry, by name. `DEBUG=1` prints the schedule summary,
//! `DEBUG=2` a line per kernel run, `DEBUG=4` the source; `NOOPT=1` turns opts off.

pub mod copy;
mod debug;
mod planner;
pub mod store;
mod written;

use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use device::{Buffer, Device, LinearProgram, Lru, Program};
use parking_lot::Mutex;
use thiserror::Error;
use uop_ir::{Key, UOp};

pub use debug::{kernel_line, level as debug_level, noopt};
pub use planner::{Plan, bytes_of, plan};
pub use rangeify::{Kernel, Schedule};

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EngineError {
    #[error("scheduling failed: {0}")]
    Rangeify(#[from] rangeify::RangeifyError),
    #[error("linearizing failed: {0}")]
    Linearize(#[from] linearizer::LinearizeError),
    #[error("rendering failed: {0}")]
    Render(#[from] device::RenderError),
    #[error("{0}")]
    Device(#[from] device::DeviceError),
    #[error("buffer {0} has no memory: it was never allocated or written")]
    MissingBuffer(String),
    #[error(
        "buffer {buffer} lives on {on} but its kernel runs on {run}: move it with to(\"{run}\")"
    )]
    WrongDevice {
        buffer: String,
        on: String,
        run: String,
    },
}

/// What one `realize` did.
#[derive(Clone, Debug, Default)]
pub struct RunStats {
    pub kernels: usize,
    pub schedule_time: Duration,
    /// Wall time of the compile phase: linearize, render and compile the kernels not in the
    /// cache, several at a time.
    pub compile_time: Duration,
    /// Kernels compiled by this run (the others came from the compile cache).
    pub compiled: usize,
    /// Wall time from the first launch until the device finished the last kernel.
    pub run_time: Duration,
    /// Bytes of temporaries after sharing, and without.
    pub temporary_bytes: usize,
    pub unshared_temporary_bytes: usize,
}

type Compiled = (LinearProgram, Arc<dyn Program>);
/// A compiled kernel and whether it was compiled now, or why it could not be.
type CompileResult = Result<(Compiled, bool), EngineError>;

/// Compiled kernels by (content key, device). Bounded, so that a long process does not keep
/// every program it ever ran loaded; an evicted program stays alive while a launch holds it.
static PROGRAMS: LazyLock<Mutex<Lru<(Key, String), Compiled>>> =
    LazyLock::new(|| Mutex::new(Lru::new(device::program_cache_capacity())));

/// Keeps at most `capacity` compiled kernels (at least one) in the engine's cache, evicting
/// the least recently used now if there are more. The default is
/// [`device::program_cache_capacity`] (`FERROGRAD_PROGRAM_CACHE`).
pub fn set_program_cache_capacity(capacity: usize) {
    let evicted = PROGRAMS.lock().set_capacity(capacity);
    drop(evicted);
}

/// How many compiled kernels the engine's cache holds now.
pub fn cached_programs() -> usize {
    PROGRAMS.lock().len()
}

/// Compiles a kernel (or finds it in the cache: identical kernels compile once while they
/// stay in the cache).
pub fn compile(kernel: &Kernel, dev: &Arc<dyn Device>) -> Result<Compiled, EngineError> {
    Ok(compile_cached(kernel, dev)?.0)
}

/// `compile`, and whether the program was compiled now (false: it came from the cache).
fn compile_cached(kernel: &Kernel, dev: &Arc<dyn Device>) -> Result<(Compiled, bool), EngineError> {
    let key = (kernel.ast.key(), dev.name().to_string());
    if let Some(c) = PROGRAMS.lock().get(&key) {
        return Ok((c.clone(), false));
    }
    let sizes = kernel.buffer_sizes();
    let options = linearizer::LinearizeOptions {
        optimize: !noopt(),
        opts: None,
    };
    let program = linearizer::linearize(&kernel.ast, &sizes, dev.renderer().target(), &options)?;
    let source = dev.renderer().render(&program)?;
    if debug::level() >= 4 {
        eprintln!("{}", source.code);
    }
    let compiled = (program, dev.compile(&source)?);
    let (kept, evicted) = {
        let mut programs = PROGRAMS.lock();
        let (kept, evicted) = programs.get_or_insert(key, compiled);
        (kept.clone(), evicted)
    };
    // Dropped outside the lock: this may unload a library.
    drop(evicted);
    Ok((kept, true))
}

/// The program of each kernel, compiling the ones not in the cache several at a time:
/// each C compile is a process of its own, so a schedule of many new kernels uses every
/// core. A kernel whose AST another kernel of the list has is compiled once.
fn compile_all(
    kernels: &[Kernel],
    dev: &Arc<dyn Device>,
) -> Result<Vec<(Compiled, bool)>, EngineError> {
    let mut first: std::collections::HashMap<Key, usize> = Default::default();
    for (i, k) in kernels.iter().enumerate() {
        first.entry(k.ast.key()).or_insert(i);
    }
    let unique: Vec<usize> = (0..kernels.len())
        .filter(|&i| first[&kernels[i].ast.key()] == i)
        .collect();
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(unique.len());
    let results: Mutex<Vec<Option<CompileResult>>> =
        Mutex::new((0..kernels.len()).map(|_| None).collect());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || {
        loop {
            let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(&i) = unique.get(n) else { break };
            let r = compile_cached(&kernels[i], dev);
            results.lock()[i] = Some(r);
        }
    };
    if workers > 1 {
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(work);
            }
        });
    } else {
        work();
    }
    let mut done = results.into_inner();
    let mut out: Vec<(Compiled, bool)> = Vec::with_capacity(kernels.len());
    for (i, k) in kernels.iter().enumerate() {
        let j = first[&k.ast.key()];
        out.push(if j == i {
            done[i].take().unwrap_or_else(|| compile_cached(k, dev))?
        } else {
            // a duplicate: the same program, not compiled by this run
            (out[j].0.clone(), false)
        });
    }
    Ok(out)
}

/// Launches each kernel of a schedule in order on `dev`, with the planned temporaries
/// (`arena`) and the stored buffers as its arguments. Launches do not wait for their
/// kernels unless `DEBUG=2` asks for each kernel's time; the caller synchronizes.
fn launch_all(
    kernels: &[Kernel],
    programs: &[(Compiled, bool)],
    plan: &Plan,
    arena: &[Buffer],
    dev: &Arc<dyn Device>,
) -> Result<(), EngineError> {
    let wait = debug::level() >= 2;
    for (i, (kernel, ((program, exe), _))) in kernels.iter().zip(programs).enumerate() {
        let memory: Vec<Buffer> = kernel
            .buffers
            .iter()
            .map(|b| match plan.slot.get(b) {
                Some(a) => Ok(arena[*a].clone()),
                None => {
                    store::get(b).ok_or_else(|| EngineError::MissingBuffer(format!("{}", b.arg())))
                }
            })
            .collect::<Result<_, _>>()?;
        let refs: Vec<&Buffer> = memory.iter().collect();
        // SAFETY: every buffer was allocated with the element count rangeify gave it, and
        // the kernel's indices stay within those counts; nothing else touches them until
        // the caller has synchronized the device.
        let took = unsafe { exe.launch(&refs, &program.dims, &[], wait)? };
        if let (true, Some(took)) = (wait, took) {
            let bytes: usize = kernel
                .buffers
                .iter()
                .zip(kernel.buffer_sizes())
                .map(|(b, n)| n * b.dtype().itemsize())
                .sum();
            let line = kernel_line(i, program, bytes as u64, took, dev.roofline());
            eprintln!("{line}");
        }
    }
    Ok(())
}

/// Schedules the tensors under `sink` (a SINK) without running anything. An ASSIGN whose
/// write already ran is read from its target rather than written again; the schedule's
/// buffers are also filed under `sink`'s own sources.
pub fn schedule(sink: &UOp, device: &str) -> Result<Schedule, EngineError> {
    let settled = written::settle(sink);
    let mut sched = rangeify::schedule(&settled, device)?;
    if settled != *sink {
        for (old, new) in sink.src().iter().zip(settled.src()) {
            if let Some(b) = sched.buffer_of(new) {
                sched.buffers.insert(old.clone(), b);
            }
        }
    }
    Ok(sched)
}

/// Computes the tensors under `sink` on `device`. Afterwards `store::get` gives the memory
/// of each of their buffers (`Schedule::buffer_of`).
pub fn realize(sink: &UOp, device: &str) -> Result<(Schedule, RunStats), EngineError> {
    let t0 = Instant::now();
    let sched = schedule(sink, device)?;
    let mut stats = RunStats {
        kernels: sched.kernels.len(),
        schedule_time: t0.elapsed(),
        ..Default::default()
    };
    if debug::level() >= 1 {
        eprintln!(
            "scheduled {} kernels in {:.2} ms",
            sched.kernels.len(),
            stats.schedule_time.as_secs_f64() * 1e3
        );
    }
    let dev = device::open(device)?;
    copy::check_devices(&sched.kernels, dev.name())?;
    // outputs persist; every other new buffer is a temporary (an assigned buffer is not new)
    let outputs: Vec<UOp> = sink
        .src()
        .iter()
        .filter_map(|s| sched.buffer_of(s))
        .collect();
    let temporaries: Vec<UOp> = sched
        .buffers
        .values()
        .filter(|b| !outputs.contains(b) && store::get(b).is_none())
        .cloned()
        .collect();
    let plan = planner::plan(&sched.kernels, &temporaries);
    stats.temporary_bytes = plan.planned_bytes();
    stats.unshared_temporary_bytes = plan.unshared_bytes;
    let arena: Vec<Buffer> = plan
        .sizes
        .iter()
        .map(|s| store::alloc(&dev, *s))
        .collect::<Result<_, _>>()?;
    for out in &outputs {
        if store::get(out).is_none() {
            store::insert(out, dev.name(), store::alloc(&dev, bytes_of(out))?);
        }
    }
    let tc = Instant::now();
    let programs = compile_all(&sched.kernels, &dev)?;
    stats.compile_time = tc.elapsed();
    stats.compiled = programs.iter().filter(|(_, fresh)| *fresh).count();
    let tr = Instant::now();
    let launched = launch_all(&sched.kernels, &programs, &plan, &arena, &dev);
    // the buffers must outlive every queued kernel, also when a launch failed
    let synchronized = dev.synchronize();
    launched?;
    synchronized?;
    stats.run_time = tr.elapsed();
    for memory in arena {
        store::release(&dev, memory);
    }
    written::record(sched.buffers.keys());
    if debug::level() >= 1 {
        eprintln!(
            "ran {} kernels in {:.2} ms; temporaries {:.2} MB planned ({:.2} MB without sharing)",
            stats.kernels,
            stats.run_time.as_secs_f64() * 1e3,
            stats.temporary_bytes as f64 / 1e6,
            stats.unshared_temporary_bytes as f64 / 1e6
        );
    }
    Ok((sched, stats))
}
