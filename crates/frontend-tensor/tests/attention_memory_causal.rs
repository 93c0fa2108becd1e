//! Causal attention without an S x S buffer: the causal mask joins the scores inside the
//! one kernel (see `attention_memory.rs`), and the run at S = 16384, D = 64 peaks under 4x
//! its inputs.

mod common;

#[test]
fn causal_attention_at_16k_peaks_under_four_times_its_inputs() {
    common::memory::run_attention(16384, 64, true);
}
