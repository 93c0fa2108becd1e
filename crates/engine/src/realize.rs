//! `schedule` and `realize`: a tensor graph becomes kernels (from the schedule cache when
//! its structure was scheduled before), its new buffers get memory (outputs their own,
//! temporaries shared as the template's plan says), its kernels are found in the compile
//! cache or compiled, and launched in order. A realize made while `capture` runs on this
//! thread is also recorded for replay.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use device::{Buffer, Device};
use uop_ir::{Op, UOp};

use crate::compile::{Compiled, compile_all};
use crate::schedule_cache::{self, Scheduled, Slot};
use crate::structure::Structure;
use crate::{EngineError, RunStats, Schedule, capture, debug, store, written};

static LAUNCHED: AtomicU64 = AtomicU64::new(0);

/// Kernels launched by this process so far (by `realize` and by replays).
pub fn kernels_launched() -> u64 {
    LAUNCHED.load(Ordering::Relaxed)
}

pub(crate) fn count_launch() {
    LAUNCHED.fetch_add(1, Ordering::Relaxed);
}

/// The device named `name`, remembered per thread for the name last asked for.
pub(crate) fn open(name: &str) -> Result<Arc<dyn Device>, EngineError> {
    thread_local! {
        static LAST: std::cell::RefCell<Option<(String, Arc<dyn Device>)>> =
            const { std::cell::RefCell::new(None) };
    }
    let hit = LAST.with_borrow(|last| match last {
        Some((n, dev)) if n == name => Some(dev.clone()),
        _ => None,
    });
    if let Some(dev) = hit {
        return Ok(dev);
    }
    let dev = device::open(name)?;
    LAST.set(Some((name.to_string(), dev.clone())));
    Ok(dev)
}

/// The graph under `sink` walked (with written ASSIGNs read from their targets) and
/// scheduled on `device`. The schedule's buffers are also filed under `sink`'s own
/// sources.
fn scheduled(sink: &UOp, device: &str) -> Result<(Structure, Scheduled), EngineError> {
    let s = written::settle_structure(Structure::of(sink));
    let mut sched = schedule_cache::schedule(&s, device)?;
    if let Some(settled) = s.nodes.last().filter(|root| *root != sink) {
        for (old, new) in sink.src().iter().zip(settled.src()) {
            if let Some(b) = sched.schedule.buffer_of(new) {
                sched.schedule.buffers.insert(old.clone(), b);
            }
        }
    }
    Ok((s, sched))
}

/// Schedules the tensors under `sink` (a SINK) without running anything. An ASSIGN whose
/// write already ran is read from its target rather than written again; the schedule's
/// buffers are also filed under `sink`'s own sources.
pub fn schedule(sink: &UOp, device: &str) -> Result<Schedule, EngineError> {
    Ok(scheduled(sink, device)?.1.schedule)
}

/// A schedule's temporaries: back to the store when dropped, also when a step failed.
struct Arena<'a> {
    dev: &'a Arc<dyn Device>,
    memory: Vec<Buffer>,
}

impl Drop for Arena<'_> {
    fn drop(&mut self) {
        for memory in self.memory.drain(..) {
            store::release(self.dev, memory);
        }
    }
}

/// Computes the tensors under `sink` on `device`. Afterwards `store::get` gives the memory
/// of each of their buffers (`Schedule::buffer_of`).
pub fn realize(sink: &UOp, device: &str) -> Result<(Schedule, RunStats), EngineError> {
    let t0 = Instant::now();
    let (s, sched) = scheduled(sink, device)?;
    let mut stats = RunStats {
        kernels: sched.schedule.kernels.len(),
        schedule_time: t0.elapsed(),
        schedule_cached: sched.cached,
        ..Default::default()
    };
    if debug::level() >= 1 {
        eprintln!(
            "scheduled {} kernels in {:.2} ms ({})",
            stats.kernels,
            stats.schedule_time.as_secs_f64() * 1e3,
            if sched.cached {
                "cache hit"
            } else {
                "cache miss"
            }
        );
    }
    let dev = open(device)?;
    let plan = sched.template.plan(&s.roots);
    stats.temporary_bytes = plan.sizes.iter().sum();
    stats.unshared_temporary_bytes = plan.unshared_bytes;
    // memory of each made buffer: outputs their own, temporaries their share of the arena
    let arena = Arena {
        dev: &dev,
        memory: store::alloc_all(&dev, &plan.sizes)?,
    };
    let mut made: Vec<Option<Buffer>> = plan
        .arena_of
        .iter()
        .map(|a| a.map(|a| arena.memory[a].clone()))
        .collect();
    for &i in &plan.outputs {
        let b = &sched.made[i as usize];
        made[i as usize] = Some(store::alloc_for(b, &dev, crate::bytes_of(b))?);
    }
    let graph = store::get_all(&s.buffers);
    if capture::is_recording() {
        capture::record_fresh(made.iter().flatten());
    }

    let tc = Instant::now();
    let programs = compile_all(&sched.schedule.kernels, &dev)?;
    stats.compile_time = tc.elapsed();
    stats.compiled = programs.iter().filter(|(_, fresh)| *fresh).count();

    let tr = Instant::now();
    let memory = |slot: &Slot| -> Result<&Buffer, EngineError> {
        let (m, node) = match *slot {
            Slot::Graph(i) => (&graph[i as usize], &s.buffers[i as usize]),
            Slot::Made(i) => (&made[i as usize], &sched.made[i as usize]),
        };
        m.as_ref()
            .ok_or_else(|| EngineError::MissingBuffer(node.arg().to_string()))
    };
    let launched = launch_all(&sched, &programs, &dev, memory);
    // the buffers must outlive every queued kernel, also when a launch failed
    let synchronized = dev.synchronize();
    launched?;
    synchronized?;
    stats.run_time = tr.elapsed();
    drop(arena);
    if s.has_assign {
        let assigns = sched
            .template
            .realized_nodes()
            .map(|at| &s.nodes[at as usize])
            .filter(|n| n.op() == Op::Assign);
        written::record(assigns);
    }
    if debug::level() >= 1 {
        eprintln!(
            "ran {} kernels in {:.2} ms; temporaries {:.2} MB planned ({:.2} MB without sharing)",
            stats.kernels,
            stats.run_time.as_secs_f64() * 1e3,
            stats.temporary_bytes as f64 / 1e6,
            stats.unshared_temporary_bytes as f64 / 1e6
        );
    }
    Ok((sched.schedule, stats))
}

/// Launches each kernel of a schedule in order, with `memory` giving each slot's buffer.
/// Launches do not wait for their kernels unless `DEBUG=2` asks for each kernel's time;
/// the caller synchronizes.
fn launch_all<'m>(
    sched: &Scheduled,
    programs: &[(Arc<Compiled>, bool)],
    dev: &Arc<dyn Device>,
    memory: impl Fn(&Slot) -> Result<&'m Buffer, EngineError>,
) -> Result<(), EngineError> {
    let wait = debug::level() >= 2;
    let recording = capture::is_recording();
    let mut refs: Vec<&Buffer> = Vec::new();
    for (i, ((_, slots), (compiled, _))) in sched.template.kernels.iter().zip(programs).enumerate()
    {
        refs.clear();
        for slot in slots {
            refs.push(memory(slot)?);
        }
        let (program, exe) = compiled.as_ref();
        // SAFETY: every buffer was allocated with the element count rangeify gave it, and
        // the kernel's indices stay within those counts; nothing else touches them until
        // the caller has synchronized the device.
        let took = unsafe { exe.launch(&refs, &program.dims, &[], wait)? };
        count_launch();
        if recording {
            capture::record_launch(compiled, dev, &refs);
        }
        if let (true, Some(took)) = (wait, took) {
            let bytes: usize = sched.schedule.kernels[i]
                .buffers
                .iter()
                .map(crate::bytes_of)
                .sum();
            let line = debug::kernel_line(i, program, bytes as u64, took, dev.roofline());
            eprintln!("{line}");
        }
    }
    Ok(())
}
