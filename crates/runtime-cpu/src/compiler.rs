//! `CCompiler`: C source to a shared object with the system compiler, reading the source
//! from stdin: `$FERROGRAD_CC` (default `cc`) `$FERROGRAD_CFLAGS` (default
//! [`DEFAULT_CFLAGS`]) `-shared -fPIC -x c - -o OUT`. The last six arguments are always
//! passed, since the result must be a loadable object; the flags before them may be
//! replaced. Objects are cached on disk (`cache`), keyed by (compiler, flags, source).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use device::{DeviceError, Result, Source};

use crate::cache::{self, DiskCache};

/// The optimisation flags used unless `FERROGRAD_CFLAGS` replaces them. Contraction into FMA
/// is off so that results match the reference (unfused) arithmetic bit for bit.
/// `-fno-trapping-math` lets gated and `exp2` code become selects. The loop vectorizer is
/// off: gcc 12.2 (Debian 12) miscompiles a nest of reduction loops read backwards
/// (`acc += d[7 - 2*a - b]` over a 4x2 nest sums to 2, not 6; found by
/// `cargo xtask fuzz-kernels`, seed 11, case 1075). Straight-line (SLP) vectorization stays.
/// Value-range propagation is off: gcc 13.3 (Ubuntu 24.04) miscompiles a padded, permuted
/// gather with it at -O2 and above (seed 202, case 9644; no UB under the sanitizers).
pub const DEFAULT_CFLAGS: &str = "-O3 -march=native -ffp-contract=off -fno-trapping-math \
     -fno-tree-loop-vectorize -fno-tree-vrp";

/// What makes the output a shared object read from stdin; `-o OUT` follows.
const REQUIRED_FLAGS: [&str; 5] = ["-shared", "-fPIC", "-x", "c", "-"];

/// A compiled shared object on disk. One outside the cache is a private temp file, removed
/// when this is dropped (a loaded library stays mapped after its file is gone).
#[derive(Debug)]
pub struct SharedObject {
    path: PathBuf,
    cached: bool,
}

impl SharedObject {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the file is an entry of the disk cache (and so outlives this handle).
    pub fn is_cached(&self) -> bool {
        self.cached
    }
}

impl Drop for SharedObject {
    fn drop(&mut self) {
        if !self.cached {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// The system C compiler, with its flags and disk cache.
#[derive(Debug)]
pub struct CCompiler {
    cc: String,
    flags: Vec<String>,
    cache: Option<DiskCache>,
    invocations: AtomicUsize,
}

impl CCompiler {
    /// The compiler, flags and cache the environment asks for.
    pub fn from_env() -> CCompiler {
        let cc = std::env::var("FERROGRAD_CC")
            .ok()
            .filter(|cc| !cc.trim().is_empty());
        let flags = std::env::var("FERROGRAD_CFLAGS").ok();
        let flags = flags.as_deref().unwrap_or(DEFAULT_CFLAGS);
        CCompiler::new(
            cc.as_deref().unwrap_or("cc").trim(),
            flags.split_whitespace().map(str::to_string).collect(),
            DiskCache::from_env(),
        )
    }

    /// `cc` with the replaceable `flags`, caching in `cache` (none: compile every time).
    pub fn new(cc: &str, flags: Vec<String>, cache: Option<DiskCache>) -> CCompiler {
        CCompiler {
            cc: cc.to_string(),
            flags,
            cache,
            invocations: AtomicUsize::new(0),
        }
    }

    pub fn cc(&self) -> &str {
        &self.cc
    }

    pub fn flags(&self) -> &[String] {
        &self.flags
    }

    pub fn cache(&self) -> Option<&DiskCache> {
        self.cache.as_ref()
    }

    /// How many times this compiler has run the system compiler (cache hits do not count).
    pub fn invocations(&self) -> usize {
        self.invocations.load(Ordering::Relaxed)
    }

    /// Whether the compiler command runs at all (`cc --version` succeeds).
    pub fn is_available(&self) -> bool {
        Command::new(&self.cc)
            .arg("--version")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// The disk-cache key of `code` under this compiler and flags.
    pub fn key(&self, code: &str) -> u128 {
        let flags = self.flags.join("\0");
        cache::key(&[self.cc.as_bytes(), flags.as_bytes(), code.as_bytes()])
    }

    /// Compiles `source.code`, or finds it in the cache.
    pub fn compile(&self, source: &Source) -> Result<SharedObject> {
        let key = self.key(&source.code);
        if let Some(path) = self.cache.as_ref().and_then(|c| c.lookup(key)) {
            return Ok(SharedObject { path, cached: true });
        }
        let Some(cache) = &self.cache else {
            let path = reserve_temp_file(key, &source.function)?;
            let object = SharedObject {
                path,
                cached: false,
            };
            self.run(source, object.path())?;
            return Ok(object);
        };
        let mut temp = SharedObject {
            path: cache.temp_path(key),
            cached: false,
        };
        self.run(source, temp.path())?;
        match cache.publish(temp.path(), key) {
            Ok(path) => {
                temp.path = path;
                temp.cached = true;
                Ok(temp)
            }
            // Still a good object, only not cached.
            Err(_) => Ok(temp),
        }
    }

    /// Removes the cached object of `code`, so that the next `compile` rebuilds it.
    pub fn evict(&self, code: &str) {
        if let Some(cache) = &self.cache {
            cache.evict(self.key(code));
        }
    }

    /// Runs the compiler on `source`, writing the object to `out`.
    fn run(&self, source: &Source, out: &Path) -> Result<()> {
        self.invocations.fetch_add(1, Ordering::Relaxed);
        let fail = |log: String| DeviceError::Compile {
            function: source.function.clone(),
            log,
        };
        let command_line = format!(
            "{} {} {} -o {}",
            self.cc,
            self.flags.join(" "),
            REQUIRED_FLAGS.join(" "),
            out.display()
        );
        let mut child = Command::new(&self.cc)
            .args(&self.flags)
            .args(REQUIRED_FLAGS)
            .arg("-o")
            .arg(out)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                fail(format!(
                    "cannot run the C compiler `{}` (set FERROGRAD_CC): {e}",
                    self.cc
                ))
            })?;
        let stdin = child.stdin.take();
        // Feed stdin from another thread: a compiler may fill its stderr pipe before it has
        // read all of its input.
        let (written, output) = std::thread::scope(|s| {
            let writer = s.spawn(move || match stdin {
                Some(mut stdin) => stdin.write_all(source.code.as_bytes()),
                None => Ok(()),
            });
            let output = child.wait_with_output();
            (writer.join(), output)
        });
        let output = output.map_err(|e| fail(format!("`{command_line}` failed to run: {e}")))?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            return Err(fail(format!(
                "`{command_line}` exited with {}:\n{stderr}",
                output.status
            )));
        }
        match written {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(fail(format!(
                "`{command_line}` did not read its input: {e}"
            ))),
            Err(_) => Err(fail(format!(
                "writing the source to `{command_line}` failed"
            ))),
        }
    }
}

/// Creates an empty, new file in the temp dir for an uncached object, so that no other user
/// can have put a file (or a link) at that path first.
fn reserve_temp_file(key: u128, function: &str) -> Result<PathBuf> {
    let path =
        std::env::temp_dir().join(format!("ferrograd-{key:032x}-{}.so", cache::unique_stem()));
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| DeviceError::Compile {
            function: function.to_string(),
            log: format!("cannot create {}: {e}", path.display()),
        })?;
    Ok(path)
}
