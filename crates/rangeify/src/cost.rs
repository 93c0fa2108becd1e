//! The cost function: when a tensor is worth a buffer of its own. This is the one place
//! that decides; `realize.rs` asks it.
//!
//! A node used by several consumers can either be stored once and loaded by each
//! (memory traffic: one write plus one read per consumer) or recomputed inside each
//! consumer's kernel (operations: the node's work again per consumer). Recomputing wins
//! while the node is elementwise work over few inputs (at most `MAX_RECOMPUTE_BUFFERS`
//! buffers read: each recomputation re-reads them all) and repeats no reduction:
//! - a reduction evaluated per element of the node (a matmul inside it) is never
//!   recomputed: its work grows with the reduced size;
//! - a reduction behind a broadcast (`x - x.max(1)`) is evaluated once per kept index
//!   and shared by every consumer in the same kernel (the linearizer runs it outside the
//!   loops it does not depend on), so it is recomputed only when the consumers end up in
//!   different kernels.
//!
//! A reduction whose result is broadcast is fused into the consumer, computed once per
//! kept index. Where the consumer's loops do not allow that (the kept axes are not its
//! outer loops, or none are kept), lowering says so and the reduction is stored
//! (`lower.rs`, `Lowerer::unshared`).

/// Beyond this many input buffers a shared node is stored rather than recomputed.
pub const MAX_RECOMPUTE_BUFFERS: usize = 3;

/// What the realize walk knows about a node's fused subgraph.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Subgraph {
    /// A REDUCE is fused into it.
    pub has_reduce: bool,
    /// A REDUCE is fused into it that runs once per element of the node (not behind a
    /// broadcast).
    pub reduce_per_element: bool,
    /// Distinct buffers it reads (realized inputs), counted up to
    /// `MAX_RECOMPUTE_BUFFERS + 1`: a larger count changes no decision.
    pub buffers_read: usize,
}

/// Store a node with `consumers` users rather than recompute it in each; `same_kernel`
/// says whether all of them are fused into one kernel.
pub fn store_shared(sub: &Subgraph, consumers: usize, same_kernel: bool) -> bool {
    consumers > 1
        && (sub.reduce_per_element
            || (sub.has_reduce && !same_kernel)
            || sub.buffers_read > MAX_RECOMPUTE_BUFFERS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cheap_shared_nodes_are_recomputed() {
        let cheap = Subgraph {
            buffers_read: 2,
            ..Default::default()
        };
        assert!(!store_shared(&cheap, 3, false));
        let wide = Subgraph {
            buffers_read: 4,
            ..Default::default()
        };
        assert!(store_shared(&wide, 2, true));
        let per_element = Subgraph {
            has_reduce: true,
            reduce_per_element: true,
            buffers_read: 1,
        };
        assert!(store_shared(&per_element, 2, true) && !store_shared(&per_element, 1, true));
        // a broadcast reduction inside: shared when every consumer is in one kernel
        let behind_broadcast = Subgraph {
            has_reduce: true,
            reduce_per_element: false,
            buffers_read: 1,
        };
        assert!(!store_shared(&behind_broadcast, 2, true));
        assert!(store_shared(&behind_broadcast, 2, false));
    }
}
