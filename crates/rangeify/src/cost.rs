//! The cost function: where a node is computed, decided once per node by the ranges walk
//! (`ranges.rs`) with every evaluation its consumers make of it in hand (the loops each
//! one runs in, and the index it uses). The choices:
//!
//! - **fuse**: compute it in each consumer at each evaluation (no memory traffic, its work
//!   again per evaluation);
//! - **store**: a kernel of its own writes it to a buffer, consumers load it (one write and
//!   one read per consumer);
//! - **stage**: the one kernel that uses it fills a scratch copy of the dims it reads
//!   whole, once per trip of the outer output loops its index uses, and reads that.
//!   Staging keeps those loops from being tiled by the linearizer (one copy per trip), so
//!   it is chosen where it saves a buffer larger than the kernel's own output (attention's
//!   scores: S x S against S x D) or repeated transcendental work (attention's
//!   probabilities, recomputed for every output column otherwise).
//!
//! The rules, in order:
//! 1. A reduction a consumer broadcasts is fused when it runs once per trip of the loops
//!    it keeps: those are the kernel's outer output loops (`uop_ir::hoist_depth`, the
//!    contract the linearizer places loops by, with at least one loop: a reduction over
//!    everything is left to a kernel of its own, where it can be split across threads) and
//!    no other loop encloses it. Otherwise it is stored or staged.
//! 2. A node evaluated at several indices is recomputed at each unless it is a reduction
//!    (staged when its evaluations are in one kernel, else stored), or it holds a
//!    reduction and its evaluations are in different kernels, or it reads more than
//!    `MAX_RECOMPUTE_BUFFERS` buffers (stored). Nodes above a reduction are recomputed:
//!    that adds evaluations of the reduction, which is then staged or stored itself.
//! 3. A node with a transcendental per element (exp, log, sqrt, sin...) that runs at
//!    least `STAGE_MIN_REPEATS` times per element (it sits in loops its index does not
//!    use) is staged when it can be.
//!
//! So layernorm or RMSNorm feeding a matmul is one kernel: the row statistics are
//! reductions kept per row (rule 1 fuses them, once per row) and the normalized value is
//! recomputed in the matmul's inner loop (a subtraction and a multiply per term: cheaper
//! than a buffer round trip, and the matmul keeps its tiling). Softmax feeding a matmul
//! stages the probabilities of one row (rule 3), and attention's scores are staged
//! (rule 2) when S > D. Staging is possible only where the device allows scratch
//! (`StageLimits`): on a GPU it does not, and what would be staged is stored (`or_store`)
//! or fused.

use uop_ir::{Op, UOp, UOpMap};

/// Beyond this many input buffers a node evaluated several times is stored.
pub const MAX_RECOMPUTE_BUFFERS: usize = 3;
/// Transcendental work repeated this many times per element is staged.
pub const STAGE_MIN_REPEATS: i64 = 4;

/// What the cost function knows of a node's fused subgraph: the nodes below it up to
/// stored ones (buffers, forced outputs).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Subgraph {
    /// A REDUCE is in it.
    pub has_reduce: bool,
    /// A transcendental op runs once per element of the node.
    pub transcendental_per_element: bool,
    /// Distinct buffers it reads, counted up to `MAX_RECOMPUTE_BUFFERS + 1`.
    pub buffers_read: usize,
    /// Its element count.
    pub numel: i64,
}

/// One evaluation of a node, as the cost function sees it.
#[derive(Clone, Debug)]
pub struct EvalView {
    pub kernel: usize,
    /// Read through a broadcast since the last reduction.
    pub bcast: bool,
    /// `Some(k)`: it depends on exactly the first `k` output loops of its kernel and on no
    /// other loop; `None`: it depends on a later loop without an earlier one, or on a loop
    /// that is not an output loop (a reduction's).
    pub hoist: Option<usize>,
    /// How many times each element is computed by it: the trips of the outer loops it runs
    /// in without depending on them.
    pub repeats: i64,
    /// Its index depends on a loop of a consumer's reduction, and the points it is
    /// evaluated at outnumber its elements: some are computed on several trips.
    pub recomputed_in_reduction: bool,
}

/// The choice for one node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    Fuse,
    Store,
    /// Stage it if it can be staged; otherwise store it (`or_store`) or fuse it.
    Stage {
        or_store: bool,
    },
}

fn is_transcendental(op: Op) -> bool {
    matches!(op, Op::Exp2 | Op::Log2 | Op::Sin | Op::Sqrt | Op::Pow)
}

/// Where `n` is computed, given its subgraph and its evaluations.
pub fn choose(n: &UOp, sub: &Subgraph, evals: &[EvalView]) -> Choice {
    let kernels_differ = evals.windows(2).any(|w| w[0].kernel != w[1].kernel);
    // 1. a broadcast reduction runs once per trip of the outer loops it keeps
    // (and one a consumer evaluates inside its own reduction would run again on every
    // trip of that reduction: a convolution's input gradient read through a max-pool's
    // window in the pool's backward)
    let shared =
        |e: &EvalView| !e.recomputed_in_reduction && (!e.bcast || e.hoist.is_some_and(|k| k > 0));
    if n.op() == Op::Reduce && !evals.iter().all(shared) {
        return Choice::Stage { or_store: true };
    }
    // 2. several evaluations
    if evals.len() > 1 {
        // (a reduction is decided where it is: recomputing the nodes above it adds
        // evaluations of it, and it is stored or staged itself then)
        if n.op() == Op::Reduce && !kernels_differ {
            return Choice::Stage { or_store: true };
        }
        if n.op() == Op::Reduce
            || (sub.has_reduce && kernels_differ)
            || sub.buffers_read > MAX_RECOMPUTE_BUFFERS
        {
            return Choice::Store;
        }
    }
    // 3. transcendental work repeated per element (staged where it is computed, not at
    // a movement op over it)
    let repeats: i64 = evals.iter().map(|e| e.repeats).sum();
    if sub.transcendental_per_element && repeats >= STAGE_MIN_REPEATS && !n.op().is_movement() {
        return Choice::Stage { or_store: false };
    }
    Choice::Fuse
}

/// Whether staging (over storing) pays for a node of `numel` elements used by a kernel
/// writing `output` elements: the buffer it saves is larger than the kernel's output.
pub fn stage_over_store(numel: i64, output: i64) -> bool {
    numel > output
}

/// Beyond this many computations of each element (over all fills of a scratch copy), a
/// node is not staged.
pub const STAGE_MAX_FILLS_PER_ELEMENT: i64 = 2;

/// Whether a scratch copy of `held` elements, filled `fills` times, computes each of the
/// node's `numel` elements at most `STAGE_MAX_FILLS_PER_ELEMENT` times (attention's scores
/// staged per query row: once; a copy of a small operand refilled on every trip of a
/// kernel's loops: thousands of times, so it is stored or fused instead).
pub fn stage_fills_pay(fills: i64, held: i64, numel: i64) -> bool {
    fills.saturating_mul(held) <= STAGE_MAX_FILLS_PER_ELEMENT.saturating_mul(numel.max(1))
}

/// The `Subgraph` of every node of `order` (sources first), where `stored` nodes and
/// buffers end a subgraph.
pub fn subgraphs(order: &[UOp], stored: &dyn Fn(&UOp) -> bool) -> UOpMap<Subgraph> {
    const CAP: usize = MAX_RECOMPUTE_BUFFERS + 1;
    let mut out: UOpMap<Subgraph> = Default::default();
    let mut reads: UOpMap<Vec<UOp>> = Default::default();
    out.reserve(order.len());
    for n in order {
        let numel = n.shape().map_or(1, |s| s.iter().product());
        let mut s = Subgraph {
            has_reduce: n.op() == Op::Reduce,
            transcendental_per_element: is_transcendental(n.op()),
            buffers_read: 0,
            numel,
        };
        let mut r: Vec<UOp> = Vec::new();
        let add = |b: &UOp, r: &mut Vec<UOp>| {
            if r.len() < CAP && !r.contains(b) {
                r.push(b.clone());
            }
        };
        if n.op() == Op::Buffer {
            add(n, &mut r);
        }
        for src in n.src() {
            if stored(src) || src.op() == Op::Buffer {
                add(src, &mut r);
                continue;
            }
            if let Some(below) = out.get(src) {
                s.has_reduce |= below.has_reduce;
                s.transcendental_per_element |= below.transcendental_per_element;
            }
            for b in reads.get(src).into_iter().flatten() {
                add(b, &mut r);
            }
        }
        // behind a broadcast, work runs once per kept index, not per element
        let grows = n.op() == Op::Expand && n.src().first().and_then(UOp::shape) != n.shape();
        if grows {
            s.transcendental_per_element = false;
        }
        s.buffers_read = r.len();
        reads.insert(n.clone(), r);
        out.insert(n.clone(), s);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use uop_ir::{Arg, DType};

    fn view(bcast: bool, hoist: Option<usize>, repeats: i64) -> EvalView {
        EvalView {
            kernel: 0,
            bcast,
            hoist,
            repeats,
            recomputed_in_reduction: false,
        }
    }

    fn reduce() -> UOp {
        let b = UOp::new_buffer(DType::F32, 6, "CPU");
        UOp::new(
            Op::Reduce,
            DType::F32,
            [b],
            Arg::Reduce {
                op: Op::Add,
                axes: vec![0].into(),
            },
        )
    }

    #[test]
    fn broadcast_reductions_fuse_only_at_outer_loops() {
        let r = reduce();
        let sub = Subgraph {
            has_reduce: true,
            ..Default::default()
        };
        assert_eq!(choose(&r, &sub, &[view(true, Some(1), 1)]), Choice::Fuse);
        for hoist in [None, Some(0)] {
            assert_eq!(
                choose(&r, &sub, &[view(true, hoist, 1)]),
                Choice::Stage { or_store: true }
            );
        }
    }

    #[test]
    fn a_reduction_inside_a_loop_it_does_not_keep_is_not_fused() {
        // a convolution's input gradient read by a max-pool's backward through the pool
        // window: evaluated inside the consumer's reduction, it would run per trip of it
        let r = reduce();
        let sub = Subgraph {
            has_reduce: true,
            ..Default::default()
        };
        let inside = EvalView {
            recomputed_in_reduction: true,
            ..view(false, None, 1)
        };
        assert_eq!(
            choose(&r, &sub, &[inside]),
            Choice::Stage { or_store: true }
        );
        assert_eq!(choose(&r, &sub, &[view(false, Some(2), 1)]), Choice::Fuse);
    }

    #[test]
    fn a_scratch_copy_may_compute_each_element_only_a_few_times() {
        // attention's scores (B*H*S rows of S) staged per query row: each once
        assert!(stage_fills_pay(8 * 2048, 2048, 8 * 2048 * 2048));
        // a 2,048-element copy refilled on each of 65,536 trips for 16,384 elements
        assert!(!stage_fills_pay(65_536, 2048, 16_384));
        assert!(stage_fills_pay(1, 2048, 2048));
    }

    #[test]
    fn cheap_nodes_are_recomputed_and_wide_ones_stored() {
        let b = UOp::new_buffer(DType::F32, 6, "CPU");
        let n = UOp::alu(Op::Neg, [b]);
        let cheap = Subgraph {
            buffers_read: 2,
            ..Default::default()
        };
        let two = [view(false, Some(1), 1), view(false, Some(1), 1)];
        assert_eq!(choose(&n, &cheap, &two), Choice::Fuse);
        let wide = Subgraph {
            buffers_read: 4,
            ..Default::default()
        };
        assert_eq!(choose(&n, &wide, &two), Choice::Store);
        let exp = Subgraph {
            transcendental_per_element: true,
            ..Default::default()
        };
        assert_eq!(choose(&n, &exp, &[view(false, Some(1), 1)]), Choice::Fuse);
        assert_eq!(
            choose(&n, &exp, &[view(false, Some(1), 64)]),
            Choice::Stage { or_store: false }
        );
    }
}
