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
use crate::schedule_cache::{self, MadePlan, Scheduled, Slot};
use crate::structure::Structure;
use crate::{EngineError, RunStats, Schedule, capture, debug, exact, profile, store, written};

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

/// The graph under `roots` walked (with written ASSIGNs read from their targets) and
/// scheduled on `device`.
fn scheduled(roots: &[UOp], device: &str) -> Result<(Structure, Scheduled), EngineError> {
    let s = written::settle_structure(Structure::of_roots(roots));
    let sched = schedule_cache::schedule(&s, device)?;
    Ok((s, sched))
}

/// `sched` as a `Schedule` whose buffers are also filed under `sink`'s own sources (which
/// differ from the scheduled graph's when a written ASSIGN was read from its target).
fn filed_under(sink: &UOp, s: &Structure, sched: Scheduled) -> Schedule {
    let mut schedule = sched.into_schedule(s);
    for (old, new) in sink.src().iter().zip(s.root_nodes()) {
        if old != new
            && let Some(b) = schedule.buffer_of(new)
        {
            schedule.buffers.insert(old.clone(), b);
        }
    }
    schedule
}

/// Schedules the tensors under `sink` (a SINK) without running anything. An ASSIGN whose
/// write already ran is read from its target rather than written again; the schedule's
/// buffers are also filed under `sink`'s own sources.
pub fn schedule(sink: &UOp, device: &str) -> Result<Schedule, EngineError> {
    let (s, sched) = scheduled(sink.src(), device)?;
    Ok(filed_under(sink, &s, sched))
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
    let (s, sched, stats) = run(sink.src(), device)?;
    Ok((filed_under(sink, &s, sched), stats))
}

/// Computes the tensors `roots` on `device`, and gives the buffer holding each (None for
/// one that has none): `realize` of a SINK of them without building the SINK or the
/// `Schedule`, the fast path of eager tensors. The very graph realized before (the same
/// roots over the same buffers, `exact.rs`) skips the walk of the graph too.
pub fn realize_outputs(
    roots: &[UOp],
    device: &str,
) -> Result<(Vec<Option<UOp>>, RunStats), EngineError> {
    let t0 = Instant::now();
    if let Some((sched, buffers)) = exact::find(roots, device)
        && let (Some(plan), Some(programs)) =
            (sched.template.made_plan(), sched.template.programs())
    {
        let stats = RunStats {
            kernels: sched.template.kernels.len(),
            schedule_time: t0.elapsed(),
            schedule_cached: true,
            ..Default::default()
        };
        let stats = execute(&buffers, &sched, plan, &programs, device, stats)?;
        return Ok((root_buffers(plan, &buffers, &sched), stats));
    }
    let (s, sched, stats) = run(roots, device)?;
    if !s.has_assign {
        exact::remember(roots, device, &sched.template, &s.buffers);
    }
    let plan = sched.template.plan(&s);
    Ok((root_buffers(plan, &s.buffers, &sched), stats))
}

/// The buffer holding each root.
fn root_buffers(plan: &MadePlan, graph: &[UOp], sched: &Scheduled) -> Vec<Option<UOp>> {
    plan.roots
        .iter()
        .map(|slot| {
            slot.map(|slot| match slot {
                Slot::Graph(i) => graph[i as usize].clone(),
                Slot::Made(i) => sched.made[i as usize].clone(),
            })
        })
        .collect()
}

/// Schedules, compiles (what is not compiled) and runs: the work of `realize`.
fn run(roots: &[UOp], device: &str) -> Result<(Structure, Scheduled, RunStats), EngineError> {
    let t0 = Instant::now();
    let (s, sched) = scheduled(roots, device)?;
    let template = &sched.template;
    let mut stats = RunStats {
        kernels: template.kernels.len(),
        schedule_time: t0.elapsed(),
        schedule_cached: sched.cached,
        ..Default::default()
    };
    let plan = template.plan(&s);
    let programs = match template.programs() {
        Some(programs) => programs,
        None => {
            let tc = Instant::now();
            let kernels = sched.schedule(&s).kernels;
            let compiled = compile_all(&kernels, &open(device)?)?;
            stats.compile_time = tc.elapsed();
            stats.compiled = compiled.iter().filter(|(_, fresh)| *fresh).count();
            let programs: Vec<Arc<Compiled>> = compiled.into_iter().map(|(c, _)| c).collect();
            template.set_programs(&programs);
            programs
        }
    };
    let stats = execute(&s.buffers, &sched, plan, &programs, device, stats)?;
    if s.has_assign {
        let assigns = template
            .realized_nodes()
            .map(|at| &s.nodes[at as usize])
            .filter(|n| n.op() == Op::Assign);
        written::record(assigns);
    }
    Ok((s, sched, stats))
}

/// Gives the schedule's new buffers memory (outputs their own, temporaries their share of
/// the arena), launches its kernels over them and the graph's buffers (`graph`, by
/// position), waits for the device and returns the temporaries.
fn execute(
    graph: &[UOp],
    sched: &Scheduled,
    plan: &MadePlan,
    programs: &[Arc<Compiled>],
    device: &str,
    mut stats: RunStats,
) -> Result<RunStats, EngineError> {
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
    stats.temporary_bytes = plan.sizes.iter().sum();
    stats.unshared_temporary_bytes = plan.unshared_bytes;
    let outputs: Vec<(&UOp, usize)> = plan
        .outputs
        .iter()
        .map(|&i| {
            let b = &sched.made[i as usize];
            (b, crate::bytes_of(b))
        })
        .collect();
    let (output_memory, arena_memory) = store::alloc_schedule(&dev, &outputs, &plan.sizes)?;
    let arena = Arena {
        dev: &dev,
        memory: arena_memory,
    };
    let mut made: Vec<Option<Buffer>> = plan
        .arena_of
        .iter()
        .map(|a| a.map(|a| arena.memory[a].clone()))
        .collect();
    for (&i, memory) in plan.outputs.iter().zip(output_memory) {
        made[i as usize] = Some(memory);
    }
    let graph_memory = store::get_all_on(graph, dev.name())?;
    if capture::is_recording() {
        capture::record_fresh(made.iter().flatten());
    }
    let tr = Instant::now();
    let memory = |slot: &Slot| -> Result<&Buffer, EngineError> {
        let (m, node) = match *slot {
            Slot::Graph(i) => (&graph_memory[i as usize], &graph[i as usize]),
            Slot::Made(i) => (&made[i as usize], &sched.made[i as usize]),
        };
        m.as_ref()
            .ok_or_else(|| EngineError::MissingBuffer(node.arg().to_string()))
    };
    let launched = launch_all(sched, programs, &dev, memory);
    // the buffers must outlive every queued kernel, also when a launch failed
    let synchronized = dev.synchronize();
    launched?;
    synchronized?;
    stats.run_time = tr.elapsed();
    drop(arena);
    if debug::level() >= 1 {
        eprintln!(
            "ran {} kernels in {:.2} ms; temporaries {:.2} MB planned ({:.2} MB without sharing)",
            stats.kernels,
            stats.run_time.as_secs_f64() * 1e3,
            stats.temporary_bytes as f64 / 1e6,
            stats.unshared_temporary_bytes as f64 / 1e6
        );
    }
    Ok(stats)
}

/// Launches each kernel of a schedule in order, with `memory` giving each slot's buffer.
/// Launches do not wait for their kernels unless `DEBUG=2` asks for each kernel's time;
/// the caller synchronizes.
fn launch_all<'m>(
    sched: &Scheduled,
    programs: &[Arc<Compiled>],
    dev: &Arc<dyn Device>,
    memory: impl Fn(&Slot) -> Result<&'m Buffer, EngineError>,
) -> Result<(), EngineError> {
    let wait = debug::level() >= 2 || profile::profiling();
    let recording = capture::is_recording();
    let mut refs: Vec<&Buffer> = Vec::new();
    for (i, ((_, slots), compiled)) in sched.template.kernels.iter().zip(programs).enumerate() {
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
            let bytes: usize = slots
                .iter()
                .map(|slot| match *slot {
                    Slot::Graph(_) => memory(slot).map_or(0, |b| b.size()),
                    Slot::Made(i) => crate::bytes_of(&sched.made[i as usize]),
                })
                .sum();
            profile::record_launch(program, bytes as u64, took);
            if debug::level() >= 2 {
                let line = debug::kernel_line(i, program, bytes as u64, took, dev.roofline());
                eprintln!("{line}");
            }
        }
    }
    Ok(())
}
