//! Identities: operations that leave a value unchanged or make it a constant whatever it
//! is (`x*1`, `x+0`, `x*0`, `x//1`, `x%1`, `x&x`, `x<x`, ...).

use uop_ir::{DType, Op, PatternMatcher, UOp, UPat};

use crate::predicates::is_int_math;

fn int_only(b: &uop_ir::Bindings, f: impl FnOnce(&UOp) -> UOp) -> Option<UOp> {
    let x = &b["x"];
    is_int_math(x).then(|| f(x))
}

pub fn rules() -> PatternMatcher {
    let x = || UPat::var("x");
    PatternMatcher::new()
        // x*1 -> x
        .always("x*1 -> x", x() * 1, |b| b["x"].clone())
        // x+0 -> x   (integers: for floats -0.0+0 is +0.0)
        .rule("x+0 -> x", x() + 0, |b| int_only(b, UOp::clone))
        // x*0 -> 0   (integers: for floats NaN*0 is NaN)
        .rule("x*0 -> 0", x() * UPat::int(0), |b| {
            int_only(b, |x| x.const_like(0))
        })
        // max(x, y) -> x   when vmin(x) >= vmax(y) (integers)
        .rule("max(x, y) -> x if x >= y", x().max(UPat::var("y")), |b| {
            let (x, y) = (&b["x"], &b["y"]);
            let (bx, by) = (x.bounds()?, y.bounds()?);
            if bx.min >= by.max {
                Some(x.clone())
            } else if by.min >= bx.max {
                Some(y.clone())
            } else {
                None
            }
        })
        // x//1 -> x
        .rule("x//1 -> x", x().floordiv(1), |b| Some(b["x"].clone()))
        // x%1 -> 0
        .rule("x%1 -> 0", x().floormod(1), |b| {
            int_only(b, |x| x.const_like(0))
        })
        // x//x -> 1   when x is never 0
        .rule("x//x -> 1", x().floordiv(x()), |b| {
            let bd = b["x"].bounds()?;
            (bd.min > 0 || bd.max < 0).then(|| b["x"].const_like(1))
        })
        // x%x -> 0   when x is never 0
        .rule("x%x -> 0", x().floormod(x()), |b| {
            let bd = b["x"].bounds()?;
            (bd.min > 0 || bd.max < 0).then(|| b["x"].const_like(0))
        })
        // x&x -> x ; x|x -> x ; max(x,x) -> x
        .always(
            "x op x -> x (idempotent)",
            UPat::ops(&[Op::And, Op::Or, Op::Max]).src([x(), x()]),
            |b| b["x"].clone(),
        )
        // x^x -> 0   (integers and bools)
        .rule("x^x -> 0", x() ^ x(), |b| {
            (!b["x"].dtype().is_float()).then(|| b["x"].const_like(0))
        })
        // x<x -> false ; x!=x -> false   (not floats: NaN != NaN)
        .rule(
            "x<x -> false",
            UPat::ops(&[Op::CmpLt, Op::CmpNe]).src([x(), x()]),
            |b| (!b["x"].dtype().is_float()).then(|| UOp::bool(false)),
        )
        // x==x -> true   (not floats)
        .rule("x==x -> true", UPat::op(Op::CmpEq).src([x(), x()]), |b| {
            (!b["x"].dtype().is_float()).then(|| UOp::bool(true))
        })
        // x&true -> x ; x|false -> x ; x^false -> x   (bools)
        .always("x&true -> x", (x() & 1).dtype(&[DType::Bool]), |b| {
            b["x"].clone()
        })
        .always("x|false -> x", (x() | 0).dtype(&[DType::Bool]), |b| {
            b["x"].clone()
        })
        .always("x^false -> x", (x() ^ 0).dtype(&[DType::Bool]), |b| {
            b["x"].clone()
        })
        // x&false -> false ; x|true -> true   (bools)
        .always(
            "x&false -> false",
            (x() & UPat::int(0)).dtype(&[DType::Bool]),
            |_| UOp::bool(false),
        )
        .always("x|true -> true", (x() | 1).dtype(&[DType::Bool]), |_| {
            UOp::bool(true)
        })
        // !!x -> x
        .always("!!x -> x", x().ne(true).ne(true), |b| b["x"].clone())
        // x!=false -> x   (bools)
        .rule("x!=false -> x", x().ne(0), |b| {
            (b["x"].dtype() == DType::Bool).then(|| b["x"].clone())
        })
        // x|x&y -> x ; x&(x|y) -> x   (absorption)
        .always("x|(x&y) -> x", x() | (x() & UPat::var("y")), |b| {
            b["x"].clone()
        })
        .always("x&(x|y) -> x", x() & (x() | UPat::var("y")), |b| {
            b["x"].clone()
        })
        // cast<T>(x) -> x   when x is already T
        .rule(
            "cast(x) -> x if same dtype",
            UPat::op(Op::Cast).src([x()]).named("n"),
            |b| (b["n"].dtype() == b["x"].dtype()).then(|| b["x"].clone()),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use uop_ir::rewrite;

    #[test]
    fn identities_fold() {
        let x = UOp::var("x", 1, 9);
        let pm = rules();
        assert_eq!(rewrite(&(&x * 1), &pm), Ok(x.clone()));
        assert_eq!(rewrite(&(&x + 0), &pm), Ok(x.clone()));
        assert_eq!(rewrite(&(&x * 0), &pm), Ok(UOp::int(0)));
        assert_eq!(rewrite(&x.floordiv(&x), &pm), Ok(UOp::int(1)));
        assert_eq!(rewrite(&x.max(-3), &pm), Ok(x.clone()));
        assert_eq!(rewrite(&x.max(12), &pm), Ok(UOp::int(12)));
        assert_eq!(rewrite(&x.lt(&x), &pm), Ok(UOp::bool(false)));
        let c = x.lt(3);
        assert_eq!(rewrite(&c.not().not(), &pm), Ok(c.clone()));
        assert_eq!(rewrite(&c.and(UOp::bool(true)), &pm), Ok(c.clone()));
        assert_eq!(rewrite(&c.or(c.and(x.lt(5))), &pm), Ok(c));
    }

    #[test]
    fn float_identities_keep_ieee_semantics() {
        let f = UOp::new(Op::DefineVar, DType::F32, [], uop_ir::Arg::None);
        let pm = rules();
        assert_eq!(rewrite(&(&f + 0), &pm), Ok(&f + 0));
        assert_eq!(rewrite(&f.lt(&f), &pm), Ok(f.lt(&f)));
    }

    #[test]
    fn rule_set_has_no_shadowed_rules() {
        assert_eq!(rules().shadowed(), vec![]);
    }
}
