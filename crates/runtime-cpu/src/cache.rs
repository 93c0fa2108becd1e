//! The on-disk cache of compiled kernels: one shared object per (compiler, flags, source),
//! named by a 128-bit FNV-1a hash of the three.
//!
//! The directory is `$FERROGRAD_CACHE`, else `$XDG_CACHE_HOME/ferrograd`, else
//! `~/.cache/ferrograd`; if that cannot be written, a private `ferrograd-cache-$USER` in the
//! temp dir (only if it is ours and not writable by others); else no cache at all.
//! `DISABLE_COMPILER_CACHE=1` turns it off. Entries are written to a temp file in the same
//! directory and renamed into place, so concurrent processes never see a partial file.

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

/// A directory of compiled shared objects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiskCache {
    dir: PathBuf,
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
        if let Some(cache) = cache_dir(&get).and_then(|dir| DiskCache::at(dir).ok()) {
            return Some(cache);
        }
        let user = get("USER").unwrap_or_else(|| "user".into());
        let mut name = OsString::from("ferrograd-cache-");
        name.push(user);
        DiskCache::private(std::env::temp_dir().join(name)).ok()
    }

    /// A cache in `dir`, created if missing; fails if the directory cannot be written.
    pub fn at(dir: impl Into<PathBuf>) -> io::Result<DiskCache> {
        let dir = std::path::absolute(dir.into())?;
        fs::create_dir_all(&dir)?;
        let cache = DiskCache { dir };
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
        let cache = DiskCache { dir };
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

    /// The cached object for `key`, if there is one.
    pub fn lookup(&self, key: u128) -> Option<PathBuf> {
        let path = self.path_for(key);
        path.is_file().then_some(path)
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
