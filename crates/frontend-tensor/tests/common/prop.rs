//! Proptest strategies shared by the op tests: the run configuration, shapes, and pairs
//! of shapes that broadcast.

use proptest::prelude::*;

/// 48 cases (each compiles a few kernels; identical kernels are cached), or
/// `PROPTEST_CASES` for a longer run.
pub fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48);
    ProptestConfig {
        cases,
        // failures are reported with their inputs; a regression becomes a named test
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A shape of rank 1..=4 with dims 1..=6, size-1 dims likely.
pub fn shape() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(prop_oneof![Just(1usize), 1usize..=6], 1..=4)
}

/// Two shapes that broadcast: `b` keeps or sets to 1 each trailing dim of `a`, and may
/// drop leading dims; the pair may be swapped.
pub fn broadcast_pair() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    shape().prop_flat_map(|a| {
        let rank = a.len();
        (
            Just(a),
            prop::collection::vec(any::<bool>(), rank),
            0..rank,
            any::<bool>(),
        )
            .prop_map(|(a, ones, drop, swap)| {
                let b: Vec<usize> = a
                    .iter()
                    .zip(&ones)
                    .skip(drop)
                    .map(|(&d, &one)| if one { 1 } else { d })
                    .collect();
                if swap { (b, a) } else { (a, b) }
            })
    })
}
