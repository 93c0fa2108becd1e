//! Random cases for `fuzz-symbolic`: a base shape and a chain of movement ops that fit it.
//!
//! A case is a pure function of its seed ([`case_seed`] of the run's seed and the case
//! index), so any case replays alone. Base shapes have rank 1 to 5, dims 1 to 16 with about
//! a quarter of them 1. Each op is drawn from a uniformly chosen family; an op that does not
//! fit, would leave more than [`MAX_ELEMENTS`] elements or rank above [`MAX_RANK`], or would
//! do nothing (a rank-1 permute) is drawn again.

use std::fmt;

use symbolic::corpus::{Entropy, SplitMix};
use uop_ir::{Movement, checked_numel};

/// No shape along a chain has more elements than this.
pub const MAX_ELEMENTS: i64 = 4096;
/// No shape along a chain has more dims than this.
pub const MAX_RANK: usize = 6;
const MAX_BASE_RANK: u64 = 5;
const MAX_DIM: u64 = 16;
const MAX_CHAIN: u64 = 8;
const MAX_PAD: u64 = 3;
const ATTEMPTS: usize = 32;

/// The six movement-op families, in the (alphabetical) order they are printed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    Expand,
    Flip,
    Pad,
    Permute,
    Reshape,
    Shrink,
}

impl Family {
    pub const ALL: [Family; 6] = [
        Family::Expand,
        Family::Flip,
        Family::Pad,
        Family::Permute,
        Family::Reshape,
        Family::Shrink,
    ];

    pub fn of(m: &Movement) -> Family {
        match m {
            Movement::Expand(_) => Family::Expand,
            Movement::Flip(_) => Family::Flip,
            Movement::Pad(_) => Family::Pad,
            Movement::Permute(_) => Family::Permute,
            Movement::Reshape(_) => Family::Reshape,
            Movement::Shrink(_) => Family::Shrink,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Family::Expand => "expand",
            Family::Flip => "flip",
            Family::Pad => "pad",
            Family::Permute => "permute",
            Family::Reshape => "reshape",
            Family::Shrink => "shrink",
        }
    }

    /// This family's bit in a [`Case::families`] set.
    pub fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A base shape and the movement ops applied to a contiguous buffer of it, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    pub base: Vec<i64>,
    pub chain: Vec<Movement>,
}

impl Case {
    /// The set of families present in the chain, as bits ([`Family::bit`]).
    pub fn families(&self) -> u8 {
        self.chain
            .iter()
            .fold(0, |acc, m| acc | Family::of(m).bit())
    }

    /// The shape after each op (`[0]` is the base), or why an op does not fit.
    pub fn shapes(&self) -> Result<Vec<Vec<i64>>, uop_ir::ShapeError> {
        let mut shapes = vec![self.base.clone()];
        for m in &self.chain {
            let next = m.output_shape(&shapes[shapes.len() - 1])?;
            shapes.push(next);
        }
        Ok(shapes)
    }
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "base {:?}", self.base)?;
        for m in &self.chain {
            write!(f, " -> {m}")?;
        }
        Ok(())
    }
}

/// `"pad+reshape"`: the names of a family set, alphabetical, joined by `+`.
pub fn families_name(set: u8) -> String {
    let names: Vec<&str> = Family::ALL
        .iter()
        .filter(|f| set & f.bit() != 0)
        .map(|f| f.name())
        .collect();
    if names.is_empty() {
        "(none)".to_string()
    } else {
        names.join("+")
    }
}

/// The seed of case `index` of a run seeded with `seed`.
pub fn case_seed(seed: u64, index: u64) -> u64 {
    let mut rng = SplitMix(seed ^ index.wrapping_mul(0xd1b5_4a32_d192_ed03));
    rng.next_u64() ^ SplitMix(index).next_u64()
}

/// The case of `case_seed(seed, index)`.
pub fn random_case(seed: u64, index: u64) -> Case {
    let mut rng = SplitMix(case_seed(seed, index));
    let base = random_shape(&mut rng);
    let (chain, _) = random_chain(&mut rng, &base, MAX_CHAIN);
    Case { base, chain }
}

/// A chain of 1 to `max_len` movement ops that fit `shape` and the limits (shorter when no
/// op fits), with the shape it leaves. Also `fuzz-kernels`' movement generator.
pub fn random_chain(rng: &mut SplitMix, shape: &[i64], max_len: u64) -> (Vec<Movement>, Vec<i64>) {
    let len = 1 + rng.below(max_len) as usize;
    let mut chain = Vec::with_capacity(len);
    let mut shape = shape.to_vec();
    for _ in 0..len {
        let Some((m, next)) = random_fitting_op(rng, &shape) else {
            break;
        };
        chain.push(m);
        shape = next;
    }
    (chain, shape)
}

/// A random base shape: rank 1 to 5, dims 1 to 16 (about a quarter 1), at most
/// [`MAX_ELEMENTS`] elements.
pub fn random_shape(rng: &mut SplitMix) -> Vec<i64> {
    let rank = 1 + rng.below(MAX_BASE_RANK) as usize;
    let mut shape: Vec<i64> = (0..rank).map(|_| random_dim(rng)).collect();
    while shape.iter().product::<i64>() > MAX_ELEMENTS {
        let (at, _) = shape
            .iter()
            .enumerate()
            .max_by_key(|(i, d)| (**d, usize::MAX - i))
            .unwrap_or((0, &1));
        shape[at] = (shape[at] / 2).max(1);
    }
    shape
}

fn random_dim(rng: &mut SplitMix) -> i64 {
    if rng.below(4) == 0 {
        1
    } else {
        2 + rng.below(MAX_DIM - 1) as i64
    }
}

/// An op of a random family that fits `shape` and the limits, with its output shape.
fn random_fitting_op(rng: &mut SplitMix, shape: &[i64]) -> Option<(Movement, Vec<i64>)> {
    for _ in 0..ATTEMPTS {
        let family = Family::ALL[rng.below(Family::ALL.len() as u64) as usize];
        let Some(m) = random_op(rng, family, shape) else {
            continue;
        };
        let Ok(next) = m.output_shape(shape) else {
            continue;
        };
        if next.len() <= MAX_RANK && checked_numel(&next).is_ok_and(|n| n <= MAX_ELEMENTS) {
            return Some((m, next));
        }
    }
    None
}

/// A random op of `family` for `shape`, or `None` when the family has nothing useful to do.
fn random_op(rng: &mut SplitMix, family: Family, shape: &[i64]) -> Option<Movement> {
    let rank = shape.len();
    Some(match family {
        Family::Reshape => Movement::Reshape(random_reshape(rng, shape)?),
        Family::Permute => {
            if rank < 2 {
                return None;
            }
            let mut p: Vec<usize> = (0..rank).collect();
            while p.iter().enumerate().all(|(i, &a)| i == a) {
                shuffle(rng, &mut p);
            }
            Movement::Permute(p)
        }
        Family::Expand => {
            let ones: Vec<usize> = (0..rank).filter(|&i| shape[i] == 1).collect();
            if ones.is_empty() {
                return None;
            }
            let forced = ones[rng.below(ones.len() as u64) as usize];
            let new = (0..rank)
                .map(|i| {
                    if shape[i] == 1 && (i == forced || rng.below(2) == 0) {
                        let most = if rng.below(4) == 0 { 15 } else { 7 };
                        2 + rng.below(most) as i64
                    } else {
                        shape[i]
                    }
                })
                .collect();
            Movement::Expand(new)
        }
        Family::Pad => {
            let forced = rng.below(rank as u64) as usize;
            let arg = (0..rank)
                .map(|i| {
                    if i == forced || rng.below(2) == 0 {
                        let (b, a) = (rng.below(MAX_PAD + 1), rng.below(MAX_PAD + 1));
                        let (b, a) = if b + a == 0 {
                            (0, 1 + rng.below(MAX_PAD))
                        } else {
                            (b, a)
                        };
                        (b as i64, a as i64)
                    } else {
                        (0, 0)
                    }
                })
                .collect();
            Movement::Pad(arg)
        }
        Family::Shrink => {
            let wide: Vec<usize> = (0..rank).filter(|&i| shape[i] > 1).collect();
            if wide.is_empty() {
                return None;
            }
            let forced = wide[rng.below(wide.len() as u64) as usize];
            let arg = (0..rank)
                .map(|i| {
                    let dim = shape[i];
                    if dim > 1 && (i == forced || rng.below(2) == 0) {
                        loop {
                            let b = rng.below(dim as u64) as i64;
                            let e = b + 1 + rng.below((dim - b) as u64) as i64;
                            if (b, e) != (0, dim) {
                                return (b, e);
                            }
                        }
                    } else {
                        (0, dim)
                    }
                })
                .collect();
            Movement::Shrink(arg)
        }
        Family::Flip => {
            let forced = rng.below(rank as u64) as usize;
            Movement::Flip(
                (0..rank)
                    .map(|i| i == forced || rng.below(2) == 0)
                    .collect(),
            )
        }
    })
}

/// One of three reshapes: split a dim into two factors (a factor may be 1, which inserts
/// a size-1 dim), merge two adjacent dims, or refactor the whole element count.
fn random_reshape(rng: &mut SplitMix, shape: &[i64]) -> Option<Vec<i64>> {
    let rank = shape.len();
    match rng.below(3) {
        0 => {
            let at = rng.below(rank as u64) as usize;
            let divisors: Vec<i64> = (1..=shape[at]).filter(|d| shape[at] % d == 0).collect();
            let f = divisors[rng.below(divisors.len() as u64) as usize];
            let mut new = shape[..at].to_vec();
            new.extend([f, shape[at] / f]);
            new.extend(&shape[at + 1..]);
            Some(new)
        }
        1 => {
            if rank < 2 {
                return None;
            }
            let at = rng.below(rank as u64 - 1) as usize;
            let mut new = shape[..at].to_vec();
            new.push(shape[at] * shape[at + 1]);
            new.extend(&shape[at + 2..]);
            Some(new)
        }
        _ => {
            let mut primes = prime_factors(shape.iter().product());
            shuffle(rng, &mut primes);
            let buckets = 1 + rng.below(primes.len().clamp(1, 5) as u64) as usize;
            let mut new = vec![1i64; buckets];
            for (i, p) in primes.iter().enumerate() {
                let at = if i < buckets {
                    i
                } else {
                    rng.below(buckets as u64) as usize
                };
                new[at] *= p;
            }
            if rng.below(4) == 0 {
                let at = rng.below(new.len() as u64 + 1) as usize;
                new.insert(at, 1);
            }
            (new != shape).then_some(new)
        }
    }
}

fn prime_factors(mut n: i64) -> Vec<i64> {
    let mut out = Vec::new();
    let mut p = 2;
    while p * p <= n {
        while n % p == 0 {
            out.push(p);
            n /= p;
        }
        p += 1;
    }
    if n > 1 {
        out.push(n);
    }
    out
}

fn shuffle<T>(rng: &mut SplitMix, v: &mut [T]) {
    for i in (1..v.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        v.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_replay_and_fit() {
        for i in 0..500 {
            let case = random_case(3, i);
            assert_eq!(case, random_case(3, i));
            assert!(!case.chain.is_empty(), "{case}");
            let shapes = case.shapes().expect("every op fits");
            for s in &shapes {
                assert!(s.len() <= MAX_RANK, "{case}");
                assert!(
                    checked_numel(s).expect("positive") <= MAX_ELEMENTS,
                    "{case}"
                );
            }
        }
    }

    #[test]
    fn every_family_shows_up() {
        let all = (0..300).fold(0, |acc, i| acc | random_case(0, i).families());
        assert_eq!(families_name(all), "expand+flip+pad+permute+reshape+shrink");
    }

    #[test]
    fn prime_factors_multiply_back() {
        assert_eq!(prime_factors(360), vec![2, 2, 2, 3, 3, 5]);
        assert_eq!(prime_factors(1), Vec::<i64>::new());
        assert_eq!(prime_factors(13), vec![13]);
    }
}
