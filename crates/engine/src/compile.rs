//! The compile cache: each kernel is linearized, rendered and compiled once per device
//! while it stays in a bounded LRU keyed by its AST's content key and the device (see
//! [`set_program_cache_capacity`]). A schedule finds all its kernels under one lock when
//! they are cached; the ones that are not compile several at a time (each C compile is a
//! process of its own).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};

use device::{Device, LinearProgram, Lru, Program};
use parking_lot::Mutex;
use uop_ir::{Key, StableHasher};

use crate::{EngineError, Kernel, debug};

/// A kernel's linear program and the device's compiled program.
pub type Compiled = (LinearProgram, Arc<dyn Program>);

/// A compiled kernel and whether it was compiled now, or why it could not be.
type CompileResult = Result<(Arc<Compiled>, bool), EngineError>;

/// Compiled kernels by the key of (AST content key, device name). Bounded, so that a long
/// process does not keep every program it ever ran loaded; an evicted program stays alive
/// while a launch (or a captured launch list) holds it.
static PROGRAMS: LazyLock<Mutex<Lru<Key, Arc<Compiled>>>> =
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

/// The cache key of a kernel on a device.
fn cache_key(kernel: &Kernel, dev: &dyn Device) -> Key {
    let mut h = StableHasher::default();
    h.write_key(kernel.ast.key());
    dev.name().hash(&mut h);
    h.key()
}

/// Compiles a kernel (or finds it in the cache: identical kernels compile once while they
/// stay in the cache).
pub fn compile(kernel: &Kernel, dev: &Arc<dyn Device>) -> Result<Compiled, EngineError> {
    Ok(compile_cached(kernel, dev)?.0.as_ref().clone())
}

/// `compile`, and whether the program was compiled now (false: it came from the cache).
fn compile_cached(kernel: &Kernel, dev: &Arc<dyn Device>) -> CompileResult {
    let key = cache_key(kernel, dev.as_ref());
    if let Some(c) = PROGRAMS.lock().get(&key) {
        return Ok((c.clone(), false));
    }
    let sizes = kernel.buffer_sizes();
    let options = linearizer::LinearizeOptions {
        optimize: !debug::noopt(),
        opts: None,
    };
    let program = linearizer::linearize(&kernel.ast, &sizes, dev.renderer().target(), &options)?;
    let source = dev.renderer().render(&program)?;
    if debug::level() >= 4 {
        eprintln!("{}", source.code);
    }
    let compiled = Arc::new((program, dev.compile(&source)?));
    let (kept, evicted) = {
        let mut programs = PROGRAMS.lock();
        let (kept, evicted) = programs.get_or_insert(key, compiled);
        (kept.clone(), evicted)
    };
    // Dropped outside the lock: this may unload a library.
    drop(evicted);
    Ok((kept, true))
}

/// The cores compiles may use, read once.
fn cores() -> usize {
    static CORES: LazyLock<usize> =
        LazyLock::new(|| std::thread::available_parallelism().map_or(1, usize::from));
    *CORES
}

/// The program of each kernel and whether it was compiled now. Kernels in the cache are
/// found under one lock; the others compile several at a time, and a kernel whose AST
/// another kernel of the list has is compiled once.
pub(crate) fn compile_all(
    kernels: &[Kernel],
    dev: &Arc<dyn Device>,
) -> Result<Vec<(Arc<Compiled>, bool)>, EngineError> {
    let keys: Vec<Key> = kernels.iter().map(|k| cache_key(k, dev.as_ref())).collect();
    let cached: Vec<Option<Arc<Compiled>>> = {
        let mut programs = PROGRAMS.lock();
        keys.iter().map(|k| programs.get(k).cloned()).collect()
    };
    if cached.iter().all(Option::is_some) {
        return Ok(cached.into_iter().flatten().map(|c| (c, false)).collect());
    }
    let mut first: HashMap<Key, usize> = HashMap::new();
    for (i, k) in keys.iter().enumerate() {
        first.entry(*k).or_insert(i);
    }
    let unique: Vec<usize> = (0..kernels.len())
        .filter(|&i| first[&keys[i]] == i && cached[i].is_none())
        .collect();
    let workers = cores().min(unique.len());
    let results: Mutex<Vec<Option<CompileResult>>> =
        Mutex::new((0..kernels.len()).map(|_| None).collect());
    let next = AtomicUsize::new(0);
    let work = || {
        loop {
            let n = next.fetch_add(1, Ordering::Relaxed);
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
    let mut out: Vec<(Arc<Compiled>, bool)> = Vec::with_capacity(kernels.len());
    for (i, (k, hit)) in kernels.iter().zip(cached).enumerate() {
        let j = first[&keys[i]];
        out.push(match hit {
            Some(c) => (c, false),
            None if j == i => done[i].take().unwrap_or_else(|| compile_cached(k, dev))?,
            // a duplicate: the same program, not compiled by this run
            None => (out[j].0.clone(), false),
        });
    }
    Ok(out)
}
