//! Simplifying a gated index under its own gate. In `where(valid, idx, Invalid)` the
//! index only matters where `valid` holds, so each clause `e < c` or `!(e < c)` of
//! `valid` narrows `e`'s bounds while `idx` is simplified: a leaf `e` (a range or
//! variable) is replaced by a stand-in variable with the narrowed bounds; a sum `e`
//! (`r3 + r6`, as a padded window's position is) is replaced wherever a sum in `idx` holds
//! all of its terms in proportion (`16*r4 + r3 + r6 + 251` is `16*r4 + v + 251` with `v`
//! in `e`'s narrowed bounds), which is what lets the carries of a padded, reshaped index
//! (`(.. + 251) // 256`) fold away. The stand-ins are put back after. Clauses implied by
//! the others are dropped; a gate whose clauses cannot all hold makes the whole index
//! Invalid.

use std::collections::HashMap;

use uop_ir::{Arg, Mode, Op, PatternMatcher, UOp, UPat, graph_rewrite, node_count, substitute};

use crate::Linear;
use crate::predicates::is_leaf;

/// The clauses of an AND chain.
fn clauses(v: &UOp) -> Vec<UOp> {
    let mut out = Vec::new();
    let mut stack = vec![v.clone()];
    while let Some(c) = stack.pop() {
        if c.op() == Op::And && c.dtype().is_bool() {
            stack.extend(c.src().iter().rev().cloned());
        } else {
            out.push(c);
        }
    }
    out
}

/// `e < k` gives `e <= k-1`; `!(e < k)` gives `e >= k`.
fn parse_clause(c: &UOp) -> Option<(UOp, i128, i128)> {
    match c.op() {
        Op::CmpLt => Some((
            c.src()[0].clone(),
            i128::MIN,
            c.src()[1].const_int()?.checked_sub(1)?,
        )),
        Op::CmpNe if c.src()[1].const_value()?.as_bool()? && c.src()[0].op() == Op::CmpLt => {
            let inner = &c.src()[0];
            Some((
                inner.src()[0].clone(),
                inner.src()[1].const_int()?,
                i128::MAX,
            ))
        }
        _ => None,
    }
}

/// Bounds of each leaf under the clauses (all but `skip`), intersected with its own.
fn narrowed(clauses: &[UOp], skip: Option<usize>) -> HashMap<UOp, (i128, i128)> {
    let mut out: HashMap<UOp, (i128, i128)> = HashMap::new();
    for (i, c) in clauses.iter().enumerate() {
        if Some(i) == skip {
            continue;
        }
        let Some((e, lo, hi)) = parse_clause(c) else {
            continue;
        };
        let Some(b) = e.bounds().filter(|_| is_leaf(&e) || is_sum(&e)) else {
            continue;
        };
        let entry = out.entry(e).or_insert((b.min, b.max));
        *entry = (entry.0.max(lo), entry.1.min(hi));
    }
    out
}

/// A sum of at least two terms (a clause on it narrows every sum that holds its terms).
fn is_sum(e: &UOp) -> bool {
    e.op() == Op::Add && Linear::of(e).is_some_and(|l| l.terms.len() >= 2)
}

/// `sum` with `k * (e - e.constant)` replaced by `k * v` when it holds all of `e`'s terms
/// with coefficients `k` times `e`'s (one `k` for all), else `None`.
fn with_stand_in(sum: &Linear, e: &Linear, v: &UOp) -> Option<Linear> {
    let (t0, c0) = e.terms.first()?;
    let have = sum.terms.iter().find(|(t, _)| t == t0)?.1;
    if have % c0 != 0 {
        return None;
    }
    let k = have / c0;
    let mut out = sum.clone();
    for (t, c) in &e.terms {
        let slot = out.terms.iter_mut().find(|(x, _)| x == t)?;
        if slot.1 != k.checked_mul(*c)? {
            return None;
        }
        slot.1 = 0;
    }
    out.terms.retain(|(_, c)| *c != 0);
    out.terms.push((v.clone(), k));
    out.terms.sort_by(|a, b| a.0.canonical_cmp(&b.0));
    Some(out)
}

/// `idx` with every sum holding a narrowed sum's terms rewritten over its stand-in.
fn replace_sums(idx: &UOp, sums: &[(Linear, UOp)]) -> Option<UOp> {
    let pm: PatternMatcher<Vec<(Linear, UOp)>> = PatternMatcher::new().rule_ctx(
        "sum holding e's terms -> sum over e's stand-in",
        UPat::op(Op::Add).named("n"),
        |sums: &mut Vec<(Linear, UOp)>, b| {
            let lin = Linear::of(&b["n"])?;
            let replaced = sums.iter().find_map(|(e, v)| with_stand_in(&lin, e, v))?;
            Some(replaced.build())
        },
    );
    graph_rewrite(idx, &pm, &mut sums.to_vec(), Mode::PostOrder).ok()
}

/// A stand-in variable with the narrowed bounds of leaf `e`.
fn stand_in(e: &UOp, lo: i128, hi: i128) -> Option<UOp> {
    let name = match e.arg() {
        Arg::Range { axis, .. } => format!("valid.r{axis}"),
        Arg::Var { name, .. } => format!("valid.{name}"),
        _ => format!("valid.{}", e.key().hex()),
    };
    Some(UOp::var(
        &name,
        i64::try_from(lo).ok()?,
        i64::try_from(hi).ok()?,
    ))
}

fn simplify_gated(v: &UOp, idx: &UOp) -> Option<UOp> {
    let cs = clauses(v);
    let bounds = narrowed(&cs, None);
    if bounds.values().any(|(lo, hi)| lo > hi) {
        return Some(UOp::invalid());
    }
    // drop clauses that the remaining clauses (and bounds) imply; a dropped clause no
    // longer counts, so two copies of one clause cannot drop each other
    let mut keep: Vec<UOp> = Vec::new();
    for (i, c) in cs.iter().enumerate() {
        if keep.contains(c) {
            continue;
        }
        let Some((e, lo, hi)) = parse_clause(c) else {
            keep.push(c.clone());
            continue;
        };
        let others: Vec<UOp> = keep.iter().chain(&cs[i + 1..]).cloned().collect();
        let bounds_of_others = narrowed(&others, None);
        let (elo, ehi) = bounds_of_others
            .get(&e)
            .copied()
            .or_else(|| e.bounds().map(|b| (b.min, b.max)))
            .unwrap_or((i128::MIN, i128::MAX));
        if !(elo >= lo && ehi <= hi) {
            keep.push(c.clone());
        }
    }
    // simplify idx with every narrowed leaf replaced by a stand-in
    let mut to_var = HashMap::new();
    let mut back = HashMap::new();
    let mut sums: Vec<(Linear, UOp)> = Vec::new();
    for (e, (lo, hi)) in &bounds {
        let b = e.bounds()?;
        if (*lo, *hi) != (b.min, b.max) {
            let var = stand_in(e, *lo, *hi)?;
            back.insert(var.clone(), e.clone());
            if is_leaf(e) {
                to_var.insert(e.clone(), var);
            } else {
                let mut lin = Linear::of(e)?;
                // v stands for e without its constant: e = v + c
                let c = lin.constant;
                lin.constant = 0;
                let shifted = stand_in(e, lo.checked_sub(c)?, hi.checked_sub(c)?)?;
                back.insert(
                    shifted.clone(),
                    UOp::alu(Op::Sub, [e.clone(), e.const_like(c)]),
                );
                sums.push((lin, shifted));
            }
        }
    }
    let new_idx = if to_var.is_empty() && sums.is_empty() {
        idx.clone()
    } else {
        let leaves_replaced = substitute(idx, &to_var);
        let replaced = if sums.is_empty() {
            leaves_replaced
        } else {
            replace_sums(&leaves_replaced, &sums)?
        };
        let simplified = crate::simplify(&replaced).ok()?;
        let candidate = substitute(&simplified, &back);
        if sums.is_empty() {
            // keep it only if the plain simplifier leaves it alone (else the two would fight)
            if crate::simplify(&candidate).ok()? != candidate {
                return None;
            }
            candidate
        } else {
            // sums go back as sums the plain rules re-order; take their fixed point, and only
            // when it is smaller than the index was (so the rule cannot undo itself)
            let settled = crate::simplify(&candidate).ok()?;
            if node_count(&settled) >= node_count(idx) {
                return None;
            }
            settled
        }
    };
    let new_valid = keep
        .into_iter()
        .reduce(|a, c| a.and(c))
        .unwrap_or_else(|| UOp::bool(true));
    let out = new_valid.where_(&new_idx, &UOp::invalid());
    Some(out)
}

pub fn rules() -> PatternMatcher {
    PatternMatcher::new()
        // where(v, idx, Inv) -> where(v', idx', Inv): idx simplified under v, redundant clauses dropped
        .rule(
            "where(v, idx, Inv) -> simplified under v",
            UPat::var("v").where_(UPat::var("idx"), UPat::invalid()),
            |b| simplify_gated(&b["v"], &b["idx"]),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simplify;

    #[test]
    fn index_simplifies_under_its_gate() {
        let r = UOp::range(10, 0);
        // valid only for r in 4..8, where r//4 == 1
        let e = r.ge(4).and(r.lt(8)).where_(&r.floordiv(4), &UOp::invalid());
        assert_eq!(
            simplify(&e),
            simplify(&r.ge(4).and(r.lt(8)).where_(&UOp::int(1), &UOp::invalid()))
        );
    }

    #[test]
    fn implied_clauses_drop() {
        let r = UOp::range(10, 0);
        let e = r.lt(5).and(r.lt(7)).where_(&r, &UOp::invalid());
        assert_eq!(simplify(&e), Ok(r.lt(5).where_(&r, &UOp::invalid())));
    }

    #[test]
    fn duplicate_clauses_do_not_drop_each_other() {
        let r = UOp::range(6, 0);
        let e = r
            .ge(2)
            .and(r.lt(3))
            .and(r.ge(2))
            .where_(&r, &UOp::invalid());
        let out = simplify(&e).expect("simplifies");
        let mut ev = uop_ir::Evaluator::new(&out).expect("flattens");
        assert_eq!(ev.eval(&[0]), Ok(uop_ir::ConstValue::Invalid), "{out:?}");
        assert_eq!(ev.eval(&[2]), Ok(uop_ir::ConstValue::Int(2)), "{out:?}");
    }

    #[test]
    fn impossible_gates_are_invalid() {
        let r = UOp::range(10, 0);
        let e = r.lt(3).and(r.ge(5)).where_(&r, &UOp::invalid());
        assert_eq!(simplify(&e), Ok(UOp::invalid()));
    }
}
