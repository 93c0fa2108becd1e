//! The on-disk cache of compiled kernels: one shared object per (compiler, flags, source),
//! named by a 128-bit FNV-1a hash of the three.
//!
//! The directory is `$FERROGRAD_CACHE`, else `$XDG_CACHE_HOME/ferrograd`, else
//! `~/.cache/ferrograd`; if that cannot be written, a private `ferrograd-cache-$USER` in the
//! temp dir (only if it is ours and not writable by others); else no cache at all.
//! `DISABLE_COMPILER_CACHE=1` turns it off. Entries are written to a temp file in the same
//! directory and renamed into place, so concurrent processes never see a partial file.
//!
//! The cache is bounded: it keeps at most `FERROGRAD_CACHE_MAX_ENTRIES` objects (default
//! `DEFAULT_MAX_ENTRIES`). A hit refreshes an object's modification time; every
//! `TRIM_EVERY` new objects, the least recently used are removed down to 90% of the bound.

use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// FNV-1a over 128 bits: stable across runs, platforms and Rust versions.
#[derive(Clone, Copy, Debug)]
pub struct Fnv1a128(u128);

impl Fnv1a128 {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013b;

    pub fn new() -> Self {
        Self(Self::OFFSET)
    }

    pub fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u128::from(b)).wrapping_mul(Self::PRIME);
        }
    }

    pub fn finish(&self) -> u128 {
        self.0
    }
}

impl Default for Fnv1a128 {
    fn default() -> Self {
        Self::new()
    }
}

/// The hash of several byte strings; each is followed by its length, so that moving bytes
/// from one part to the next changes the key.
pub fn key(parts: &[&[u8]]) -> u128 {
    let mut h = Fnv1a128::new();
    for part in parts {
        h.write(part);
        h.write(&(part.len() as u64).to_le_bytes());
    }
    h.finish()
}

/// Distinguishes temp files made by this process.
static SERIAL: AtomicU64 = AtomicU64::new(0);

/// A unique file name stem for this process: pid, a counter and the time.
pub(crate) fn unique_stem() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let serial = SERIAL.fetch_add(1, Ordering::Relaxed);
    format!("{}-{serial}-{nanos}", std::process::id())
}

/// The most objects a cache keeps unless `FERROGRAD_CACHE_MAX_ENTRIES` says otherwise.
pub const DEFAULT_MAX_ENTRIES: usize = 4096;
/// How many new objects are written between two trims.
const TRIM_EVERY: u64 = 64;

/// New objects written by this process (the first one trims too).
static PUBLISHED: AtomicU64 = AtomicU64::new(0);

/// A directory of compiled shared objects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiskCache {
    dir: PathBuf,
    max_entries: usize,
}

impl DiskCache {
    /// The cache the environment asks for, or `None` when it is disabled or no directory
    /// can be written.
    pub fn from_env() -> Option<DiskCache> {
        Self::from_lookup(|k| std::env::var_os(k))
    }

    /// Like [`DiskCache::from_env`], reading variables through `get`.
    pub fn from_lookup(get: impl Fn(&str) -> Option<OsString>) -> Option<DiskCache> {
        if disabled(&get) {
            return None;
        }
        let max = get("FERROGRAD_CACHE_MAX_ENTRIES")
            .and_then(|v| v.to_str()?.parse().ok())
            .unwrap_or(DEFAULT_MAX_ENTRIES);
        if let Some(cache) = cache_dir(&get).and_then(|dir| DiskCache::at(dir).ok()) {
            return Some(cache.with_max_entries(max));
        }
        let user = get("USER").unwrap_or_else(|| "user".into());
        let mut name = OsString::from("ferrograd-cache-");
        name.push(user);
        DiskCache::private(std::env::temp_dir().join(name))
            .ok()
            .map(|c| c.with_max_entries(max))
    }

    /// A cache in `dir`, created if missing; fails if the directory cannot be written.
    pub fn at(dir: impl Into<PathBuf>) -> io::Result<DiskCache> {
        let dir = std::path::absolute(dir.into())?;
        fs::create_dir_all(&dir)?;
        let cache = DiskCache {
            dir,
            max_entries: DEFAULT_MAX_ENTRIES,
        };
        cache.probe()?;
        Ok(cache)
    }

    /// A cache in a directory that must belong to this user and be closed to others
    /// (the fallback in a shared temp dir, where another user could plant objects).
    fn private(dir: PathBuf) -> io::Result<DiskCache> {
        let mut builder = fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        match builder.create(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        let meta = fs::symlink_metadata(&dir)?;
        if !meta.is_dir() {
            return Err(io::Error::other(format!(
                "{} is not a directory",
                dir.display()
            )));
        }
        let cache = DiskCache {
            dir,
            max_entries: DEFAULT_MAX_ENTRIES,
        };
        let probe_meta = cache.probe()?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            if meta.mode() & 0o022 != 0 || meta.uid() != probe_meta.uid() {
                return Err(io::Error::other(format!(
                    "{} is not private to this user",
                    cache.dir.display()
                )));
            }
        }
        #[cfg(not(unix))]
        let _ = probe_meta;
        Ok(cache)
    }

    /// Writes and removes a file, returning its metadata.
    fn probe(&self) -> io::Result<fs::Metadata> {
        let path = self.dir.join(format!(".probe-{}", unique_stem()));
        fs::write(&path, b"")?;
        let meta = fs::metadata(&path);
        let _ = fs::remove_file(&path);
        meta
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the object for `key` lives.
    pub fn path_for(&self, key: u128) -> PathBuf {
        self.dir.join(format!("c-{key:032x}.so"))
    }

    /// This cache keeping at most `max` objects (at least 1).
    pub fn with_max_entries(mut self, max: usize) -> DiskCache {
        self.max_entries = max.max(1);
        self
    }

    /// The cached object for `key`, if there is one (a hit marks it recently used).
    pub fn lookup(&self, key: u128) -> Option<PathBuf> {
        let path = self.path_for(key);
        if !path.is_file() {
            return None;
        }
        if let Ok(f) = fs::File::options().append(true).open(&path) {
            let _ = f.set_modified(std::time::SystemTime::now());
        }
        Some(path)
    }

    /// Removes the least recently used objects when there are more than the bound, down
    /// to 90% of it; returns how many it removed.
    pub fn trim(&self) -> usize {
        let Ok(dir) = fs::read_dir(&self.dir) else {
            return 0;
        };
        let mut objects: Vec<(std::time::SystemTime, PathBuf)> = dir
            .filter_map(|e| e.ok())
            .filter(|e| {
                let name = e.file_name();
                let name = name.to_string_lossy();
                name.starts_with("c-") && name.ends_with(".so")
            })
            .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
            .collect();
        if objects.len() <= self.max_entries {
            return 0;
        }
        objects.sort();
        let keep = self.max_entries * 9 / 10;
        let remove = objects.len() - keep;
        objects[..remove]
            .iter()
            .filter(|(_, p)| fs::remove_file(p).is_ok())
            .count()
    }

    /// A fresh path in the cache directory to build the object for `key` into.
    pub fn temp_path(&self, key: u128) -> PathBuf {
        self.dir
            .join(format!(".tmp-{key:032x}-{}.so", unique_stem()))
    }

    /// Moves a finished object from `temp` to its place; the rename is atomic.
    pub fn publish(&self, temp: &Path, key: u128) -> io::Result<PathBuf> {
        let path = self.path_for(key);
        fs::rename(temp, &path)?;
        if PUBLISHED
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(TRIM_EVERY)
        {
            self.trim();
        }
        Ok(path)
    }

    /// Removes the object for `key` (e.g. one that no longer loads).
    pub fn evict(&self, key: u128) {
        let _ = fs::remove_file(self.path_for(key));
    }
}

/// Whether `DISABLE_COMPILER_CACHE` is set to anything but empty or `0`.
fn disabled(get: &impl Fn(&str) -> Option<OsString>) -> bool {
    get("DISABLE_COMPILER_CACHE").is_some_and(|v| !v.is_empty() && v != "0")
}

/// The cache directory the environment names (not yet created).
fn cache_dir(get: &impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    let set = |k: &str| get(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = set("FERROGRAD_CACHE") {
        return Some(dir);
    }
    // The XDG spec says relative paths are invalid and must be ignored.
    if let Some(xdg) = set("XDG_CACHE_HOME").filter(|p| p.is_absolute()) {
        return Some(xdg.join("ferrograd"));
    }
    set("HOME").map(|home| home.join(".cache").join("ferrograd"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |k| {
            vars.iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| OsString::from(v))
        }
    }

    fn fnv(bytes: &[u8]) -> u128 {
        let mut h = Fnv1a128::new();
        h.write(bytes);
        h.finish()
    }

    #[test]
    fn fnv_matches_reference_vectors() {
        assert_eq!(fnv(b""), 0x6c62272e07bb014262b821756295c58d);
        assert_eq!(fnv(b"a"), 0xd228cb696f1a8caf78912b704e4a8964);
        assert_eq!(fnv(b"foobar"), 0x343e1662793c64bf6f0d3597ba446f18);
    }

    #[test]
    fn key_separates_parts() {
        assert_ne!(key(&[b"ab", b"c"]), key(&[b"a", b"bc"]));
        assert_eq!(key(&[b"cc", b"-O2"]), key(&[b"cc", b"-O2"]));
    }

    #[test]
    fn cache_dir_follows_precedence() {
        let all = [
            ("FERROGRAD_CACHE", "/f"),
            ("XDG_CACHE_HOME", "/x"),
            ("HOME", "/h"),
        ];
        assert_eq!(cache_dir(&env(&all)), Some(PathBuf::from("/f")));
        assert_eq!(
            cache_dir(&env(&all[1..])),
            Some(PathBuf::from("/x/ferrograd"))
        );
        assert_eq!(
            cache_dir(&env(&all[2..])),
            Some(PathBuf::from("/h/.cache/ferrograd"))
        );
        let relative_xdg = [("XDG_CACHE_HOME", "rel"), ("HOME", "/h")];
        assert_eq!(
            cache_dir(&env(&relative_xdg)),
            Some(PathBuf::from("/h/.cache/ferrograd"))
        );
        assert_eq!(cache_dir(&env(&[("FERROGRAD_CACHE", "")])), None);
    }

    #[test]
    fn disable_flag_is_read() {
        assert!(disabled(&env(&[("DISABLE_COMPILER_CACHE", "1")])));
        assert!(!disabled(&env(&[("DISABLE_COMPILER_CACHE", "0")])));
        assert!(!disabled(&env(&[("DISABLE_COMPILER_CACHE", "")])));
        assert!(!disabled(&env(&[])));
        let off = [("DISABLE_COMPILER_CACHE", "1"), ("FERROGRAD_CACHE", "/f")];
        assert_eq!(DiskCache::from_lookup(env(&off)), None);
    }
}

#[cfg(test)]
mod trim_tests {
    use super::*;

    #[test]
    fn the_least_recently_used_objects_go_past_the_bound() {
        let dir = std::env::temp_dir().join(format!("ferrograd-trim-{}", unique_stem()));
        let cache = DiskCache::at(&dir).expect("cache").with_max_entries(10);
        let t0 = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        for k in 0..15u128 {
            let p = cache.path_for(k);
            fs::write(&p, b"x").expect("write");
            let f = fs::File::options().append(true).open(&p).expect("open");
            f.set_modified(t0 + std::time::Duration::from_secs(k as u64))
                .expect("mtime");
        }
        // a hit makes the oldest the newest
        assert!(cache.lookup(0).is_some());
        assert_eq!(cache.trim(), 6, "15 objects trimmed to 9");
        assert!(cache.lookup(0).is_some(), "recently used stays");
        for k in 1..7 {
            assert!(cache.lookup(k).is_none(), "object {k} was among the oldest");
        }
        assert_eq!(cache.trim(), 0);
        let _ = fs::remove_dir_all(&dir);
    }
}
