//! Casts between integer types and to bool. A cast that cannot change the value (by
//! bounds) through an intermediate type drops the intermediate; a cast to bool is a
//! comparison with zero.

use uop_ir::{DType, Op, PatternMatcher, UOp, UPat};

/// Every value of `x` is representable in `dtype`.
fn fits_in(x: &UOp, dtype: DType) -> bool {
    match (x.bounds(), dtype.int_min(), dtype.int_max()) {
        (Some(b), Some(lo), Some(hi)) => dtype.is_int() && b.min >= lo && b.max <= hi,
        _ => false,
    }
}

pub fn rules() -> PatternMatcher {
    let x = || UPat::var("x");
    PatternMatcher::new()
        // cast<A>(cast<B>(x)) -> cast<A>(x)   when x fits in B (the inner cast is exact)
        .rule(
            "cast<A>(cast<B>(x)) -> cast<A>(x) if x fits B",
            UPat::op(Op::Cast)
                .src([UPat::op(Op::Cast).src([x()]).named("inner")])
                .named("n"),
            |b| {
                let (n, inner, x) = (&b["n"], &b["inner"], &b["x"]);
                (x.dtype().is_int() && fits_in(x, inner.dtype())).then(|| x.cast(n.dtype()))
            },
        )
        // cast<bool>(x) -> x != 0   (integers)
        .rule(
            "cast<bool>(x) -> x != 0",
            UPat::op(Op::Cast).dtype(&[DType::Bool]).src([x()]),
            |b| {
                let x = &b["x"];
                x.dtype().is_int().then(|| x.ne(x.const_like(0)))
            },
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simplify;

    #[test]
    fn exact_intermediate_casts_drop() {
        let r = UOp::range(100, 0);
        let e = r.cast(DType::I32).cast(DType::I64);
        assert_eq!(simplify(&e), Ok(r.cast(DType::I64)));
        // 300 does not fit in u8: the wrap must stay
        let big = UOp::range(300, 0).cast(DType::U8).cast(DType::I64);
        assert_eq!(simplify(&big), Ok(big));
    }

    #[test]
    fn cast_to_bool_is_a_comparison() {
        let r = UOp::range(4, 0);
        assert_eq!(simplify(&r.cast(DType::Bool)), Ok(r.ne(0)));
    }
}
