//! The schedule cache: a graph whose structure (`structure.rs`) was scheduled before is not
//! scheduled again. Rangeify's result is kept as a `Template` whose buffers are slots:
//! the graph's own buffers by position, and the buffers the schedule made (outputs,
//! temporaries) by number with their dtype, size and device. A later graph of the same
//! structure binds the slots to its own buffers and to fresh BUFFER nodes, so that
//! every schedule still writes new buffers, exactly as rangeify would have.
//!
//! The template also keeps what follows from the structure alone, made on first use:
//! which made buffers are outputs, and the memory plan of the others (`MadePlan`).
//!
//! The cache is a bounded LRU ([`SCHEDULE_CACHE`] templates), keyed by the structure and
//! the device; `SCACHE=0` turns it off (tinygrad's name). A template holds no BUFFER node
//! (a node keeps its memory alive), only kernel ASTs.

use std::hash::Hash;
use std::sync::{Arc, LazyLock, OnceLock};

use device::Lru;
use parking_lot::Mutex;
use rangeify::{Kernel, RangeifyError, Schedule};
use uop_ir::DType;
use uop_ir::{Arg, Key, StableHasher, UOp, UOpMap};

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

/// Where the made buffers live when the schedule runs.
#[derive(Clone, Debug, Default)]
pub(crate) struct MadePlan {
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
        };
        (template, made_nodes)
    }

    /// The schedule of the graph `s`: its own buffers, and fresh ones for the made slots.
    fn bind(&self, s: &Structure) -> (Schedule, Vec<UOp>) {
        let made: Vec<UOp> = self
            .made
            .iter()
            .map(|m| UOp::new_buffer(m.dtype, m.size, &m.device))
            .collect();
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
        (Schedule { kernels, buffers }, made)
    }

    /// The graph nodes given a buffer: their positions in the walk.
    pub fn realized_nodes(&self) -> impl Iterator<Item = u32> + '_ {
        self.realized.iter().map(|(at, _)| *at)
    }

    /// Where the made buffers live, for the graph whose roots are at `roots` (positions in
    /// the walk); made once per template.
    pub fn plan(&self, roots: &[u32]) -> &MadePlan {
        self.plan.get_or_init(|| self.make_plan(roots))
    }

    fn make_plan(&self, roots: &[u32]) -> MadePlan {
        let mut is_output = vec![false; self.made.len()];
        for (at, slot) in &self.realized {
            if let (true, Slot::Made(i)) = (roots.contains(at), slot) {
                is_output[*i as usize] = true;
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
            outputs: (0..self.made.len() as u32)
                .filter(|&i| is_output[i as usize])
                .collect(),
            arena_of,
            sizes: shared.sizes,
            unshared_bytes: lifetimes.iter().map(|l| l.bytes).sum(),
        }
    }
}

/// A schedule with the template it came from (or was made into).
#[derive(Debug)]
pub(crate) struct Scheduled {
    pub schedule: Schedule,
    /// The buffers the schedule made, by their `Slot::Made` number.
    pub made: Vec<UOp>,
    pub template: Arc<Template>,
    /// Whether the schedule came from the cache.
    pub cached: bool,
}

/// Hits and misses of the schedule cache, and how many schedules it holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScheduleCacheStats {
    pub hits: u64,
    pub misses: u64,
    pub entries: usize,
}

struct Cache {
    templates: Lru<Key, Arc<Template>>,
    hits: u64,
    misses: u64,
}

static CACHE: LazyLock<Mutex<Cache>> = LazyLock::new(|| {
    Mutex::new(Cache {
        templates: Lru::new(SCHEDULE_CACHE),
        hits: 0,
        misses: 0,
    })
});

fn enabled() -> bool {
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

/// Forgets every cached schedule.
pub fn clear_schedule_cache() {
    let mut cache = CACHE.lock();
    let capacity = cache.templates.capacity();
    cache.templates = Lru::new(capacity);
}

/// Schedules the graph `s` (whose root is a SINK) on `device`, from the cache when a
/// graph of its structure was scheduled there before.
pub(crate) fn schedule(s: &Structure, device: &str) -> Result<Scheduled, RangeifyError> {
    let key = {
        let mut h = StableHasher::default();
        h.write_key(s.key);
        device.hash(&mut h);
        h.key()
    };
    let on = enabled();
    if on {
        let mut cache = CACHE.lock();
        if let Some(template) = cache.templates.get(&key).cloned() {
            cache.hits += 1;
            drop(cache);
            let (schedule, made) = template.bind(s);
            return Ok(Scheduled {
                schedule,
                made,
                template,
                cached: true,
            });
        }
    }
    let root = s.nodes.last().cloned().unwrap_or_else(|| UOp::int(0));
    let schedule = rangeify::schedule(&root, device)?;
    let (template, made) = Template::of(&schedule, s);
    let template = Arc::new(template);
    if on {
        let mut cache = CACHE.lock();
        cache.misses += 1;
        cache.templates.get_or_insert(key, template.clone());
    }
    Ok(Scheduled {
        schedule,
        made,
        template,
        cached: false,
    })
}
