//! Lowering REDUCE to an accumulator: `REDUCE(value, r..)` becomes
//! `acc = DEFINE_REG(identity); for r..: acc = acc op value; LOAD(AFTER(acc, END..))`.
//! Inner reductions are lowered first, so an outer one sees plain loads of registers;
//! reductions over the same ranges share one loop.

use std::collections::{BTreeSet, HashMap};

use uop_ir::{Arg, DType, Op, UOp, toposort};

use crate::Target;
use crate::ranges::{RangeKey, open_ranges};

/// The value an empty reduction has (`Op::reduce_identity`), as a CONST.
pub fn identity(op: Op, dtype: DType) -> UOp {
    UOp::const_of(dtype, op.reduce_identity(dtype))
}

/// The accumulate step `acc op value`. A sum of products is one fused multiply-add
/// (MULACC) when `fuse` says the target has it for the dtype: matmul's inner loop, half
/// the instructions and one rounding per step.
fn accumulate(op: Op, acc: UOp, value: &UOp, fuse: &dyn Fn(DType) -> bool) -> UOp {
    if op == Op::Add && value.op() == Op::Mul && value.dtype().is_float() && fuse(value.dtype()) {
        let [a, b] = value.src() else {
            return UOp::alu(op, [acc, value.clone()]);
        };
        return UOp::alu(Op::MulAcc, [a.clone(), b.clone(), acc]);
    }
    UOp::alu(op, [acc, value.clone()])
}

/// Every REDUCE in `ast` lowered to accumulator registers. Innermost reductions go
/// first; reductions over the same ranges share one loop (one register each). A sum of
/// products accumulates with MULACC where `target` fuses multiply-adds of its dtype.
pub fn lower_reduces(ast: &UOp, target: &Target) -> UOp {
    let fuse = |d: DType| target.fuses_multiply_add(d);
    let mut ast = ast.clone();
    let mut next_reg = 0u32;
    loop {
        let order = toposort(&ast);
        let ready: Vec<UOp> = order
            .iter()
            .filter(|u| {
                u.op() == Op::Reduce && toposort(&u.src()[0]).iter().all(|v| v.op() != Op::Reduce)
            })
            .cloned()
            .collect();
        if ready.is_empty() {
            return ast;
        }
        let mut groups: Vec<(BTreeSet<RangeKey>, Vec<UOp>)> = Vec::new();
        for red in ready {
            let key: BTreeSet<RangeKey> = red.src()[1..]
                .iter()
                .filter(|r| r.op() == Op::Range)
                .map(RangeKey::of)
                .collect();
            if key.is_empty() {
                // a reduction over no loop (its ranges folded to constants) is its value
                groups.push((key, vec![red]));
                continue;
            }
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, g)) => g.push(red),
                None => groups.push((key, vec![red])),
            }
        }
        // reductions over the same loop share it: a group waits until every reduction over
        // its ranges is ready (upcast lanes copy one reduction and keep its ranges)
        let waiting: Vec<BTreeSet<RangeKey>> = order
            .iter()
            .filter(|u| u.op() == Op::Reduce && !groups.iter().any(|(_, g)| g.contains(u)))
            .map(|u| {
                u.src()[1..]
                    .iter()
                    .filter(|r| r.op() == Op::Range)
                    .map(RangeKey::of)
                    .collect()
            })
            .collect();
        let all = groups.len();
        let deferred: Vec<(BTreeSet<RangeKey>, Vec<UOp>)> = groups
            .iter()
            .filter(|(k, _)| !k.is_empty() && waiting.contains(k))
            .cloned()
            .collect();
        if deferred.len() < all {
            groups.retain(|(k, _)| k.is_empty() || !waiting.contains(k));
        }
        let mut replace: HashMap<UOp, UOp> = HashMap::new();
        for (reduced, group) in groups {
            if reduced.is_empty() {
                group.iter().for_each(|red| {
                    replace.insert(red.clone(), red.src()[0].clone());
                });
                continue;
            }
            let ranges: Vec<UOp> = reduced.iter().map(|r| r.range.0.clone()).collect();
            let mut outer: BTreeSet<RangeKey> = BTreeSet::new();
            for red in &group {
                let value = &red.src()[0];
                outer.extend(
                    open_ranges(value)[value]
                        .iter()
                        .filter(|r| !reduced.contains(r))
                        .cloned(),
                );
            }
            let mut regs = Vec::new();
            let mut stores = Vec::new();
            for red in &group {
                let Arg::Reduce { op, .. } = red.arg() else {
                    continue;
                };
                let mut reg_src = vec![identity(*op, red.dtype())];
                reg_src.extend(outer.iter().map(|r| r.range.0.clone()));
                let lanes = red.lanes();
                let reg = UOp::new_vec(
                    Op::DefineReg,
                    red.dtype(),
                    lanes,
                    reg_src,
                    Arg::Param { slot: next_reg },
                );
                next_reg += 1;
                // the running value is read inside the loops: order the read after every range
                let mut inside = vec![reg.clone()];
                inside.extend(ranges.iter().cloned());
                let acc = UOp::new_vec(
                    Op::Load,
                    red.dtype(),
                    lanes,
                    [UOp::new_vec(
                        Op::After,
                        red.dtype(),
                        lanes,
                        inside,
                        Arg::None,
                    )],
                    Arg::None,
                );
                stores.push(UOp::new(
                    Op::Store,
                    DType::Void,
                    [reg.clone(), accumulate(*op, acc, &red.src()[0], &fuse)],
                    Arg::None,
                ));
                regs.push((red.clone(), reg));
            }
            let body = if stores.len() == 1 {
                stores.remove(0)
            } else {
                UOp::new(Op::Group, DType::Void, stores, Arg::None)
            };
            let end = ranges.iter().rev().fold(body, |stmt, r| {
                UOp::new(Op::End, DType::Void, [stmt, r.clone()], Arg::None)
            });
            for (red, reg) in regs {
                let lanes = red.lanes();
                let after =
                    UOp::new_vec(Op::After, red.dtype(), lanes, [reg, end.clone()], Arg::None);
                let value = UOp::new_vec(Op::Load, red.dtype(), lanes, [after], Arg::None);
                replace.insert(red, value);
            }
        }
        ast = uop_ir::substitute(&ast, &replace);
    }
}
