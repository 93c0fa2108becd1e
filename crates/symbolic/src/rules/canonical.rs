//! Canonical forms. Integer subtraction and negation become multiplication by -1, so
//! sums have one shape; constants move to the right of commutative ops; other operands
//! of commutative ops follow `UOp::canonical_cmp`. Later rules match only these forms.

use std::cmp::Ordering;

use uop_ir::{Op, PatternMatcher, UOp, UPat};

use crate::predicates::is_int_math;

fn commutative_ops() -> Vec<Op> {
    Op::ALL
        .iter()
        .copied()
        .filter(|op| op.is_commutative())
        .collect()
}

pub fn rules() -> PatternMatcher {
    PatternMatcher::new()
        // x - y -> x + y*-1   (integers)
        .rule("x-y -> x+y*-1", UPat::var("x") - UPat::var("y"), |b| {
            let (x, y) = (&b["x"], &b["y"]);
            is_int_math(x).then(|| x + UOp::alu(Op::Mul, [y.clone(), y.const_like(-1)]))
        })
        // -x -> x*-1   (integers)
        .rule("-x -> x*-1", -UPat::var("x"), |b| {
            let x = &b["x"];
            is_int_math(x).then(|| UOp::alu(Op::Mul, [x.clone(), x.const_like(-1)]))
        })
        // c op x -> x op c ; y op x -> x op y when x sorts first
        .rule(
            "a op b -> b op a (canonical order)",
            UPat::ops(&commutative_ops()).named("n"),
            |b| {
                let n = &b["n"];
                let (x, y) = (&n.src()[0], &n.src()[1]);
                let swap = match (x.op() == Op::Const, y.op() == Op::Const) {
                    (true, false) => true,
                    (false, true) => false,
                    // integer sums are ordered by their linear form (combine.rs)
                    _ if n.op() == Op::Add && is_int_math(n) => false,
                    _ => x.canonical_cmp(y) == Ordering::Greater,
                };
                swap.then(|| n.with_src([y.clone(), x.clone()]))
            },
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use uop_ir::rewrite;

    #[test]
    fn constants_go_right_and_subtraction_goes_away() {
        let x = UOp::var("x", 0, 9);
        let y = UOp::var("y", 0, 9);
        let e = UOp::alu(Op::Add, [UOp::int(3), x.clone()]);
        assert_eq!(rewrite(&e, &rules()), Ok(&x + 3));
        let e = UOp::alu(Op::Mul, [y.clone(), x.clone()]);
        assert_eq!(
            rewrite(&e, &rules()),
            Ok(UOp::alu(Op::Mul, [x.clone(), y.clone()]))
        );
        assert_eq!(rewrite(&(&x - &y), &rules()), Ok(&x + (&y * -1)));
    }
}
