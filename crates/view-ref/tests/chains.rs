//! Random chains of 1 to 8 movement ops on random shapes, checked against naive index
//! loops at every point after every op, with and without `simplify`; and random pairs of
//! views checked against their merge.

mod common;

use common::{Naive, Rng, check, random_op};
use proptest::prelude::*;
use view_ref::{View, ViewStack, merge_views};

/// Rank 1 to 4, dims 1 to 8 with a bias towards 1.
fn shape() -> impl Strategy<Value = Vec<i64>> {
    prop::collection::vec(prop_oneof![1 => Just(1i64), 3 => 1i64..=8], 1..=4)
}

/// Kinds and seeds of 1 to 8 random ops.
fn chain() -> impl Strategy<Value = Vec<(u8, u64)>> {
    prop::collection::vec((0u8..6, any::<u64>()), 1..=8)
}

/// Applies the chain to a stack and an arange tensor, checking after every op.
fn run_chain(shape: &[i64], ops: &[(u8, u64)]) -> Result<ViewStack, TestCaseError> {
    let mut st = ViewStack::from_shape(shape).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let mut naive = Naive::arange(shape);
    for &(kind, seed) in ops {
        let Some(op) = random_op(&naive.shape, kind, &mut Rng(seed)) else {
            continue;
        };
        st = op
            .on_stack(&st)
            .map_err(|e| TestCaseError::fail(format!("{op:?}: {e}")))?;
        naive = op.on_naive(&naive);
        check(&st, &naive).map_err(|m| TestCaseError::fail(format!("after {op:?}: {m}")))?;
        let simple = st.simplify();
        prop_assert!(simple.views.len() <= st.views.len());
        check(&simple, &naive)
            .map_err(|m| TestCaseError::fail(format!("simplified, after {op:?}: {m}")))?;
    }
    Ok(st)
}

/// The top view of a random chain, as a single view (the first view of the stack when
/// the chain pushed more).
fn random_view(shape: &[i64], ops: &[(u8, u64)]) -> Result<View, TestCaseError> {
    let st = run_chain(shape, ops)?;
    Ok(st.views.into_iter().last().unwrap_or_else(|| {
        View::contiguous_of(shape).unwrap_or_else(|_| unreachable!("shape is valid"))
    }))
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn chains_match_naive_loops(shape in shape(), ops in chain()) {
        run_chain(&shape, &ops)?;
    }

    #[test]
    fn merged_views_equal_the_stack(
        shape in shape(),
        below_ops in chain(),
        above_ops in chain(),
    ) {
        let below = random_view(&shape, &below_ops)?;
        let above = random_view(&below.shape, &above_ops)?;
        let stack = ViewStack { views: vec![below.clone(), above.clone()] };
        if let Some(merged) = merge_views(&below, &above) {
            prop_assert_eq!(&merged.shape, &above.shape);
            let single = ViewStack { views: vec![merged] };
            for p in common::points(&above.shape) {
                prop_assert_eq!(single.index_at(&p), stack.index_at(&p), "at {:?}", p);
            }
        }
    }
}
