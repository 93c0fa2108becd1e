//! `ThreadPool`: persistent worker threads that run the `core_id`s of one launch. The
//! calling thread runs `core_id` 0 itself; the others go to workers, started on first need
//! and kept for later launches (a small kernel would otherwise pay a thread spawn per
//! launch). A launch of one `core_id` touches no worker and allocates nothing. With more `core_id`s than workers, they are dealt out round robin: kernels
//! never synchronise across `core_id`s, so any order is correct. A launch returns only
//! when every `core_id` has finished, with the time that took: the pool is the CPU's
//! clock for kernel times.

use std::ffi::c_void;
use std::fmt;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

/// The C signature of a kernel: `void NAME(void* const* bufs, int core_id)`.
pub type KernelFn = unsafe extern "C" fn(*const *mut c_void, i32);

/// The argument array of a launch, sent to workers.
struct Args(*const *mut c_void);

// SAFETY: the array outlives every task that holds it: `ThreadPool::run` waits on the
// launch's latch before it returns, and the array lives on its caller's stack until then.
unsafe impl Send for Args {}

struct Task {
    kernel: KernelFn,
    args: Args,
    core_id: i32,
    latch: Arc<Latch>,
}

/// Counts the tasks of one launch still running.
struct Latch {
    pending: Mutex<usize>,
    done: Condvar,
}

impl Latch {
    fn add(&self) {
        *self.pending.lock() += 1;
    }

    fn finish(&self) {
        let mut pending = self.pending.lock();
        *pending -= 1;
        if *pending == 0 {
            self.done.notify_all();
        }
    }

    fn wait(&self) {
        let mut pending = self.pending.lock();
        while *pending > 0 {
            self.done.wait(&mut pending);
        }
    }
}

/// How long a worker polls for its next task before it sleeps. A schedule launches its
/// kernels back to back: a worker that slept would be woken on the launching thread's
/// core, and the two would share that core until the kernel ends, doubling its time.
const SPIN: Duration = Duration::from_micros(300);

/// The next task for a worker: polled for `SPIN`, then waited for; `None` once the pool
/// is gone.
fn next_task(rx: &Receiver<Task>) -> Option<Task> {
    let start = Instant::now();
    loop {
        match rx.try_recv() {
            Ok(task) => return Some(task),
            Err(TryRecvError::Disconnected) => return None,
            Err(TryRecvError::Empty) if start.elapsed() < SPIN => std::hint::spin_loop(),
            Err(TryRecvError::Empty) => return rx.recv().ok(),
        }
    }
}

struct Worker {
    tasks: Sender<Task>,
    handle: JoinHandle<()>,
}

/// Worker threads shared by the programs of one device.
pub struct ThreadPool {
    workers: Mutex<Vec<Worker>>,
    max_workers: usize,
}

impl fmt::Debug for ThreadPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadPool")
            .field("workers", &self.workers.lock().len())
            .field("max_workers", &self.max_workers)
            .finish()
    }
}

impl ThreadPool {
    /// A pool of at most `max_workers` threads besides the caller's (0: everything runs on
    /// the calling thread).
    pub fn new(max_workers: usize) -> ThreadPool {
        ThreadPool {
            workers: Mutex::new(Vec::new()),
            max_workers,
        }
    }

    /// One worker per core besides the caller's.
    pub fn for_this_machine() -> ThreadPool {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        ThreadPool::new(cores.saturating_sub(1).max(1))
    }

    /// The number of worker threads started so far.
    pub fn workers(&self) -> usize {
        self.workers.lock().len()
    }

    /// Senders to `n` workers, starting threads as needed; fewer if a thread cannot start.
    fn senders(&self, n: usize) -> Vec<Sender<Task>> {
        let mut workers = self.workers.lock();
        while workers.len() < n {
            let (tx, rx) = mpsc::channel::<Task>();
            let spawned = std::thread::Builder::new()
                .name(format!("ferrograd-cpu-{}", workers.len() + 1))
                .spawn(move || {
                    while let Some(task) = next_task(&rx) {
                        // SAFETY: the launcher guarantees what `ThreadPool::run` requires.
                        unsafe { (task.kernel)(task.args.0, task.core_id) };
                        task.latch.finish();
                    }
                });
            match spawned {
                Ok(handle) => workers.push(Worker { tasks: tx, handle }),
                Err(_) => break,
            }
        }
        workers.iter().take(n).map(|w| w.tasks.clone()).collect()
    }

    /// Calls `kernel(args, core_id)` for every `core_id` in `0..threads` and returns when
    /// all have returned, with the time from the first dispatch to the last return.
    /// `threads` must fit an `i32` (callers check).
    ///
    /// # Safety
    /// `kernel` must be safe to call with `args` for each of these `core_id`s, concurrently.
    pub unsafe fn run(&self, kernel: KernelFn, args: &[*mut c_void], threads: usize) -> Duration {
        let start = Instant::now();
        // SAFETY: the caller's contract.
        unsafe { self.run_untimed(kernel, args, threads) };
        start.elapsed()
    }

    /// [`ThreadPool::run`] without taking the time. A launch of one `core_id` runs on
    /// the calling thread alone: no worker is woken, nothing is allocated.
    ///
    /// # Safety
    /// As for [`ThreadPool::run`].
    pub unsafe fn run_untimed(&self, kernel: KernelFn, args: &[*mut c_void], threads: usize) {
        if threads == 1 {
            // SAFETY: the caller's contract.
            unsafe { kernel(args.as_ptr(), 0) };
            return;
        }
        let wanted = threads.saturating_sub(1).min(self.max_workers);
        let senders = if wanted > 0 {
            self.senders(wanted)
        } else {
            Vec::new()
        };
        let slots = senders.len() + 1;
        let latch = Arc::new(Latch {
            pending: Mutex::new(0),
            done: Condvar::new(),
        });
        let mut mine = Vec::new();
        for core in 0..threads {
            let core_id = i32::try_from(core).unwrap_or(i32::MAX);
            let slot = core % slots;
            if slot == 0 {
                mine.push(core_id);
                continue;
            }
            latch.add();
            let task = Task {
                kernel,
                args: Args(args.as_ptr()),
                core_id,
                latch: latch.clone(),
            };
            if let Err(mpsc::SendError(task)) = senders[slot - 1].send(task) {
                // The worker is gone; run its share here.
                task.latch.finish();
                mine.push(core_id);
            }
        }
        for core_id in mine {
            // SAFETY: the caller's contract.
            unsafe { kernel(args.as_ptr(), core_id) };
        }
        latch.wait();
    }
}

impl Drop for ThreadPool {
    fn drop(&mut self) {
        for worker in std::mem::take(&mut *self.workers.lock()) {
            drop(worker.tasks);
            let _ = worker.handle.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// Adds `1 << core_id` to the counter in `bufs[0]`.
    unsafe extern "C" fn mark(bufs: *const *mut c_void, core_id: i32) {
        // SAFETY: the tests pass one pointer to a live AtomicU32.
        let counter = unsafe { &*(*bufs).cast::<AtomicU32>() };
        counter.fetch_add(1 << core_id, Ordering::SeqCst);
    }

    fn run_marks(pool: &ThreadPool, threads: usize) -> u32 {
        let counter = AtomicU32::new(0);
        let args = [std::ptr::from_ref(&counter).cast_mut().cast::<c_void>()];
        // SAFETY: `mark` only touches the atomic.
        let took = unsafe { pool.run(mark, &args, threads) };
        assert!(took < Duration::from_secs(60));
        counter.load(Ordering::SeqCst)
    }

    #[test]
    fn every_core_id_runs_once() {
        let pool = ThreadPool::new(3);
        for threads in [1, 2, 3, 4, 7, 20] {
            assert_eq!(
                run_marks(&pool, threads),
                (1u32 << threads) - 1,
                "threads={threads}"
            );
        }
        assert_eq!(pool.workers(), 3);
    }

    #[test]
    fn no_workers_runs_everything_on_the_caller() {
        let pool = ThreadPool::new(0);
        assert_eq!(run_marks(&pool, 5), 0b11111);
        assert_eq!(pool.workers(), 0);
    }

    #[test]
    fn one_thread_runs_on_the_caller_without_workers() {
        let pool = ThreadPool::new(3);
        assert_eq!(run_marks(&pool, 1), 1);
        assert_eq!(pool.workers(), 0, "no worker was started");
    }

    #[test]
    fn zero_threads_runs_nothing() {
        assert_eq!(run_marks(&ThreadPool::new(2), 0), 0);
    }

    #[test]
    fn concurrent_launches_share_workers() {
        let pool = ThreadPool::new(2);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..50 {
                        assert_eq!(run_marks(&pool, 6), 0b111111);
                    }
                });
            }
        });
    }
}
