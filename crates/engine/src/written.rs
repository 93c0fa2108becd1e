//! ASSIGN nodes whose write has run. A lazy graph built before the write ran may still
//! hold the ASSIGN (`y = a.assign(a + 1) * 2`, then `a.realize()`, then `y.realize()`):
//! scheduling it again would write again (here, add 1 twice). Such a graph reads the
//! ASSIGN's target instead, which holds the written value. Entries are weak: they go with
//! their nodes.

use std::collections::HashMap;
use std::sync::LazyLock;

use parking_lot::Mutex;
use uop_ir::{Op, UOp, WeakUOp, substitute};

use crate::structure::Structure;

static WRITTEN: LazyLock<Mutex<HashMap<u64, Vec<WeakUOp>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// Records that the ASSIGN nodes among `nodes` have been written.
pub fn record<'a>(nodes: impl IntoIterator<Item = &'a UOp>) {
    let mut written = WRITTEN.lock();
    for n in nodes.into_iter().filter(|n| n.op() == Op::Assign) {
        written.entry(n.key().0[0]).or_default().push(n.downgrade());
    }
    written.retain(|_, v| {
        v.retain(WeakUOp::is_alive);
        !v.is_empty()
    });
}

/// Whether the write of ASSIGN node `n` has run.
pub fn is_written(n: &UOp) -> bool {
    WRITTEN
        .lock()
        .get(&n.key().0[0])
        .is_some_and(|v| v.iter().any(|w| w.upgrade().is_some_and(|u| u == *n)))
}

/// The graph `s` with every written ASSIGN replaced by its target (walked again), or `s`
/// itself when it has none.
pub fn settle_structure(s: Structure) -> Structure {
    if !s.has_assign || WRITTEN.lock().is_empty() {
        return s;
    }
    match settle_nodes(&s.sink(), &s.nodes) {
        Some(settled) => Structure::of(&settled),
        None => s,
    }
}

/// `root` (whose graph is `nodes`) with its written ASSIGNs replaced, if it has any.
fn settle_nodes(root: &UOp, nodes: &[UOp]) -> Option<UOp> {
    let map: HashMap<UOp, UOp> = nodes
        .iter()
        .filter(|n| n.op() == Op::Assign && is_written(n))
        .map(|n| (n.clone(), n.src()[0].clone()))
        .collect();
    (!map.is_empty()).then(|| substitute(root, &map))
}

#[cfg(test)]
mod tests {
    use super::*;
    use uop_ir::{Arg, ConstValue, DType};

    #[test]
    fn a_written_assign_reads_its_target() {
        let b = UOp::new_buffer(DType::F32, 4, "CPU");
        let one = UOp::const_of(DType::F32, ConstValue::Float(1.0));
        let assign = UOp::new(Op::Assign, DType::F32, [b.clone(), one.clone()], Arg::None);
        let y = UOp::alu(Op::Mul, [assign.clone(), one.clone()]);
        let sink = UOp::new(Op::Sink, DType::Void, [y], Arg::None);
        let settle = |sink: &UOp| settle_structure(Structure::of(sink)).sink();
        assert_eq!(settle(&sink), sink, "not written yet");
        record([&assign]);
        assert!(is_written(&assign));
        let want = UOp::new(
            Op::Sink,
            DType::Void,
            [UOp::alu(Op::Mul, [b, one])],
            Arg::None,
        );
        assert_eq!(settle(&sink), want);
    }
}
