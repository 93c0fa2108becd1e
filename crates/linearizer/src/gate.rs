//! Gated loads: a load through `INDEX(buf, where(valid, offset, Invalid))` becomes
//! `LOAD(INDEX(buf, offset), valid, 0)`, which reads memory only where `valid` holds.
//! `linearize` does this first; opts are applied to the result, so a caller that applies
//! opts itself (`apply_opt`, a search) starts from `lower_gates` too.

use uop_ir::{ConstValue, Mode, Op, PatternMatcher, UOp, UPat, graph_rewrite};

pub fn lower_gates(ast: &UOp) -> Result<UOp, uop_ir::RewriteError> {
    let gated = UPat::op(Op::Index)
        .src([
            UPat::var("buf"),
            UPat::var("valid").where_(UPat::var("off"), UPat::invalid()),
        ])
        .named("idx");
    let pm: PatternMatcher = PatternMatcher::new()
        // LOAD(INDEX(b, where(v, off, Inv))) -> LOAD(INDEX(b, off), v, 0)
        .rule(
            "load(index(b, where(v, off, Inv))) -> gated load",
            UPat::op(Op::Load).src([gated]).named("ld"),
            |b| {
                let idx = b["idx"].with_src([b["buf"].clone(), b["off"].clone()]);
                let zero = UOp::const_of(b["ld"].dtype(), ConstValue::Int(0));
                Some(b["ld"].with_src([idx, b["valid"].clone(), zero]))
            },
        )
        // LOAD(INDEX(b, Invalid)) -> 0   (never valid)
        .rule(
            "load(index(b, Inv)) -> 0",
            UPat::op(Op::Load)
                .src([UPat::op(Op::Index).src([UPat::any(), UPat::invalid()])])
                .named("ld"),
            |b| Some(UOp::const_of(b["ld"].dtype(), ConstValue::Int(0))),
        );
    let pm = pm
        // where(g, LOAD(i, g, z), z) -> LOAD(i, g, z)   (the load is gated already)
        .rule(
            "where(g, load(i, g, z), z) -> load(i, g, z)",
            UPat::var("g").where_(
                UPat::op(Op::Load)
                    .src([UPat::any(), UPat::var("g"), UPat::var("z")])
                    .named("ld"),
                UPat::var("z"),
            ),
            |b| Some(b["ld"].clone()),
        );
    graph_rewrite(ast, &pm, &mut (), Mode::PostOrder)
}
