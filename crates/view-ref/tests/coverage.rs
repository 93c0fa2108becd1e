//! Guards against a vacuous oracle: over fixed random chains, reshapes do push views,
//! `simplify` does merge some of them, and `merge_views` does succeed on random pairs
//! that are not trivially mergeable.

mod common;

use common::{Naive, Rng, random_op};
use view_ref::{View, ViewStack, merge_views};

fn random_stack(rng: &mut Rng) -> ViewStack {
    let rank = 1 + rng.below(4);
    let shape: Vec<i64> = (0..rank).map(|_| 1 + rng.below(6)).collect();
    let mut st = ViewStack::from_shape(&shape).expect("valid shape");
    let mut naive = Naive::arange(&shape);
    for _ in 0..1 + rng.below(8) {
        let kind = u8::try_from(rng.below(6)).expect("small");
        if let Some(op) = random_op(&naive.shape, kind, rng) {
            st = op.on_stack(&st).expect("valid op");
            naive = op.on_naive(&naive);
        }
    }
    st
}

#[test]
fn stacks_grow_and_simplify_merges() {
    let mut rng = Rng(7);
    let (mut stacked, mut merged) = (0, 0);
    for _ in 0..2000 {
        let st = random_stack(&mut rng);
        if st.views.len() > 1 {
            stacked += 1;
            if st.simplify().views.len() < st.views.len() {
                merged += 1;
            }
        }
    }
    println!("{stacked} stacks of several views, {merged} simplified");
    assert!(stacked > 100, "{stacked}");
    assert!(merged > 20, "{merged}");
}

#[test]
fn merge_views_succeeds_beyond_the_shortcuts() {
    let mut rng = Rng(11);
    let (mut tried, mut projected) = (0, 0);
    for _ in 0..2000 {
        let below = random_stack(&mut rng).views.swap_remove(0);
        let mut above = ViewStack::from_shape(&below.shape).expect("valid shape");
        for _ in 0..1 + rng.below(4) {
            let kind = u8::try_from(rng.below(6)).expect("small");
            if let Some(op) = random_op(above.shape(), kind, &mut rng) {
                above = op.on_stack(&above).expect("valid op");
            }
        }
        let above: View = above.views.swap_remove(0);
        if below.contiguous || above.contiguous {
            continue;
        }
        tried += 1;
        if merge_views(&below, &above).is_some() {
            projected += 1;
        }
    }
    println!("{projected} of {tried} non-trivial pairs merged");
    assert!(projected * 5 > tried, "{projected} of {tried}");
}
