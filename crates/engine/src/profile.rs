//! The per-kernel profile: while it is on (`set_profiling(true)`), every launch waits for
//! its kernel and adds its device time, operations and bytes to its kernel's row (rows are
//! keyed by kernel name and launch size). `kernel_profile` gives the rows, most time
//! first, and `profile_table` prints them: what a training run spent where.

use std::collections::HashMap;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use parking_lot::Mutex;

/// One kernel's totals over the launches profiled.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KernelStat {
    pub name: String,
    /// Global and local sizes, as `DEBUG=2` prints them.
    pub global: usize,
    pub local: usize,
    pub launches: u64,
    pub time: Duration,
    pub ops: u64,
    pub bytes: u64,
}

static ON: AtomicBool = AtomicBool::new(false);
/// A row's key: kernel name, global size, local size.
type RowKey = (String, usize, usize);

static ROWS: LazyLock<Mutex<HashMap<RowKey, KernelStat>>> = LazyLock::new(Default::default);

/// Turns the profile on or off (on: launches wait for their kernels).
pub fn set_profiling(on: bool) {
    ON.store(on, Ordering::Relaxed);
}

pub fn profiling() -> bool {
    ON.load(Ordering::Relaxed)
}

/// Adds one launch of `program` over `bytes` that took `time`, if the profile is on.
pub(crate) fn record_launch(program: &device::LinearProgram, bytes: u64, time: Duration) {
    if !profiling() {
        return;
    }
    let dims = &program.dims;
    record(
        &program.name,
        dims.global_size() as usize,
        dims.local_size() as usize,
        time,
        program.ops,
        bytes,
    );
}

/// Adds one launch.
pub(crate) fn record(
    name: &str,
    global: usize,
    local: usize,
    time: Duration,
    ops: u64,
    bytes: u64,
) {
    let mut rows = ROWS.lock();
    let row = rows
        .entry((name.to_string(), global, local))
        .or_insert_with(|| KernelStat {
            name: name.to_string(),
            global,
            local,
            ..Default::default()
        });
    row.launches += 1;
    row.time += time;
    row.ops += ops;
    row.bytes += bytes;
}

/// The rows so far, most time first.
pub fn kernel_profile() -> Vec<KernelStat> {
    let mut rows: Vec<KernelStat> = ROWS.lock().values().cloned().collect();
    rows.sort_by(|a, b| b.time.cmp(&a.time).then_with(|| a.name.cmp(&b.name)));
    rows
}

/// Forgets the rows.
pub fn reset_profile() {
    ROWS.lock().clear();
}

/// The rows as a table: the `limit` slowest kernels, then the rest summed.
pub fn profile_table(rows: &[KernelStat], limit: usize) -> String {
    let total: Duration = rows.iter().map(|r| r.time).sum();
    let mut out = format!(
        "{:<28} {:>8} {:>6} {:>8} {:>11} {:>9} {:>8} {:>6}\n",
        "kernel", "global", "local", "launches", "total ms", "us/launch", "GFLOP/s", "share"
    );
    let line =
        |name: &str, global: String, local: String, launches: u64, time: Duration, ops: u64| {
            let secs = time.as_secs_f64();
            format!(
                "{:<28} {:>8} {:>6} {:>8} {:>11.2} {:>9.1} {:>8.2} {:>5.1}%\n",
                name,
                global,
                local,
                launches,
                secs * 1e3,
                secs * 1e6 / launches.max(1) as f64,
                ops as f64 / secs.max(1e-12) / 1e9,
                100.0 * secs / total.as_secs_f64().max(1e-12)
            )
        };
    for r in rows.iter().take(limit) {
        out.push_str(&line(
            &r.name,
            r.global.to_string(),
            r.local.to_string(),
            r.launches,
            r.time,
            r.ops,
        ));
    }
    let rest = &rows[limit.min(rows.len())..];
    if !rest.is_empty() {
        let launches = rest.iter().map(|r| r.launches).sum();
        let time = rest.iter().map(|r| r.time).sum();
        let ops = rest.iter().map(|r| r.ops).sum();
        out.push_str(&line(
            &format!("({} others)", rest.len()),
            String::new(),
            String::new(),
            launches,
            time,
            ops,
        ));
    }
    out.push_str(&format!(
        "total kernel time {:.2} ms\n",
        total.as_secs_f64() * 1e3
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_add_up_and_sort_by_time() {
        reset_profile();
        record("r_4", 2, 1, Duration::from_micros(10), 100, 40);
        record("E_8", 1, 1, Duration::from_micros(30), 8, 64);
        record("r_4", 2, 1, Duration::from_micros(10), 100, 40);
        let rows = kernel_profile();
        assert_eq!(rows[0].name, "E_8");
        assert_eq!(
            (rows[1].launches, rows[1].ops, rows[1].time),
            (2, 200, Duration::from_micros(20))
        );
        let table = profile_table(&rows, 1);
        assert!(
            table.contains("(1 others)") && table.contains("total kernel time 0.05 ms"),
            "{table}"
        );
        reset_profile();
    }
}
