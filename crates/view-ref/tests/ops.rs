//! Each movement op, on a range of shapes and of views already moved, checked against
//! naive index loops on an arange tensor at every point, with and without `simplify`.

mod common;

use common::{Naive, Op, check};
use view_ref::ViewStack;

const SHAPES: &[&[i64]] = &[
    &[3],
    &[2, 3],
    &[1, 4],
    &[2, 1, 3],
    &[2, 2, 3],
    &[2, 3, 1, 2],
];

/// Op sequences that leave a non-trivial view (or a stack of two) on `shape`.
fn prefixes(shape: &[i64]) -> Vec<Vec<Op>> {
    let rank = shape.len();
    let grown: Vec<i64> = shape.iter().map(|d| d + 2).collect();
    let mut padded = vec![(0, 0); rank];
    padded[0] = (1, 1);
    vec![
        vec![],
        vec![Op::Pad(padded.clone())],
        vec![Op::Flip(vec![true; rank])],
        vec![Op::Permute((0..rank).rev().collect())],
        vec![Op::Shrink(shape.iter().map(|&d| (d / 2, d)).collect())],
        vec![Op::Pad(padded), Op::Flip(vec![true; rank])],
        vec![
            Op::Pad(vec![(1, 1); rank]),
            Op::Reshape(vec![grown.iter().product()]),
            Op::Reshape(grown),
        ],
    ]
}

fn run(base: &[i64], prefix: &[Op], op: &Op) {
    let mut st = ViewStack::from_shape(base).expect("valid shape");
    let mut naive = Naive::arange(base);
    for o in prefix.iter().chain([op]) {
        st = o
            .on_stack(&st)
            .unwrap_or_else(|e| panic!("{o:?} on {st:?}: {e}"));
        naive = o.on_naive(&naive);
    }
    if let Err(msg) = check(&st, &naive).and_then(|()| check(&st.simplify(), &naive)) {
        panic!("{base:?} then {prefix:?} then {op:?}: {msg}");
    }
}

#[test]
fn a_prefix_leaves_two_views() {
    let mut st = ViewStack::from_shape(&[2, 3]).expect("valid shape");
    for o in prefixes(&[2, 3]).last().expect("prefixes") {
        st = o.on_stack(&st).expect("valid op");
    }
    assert_eq!(st.views.len(), 2);
}

/// Runs every op `args(shape)` yields after every prefix on every base shape.
fn each(args: impl Fn(&[i64]) -> Vec<Op>) {
    for base in SHAPES {
        for prefix in prefixes(base) {
            let mut naive = Naive::arange(base);
            for o in &prefix {
                naive = o.on_naive(&naive);
            }
            for op in args(&naive.shape) {
                run(base, &prefix, &op);
            }
        }
    }
}

/// Every combination of one choice per axis.
fn product<T: Clone>(choices: &[Vec<T>]) -> Vec<Vec<T>> {
    choices.iter().fold(vec![vec![]], |acc, options| {
        acc.iter()
            .flat_map(|p| {
                options.iter().map(move |o| {
                    let mut q = p.clone();
                    q.push(o.clone());
                    q
                })
            })
            .collect()
    })
}

#[test]
fn pad() {
    each(|shape| {
        let per_axis = vec![vec![(0, 0), (1, 0), (0, 2), (2, 1)]; shape.len()];
        product(&per_axis).into_iter().map(Op::Pad).collect()
    });
}

#[test]
fn shrink() {
    each(|shape| {
        let per_axis: Vec<Vec<(i64, i64)>> = shape
            .iter()
            .map(|&d| {
                (0..d)
                    .flat_map(|b| (b + 1..=d).map(move |e| (b, e)))
                    .collect()
            })
            .collect();
        product(&per_axis).into_iter().map(Op::Shrink).collect()
    });
}

#[test]
fn expand() {
    each(|shape| {
        let per_axis: Vec<Vec<i64>> = shape
            .iter()
            .map(|&d| if d == 1 { vec![1, 3] } else { vec![d] })
            .collect();
        product(&per_axis).into_iter().map(Op::Expand).collect()
    });
}

#[test]
fn permute() {
    each(|shape| {
        let rank = shape.len();
        product(&vec![(0..rank).collect::<Vec<_>>(); rank])
            .into_iter()
            .filter(|p| (0..rank).all(|a| p.contains(&a)))
            .map(Op::Permute)
            .collect()
    });
}

#[test]
fn flip() {
    each(|shape| {
        product(&vec![vec![false, true]; shape.len()])
            .into_iter()
            .map(Op::Flip)
            .collect()
    });
}

/// Every way to write `n` as an ordered product of 1 to 4 factors.
fn factorizations(n: i64) -> Vec<Vec<i64>> {
    let divisors: Vec<i64> = (1..=n).filter(|d| n % d == 0).collect();
    (1..=4)
        .flat_map(|rank| product(&vec![divisors.clone(); rank]))
        .filter(|f| f.iter().product::<i64>() == n)
        .collect()
}

#[test]
fn reshape() {
    each(|shape| {
        factorizations(shape.iter().product())
            .into_iter()
            .map(Op::Reshape)
            .collect()
    });
}
