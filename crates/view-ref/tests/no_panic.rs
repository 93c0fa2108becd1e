//! Arbitrary inputs, including hand-built inconsistent views and extreme integers, give
//! errors or `None`, never a panic (overflow checks are on in test builds).

use proptest::prelude::*;
use view_ref::{View, ViewStack, merge_views};

fn int() -> impl Strategy<Value = i64> {
    prop_oneof![
        6 => -3i64..8,
        1 => Just(i64::MAX),
        1 => Just(i64::MIN),
        1 => any::<i64>(),
    ]
}

fn ints(max_len: usize) -> impl Strategy<Value = Vec<i64>> {
    prop::collection::vec(int(), 0..=max_len)
}

fn pairs() -> impl Strategy<Value = Vec<(i64, i64)>> {
    prop::collection::vec((int(), int()), 0..=4)
}

#[test]
fn generated_views_are_often_valid() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let valid = (0..500)
        .filter(|_| {
            let v = view().new_tree(&mut runner).expect("tree").current();
            View::create(v.shape, v.strides, v.offset, v.mask).is_ok()
        })
        .count();
    assert!(valid > 100, "{valid}");
}

/// Fields of one rank (most of the time) with mostly small, sometimes extreme values.
fn view() -> impl Strategy<Value = View> {
    (0usize..=4, 0usize..=4)
        .prop_flat_map(|(rank, other)| {
            let len = prop_oneof![4 => Just(rank), 1 => Just(other)];
            (
                prop::collection::vec(int(), rank),
                len.clone()
                    .prop_flat_map(|n| prop::collection::vec(int(), n)),
                int(),
                prop::option::of(len.prop_flat_map(|n| prop::collection::vec((int(), int()), n))),
                any::<bool>(),
            )
        })
        .prop_map(|(shape, strides, offset, mask, contiguous)| View {
            shape,
            strides,
            offset,
            mask,
            contiguous,
        })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn ops_never_panic(
        v in view(),
        w in view(),
        shape in ints(4),
        ranges in pairs(),
        axes in prop::collection::vec(0usize..6, 0..=4),
        flips in prop::collection::vec(any::<bool>(), 0..=4),
        point in ints(4),
    ) {
        let _ = View::create(v.shape.clone(), v.strides.clone(), v.offset, v.mask.clone());
        let _ = View::contiguous_of(&shape);
        let _ = v.pad(&ranges);
        let _ = v.shrink(&ranges);
        let _ = v.expand(&shape);
        let _ = v.permute(&axes);
        let _ = v.flip(&flips);
        let _ = v.reshape(&shape);
        let _ = v.index_at(&point);
        let _ = merge_views(&v, &w);
        let _ = merge_views(&w, &v);
        let st = ViewStack { views: vec![v, w] };
        let _ = st.reshape(&shape);
        let _ = st.simplify().index_at(&point);
        let _ = st.index_at(&point);
    }
}
