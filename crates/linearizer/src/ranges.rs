//! The ranges of a kernel: which loops are open at a node (`open_ranges`), their order
//! by axis (`RangeKey`), finding them by kind or axis, the next free axis and scratch
//! slot, and the split `r -> r'*u + k` that most opts are made of.

use std::collections::{BTreeSet, HashMap};

use uop_ir::{Arg, AxisType, Op, UOp, toposort};

/// The RANGEs a node depends on that are still open (not closed by an END inside it).
pub fn open_ranges(root: &UOp) -> HashMap<UOp, BTreeSet<RangeKey>> {
    let mut open: HashMap<UOp, BTreeSet<RangeKey>> = HashMap::new();
    for n in toposort(root) {
        let mut set = BTreeSet::new();
        match n.op() {
            Op::Range => {
                set.insert(RangeKey::of(&n));
            }
            Op::End => {
                set.extend(open[&n.src()[0]].iter().cloned());
                for r in &n.src()[1..] {
                    set.remove(&RangeKey::of(r));
                }
            }
            _ => n
                .src()
                .iter()
                .for_each(|s| set.extend(open[s].iter().cloned())),
        }
        open.insert(n, set);
    }
    open
}

/// Ranges no opt may split or move: the loops of a scratch copy (kind `Stage`) and the
/// output loops a copy is made in. A copy fills its scratch once per trip of those loops;
/// split one (UPCAST, VECTOR, PADTO, LOCAL) or swap it with a loop inside, and the lanes
/// or trips would share one scratch that each expects to hold its own values. A THREAD
/// split is fine: each invocation has its own scratch.
pub fn pinned(ast: &UOp) -> Vec<UOp> {
    let mut out: Vec<UOp> = Vec::new();
    for u in toposort(ast) {
        let copy = u.op() == Op::Store
            && u.src()[0].op() == Op::Index
            && u.src()[0].src()[0].op() == Op::DefineLocal
            && toposort(&u.src()[0]).iter().any(|r| {
                matches!(
                    r.arg(),
                    Arg::Range {
                        kind: AxisType::Stage,
                        ..
                    }
                ) && r.op() == Op::Range
            });
        if !copy {
            continue;
        }
        for r in toposort(&u) {
            let keep = r.op() == Op::Range
                && matches!(
                    r.arg(),
                    Arg::Range {
                        kind: AxisType::Stage | AxisType::Loop,
                        ..
                    }
                );
            if keep && !out.contains(&r) {
                out.push(r);
            }
        }
    }
    out
}

/// Whether the kernel copies values into scratch (a rangeify stage or a PACK).
pub fn has_copies(ast: &UOp) -> bool {
    toposort(ast).iter().any(|u| {
        u.op() == Op::Range
            && matches!(
                u.arg(),
                Arg::Range {
                    kind: AxisType::Stage,
                    ..
                }
            )
    })
}

/// The first axis number no RANGE among `nodes` uses.
pub(crate) fn next_axis(nodes: &[UOp]) -> u32 {
    nodes
        .iter()
        .filter_map(|u| match u.arg() {
            Arg::Range { axis, .. } if u.op() == Op::Range => Some(axis + 1),
            _ => None,
        })
        .max()
        .unwrap_or(0)
}

/// The first scratch slot no DEFINE_LOCAL among `nodes` uses.
pub(crate) fn next_local(nodes: &[UOp]) -> u32 {
    nodes.iter().filter(|u| u.op() == Op::DefineLocal).count() as u32
}

/// The RANGEs of `ast` of kind `kind`, in axis order.
pub(crate) fn ranges_of_kind(ast: &UOp, kind: AxisType) -> Vec<UOp> {
    let mut v: Vec<UOp> = toposort(ast)
        .into_iter()
        .filter(|u| {
            u.op() == Op::Range && matches!(u.arg(), Arg::Range { kind: k, .. } if *k == kind)
        })
        .collect();
    v.sort_by_key(RangeKey::of);
    v
}

/// The RANGE of `ast` with axis number `axis`.
pub(crate) fn range_of_axis(ast: &UOp, axis: u32) -> Option<UOp> {
    toposort(ast).into_iter().find(|u| {
        u.op() == Op::Range && matches!(u.arg(), Arg::Range { axis: a, .. } if *a == axis)
    })
}

/// The axis number of a RANGE.
pub(crate) fn axis_of(r: &UOp) -> Option<u32> {
    match r.arg() {
        Arg::Range { axis, .. } => Some(*axis),
        _ => None,
    }
}

/// A RANGE ordered by its axis number.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RangeKey {
    pub axis: u32,
    pub range: UOpOrd,
}

impl RangeKey {
    pub fn of(r: &UOp) -> RangeKey {
        let axis = match r.arg() {
            Arg::Range { axis, .. } => *axis,
            _ => u32::MAX,
        };
        RangeKey {
            axis,
            range: UOpOrd(r.clone()),
        }
    }
}

/// A UOp with the canonical (run-independent) order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UOpOrd(pub UOp);

impl PartialOrd for UOpOrd {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for UOpOrd {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.canonical_cmp(&other.0)
    }
}

/// Output (loop) ranges of the kernel in axis order.
pub fn output_ranges(ast: &UOp) -> Vec<UOp> {
    ranges_of_kind(ast, AxisType::Loop)
}

/// The output loops that every reduction of `ast` depends on (`None` without reductions).
/// A reduction that depends only on the outer output loops runs once per trip of those,
/// outside the rest: loops outside this set must stay outside it, and a thread that took
/// a slice of one of them would run such reductions for every trip of the others.
pub fn reduce_loops(ast: &UOp) -> Option<Vec<UOp>> {
    let outs = output_ranges(ast);
    let mut common: Option<Vec<UOp>> = None;
    for red in toposort(ast).iter().filter(|u| u.op() == Op::Reduce) {
        let deps = toposort(&red.src()[0]);
        let mine: Vec<UOp> = outs.iter().filter(|o| deps.contains(o)).cloned().collect();
        common = Some(match common {
            None => mine,
            Some(c) => c.into_iter().filter(|o| mine.contains(o)).collect(),
        });
    }
    common
}

/// The range split `r -> r'*u + k`: the new range (of `kind`) and the expression for
/// each `k`; `None` when `u` does not divide the constant extent of `r`.
pub(crate) fn split_range(r: &UOp, u: i64, kind: AxisType) -> Option<(UOp, Vec<UOp>)> {
    if r.op() != Op::Range {
        return None;
    }
    let n = r.src().first()?.const_int()? as i64;
    let Arg::Range { axis, .. } = r.arg() else {
        return None;
    };
    if n % u != 0 || n < u {
        return None;
    }
    let outer = UOp::range_of(UOp::int(n / u), *axis, kind);
    let lanes = (0..u)
        .map(|k| if n == u { UOp::int(k) } else { &outer * u + k })
        .collect();
    Some((outer, lanes))
}

/// Whether `r` is the range of an output loop (not a reduction's or a copy's).
pub(crate) fn is_output(r: &UOp) -> bool {
    !matches!(
        r.arg(),
        Arg::Range {
            kind: AxisType::Reduce | AxisType::Stage,
            ..
        }
    )
}

/// Whether `r` is the range of an output loop.
pub fn is_loop(r: &UOp) -> bool {
    matches!(
        r.arg(),
        Arg::Range {
            kind: AxisType::Loop,
            ..
        }
    )
}
