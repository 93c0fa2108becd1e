//! The schedule cache: a graph whose structure (`structure.rs`) was scheduled before is not
//! scheduled again. Rangeify's result is kept as a `Template` whose buffers are slots:
//! the graph's own buffers by position, and the buffers the schedule made (outputs,
//! temporaries) by number with their dtype, size and device. A later graph of the same
//! structure binds the slots to its own buffers and to fresh BUFFER nodes, so that
//! every schedule still writes new buffers, exactly as rangeify would have.
//!
//! The template also keeps what follows from the structure alone, made on first use:
//! which buffer holds each root, which made buffers are outputs, the memory plan of the
//! others (`MadePlan`), and (weakly) the compiled kernels.
//!
//! The cache keeps the [`SCHEDULE_CACHE`] templates used last, keyed by the structure and
//! the device; `SCACHE=0` turns it off (tinygrad's name). A template holds no BUFFER node
//! (a node keeps its memory alive), only kernel ASTs.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, LazyLock, OnceLock, Weak};

use parking_lot::Mutex;
use rangeify::{Kernel, RangeifyError, Schedule, StageLimits};
use uop_ir::{Arg, DType, Key, UOp, UOpMap};

use crate::compile::Compiled;
use crate::fast_hash::{FastBuild, FastHasher};
use crate::planner::{Lifetime, share};
use crate::structure::Structure;

/// How many schedules the cache keeps.
pub const SCHEDULE_CACHE: usize = 1024;

/// A buffer of a template: the graph's `Graph(position)` or the schedule's `Made(number)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Slot {
    Graph(u32),
    Made(u32),
}

/// A buffer the schedule made.
#[derive(Clone, Debug)]
struct Made {
    dtype: DType,
    size: usize,
    device: Arc<str>,
}

/// Where the made buffers live when the schedule runs, and which buffer holds each root.
#[derive(Clone, Debug, Default)]
pub(crate) struct MadePlan {
    /// The buffer holding each source of the root (None: it has none).
    pub roots: Vec<Option<Slot>>,
    /// Made buffers that are outputs (they outlive the schedule).
    pub outputs: Vec<u32>,
    /// For each made buffer, its allocation among the temporaries (None: an output, or
    /// used by no kernel).
    pub arena_of: Vec<Option<usize>>,
    /// Bytes of each temporary allocation.
    pub sizes: Vec<usize>,
    /// Bytes of the temporaries without sharing.
    pub unshared_bytes: usize,
}

/// A schedule with its buffers as slots.
#[derive(Debug)]
pub(crate) struct Template {
    /// Each kernel's AST and its buffers' slots.
    pub kernels: Vec<(UOp, Vec<Slot>)>,
    /// The graph nodes that get a buffer: (position in the walk, the buffer's slot).
    realized: Vec<(u32, Slot)>,
    made: Vec<Made>,
    plan: OnceLock<MadePlan>,
    /// The compiled kernels, once compiled: weak, so that the compile cache's eviction
    /// still unloads them.
    programs: Mutex<Vec<Weak<Compiled>>>,
}

impl Template {
    /// The template of `schedule`, made for the graph `s`, and the buffers the schedule
    /// made, by number.
    fn of(schedule: &Schedule, s: &Structure) -> (Template, Vec<UOp>) {
        let graph: UOpMap<u32> = s.buffers.iter().cloned().zip(0..).collect();
        let mut made_at: UOpMap<u32> = UOpMap::default();
        let mut made: Vec<Made> = Vec::new();
        let mut made_nodes: Vec<UOp> = Vec::new();
        let mut slot_of = |b: &UOp| -> Slot {
            if let Some(&i) = graph.get(b) {
                return Slot::Graph(i);
            }
            let next = made.len() as u32;
            let i = *made_at.entry(b.clone()).or_insert_with(|| {
                let (size, device) = match b.arg() {
                    Arg::Buffer { size, device, .. } => (*size, device.clone()),
                    _ => (0, Arc::from("")),
                };
                made.push(Made {
                    dtype: b.dtype(),
                    size,
                    device,
                });
                made_nodes.push(b.clone());
                next
            });
            Slot::Made(i)
        };
        let kernels = schedule
            .kernels
            .iter()
            .map(|k| (k.ast.clone(), k.buffers.iter().map(&mut slot_of).collect()))
            .collect();
        let position: UOpMap<u32> = s.nodes.iter().cloned().zip(0..).collect();
        let mut realized: Vec<(u32, Slot)> = schedule
            .buffers
            .iter()
            .filter_map(|(node, b)| Some((*position.get(node)?, slot_of(b))))
            .collect();
        realized.sort_by_key(|(at, _)| *at);
        let template = Template {
            kernels,
            realized,
            made,
            plan: OnceLock::new(),
            programs: Mutex::new(Vec::new()),
        };
        (template, made_nodes)
    }

    /// Fresh BUFFER nodes for the made slots.
    fn make_buffers(&self) -> Vec<UOp> {
        self.made
            .iter()
            .map(|m| UOp::new_buffer(m.dtype, m.size, &m.device))
            .collect()
    }

    /// The schedule of the graph `s`, with `made` for the made slots.
    fn schedule_of(&self, s: &Structure, made: &[UOp]) -> Schedule {
        let resolve = |slot: &Slot| match *slot {
            Slot::Graph(i) => s.buffers[i as usize].clone(),
            Slot::Made(i) => made[i as usize].clone(),
        };
        let kernels = self
            .kernels
            .iter()
            .map(|(ast, slots)| Kernel {
                ast: ast.clone(),
                buffers: slots.iter().map(resolve).collect(),
            })
            .collect();
        let buffers = self
            .realized
            .iter()
            .map(|(at, slot)| (s.nodes[*at as usize].clone(), resolve(slot)))
            .collect();
        Schedule { kernels, buffers }
    }

    /// The compiled kernels, if every one is still loaded.
    pub fn programs(&self) -> Option<Vec<Arc<Compiled>>> {
        let weak = self.programs.lock();
        if weak.len() != self.kernels.len() {
            return None;
        }
        weak.iter().map(Weak::upgrade).collect()
    }

    /// Remembers the compiled kernels.
    pub fn set_programs(&self, programs: &[Arc<Compiled>]) {
        *self.programs.lock() = programs.iter().map(Arc::downgrade).collect();
    }

    /// The graph nodes given a buffer: their positions in the walk.
    pub fn realized_nodes(&self) -> impl Iterator<Item = u32> + '_ {
        self.realized.iter().map(|(at, _)| *at)
    }

    /// The plan, if a graph made it already.
    pub fn made_plan(&self) -> Option<&MadePlan> {
        self.plan.get()
    }

    /// Where the made buffers live and which buffer holds each root, for the graph `s`;
    /// made once per template.
    pub fn plan(&self, s: &Structure) -> &MadePlan {
        self.plan.get_or_init(|| self.make_plan(s))
    }

    fn make_plan(&self, s: &Structure) -> MadePlan {
        let roots: Vec<Option<Slot>> = s
            .roots
            .iter()
            .map(|&at| {
                if let Some(i) = s.buffers.iter().position(|b| *b == s.nodes[at as usize]) {
                    return Some(Slot::Graph(i as u32));
                }
                self.realized
                    .iter()
                    .find(|(r, _)| *r == at)
                    .map(|(_, slot)| *slot)
            })
            .collect();
        let mut is_output = vec![false; self.made.len()];
        for slot in roots.iter().flatten() {
            if let Slot::Made(i) = *slot {
                is_output[i as usize] = true;
            }
        }
        let mut first: Vec<Option<usize>> = vec![None; self.made.len()];
        let mut last = vec![0; self.made.len()];
        for (k, (_, slots)) in self.kernels.iter().enumerate() {
            for slot in slots {
                if let Slot::Made(i) = *slot {
                    first[i as usize].get_or_insert(k);
                    last[i as usize] = k;
                }
            }
        }
        let temporaries: Vec<usize> = (0..self.made.len())
            .filter(|&i| !is_output[i] && first[i].is_some())
            .collect();
        let lifetimes: Vec<Lifetime> = temporaries
            .iter()
            .map(|&i| Lifetime {
                first: first[i].unwrap_or(0),
                last: last[i],
                bytes: self.made[i].size * self.made[i].dtype.itemsize(),
            })
            .collect();
        let shared = share(&lifetimes);
        let mut arena_of = vec![None; self.made.len()];
        for (&i, &a) in temporaries.iter().zip(&shared.allocation) {
            arena_of[i] = Some(a);
        }
        MadePlan {
            roots,
            outputs: (0..self.made.len() as u32)
                .filter(|&i| is_output[i as usize])
                .collect(),
            arena_of,
            sizes: shared.sizes,
            unshared_bytes: lifetimes.iter().map(|l| l.bytes).sum(),
        }
    }
}

/// A graph's schedule: the template it came from (or was made into), and the buffers
/// made for this graph.
#[derive(Debug)]
pub(crate) struct Scheduled {
    pub template: Arc<Template>,
    /// The buffers the schedule made, by their `Slot::Made` number.
    pub made: Vec<UOp>,
    /// Rangeify's own schedule, when it ran.
    fresh: Option<Schedule>,
    /// Whether the schedule came from the cache.
    pub cached: bool,
}

impl Scheduled {
    /// The schedule of a graph whose template is known, with fresh made buffers.
    pub fn known(template: Arc<Template>) -> Scheduled {
        let made = template.make_buffers();
        Scheduled {
            template,
            made,
            fresh: None,
            cached: true,
        }
    }

    /// The schedule, with the graph's buffers and the made ones.
    pub fn schedule(&self, s: &Structure) -> Schedule {
        match &self.fresh {
            Some(fresh) => fresh.clone(),
            None => self.template.schedule_of(s, &self.made),
        }
    }

    /// The schedule, consumed.
    pub fn into_schedule(self, s: &Structure) -> Schedule {
        match self.fresh {
            Some(fresh) => fresh,
            None => self.template.schedule_of(s, &self.made),
        }
    }
}

/// Hits and misses of the schedule cache, and how many schedules it holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScheduleCacheStats {
    pub hits: u64,
    pub misses: u64,
    pub entries: usize,
}

/// Templates by key, each with the tick of its last use. A hit costs one hash lookup; a
/// full cache forgets its least recently used template when a new one comes (a scan, next
/// to the rangeify that made the new one).
struct Cache {
    templates: HashMap<Key, (Arc<Template>, u64), FastBuild>,
    capacity: usize,
    tick: u64,
    hits: u64,
    misses: u64,
}

impl Cache {
    fn get(&mut self, key: &Key) -> Option<Arc<Template>> {
        self.tick += 1;
        let (template, used) = self.templates.get_mut(key)?;
        *used = self.tick;
        Some(template.clone())
    }

    fn insert(&mut self, key: Key, template: Arc<Template>) {
        self.tick += 1;
        if self.templates.len() >= self.capacity && !self.templates.contains_key(&key) {
            let oldest = self
                .templates
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| *k);
            if let Some(oldest) = oldest {
                self.templates.remove(&oldest);
            }
        }
        self.templates.insert(key, (template, self.tick));
    }
}

static CACHE: LazyLock<Mutex<Cache>> = LazyLock::new(|| {
    Mutex::new(Cache {
        templates: HashMap::default(),
        capacity: SCHEDULE_CACHE,
        tick: 0,
        hits: 0,
        misses: 0,
    })
});

pub(crate) fn enabled() -> bool {
    static ON: LazyLock<bool> =
        LazyLock::new(|| std::env::var("SCACHE").map_or(true, |v| v != "0"));
    *ON
}

/// The schedule cache's counters.
pub fn schedule_cache_stats() -> ScheduleCacheStats {
    let cache = CACHE.lock();
    ScheduleCacheStats {
        hits: cache.hits,
        misses: cache.misses,
        entries: cache.templates.len(),
    }
}

/// Counts a hit found by the exact-graph path (`exact.rs`).
pub(crate) fn count_hit() {
    CACHE.lock().hits += 1;
}

/// Forgets every cached schedule.
pub fn clear_schedule_cache() {
    crate::exact::clear();
    CACHE.lock().templates.clear();
}

/// How much scratch `device`'s kernels may stage values in: none on a target with
/// workgroups (a GPU), whose heuristics do not split a copy loop across a workgroup (a
/// kernel that stages would run one thread per workgroup), a CPU's budget elsewhere.
fn stage_limits(device: &str) -> StageLimits {
    match device::open(device) {
        Ok(d) if d.renderer().target().has_workgroups() => StageLimits::NONE,
        _ => StageLimits::CPU,
    }
}

/// Schedules the graph `s` on `device`, from the cache when a graph of its structure was
/// scheduled there before.
pub(crate) fn schedule(s: &Structure, device: &str) -> Result<Scheduled, RangeifyError> {
    let key = {
        let mut h = FastHasher::default();
        h.write_u64(s.key.0[0]);
        h.write_u64(s.key.0[1]);
        device.hash(&mut h);
        h.key()
    };
    let on = enabled();
    if on {
        let mut cache = CACHE.lock();
        if let Some(template) = cache.get(&key) {
            cache.hits += 1;
            drop(cache);
            return Ok(Scheduled::known(template));
        }
    }
    let schedule = rangeify::schedule_with(&s.sink(), device, stage_limits(device))?;
    let (template, made) = Template::of(&schedule, s);
    let template = Arc::new(template);
    if on {
        let mut cache = CACHE.lock();
        cache.misses += 1;
        cache.insert(key, template.clone());
    }
    Ok(Scheduled {
        template,
        made,
        fresh: Some(schedule),
        cached: false,
    })
}
