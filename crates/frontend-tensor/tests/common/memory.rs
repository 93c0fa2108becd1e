//! Attention's memory, counted: a device that wraps the CPU device (`MEMCPU`) adds the
//! bytes of every buffer it hands out to a live count until the buffer is dropped, and
//! `run_attention` bounds the peak of that count above what was live before the inputs
//! (memory the engine keeps for reuse stays counted). Each test binary runs one
//! attention, so no run reuses another's freed memory and every allocation is seen.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use device::{Buffer, Device, Program, RawBuffer, Roofline, Source};
use frontend_tensor::{AttentionOpts, Tensor};

use renderer::Renderer;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

#[derive(Debug)]
struct Counted(Buffer);

impl RawBuffer for Counted {
    fn size(&self) -> usize {
        self.0.size()
    }
    fn addr(&self) -> u64 {
        self.0.addr()
    }
    fn copy_in(&self, offset: usize, data: &[u8]) -> device::Result<()> {
        self.0.copy_in(offset, data)
    }
    fn copy_out(&self, offset: usize, out: &mut [u8]) -> device::Result<()> {
        self.0.copy_out(offset, out)
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        LIVE.fetch_sub(self.0.size(), Ordering::SeqCst);
    }
}

/// The CPU device, counting the bytes of the buffers it has handed out.
#[derive(Debug)]
struct Counting(Arc<dyn Device>);

impl Device for Counting {
    fn name(&self) -> &str {
        "MEMCPU"
    }
    fn renderer(&self) -> &dyn Renderer {
        self.0.renderer()
    }
    fn alloc(&self, bytes: usize) -> device::Result<Buffer> {
        let inner = self.0.alloc(bytes)?;
        let live = LIVE.fetch_add(bytes, Ordering::SeqCst) + bytes;
        PEAK.fetch_max(live, Ordering::SeqCst);
        Ok(Arc::new(Counted(inner)))
    }
    fn compile(&self, source: &Source) -> device::Result<Arc<dyn Program>> {
        self.0.compile(source)
    }
    fn synchronize(&self) -> device::Result<()> {
        self.0.synchronize()
    }
    fn roofline(&self) -> Roofline {
        self.0.roofline()
    }
}

fn counting_cpu() -> bool {
    if !super::cpu() {
        return false;
    }
    device::register("MEMCPU", |name| {
        Ok(Arc::new(Counting(Arc::new(runtime_cpu::CpuDevice::new(
            name,
            Box::new(renderer_c::CRenderer::new()),
        )))))
    });
    true
}

/// Random values in [-1, 1) from a small LCG (seeded).
fn data(n: usize, seed: u64) -> Vec<f32> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((x >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

/// Row `l` of attention in f64: `softmax(q_l . k_j / sqrt(d)) v` over `keys` keys.
fn reference_row(q: &[f32], k: &[f32], v: &[f32], d: usize, l: usize, keys: usize) -> Vec<f64> {
    let scale = 1.0 / (d as f64).sqrt();
    let s: Vec<f64> = (0..keys)
        .map(|j| {
            (0..d)
                .map(|e| f64::from(q[l * d + e]) * f64::from(k[j * d + e]))
                .sum::<f64>()
                * scale
        })
        .collect();
    let m = s.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let z: f64 = s.iter().map(|x| (x - m).exp()).sum();
    (0..d)
        .map(|e| {
            (0..keys)
                .map(|j| (s[j] - m).exp() / z * f64::from(v[j * d + e]))
                .sum()
        })
        .collect()
}

/// Runs attention over `(1, 1, s, d)` inputs on the counting device: one kernel, a peak
/// under 4x the inputs, and rows that match a reference in f64.
pub fn run_attention(s: usize, d: usize, causal: bool) {
    static TURN: parking_lot::Mutex<()> = parking_lot::Mutex::new(());
    let _turn = TURN.lock();
    if !counting_cpu() {
        return;
    }
    let before = LIVE.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    let shape = [1, 1, s as i64, d as i64];
    let (qd, kd, vd) = (data(s * d, 1), data(s * d, 2), data(s * d, 3));
    let make = |x: &[f32]| Tensor::from_slice_on(x, &shape, "MEMCPU").expect("input");
    let (q, k, v) = (make(&qd), make(&kd), make(&vd));
    for t in [&q, &k, &v] {
        t.realize().expect("inputs");
    }
    let inputs = 3 * s * d * 4;
    let opts = AttentionOpts {
        mask: None,
        causal,
        dropout: 0.0,
        scale: None,
    };
    let out = q
        .scaled_dot_product_attention(&k, &v, &opts)
        .expect("attention");
    let sched = Tensor::schedule(&[&out]).expect("schedule");
    assert_eq!(sched.kernels.len(), 1, "attention is one kernel");
    let got = out.to_vec::<f32>().expect("run");
    let peak = PEAK.load(Ordering::SeqCst) - before;
    eprintln!(
        "S={s} D={d} causal={causal}: peak {:.1} MiB, inputs {:.1} MiB",
        peak as f64 / (1 << 20) as f64,
        inputs as f64 / (1 << 20) as f64
    );
    assert!(
        peak < 4 * inputs,
        "peak {peak} bytes, inputs {inputs} bytes: memory grew with S^2"
    );
    for l in [0, 1, s / 2, s - 1] {
        let keys = if causal { l + 1 } else { s };
        let want = reference_row(&qd, &kd, &vd, d, l, keys);
        for (e, w) in want.iter().enumerate() {
            let g = f64::from(got[l * d + e]);
            assert!(
                (g - w).abs() <= 1e-4 + 1e-3 * w.abs(),
                "row {l} col {e}: {g} vs {w}"
            );
        }
    }
}
