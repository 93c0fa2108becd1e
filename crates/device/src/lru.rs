//! `Lru`: a map of bounded size that forgets its least recently used entry first. Compiled
//! programs are kept in one (the engine's compile cache, a runtime's loaded programs) so
//! that a long process does not keep every kernel it ever ran mapped: a loaded C kernel
//! takes 5 memory mappings, and Linux's default `vm.max_map_count` (65,530) runs out after
//! about 13,000 kernels. The engine's cache and a device's cache each hold at most the
//! capacity, so at most twice [`DEFAULT_PROGRAM_CACHE`] kernels (about 41,000 mappings)
//! stay loaded by default.
//!
//! An evicted value is only dropped by the map; values are `Arc`s, so a program that a
//! launch (or any other holder) still uses stays loaded until that holder lets it go.
//!
//! The capacity comes from `FERROGRAD_PROGRAM_CACHE` ([`program_cache_capacity`]).

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

use parking_lot::Mutex;

/// How many compiled programs a cache keeps unless `FERROGRAD_PROGRAM_CACHE` says otherwise.
pub const DEFAULT_PROGRAM_CACHE: usize = 4096;

/// The capacity of program caches: `FERROGRAD_PROGRAM_CACHE` if it is a positive integer,
/// else [`DEFAULT_PROGRAM_CACHE`]. Read when a cache is made.
pub fn program_cache_capacity() -> usize {
    capacity_from(std::env::var("FERROGRAD_PROGRAM_CACHE").ok().as_deref())
}

fn capacity_from(value: Option<&str>) -> usize {
    value
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_PROGRAM_CACHE)
}

/// A map holding at most `capacity` entries; inserting into a full map evicts the entry
/// that was used (got or inserted) longest ago.
#[derive(Debug)]
pub struct Lru<K, V> {
    capacity: usize,
    /// Each key's value and the tick of its last use.
    entries: HashMap<K, (V, u64)>,
    /// Keys by the tick of their last use, oldest first.
    order: BTreeMap<u64, K>,
    tick: u64,
    evictions: u64,
}

impl<K: Hash + Eq + Clone, V> Lru<K, V> {
    /// An empty map holding at most `capacity` entries (at least one).
    pub fn new(capacity: usize) -> Self {
        Lru {
            capacity: capacity.max(1),
            entries: HashMap::new(),
            order: BTreeMap::new(),
            tick: 0,
            evictions: 0,
        }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many entries have been evicted to make room, over the map's life.
    pub fn evictions(&self) -> u64 {
        self.evictions
    }

    /// The value of `key`, which becomes the most recently used.
    pub fn get(&mut self, key: &K) -> Option<&V> {
        let tick = self.next_tick();
        let (value, last) = self.entries.get_mut(key)?;
        let key = self
            .order
            .remove(last)
            .expect("every entry's tick is in the order");
        *last = tick;
        self.order.insert(tick, key);
        Some(value)
    }

    /// Whether `key` is present; does not count as a use.
    pub fn contains(&self, key: &K) -> bool {
        self.entries.contains_key(key)
    }

    /// The value of `key` if there is one, else `value` inserted; either way the most
    /// recently used. Returns the value kept and the entry evicted to make room, if any
    /// (the caller drops it, possibly outside a lock).
    pub fn get_or_insert(&mut self, key: K, value: V) -> (&V, Option<(K, V)>) {
        let evicted = if self.contains(&key) {
            None
        } else {
            let evicted = if self.entries.len() >= self.capacity {
                self.evict_oldest()
            } else {
                None
            };
            let tick = self.next_tick();
            self.order.insert(tick, key.clone());
            self.entries.insert(key.clone(), (value, tick));
            evicted
        };
        let value = self.get(&key).expect("present: found or just inserted");
        (value, evicted)
    }

    /// Changes the capacity (at least one), returning the entries evicted to fit it, least
    /// recently used first.
    pub fn set_capacity(&mut self, capacity: usize) -> Vec<(K, V)> {
        self.capacity = capacity.max(1);
        let mut evicted = Vec::new();
        while self.entries.len() > self.capacity {
            evicted.extend(self.evict_oldest());
        }
        evicted
    }

    /// Removes and returns the least recently used entry.
    fn evict_oldest(&mut self) -> Option<(K, V)> {
        let (_, key) = self.order.pop_first()?;
        let (value, _) = self
            .entries
            .remove(&key)
            .expect("every key in the order is an entry");
        self.evictions += 1;
        Some((key, value))
    }

    fn next_tick(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }
}

/// The value `cache` holds for `key`, else the one `build` makes, kept. `build` runs
/// without the lock, so that programs compile in parallel (a race builds twice and keeps
/// the first); an evicted value is dropped outside the lock, so unloading a program never
/// holds up the others.
pub fn get_or_build<K: Hash + Eq + Clone, V: Clone, E>(
    cache: &Mutex<Lru<K, V>>,
    key: K,
    build: impl FnOnce() -> Result<V, E>,
) -> Result<V, E> {
    if let Some(v) = cache.lock().get(&key) {
        return Ok(v.clone());
    }
    let value = build()?;
    let (kept, evicted) = {
        let mut cache = cache.lock();
        let (kept, evicted) = cache.get_or_insert(key, value);
        (kept.clone(), evicted)
    };
    drop(evicted);
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_the_least_recently_used() {
        let mut lru = Lru::new(2);
        assert!(lru.get_or_insert("a", 1).1.is_none());
        assert!(lru.get_or_insert("b", 2).1.is_none());
        assert_eq!(lru.get(&"a"), Some(&1)); // b is now the oldest
        let (kept, evicted) = lru.get_or_insert("c", 3);
        assert_eq!((*kept, evicted), (3, Some(("b", 2))));
        assert!(lru.contains(&"a") && lru.contains(&"c") && !lru.contains(&"b"));
        assert_eq!((lru.len(), lru.evictions()), (2, 1));
    }

    #[test]
    fn inserting_a_present_key_keeps_the_old_value_and_evicts_nothing() {
        let mut lru = Lru::new(2);
        lru.get_or_insert("a", 1);
        lru.get_or_insert("b", 2);
        let (kept, evicted) = lru.get_or_insert("a", 10);
        assert_eq!((*kept, evicted), (1, None));
        // "a" was used last, so "b" goes first
        assert_eq!(lru.get_or_insert("c", 3).1, Some(("b", 2)));
    }

    #[test]
    fn stays_within_capacity_over_many_inserts() {
        let mut lru = Lru::new(5);
        for i in 0..100 {
            lru.get_or_insert(i, i * 2);
            assert!(lru.len() <= 5);
            assert_eq!(lru.order.len(), lru.len());
        }
        assert_eq!(lru.evictions(), 95);
        assert_eq!(lru.get(&99), Some(&198));
        assert_eq!(lru.get(&94), None);
    }

    #[test]
    fn shrinking_evicts_the_oldest_first() {
        let mut lru = Lru::new(4);
        for i in 0..4 {
            lru.get_or_insert(i, ());
        }
        lru.get(&0);
        assert_eq!(lru.set_capacity(2), [(1, ()), (2, ())]);
        assert!(lru.contains(&0) && lru.contains(&3));
        assert_eq!((lru.len(), lru.capacity(), lru.evictions()), (2, 2, 2));
        assert!(lru.set_capacity(8).is_empty());
    }

    #[test]
    fn capacity_zero_means_one() {
        let mut lru = Lru::new(0);
        lru.get_or_insert(1, ());
        assert_eq!(lru.get_or_insert(2, ()).1, Some((1, ())));
        assert_eq!(lru.capacity(), 1);
    }

    #[test]
    fn capacity_reads_positive_integers_only() {
        assert_eq!(capacity_from(Some(" 16 ")), 16);
        for junk in [None, Some(""), Some("0"), Some("-3"), Some("many")] {
            assert_eq!(capacity_from(junk), DEFAULT_PROGRAM_CACHE, "{junk:?}");
        }
    }
}
