//! Capture and replay of kernel launches: what a JIT needs from the engine.
//!
//! [`capture`] runs a closure and records, in order, every kernel that a `realize` on this
//! thread launches while it runs: the compiled program, its arguments and its launch
//! dims, the arguments as indices into one table of buffers (`Capture`). Nothing about
//! tensors or schedules is kept, and nothing is device-specific: a runtime with graphs
//! (CUDA) can replay the same list as a graph of its own.
//!
//! [`Capture::into_replay`] makes it a [`Replay`], given the memory of the inputs that
//! later calls re-bind. It plans the capture's own temporaries again, across the whole
//! list: memory that a captured schedule allocated (its temporaries, and outputs that no
//! tensor holds any more) is placed in shared allocations by lifetime, as the planner
//! does for one schedule (`planner::share`). Memory held elsewhere (parameters,
//! optimizer state, gradients, the outputs returned) keeps its place: replays write it
//! in place. [`Replay::run`] binds new inputs, launches every item in order and waits for
//! the devices; it allocates no device memory.

use std::cell::RefCell;
use std::sync::Arc;

use device::{Buffer, Device, LaunchDims, LinearProgram, Program};

use crate::compile::Compiled;
use crate::planner::{Lifetime, share};
use crate::realize::count_launch;
use crate::{EngineError, debug, profile, store};

/// A launch as recorded: the program, its device and its arguments.
type Launch = (Arc<Compiled>, Arc<dyn Device>, Vec<Buffer>);

/// What a capture has recorded so far.
#[derive(Default)]
struct Recording {
    launches: Vec<Launch>,
    /// Memory the captured schedules allocated.
    fresh: Vec<Buffer>,
}

thread_local! {
    static RECORDING: RefCell<Option<Recording>> = const { RefCell::new(None) };
}

pub(crate) fn is_recording() -> bool {
    RECORDING.with_borrow(Option::is_some)
}

pub(crate) fn record_launch(compiled: &Arc<Compiled>, dev: &Arc<dyn Device>, args: &[&Buffer]) {
    RECORDING.with_borrow_mut(|r| {
        if let Some(r) = r {
            let args = args.iter().map(|b| (*b).clone()).collect();
            r.launches.push((compiled.clone(), dev.clone(), args));
        }
    });
}

pub(crate) fn record_fresh<'a>(memory: impl Iterator<Item = &'a Buffer>) {
    RECORDING.with_borrow_mut(|r| {
        if let Some(r) = r {
            r.fresh.extend(memory.cloned());
        }
    });
}

/// Ends the recording when dropped, also when the captured closure panics.
struct Stop;

impl Drop for Stop {
    fn drop(&mut self) {
        RECORDING.set(None);
    }
}

/// Runs `f` and records every kernel launched by a realize on this thread meanwhile (the
/// kernels also run, as without a capture). Captures do not nest.
pub fn capture<T>(f: impl FnOnce() -> T) -> Result<(T, Capture), EngineError> {
    if is_recording() {
        return Err(EngineError::Capture(
            "a capture is already running on this thread".into(),
        ));
    }
    RECORDING.set(Some(Recording::default()));
    let stop = Stop;
    let out = f();
    let recording = RECORDING.take().unwrap_or_default();
    drop(stop);
    Ok((out, Capture::from_recording(recording)))
}

/// One captured launch.
#[derive(Clone, Debug)]
pub struct ExecItem {
    compiled: Arc<Compiled>,
    /// The kernel's arguments in slot order, as indices into the buffer table.
    pub args: Vec<usize>,
    /// The device, as an index into the device table.
    pub device: usize,
}

impl ExecItem {
    pub fn program(&self) -> &Arc<dyn Program> {
        &self.compiled.1
    }

    /// The linear program it was compiled from (its name, launch dims, cost estimates).
    pub fn linear(&self) -> &LinearProgram {
        &self.compiled.0
    }

    pub fn dims(&self) -> &LaunchDims {
        &self.compiled.0.dims
    }

    pub fn name(&self) -> &str {
        &self.compiled.0.name
    }
}

/// Captured launches in order, over a table of buffers and a table of devices.
#[derive(Debug)]
pub struct Capture {
    items: Vec<ExecItem>,
    buffers: Vec<Buffer>,
    devices: Vec<Arc<dyn Device>>,
    /// Per buffer: allocated by a captured schedule.
    fresh: Vec<bool>,
}

/// The index of `memory` in `table` (by identity), appended when absent.
fn index_of(table: &mut Vec<Buffer>, memory: &Buffer) -> usize {
    match table.iter().position(|b| Arc::ptr_eq(b, memory)) {
        Some(i) => i,
        None => {
            table.push(memory.clone());
            table.len() - 1
        }
    }
}

impl Capture {
    fn from_recording(recording: Recording) -> Capture {
        let mut buffers: Vec<Buffer> = Vec::new();
        let mut devices: Vec<Arc<dyn Device>> = Vec::new();
        let mut items = Vec::with_capacity(recording.launches.len());
        for (compiled, dev, args) in recording.launches {
            let device = match devices.iter().position(|d| Arc::ptr_eq(d, &dev)) {
                Some(d) => d,
                None => {
                    devices.push(dev);
                    devices.len() - 1
                }
            };
            let args = args.iter().map(|b| index_of(&mut buffers, b)).collect();
            items.push(ExecItem {
                compiled,
                args,
                device,
            });
        }
        let fresh = buffers
            .iter()
            .map(|b| recording.fresh.iter().any(|f| Arc::ptr_eq(f, b)))
            .collect();
        Capture {
            items,
            buffers,
            devices,
            fresh,
        }
    }

    /// The launches, in order.
    pub fn items(&self) -> &[ExecItem] {
        &self.items
    }

    /// The buffer table the items' arguments index.
    pub fn buffers(&self) -> &[Buffer] {
        &self.buffers
    }

    /// The launches as a replayable list. `inputs` is the memory that each later call
    /// replaces by its own (in that order); an input no kernel read is allowed.
    pub fn into_replay(self, inputs: &[Buffer]) -> Result<Replay, EngineError> {
        let Capture {
            items,
            mut buffers,
            devices,
            fresh,
        } = self;
        let input_slots: Vec<Option<usize>> = inputs
            .iter()
            .map(|m| buffers.iter().position(|b| Arc::ptr_eq(b, m)))
            .collect();
        // memory of dead tensors goes back to the store now, so that what only this
        // capture holds is seen as such
        store::sweep();
        let replannable: Vec<bool> = (0..buffers.len())
            .map(|i| {
                fresh[i] && Arc::strong_count(&buffers[i]) == 1 && !input_slots.contains(&Some(i))
            })
            .collect();
        let mut first: Vec<Option<usize>> = vec![None; buffers.len()];
        let mut last = vec![0; buffers.len()];
        let mut device_of = vec![0; buffers.len()];
        for (k, item) in items.iter().enumerate() {
            for &a in &item.args {
                first[a].get_or_insert(k);
                last[a] = k;
                device_of[a] = item.device;
            }
        }
        let mut owned: Vec<(usize, Buffer)> = Vec::new();
        for (d, dev) in devices.iter().enumerate() {
            let planned: Vec<usize> = (0..buffers.len())
                .filter(|&i| replannable[i] && device_of[i] == d && first[i].is_some())
                .collect();
            let lifetimes: Vec<Lifetime> = planned
                .iter()
                .map(|&i| Lifetime {
                    first: first[i].unwrap_or(0),
                    last: last[i],
                    bytes: buffers[i].size(),
                })
                .collect();
            let shared = share(&lifetimes);
            let memory = store::alloc_all(dev, &shared.sizes)?;
            for (&i, &a) in planned.iter().zip(&shared.allocation) {
                buffers[i] = memory[a].clone();
            }
            owned.extend(memory.into_iter().map(|m| (d, m)));
        }
        let max_args = items.iter().map(|i| i.args.len()).max().unwrap_or(0);
        let input_bytes = input_slots
            .iter()
            .map(|slot| slot.map_or(0, |s| buffers[s].size()))
            .collect();
        let mut buffers: Vec<Option<Buffer>> = buffers.into_iter().map(Some).collect();
        for slot in input_slots.iter().flatten() {
            buffers[*slot] = None;
        }
        Ok(Replay {
            items,
            buffers,
            devices,
            inputs: input_slots,
            input_bytes,
            owned,
            max_args,
        })
    }
}

/// A captured launch list, ready to run again with new inputs.
#[derive(Debug)]
pub struct Replay {
    items: Vec<ExecItem>,
    /// The buffer table; inputs are unbound (`None`) between runs.
    buffers: Vec<Option<Buffer>>,
    devices: Vec<Arc<dyn Device>>,
    /// Each input's place in the table (None: no kernel reads it).
    inputs: Vec<Option<usize>>,
    /// The bytes each input had when captured.
    input_bytes: Vec<usize>,
    /// Memory the replay planned for itself, returned to the store when it is dropped.
    owned: Vec<(usize, Buffer)>,
    max_args: usize,
}

impl Replay {
    /// The launches, in order.
    pub fn items(&self) -> &[ExecItem] {
        &self.items
    }

    /// The devices the items' `device` index.
    pub fn devices(&self) -> &[Arc<dyn Device>] {
        &self.devices
    }

    /// Bytes of device memory the replay planned for its temporaries.
    pub fn planned_bytes(&self) -> usize {
        self.owned.iter().map(|(_, m)| m.size()).sum()
    }

    /// Launches every item in order with `inputs` in place of the captured inputs, and
    /// waits until the devices are done. Each input must have at least the bytes the
    /// captured one had.
    pub fn run(&mut self, inputs: &[Buffer]) -> Result<(), EngineError> {
        if inputs.len() != self.inputs.len() {
            return Err(EngineError::Replay(format!(
                "{} inputs given; the capture has {}",
                inputs.len(),
                self.inputs.len()
            )));
        }
        for (i, (memory, slot)) in inputs.iter().zip(&self.inputs).enumerate() {
            if memory.size() < self.input_bytes[i] {
                return Err(EngineError::Replay(format!(
                    "input {i} has {} bytes; the captured kernels read {}",
                    memory.size(),
                    self.input_bytes[i]
                )));
            }
            if let Some(slot) = slot {
                self.buffers[*slot] = Some(memory.clone());
            }
        }
        let launched = self.launch_all();
        let mut synchronized = Ok(());
        for dev in &self.devices {
            synchronized = synchronized.and(dev.synchronize());
        }
        for slot in self.inputs.iter().flatten() {
            self.buffers[*slot] = None;
        }
        launched?;
        Ok(synchronized?)
    }

    fn launch_all(&self) -> Result<(), EngineError> {
        let wait = debug::level() >= 2 || profile::profiling();
        let mut refs: Vec<&Buffer> = Vec::with_capacity(self.max_args);
        for (k, item) in self.items.iter().enumerate() {
            refs.clear();
            for &a in &item.args {
                let memory = self.buffers[a].as_ref().ok_or_else(|| {
                    EngineError::Replay(format!("argument {a} of {} is unbound", item.name()))
                })?;
                refs.push(memory);
            }
            // SAFETY: every buffer is the one captured for this argument, or an input of
            // at least the captured size, or planned memory at least as large; the items
            // run in the captured order on each device, so no kernel reads memory that
            // another is writing, and nothing else uses the memory until the caller's
            // synchronize.
            let took = unsafe { item.program().launch(&refs, item.dims(), &[], wait)? };
            count_launch();
            if let (true, Some(took)) = (wait, took) {
                let bytes: usize = refs.iter().map(|b| b.size()).sum();
                profile::record_launch(item.linear(), bytes as u64, took);
                if debug::level() >= 2 {
                    let dev = &self.devices[item.device];
                    let line =
                        debug::kernel_line(k, item.linear(), bytes as u64, took, dev.roofline());
                    eprintln!("{line} (replay)");
                }
            }
        }
        Ok(())
    }
}

impl Drop for Replay {
    fn drop(&mut self) {
        // the table's handles first, so that the planned memory goes back to the free list
        self.buffers.clear();
        for (d, memory) in self.owned.drain(..) {
            store::release(&self.devices[d], memory);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{HostDevice, HostProgram, f32s, set_f32s};

    /// Launches `compiled` on `args` as `realize` would, recording it when capturing.
    fn launch(compiled: &Arc<Compiled>, dev: &Arc<dyn Device>, args: &[&Buffer]) {
        // SAFETY: host programs check nothing and touch only these buffers.
        unsafe { compiled.1.launch(args, &compiled.0.dims, &[], false) }.expect("launch");
        if is_recording() {
            record_launch(compiled, dev, args);
        }
    }

    fn filled(dev: &Arc<dyn Device>, values: &[f32]) -> Buffer {
        let b = store::alloc(dev, values.len() * 4).expect("alloc");
        set_f32s(&b, values);
        b
    }

    /// A step `out = (x + w) * 2` through a temporary, captured, then replayed with other
    /// inputs: the replay computes what the step would, from the new input, into the
    /// same output, and allocates nothing.
    #[test]
    fn a_replay_runs_the_captured_step_on_new_inputs() {
        let dev = HostDevice::open("CAPTURE-STEP");
        let add = HostProgram::compiled("add", |a| a[0] + a[1]);
        let twice = HostProgram::compiled("twice", |a| a[0] * 2.0);
        let w = filled(&dev, &[10.0, 20.0, 30.0]);
        let out = filled(&dev, &[0.0; 3]);
        let x = filled(&dev, &[1.0, 2.0, 3.0]);
        let step = |x: &Buffer| {
            let t = store::alloc(&dev, 12).expect("alloc");
            record_fresh(std::iter::once(&t));
            launch(&add, &dev, &[&t, x, &w]);
            launch(&twice, &dev, &[&out, &t]);
            store::release(&dev, t);
        };
        let ((), captured) = capture(|| step(&x)).expect("capture");
        assert_eq!(f32s(&out), vec![22.0, 44.0, 66.0], "the captured call ran");
        let names: Vec<&str> = captured.items().iter().map(ExecItem::name).collect();
        assert_eq!(names, ["add", "twice"]);
        assert_eq!(captured.buffers().len(), 4, "t, x, w, out");
        let mut replay = captured
            .into_replay(std::slice::from_ref(&x))
            .expect("replay");
        assert_eq!(replay.planned_bytes(), 12, "the temporary, planned again");

        let before = device_stats("CAPTURE-STEP");
        for k in 0..3 {
            let y = filled(&dev, &[k as f32, 5.0, -1.0]);
            let allocated = device_stats("CAPTURE-STEP");
            replay.run(std::slice::from_ref(&y)).expect("run");
            assert_eq!(f32s(&out), vec![(k as f32 + 10.0) * 2.0, 50.0, 58.0]);
            assert_eq!(
                device_stats("CAPTURE-STEP"),
                allocated,
                "a replay allocates"
            );
            store::release(&dev, y);
        }
        assert_eq!(device_stats("CAPTURE-STEP").in_use, before.in_use);
        let planned = device_stats("CAPTURE-STEP").in_use;
        drop(replay);
        assert_eq!(device_stats("CAPTURE-STEP").in_use, planned - 12);
    }

    fn device_stats(name: &str) -> store::MemoryStats {
        store::device_memory_stats(name)
    }

    #[test]
    fn temporaries_of_several_schedules_share_memory_when_replayed() {
        let dev = HostDevice::open("CAPTURE-SHARE");
        let inc = HostProgram::compiled("inc", |a| a[0] + 1.0);
        let x = filled(&dev, &[1.0; 4]);
        let out = filled(&dev, &[0.0; 4]);
        // two schedules, each with a temporary of its own: x -> t1 -> t2 -> out
        let ((), captured) = capture(|| {
            let t1 = store::alloc(&dev, 16).expect("alloc");
            let t2 = store::alloc(&dev, 16).expect("alloc");
            record_fresh([&t1, &t2].into_iter());
            launch(&inc, &dev, &[&t1, &x]);
            launch(&inc, &dev, &[&t2, &t1]);
            store::release(&dev, t1);
            let t3 = store::alloc(&dev, 16).expect("alloc");
            record_fresh(std::iter::once(&t3));
            launch(&inc, &dev, &[&t3, &t2]);
            store::release(&dev, t2);
            launch(&inc, &dev, &[&out, &t3]);
            store::release(&dev, t3);
        })
        .expect("capture");
        assert_eq!(f32s(&out), vec![5.0; 4]);
        let mut replay = captured
            .into_replay(std::slice::from_ref(&x))
            .expect("replay");
        assert_eq!(replay.planned_bytes(), 32, "t3 takes t1's place");
        let y = filled(&dev, &[-4.0; 4]);
        replay.run(std::slice::from_ref(&y)).expect("run");
        assert_eq!(f32s(&out), vec![0.0; 4]);
    }

    #[test]
    fn captures_do_not_nest_and_replays_check_their_inputs() {
        let dev = HostDevice::open("CAPTURE-ERRORS");
        let inc = HostProgram::compiled("inc", |a| a[0] + 1.0);
        let x = filled(&dev, &[1.0; 4]);
        let out = filled(&dev, &[0.0; 4]);
        let (nested, captured) = capture(|| {
            launch(&inc, &dev, &[&out, &x]);
            capture(|| ()).map(|_| ())
        })
        .expect("capture");
        let e = nested.expect_err("nested");
        assert!(e.to_string().contains("already running"), "{e}");
        assert!(!is_recording(), "the capture ended");
        let mut replay = captured
            .into_replay(std::slice::from_ref(&x))
            .expect("replay");
        let e = replay.run(&[]).expect_err("no input");
        assert!(
            e.to_string().contains("0 inputs given; the capture has 1"),
            "{e}"
        );
        let small = filled(&dev, &[1.0; 2]);
        let e = replay.run(&[small]).expect_err("too small");
        assert!(e.to_string().contains("input 0 has 8 bytes"), "{e}");
    }
}
