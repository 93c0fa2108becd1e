//! The peak rates of this CPU, for the roofline fraction of `DEBUG=2` lines. Compute: the
//! cores times the clock times the f32 lanes of the widest vector times 2 (an FMA is two
//! operations) times 2 (two FMA pipes), an upper bound that no kernel here exceeds.
//! Bandwidth: measured once, by copying a buffer larger than the caches on every core
//! (best of three). `FERROGRAD_CPU_GFLOPS` and `FERROGRAD_CPU_GBS` replace either.
//! A kernel whose data stays in cache can still run above the memory roof: the fraction
//! is of the DRAM roofline.

use std::time::Instant;

use device::Roofline;

/// The bytes each copy moves per direction (larger than the caches of most machines).
const COPY_BYTES: usize = 64 << 20;

/// The roofline from `FERROGRAD_CPU_GFLOPS` and `FERROGRAD_CPU_GBS` read through `get`,
/// and, for the ones unset or not positive numbers, `compute()` and `measure()`.
pub fn roofline_from(
    get: impl Fn(&str) -> Option<String>,
    compute: impl FnOnce() -> f64,
    measure: impl FnOnce() -> f64,
) -> Roofline {
    let read = |k: &str| {
        get(k)
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|v| v.is_finite() && *v > 0.0)
    };
    Roofline {
        gflops: read("FERROGRAD_CPU_GFLOPS").unwrap_or_else(compute),
        gbs: read("FERROGRAD_CPU_GBS").unwrap_or_else(measure),
    }
}

/// Peak GFLOP/s of `cores` cores at `ghz` with vectors of `vector_bytes`.
pub fn peak_gflops(cores: usize, ghz: f64, vector_bytes: usize) -> f64 {
    let lanes = (vector_bytes / 4).max(1) as f64;
    cores as f64 * ghz * lanes * 2.0 * 2.0
}

/// The highest clock of this CPU in GHz: cpufreq's maximum, else the fastest core that
/// `/proc/cpuinfo` lists, else 3 GHz.
pub fn clock_ghz() -> f64 {
    let max_khz = std::fs::read_to_string("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
        .ok()
        .and_then(|s| s.trim().parse::<f64>().ok());
    if let Some(khz) = max_khz.filter(|k| *k > 0.0) {
        return khz / 1e6;
    }
    let mhz = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .filter(|l| l.starts_with("cpu MHz"))
                .filter_map(|l| l.split(':').nth(1)?.trim().parse::<f64>().ok())
                .reduce(f64::max)
        });
    mhz.filter(|m| *m > 0.0).map_or(3.0, |m| m / 1e3)
}

/// Copy bandwidth in GB/s (bytes read plus bytes written) with `threads` threads.
pub fn measure_gbs(threads: usize) -> f64 {
    let threads = threads.max(1);
    let per = COPY_BYTES / threads;
    let src = vec![1u8; per * threads];
    let mut dst = vec![0u8; per * threads];
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let t = Instant::now();
        std::thread::scope(|s| {
            for (d, from) in dst.chunks_mut(per).zip(src.chunks(per)) {
                s.spawn(move || d.copy_from_slice(from));
            }
        });
        best = best.min(t.elapsed().as_secs_f64());
    }
    std::hint::black_box(&dst);
    (2 * per * threads) as f64 / best.max(1e-9) / 1e9
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_win_and_junk_is_ignored() {
        let r = roofline_from(
            |k| match k {
                "FERROGRAD_CPU_GFLOPS" => Some("123.5".into()),
                "FERROGRAD_CPU_GBS" => Some("-3".into()),
                _ => None,
            },
            || 1.0,
            || 7.0,
        );
        assert_eq!((r.gflops, r.gbs), (123.5, 7.0));
        let d = roofline_from(|_| Some("fast".into()), || 2.0, || 9.0);
        assert_eq!((d.gflops, d.gbs), (2.0, 9.0));
    }

    #[test]
    fn peaks_count_lanes_fma_and_pipes() {
        // 2 cores at 3 GHz with AVX2: 2 * 3 * 8 lanes * 2 * 2
        assert_eq!(peak_gflops(2, 3.0, 32), 192.0);
        let ghz = clock_ghz();
        assert!(ghz > 0.1 && ghz < 10.0, "{ghz}");
    }
}
