//! The cost function: when a tensor is worth a buffer of its own. This is the one place
//! that decides; `realize.rs` asks it.
//!
//! A node used by several consumers can either be stored once and loaded by each
//! (memory traffic: one write plus one read per consumer) or recomputed inside each
//! consumer's kernel (operations: the node's work again per consumer). Recomputing wins
//! while the node is elementwise work over few inputs: no REDUCE inside (a reduction is
//! never recomputed: its work grows with the reduced size) and at most
//! `MAX_RECOMPUTE_BUFFERS` buffers read (each recomputation re-reads them all).
//!
//! A reduction whose result is broadcast (an EXPAND of its output) is always stored:
//! recomputing it per broadcast element would multiply its work by the broadcast size.

/// Beyond this many input buffers a shared node is stored rather than recomputed.
pub const MAX_RECOMPUTE_BUFFERS: usize = 3;

/// What the realize walk knows about a node's fused subgraph.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Subgraph {
    /// A REDUCE is fused into it.
    pub has_reduce: bool,
    /// Distinct buffers it reads (realized inputs), counted up to
    /// `MAX_RECOMPUTE_BUFFERS + 1`: a larger count changes no decision.
    pub buffers_read: usize,
}

/// Store a node with `consumers` users rather than recompute it in each.
pub fn store_shared(sub: &Subgraph, consumers: usize) -> bool {
    consumers > 1 && (sub.has_reduce || sub.buffers_read > MAX_RECOMPUTE_BUFFERS)
}

/// Store a node whose result a consumer broadcasts.
pub fn store_before_broadcast(sub: &Subgraph) -> bool {
    sub.has_reduce
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cheap_shared_nodes_are_recomputed() {
        let cheap = Subgraph {
            has_reduce: false,
            buffers_read: 2,
        };
        assert!(!store_shared(&cheap, 3));
        let wide = Subgraph {
            has_reduce: false,
            buffers_read: 4,
        };
        assert!(store_shared(&wide, 2));
        let reduce = Subgraph {
            has_reduce: true,
            buffers_read: 1,
        };
        assert!(store_shared(&reduce, 2) && !store_shared(&reduce, 1));
        assert!(store_before_broadcast(&reduce) && !store_before_broadcast(&cheap));
    }
}
