//! Soundness of the shared decompositions: for random operands, each rule set (alone and
//! as part of the base set) gives the value that `exec_alu` gives for the op it replaces,
//! and leaves no op it decomposes behind.

use std::collections::HashMap;

use proptest::prelude::*;
use renderer_cstyle::rules;
use uop_ir::{
    ConstValue, DType, Mode, Op, PatternMatcher, UOp, eval_with, graph_rewrite, toposort,
};

const INTS: [DType; 9] = [
    DType::I8,
    DType::I16,
    DType::I32,
    DType::I64,
    DType::Index,
    DType::U8,
    DType::U16,
    DType::U32,
    DType::U64,
];

const FLOATS: [DType; 4] = [DType::F16, DType::BF16, DType::F32, DType::F64];

/// `e` rewritten by `pm`; the rewrite must not leave `gone` anywhere in it.
fn rewrite(e: &UOp, pm: &PatternMatcher, gone: Op) -> Result<UOp, TestCaseError> {
    let out = graph_rewrite(e, pm, &mut (), Mode::PostOrder)
        .map_err(|err| TestCaseError::fail(format!("{err}")))?;
    prop_assert!(
        toposort(&out).iter().all(|u| u.op() != gone),
        "{gone} is left in {out:?}"
    );
    Ok(out)
}

/// Two values are the same: equal, or both NaN, or equal numbers (the sign of a zero that
/// MAX returns is not fixed: `max(0, -0)` may be either, in C and in `exec_alu`).
fn same(a: ConstValue, b: ConstValue) -> bool {
    match (a, b) {
        (ConstValue::Float(x), ConstValue::Float(y)) => x == y || (x.is_nan() && y.is_nan()),
        _ => a == b,
    }
}

/// Checks that `e` has the same value before and after `family` and the base set, with
/// the variables at `env`.
fn check(
    e: &UOp,
    env: &HashMap<UOp, i128>,
    family: &PatternMatcher,
    gone: Op,
) -> Result<(), TestCaseError> {
    let Ok(want) = eval_with(e, env) else {
        // a division by zero: C and the IR both fail, so there is nothing to keep
        return Ok(());
    };
    for pm in [family, rules::base()] {
        let out = rewrite(e, pm, gone)?;
        let got = eval_with(&out, env).map_err(|err| TestCaseError::fail(format!("{err}")))?;
        prop_assert!(
            same(got, want),
            "{e:?}\n  -> {out:?}\n  at {env:?}: {got:?} != {want:?}"
        );
    }
    Ok(())
}

/// A variable of `dtype` that holds `value`, with bounds `lo..=hi` (they decide which
/// rule fires): a DEFINE_VAR, cast to `dtype` unless that is the index dtype.
fn var(name: &'static str, dtype: DType, lo: i128, hi: i128) -> (UOp, UOp) {
    let v = UOp::var(name, lo as i64, hi as i64);
    let x = if dtype == DType::Index {
        v.clone()
    } else {
        v.cast(dtype)
    };
    (v, x)
}

/// A value of `dtype` and bounds around it: the dtype's range, or a non-negative (or
/// positive) part of it where the value allows.
fn operand(dtype: DType, raw: i64, narrow: bool, positive: bool) -> (i128, i128, i128) {
    let (min, max) = (
        dtype.int_min().unwrap_or(0).max(i64::MIN as i128),
        dtype.int_max().unwrap_or(0).min(i64::MAX as i128),
    );
    let value = dtype.wrap_int(raw as i128).clamp(min, max);
    let floor = i128::from(positive);
    if narrow && value >= floor {
        (value, floor, max)
    } else {
        (value, min, max)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn floor_division_is_sound(
        d in 0..INTS.len(),
        x in prop_oneof![-300i64..300, any::<i64>()],
        y in prop_oneof![-20i64..20, any::<i64>()],
        narrow in any::<(bool, bool)>(),
        constant in any::<bool>(),
        modulo in any::<bool>(),
    ) {
        let dtype = INTS[d];
        let (xv, xlo, xhi) = operand(dtype, x, narrow.0, false);
        let (yv, ylo, yhi) = operand(dtype, y, narrow.1, true);
        prop_assume!(yv != 0);
        let (vx, ex) = var("x", dtype, xlo, xhi);
        let (vy, ey) = var("y", dtype, ylo, yhi);
        let ey = if constant { UOp::const_of(dtype, ConstValue::Int(yv)) } else { ey };
        let (op, family) = if modulo { (Op::FloorMod, Op::FloorMod) } else { (Op::FloorDiv, Op::FloorDiv) };
        let e = UOp::alu(op, [ex, ey]);
        let env = HashMap::from([(vx, xv), (vy, yv)]);
        check(&e, &env, &rules::floordiv::rules(), family)?;
    }

    #[test]
    fn bool_arithmetic_is_sound(a in any::<bool>(), b in any::<bool>(), c in any::<bool>(), op in 0..3usize) {
        let vars: Vec<(UOp, UOp)> = ["a", "b", "c"]
            .into_iter()
            .map(|n| {
                let v = UOp::var(n, 0, 1);
                (v.clone(), v.cast(DType::Bool))
            })
            .collect();
        let env: HashMap<UOp, i128> = vars
            .iter()
            .zip([a, b, c])
            .map(|((v, _), x)| (v.clone(), i128::from(x)))
            .collect();
        let [x, y, z] = [&vars[0].1, &vars[1].1, &vars[2].1];
        let (op, e) = match op {
            0 => (Op::Add, UOp::alu(Op::Add, [x.clone(), y.clone()])),
            1 => (Op::Mul, UOp::alu(Op::Mul, [x.clone(), y.clone()])),
            _ => (Op::MulAcc, UOp::alu(Op::MulAcc, [x.clone(), y.clone(), z.clone()])),
        };
        check(&e, &env, &rules::bools::rules(), op)?;
    }

    #[test]
    fn float_max_is_sound(
        d in 0..FLOATS.len(),
        a in prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY), Just(0.0), Just(-0.0), -1e6f64..1e6],
        b in prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY), Just(0.0), Just(-0.0), -1e6f64..1e6],
    ) {
        let dtype = FLOATS[d];
        let c = |v: f64| UOp::const_of(dtype, ConstValue::Float(dtype.round_float(v)));
        let e = UOp::alu(Op::Max, [c(a), c(b)]);
        check(&e, &HashMap::new(), &rules::max::rules(), Op::Max)?;
    }
}

proptest! {
    /// A float cast to a narrow integer keeps the IR's value (truncate, then wrap) when it
    /// goes through i64.
    #[test]
    fn float_to_narrow_int_casts_are_sound(
        d in 0..FLOATS.len(),
        t in 0..6usize,
        v in prop_oneof![-70_000.0f64..70_000.0, -300.0f64..300.0, Just(-5.0), Just(255.9)],
    ) {
        let to = [DType::I8, DType::I16, DType::I32, DType::U8, DType::U16, DType::U32][t];
        let from = FLOATS[d];
        let x = UOp::const_of(from, ConstValue::Float(from.round_float(v)));
        let e = x.cast(to);
        let want = eval_with(&e, &HashMap::new()).map_err(|err| TestCaseError::fail(format!("{err}")))?;
        for pm in [&rules::casts::rules(), rules::base()] {
            let out = graph_rewrite(&e, pm, &mut (), Mode::PostOrder)
                .map_err(|err| TestCaseError::fail(format!("{err}")))?;
            prop_assert!(out.src()[0].dtype() == DType::I64, "{out:?}");
            let got = eval_with(&out, &HashMap::new()).map_err(|err| TestCaseError::fail(format!("{err}")))?;
            prop_assert!(same(got, want), "{e:?} -> {out:?}: {got:?} != {want:?}");
        }
    }
}

#[test]
fn vector_max_is_left_to_the_language() {
    let v = UOp::new_vec(
        Op::Stack,
        DType::F32,
        4,
        vec![UOp::const_of(DType::F32, ConstValue::Float(1.0)); 4],
        uop_ir::Arg::None,
    );
    let e = UOp::alu(Op::Max, [v.clone(), v]);
    let out = graph_rewrite(&e, rules::base(), &mut (), Mode::PostOrder).expect("rewrites");
    assert_eq!(out, e);
}

#[test]
fn the_base_rules_shadow_nothing() {
    assert!(
        rules::base().shadowed().is_empty(),
        "{:?}",
        rules::base().shadowed()
    );
}

/// The harness must be able to fail: a wrong rule is caught.
#[test]
fn a_wrong_floor_division_is_caught() {
    let truncating: PatternMatcher = PatternMatcher::new().rule(
        "x//y -> x/y (wrong for negative x)",
        uop_ir::UPat::op(Op::FloorDiv).src([uop_ir::UPat::var("x"), uop_ir::UPat::var("y")]),
        |b| Some(UOp::alu(Op::CDiv, [b["x"].clone(), b["y"].clone()])),
    );
    let (vx, x) = var("x", DType::I32, -10, 10);
    let e = UOp::alu(
        Op::FloorDiv,
        [x, UOp::const_of(DType::I32, ConstValue::Int(4))],
    );
    let env = HashMap::from([(vx, -3)]);
    assert!(check(&e, &env, &truncating, Op::FloorDiv).is_err());
}
