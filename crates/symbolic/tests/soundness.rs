//! Soundness: for every rule family alone, and for the whole rule set, a rewrite never
//! changes the value (or validity) of an expression at any point within the variables'
//! bounds. Expressions come from the shared random corpus; points are random, corners
//! included.

use proptest::prelude::*;
use symbolic::corpus::{SplitMix, compare_at_random_points, random_gated_expr, random_vars};
use symbolic::rules;
use uop_ir::{Mode, PatternMatcher, RewriteError, UOp, graph_rewrite};

fn check(pm: &PatternMatcher, seed: u64) -> Result<(), TestCaseError> {
    let mut rng = SplitMix(seed);
    let vars = random_vars(&mut rng);
    let e = random_gated_expr(&mut rng, &vars, 6);
    let out = match graph_rewrite(&e, pm, &mut (), Mode::PostOrder) {
        Ok(out) => out,
        Err(err @ RewriteError::Cycle { .. }) | Err(err @ RewriteError::ChainTooLong { .. }) => {
            return Err(TestCaseError::fail(format!("rules loop on {e:?}: {err}")));
        }
        Err(err) => {
            return Err(TestCaseError::fail(format!(
                "rewrite failed on {e:?}: {err}"
            )));
        }
    };
    let mismatch = compare_at_random_points(&e, &out, &vars, &mut rng, 48)
        .map_err(|err| TestCaseError::fail(format!("{err}")))?;
    if let Some(m) = mismatch {
        return Err(TestCaseError::fail(format!(
            "{e:?}\n  simplified to {out:?}\n  at {:?} (vars {vars:?}): {} != {}",
            m.point, m.original, m.simplified
        )));
    }
    Ok(())
}

macro_rules! family_soundness {
    ($($name:ident => $pm:expr,)*) => {$(
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]
            #[test]
            fn $name(seed in any::<u64>()) {
                check(&$pm, seed)?;
            }
        }
    )*};
}

family_soundness! {
    fold_is_sound => rules::fold::rules(),
    identity_is_sound => rules::identity::rules(),
    canonical_is_sound => rules::canonical::rules(),
    combine_is_sound => rules::combine::rules(),
    divmod_is_sound => rules::divmod::rules(),
    compare_is_sound => rules::compare::rules(),
    cast_is_sound => rules::cast::rules(),
    gate_is_sound => rules::gate::rules(),
    valid_is_sound => rules::valid::rules(),
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    #[test]
    fn full_rule_set_is_sound(seed in any::<u64>()) {
        check(symbolic::symbolic(), seed)?;
    }
}

#[test]
fn simplification_is_idempotent() {
    for seed in 0..500 {
        let mut rng = SplitMix(seed);
        let vars = random_vars(&mut rng);
        let e = random_gated_expr(&mut rng, &vars, 6);
        let once = symbolic::simplify(&e).expect("simplifies");
        assert_eq!(
            symbolic::simplify(&once).as_ref(),
            Ok(&once),
            "seed {seed}: {e:?}"
        );
    }
}

#[test]
fn simplification_never_grows_much() {
    let (mut before, mut after) = (0, 0);
    for seed in 0..500 {
        let mut rng = SplitMix(seed);
        let vars = random_vars(&mut rng);
        let e: UOp = random_gated_expr(&mut rng, &vars, 6);
        before += uop_ir::node_count(&e);
        after += uop_ir::node_count(&symbolic::simplify(&e).expect("simplifies"));
    }
    assert!(
        after <= before,
        "simplified corpus has {after} nodes, original {before}"
    );
}

/// The harness must be able to fail: an unsound rule is caught.
#[test]
fn an_unsound_rule_is_caught() {
    let bogus: PatternMatcher = PatternMatcher::new().rule(
        "x%c -> x (wrong)",
        uop_ir::UPat::var("x").floormod(uop_ir::UPat::cvar("c")),
        |b| Some(b["x"].clone()),
    );
    let caught = (0..200)
        .filter(|seed| check(&bogus, *seed).is_err())
        .count();
    assert!(
        caught > 10,
        "only {caught} of 200 cases caught a wrong rule"
    );
}
