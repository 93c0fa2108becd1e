//! Lowering REDUCE to an accumulator: `REDUCE(value, r..)` becomes
//! `acc = DEFINE_REG(identity); for r..: acc = acc op value; LOAD(AFTER(acc, END..))`.
//! Inner reductions are lowered first, so an outer one sees plain loads of registers.

use std::collections::{BTreeSet, HashMap};

use uop_ir::{
    Arg, ConstValue, DType, Mode, Op, PatternMatcher, UOp, UPat, graph_rewrite, toposort,
};

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

/// The value an empty reduction has.
pub fn identity(op: Op, dtype: DType) -> UOp {
    let v = match op {
        Op::Mul => ConstValue::Int(1),
        Op::Max if dtype.is_float() => ConstValue::Float(f64::NEG_INFINITY),
        Op::Max => ConstValue::Int(dtype.int_min().unwrap_or(0)),
        _ => ConstValue::Int(0),
    };
    UOp::const_of(dtype, v)
}

/// Every REDUCE in `ast` lowered to an accumulator register.
pub fn lower_reduces(ast: &UOp) -> Result<UOp, uop_ir::RewriteError> {
    let pm: PatternMatcher<u32> = PatternMatcher::new().rule_ctx(
        "REDUCE -> accumulator",
        UPat::op(Op::Reduce).named("red"),
        |next_reg, b| {
            let red = &b["red"];
            let Arg::Reduce { op, .. } = red.arg() else {
                return None;
            };
            let (value, ranges) = red.src().split_first()?;
            let reduced: BTreeSet<RangeKey> = ranges.iter().map(RangeKey::of).collect();
            let outer: Vec<UOp> = open_ranges(value)[value]
                .iter()
                .filter(|r| !reduced.contains(r))
                .map(|r| r.range.0.clone())
                .collect();
            let mut reg_src = vec![identity(*op, red.dtype())];
            reg_src.extend(outer);
            let reg = UOp::new(
                Op::DefineReg,
                red.dtype(),
                reg_src,
                Arg::Param { slot: *next_reg },
            );
            *next_reg += 1;
            // the running value is read inside the loops: order the read after every range
        let mut inside = vec![reg.clone()];
        inside.extend(ranges.iter().cloned());
        let acc = UOp::new(Op::Load, red.dtype(), [UOp::new(Op::After, red.dtype(), inside, Arg::None)], Arg::None);
            let update = UOp::new(
                Op::Store,
                DType::Void,
                [reg.clone(), UOp::alu(*op, [acc, value.clone()])],
                Arg::None,
            );
            let mut sorted: Vec<&RangeKey> = reduced.iter().collect();
            sorted.reverse();
            let end = sorted.into_iter().fold(update, |stmt, r| {
                UOp::new(Op::End, DType::Void, [stmt, r.range.0.clone()], Arg::None)
            });
            let after = UOp::new(Op::After, red.dtype(), [reg, end], Arg::None);
            Some(UOp::new(Op::Load, red.dtype(), [after], Arg::None))
        },
    );
    graph_rewrite(ast, &pm, &mut 0, Mode::Walk)
}
