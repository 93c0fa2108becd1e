//! The on-disk cache of compiled cubins: one file per key (a 128-bit FNV-1a hash of the
//! compiler version, options and source), under `$FERROGRAD_CACHE/cuda`, else
//! `$XDG_CACHE_HOME/ferrograd/cuda`, else `~/.cache/ferrograd/cuda`.
//! `DISABLE_COMPILER_CACHE=1` turns it off. Entries are written to a temporary file and
//! renamed into place, so that another process never reads a partial one.

use std::fs;
use std::path::PathBuf;

/// FNV-1a over 128 bits of several byte strings, each followed by its length.
pub fn key(parts: &[&[u8]]) -> u128 {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013b;
    let mut h = OFFSET;
    for part in parts {
        for &b in part.iter().chain(&(part.len() as u64).to_le_bytes()) {
            h = (h ^ u128::from(b)).wrapping_mul(PRIME);
        }
    }
    h
}

/// A directory of cubins.
#[derive(Clone, Debug)]
pub struct DiskCache {
    dir: PathBuf,
}

impl DiskCache {
    /// The cache the environment asks for; `None` when disabled or not writable.
    pub fn from_env() -> Option<DiskCache> {
        if std::env::var("DISABLE_COMPILER_CACHE").is_ok_and(|v| v != "0" && !v.is_empty()) {
            return None;
        }
        let base = std::env::var_os("FERROGRAD_CACHE")
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("XDG_CACHE_HOME").map(|x| PathBuf::from(x).join("ferrograd"))
            })
            .or_else(|| {
                std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/ferrograd"))
            })?;
        let dir = base.join("cuda");
        fs::create_dir_all(&dir).ok()?;
        Some(DiskCache { dir })
    }

    fn path(&self, key: u128) -> PathBuf {
        self.dir.join(format!("{key:032x}.cubin"))
    }

    /// The cached bytes of `key`.
    pub fn get(&self, key: u128) -> Option<Vec<u8>> {
        fs::read(self.path(key))
            .ok()
            .filter(|b| b.starts_with(b"\x7fELF"))
    }

    /// Stores `bytes` under `key`.
    pub fn put(&self, key: u128, bytes: &[u8]) -> std::io::Result<()> {
        let tmp = self
            .dir
            .join(format!(".{key:032x}.{}.tmp", std::process::id()));
        fs::write(&tmp, bytes)?;
        fs::rename(&tmp, self.path(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_separate_their_parts() {
        assert_ne!(key(&[b"ab", b"c"]), key(&[b"a", b"bc"]));
        assert_eq!(key(&[b"x"]), key(&[b"x"]));
    }

    #[test]
    fn entries_round_trip() {
        let dir = std::env::temp_dir().join(format!("ferrograd-nv-cache-{}", std::process::id()));
        let cache = DiskCache { dir: dir.clone() };
        fs::create_dir_all(&dir).expect("temp dir");
        cache.put(7, b"\x7fELFdata").expect("write");
        assert_eq!(cache.get(7).as_deref(), Some(&b"\x7fELFdata"[..]));
        assert!(cache.get(8).is_none());
        let _ = fs::remove_dir_all(dir);
    }
}
