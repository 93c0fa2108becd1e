//! Constant folding: an ALU op whose operands are all constants becomes the constant
//! `exec_alu` computes (truncated to the dtype); an integer or bool node whose bounds
//! pin it to one value becomes that value. A BITCAST of a constant is left to the
//! kernel: its bits depend on the source's dtype, which `exec_alu` does not see.

use uop_ir::{ConstValue, Op, PatternMatcher, UOp, UPat, exec_alu};

fn alu_ops() -> Vec<Op> {
    Op::ALL
        .iter()
        .copied()
        .filter(|op| op.alu_arity().is_some() && !matches!(op, Op::Threefry | Op::Bitcast))
        .collect()
}

pub fn rules() -> PatternMatcher {
    PatternMatcher::new()
        // op(c0, c1, ...) -> exec_alu(op, c0, c1, ...)
        .rule_try(
            "op(consts) -> const",
            UPat::ops(&alu_ops())
                .src_each(UPat::op(Op::Const))
                .named("n"),
            |b| {
                let n = &b["n"];
                let args: Vec<ConstValue> = n.src().iter().filter_map(UOp::const_value).collect();
                match exec_alu(n.op(), n.dtype(), &args) {
                    Ok(v) => Ok(Some(UOp::const_of(n.dtype(), v))),
                    Err(e) => Err(format!("{e}")),
                }
            },
        )
        // x -> c   when vmin(x) == vmax(x) == c
        .rule("x -> c if vmin == vmax", UPat::any().named("n"), |b| {
            let n = &b["n"];
            if n.op() == Op::Const || !(n.dtype().is_int() || n.dtype().is_bool()) {
                return None;
            }
            Some(n.const_like(n.bounds()?.single()?))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use uop_ir::{DType, rewrite};

    #[test]
    fn folds_and_truncates() {
        let e = UOp::const_of(DType::U8, ConstValue::Int(200)) + 100;
        assert_eq!(
            rewrite(&e, &rules()).ok().and_then(|u| u.const_int()),
            Some(44)
        );
    }

    #[test]
    fn single_valued_bounds_fold() {
        let r = UOp::range(1, 0);
        assert_eq!(rewrite(&(&r * 7), &rules()), Ok(UOp::int(0)));
        let x = UOp::var("x", 0, 3);
        assert_eq!(rewrite(&x.lt(4), &rules()), Ok(UOp::bool(true)));
    }

    #[test]
    fn division_by_a_zero_constant_is_an_error() {
        let e = UOp::int(3).floordiv(0);
        let err = rewrite(&e, &rules()).expect_err("no result for 3//0");
        assert!(err.to_string().contains("division by zero"), "{err}");
    }
}
