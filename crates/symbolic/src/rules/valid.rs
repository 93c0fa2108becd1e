//! Simplifying a gated index under its own gate. In `where(valid, idx, Invalid)` the
//! index only matters where `valid` holds, so each clause `e < c` or `!(e < c)` of
//! `valid` on a leaf `e` (a range or variable) narrows `e`'s bounds while `idx` is
//! simplified. Clauses implied by the others are dropped; a gate whose clauses cannot
//! all hold makes the whole index Invalid.

use std::collections::HashMap;

use uop_ir::{Arg, Op, PatternMatcher, UOp, UPat, substitute};

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
        let Some(b) = e.bounds().filter(|_| is_leaf(&e)) else {
            continue;
        };
        let entry = out.entry(e).or_insert((b.min, b.max));
        *entry = (entry.0.max(lo), entry.1.min(hi));
    }
    out
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
    for (e, (lo, hi)) in &bounds {
        let b = e.bounds()?;
        if (*lo, *hi) != (b.min, b.max) {
            let var = stand_in(e, *lo, *hi)?;
            back.insert(var.clone(), e.clone());
            to_var.insert(e.clone(), var);
        }
    }
    let new_idx = if to_var.is_empty() {
        idx.clone()
    } else {
        let simplified = crate::simplify(&substitute(idx, &to_var)).ok()?;
        let candidate = substitute(&simplified, &back);
        // keep it only if the plain simplifier leaves it alone (else the two would fight)
        if crate::simplify(&candidate).ok()? != candidate {
            return None;
        }
        candidate
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
