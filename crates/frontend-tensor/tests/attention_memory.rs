//! Attention without an S x S buffer: `softmax(q k^T / sqrt(d)) v` schedules into one
//! kernel whose per-row scores and probabilities live in scratch memory, so the memory a
//! run allocates does not grow with S^2. At S = 16384, D = 64 (f32) the score matrix alone
//! would be 1 GiB; the run must peak under 4x the inputs (48 MiB).
//! Memory is counted by `common::memory` (a device wrapping the CPU's); the causal run is
//! `attention_memory_causal.rs`, a process of its own so neither reuses the other's memory.

mod common;

#[test]
fn attention_at_16k_peaks_under_four_times_its_inputs() {
    common::memory::run_attention(16384, 64, false);
}
