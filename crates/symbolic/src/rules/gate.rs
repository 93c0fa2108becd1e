//! `where` folding and gated indices. A gated index is `where(valid, idx, Invalid)`:
//! Invalid is the single poison value. Arithmetic on a gated value moves inside the gate,
//! nested gates merge their conditions, and a gate that is always true disappears.

use uop_ir::{DType, Op, PatternMatcher, UOp, UPat};

/// A binary op whose result is an index value (so it can carry Invalid).
fn index_op(n: &UOp) -> bool {
    n.op().is_binary() && !n.op().is_comparison() && n.dtype() != DType::Bool
}

pub fn rules() -> PatternMatcher {
    let x = || UPat::var("x");
    let gated = || UPat::var("v").where_(x(), UPat::invalid());
    PatternMatcher::new()
        // where(true, a, b) -> a ; where(false, a, b) -> b
        .rule(
            "where(c, a, b) -> a|b for const c",
            UPat::cvar("c").where_(UPat::var("a"), UPat::var("b")),
            |b| {
                Some(if b["c"].const_value()?.as_bool()? {
                    b["a"].clone()
                } else {
                    b["b"].clone()
                })
            },
        )
        // where(c, a, a) -> a
        .always(
            "where(c, a, a) -> a",
            UPat::var("c").where_(UPat::var("a"), UPat::var("a")),
            |b| b["a"].clone(),
        )
        // where(!c, a, b) -> where(c, b, a)
        .rule(
            "where(!c, a, b) -> where(c, b, a)",
            UPat::var("c")
                .ne(true)
                .where_(UPat::var("a"), UPat::var("b")),
            |b| (!b["b"].is_invalid()).then(|| b["c"].where_(&b["b"], &b["a"])),
        )
        // where(c, true, false) -> c ; where(c, false, true) -> !c
        .always(
            "where(c, true, false) -> c",
            UPat::var("c").where_(true, false),
            |b| b["c"].clone(),
        )
        .always(
            "where(c, false, true) -> !c",
            UPat::var("c").where_(false, true),
            |b| b["c"].not(),
        )
        // where(a, where(b, x, Inv), Inv) -> where(a & b, x, Inv)
        .always(
            "where(a, where(b, x, Inv), Inv) -> where(a&b, x, Inv)",
            UPat::var("a").where_(UPat::var("b").where_(x(), UPat::invalid()), UPat::invalid()),
            |b| b["a"].and(&b["b"]).where_(&b["x"], &UOp::invalid()),
        )
        // where(v, Invalid, x) -> where(!v, x, Invalid)   (gates keep Invalid on the right)
        .rule(
            "where(v, Inv, x) -> where(!v, x, Inv)",
            UPat::var("v").where_(UPat::invalid(), x()),
            |b| (!b["x"].is_invalid()).then(|| b["v"].not().where_(&b["x"], &UOp::invalid())),
        )
        // op(where(v, x, Inv)) -> where(v, op(x), Inv)   (unary ops and casts on indices)
        .rule(
            "op(where(v, x, Inv)) -> where(v, op(x), Inv)",
            UPat::any().named("n").src([gated()]),
            |b| {
                let n = &b["n"];
                (n.op().is_unary() || n.op() == Op::Cast)
                    .then(|| b["v"].where_(&n.with_src([b["x"].clone()]), &UOp::invalid()))
            },
        )
        // where(v, x, Inv) op y -> where(v, x op y, Inv) ; y op where(..) likewise
        .rule(
            "where(v, x, Inv) op y -> where(v, x op y, Inv)",
            UPat::any().named("n").src([gated(), UPat::var("y")]),
            |b| {
                let n = &b["n"];
                index_op(n).then(|| {
                    b["v"].where_(
                        &n.with_src([b["x"].clone(), b["y"].clone()]),
                        &UOp::invalid(),
                    )
                })
            },
        )
        .rule(
            "y op where(v, x, Inv) -> where(v, y op x, Inv)",
            UPat::any().named("n").src([UPat::var("y"), gated()]),
            |b| {
                let n = &b["n"];
                index_op(n).then(|| {
                    b["v"].where_(
                        &n.with_src([b["y"].clone(), b["x"].clone()]),
                        &UOp::invalid(),
                    )
                })
            },
        )
        // Invalid op x -> Invalid ; x op Invalid -> Invalid
        .rule("op(Invalid, ..) -> Invalid", UPat::any().named("n"), |b| {
            let n = &b["n"];
            (n.op().is_elementwise()
                && n.op() != Op::Where
                && n.dtype() != DType::Bool
                && n.src().iter().any(UOp::is_invalid))
            .then(UOp::invalid)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simplify;

    #[test]
    fn gates_merge_and_absorb_arithmetic() {
        let r = UOp::range(8, 0);
        let inner = r.lt(6).where_(&r, &UOp::invalid());
        let outer = r.lt(7).where_(&(inner + 1), &UOp::invalid());
        let expect = r.lt(6).where_(&(&r + 1), &UOp::invalid());
        assert_eq!(simplify(&outer), Ok(expect));
    }

    #[test]
    fn constant_conditions_pick_a_branch() {
        let x = UOp::var("x", 0, 3);
        assert_eq!(
            simplify(&UOp::bool(false).where_(&x, &UOp::int(2))),
            Ok(UOp::int(2))
        );
        let c = x.lt(2);
        assert_eq!(
            simplify(&c.where_(&UOp::bool(true), &UOp::bool(false))),
            Ok(c)
        );
    }

    #[test]
    fn rules_are_not_shadowed() {
        assert_eq!(rules().shadowed(), vec![]);
    }
}
