//! Random index expressions, for soundness tests, the fuzz target, the benchmark and
//! `cargo xtask fuzz-symbolic`. Expressions are built over four bounded variables with
//! the shapes index math takes (`+c`, `*c`, `//c`, `%c`, min/max, sums and products of
//! subexpressions, `where` on comparisons), and never overflow: a node that could wrap is
//! replaced by one of its operands. Randomness comes from an `Entropy` source: a seeded
//! generator, or raw bytes (the fuzzer's input).

use uop_ir::{ConstValue, Evaluator, UOp};

use crate::predicates::fits_without_wrap;

/// A source of random words.
pub trait Entropy {
    fn next_u64(&mut self) -> u64;

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// A nonzero constant in `-9..=9`.
    fn small_nonzero(&mut self) -> i64 {
        let v = self.below(9) as i64 + 1;
        if self.below(2) == 0 { v } else { -v }
    }
}

/// SplitMix64: a small, fast, seedable generator.
#[derive(Clone, Debug)]
pub struct SplitMix(pub u64);

impl Entropy for SplitMix {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// Bytes read as little-endian words; zeros once they run out (so decoding terminates).
#[derive(Clone, Debug)]
pub struct Bytes<'a>(pub &'a [u8]);

impl Entropy for Bytes<'_> {
    fn next_u64(&mut self) -> u64 {
        let take = self.0.len().min(2);
        let (head, rest) = self.0.split_at(take);
        self.0 = rest;
        head.iter()
            .rev()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
    }
}

const UPPER_BOUNDS: [i64; 14] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 32, 64, 128, 256];

/// Four index variables `a`..`d` with random upper bounds (lower bound 0).
pub fn random_vars(rng: &mut impl Entropy) -> Vec<UOp> {
    ["a", "b", "c", "d"]
        .iter()
        .map(|n| {
            UOp::var(
                n,
                0,
                UPPER_BOUNDS[rng.below(UPPER_BOUNDS.len() as u64) as usize],
            )
        })
        .collect()
}

/// A random expression of the given depth over `vars`.
pub fn random_expr(rng: &mut impl Entropy, vars: &[UOp], depth: u32) -> UOp {
    if depth == 0 || rng.below(8) == 0 {
        return vars[rng.below(vars.len() as u64) as usize].clone();
    }
    let x = random_expr(rng, vars, depth - 1);
    let c = rng.small_nonzero();
    let out = match rng.below(11) {
        0 => &x + c,
        1 => &x * c,
        2 => x.floordiv(c),
        3 => x.floormod(c),
        4 => x.max(c),
        5 => x.min(c),
        6 => &x + random_expr(rng, vars, depth - 1),
        7 => &x * random_expr(rng, vars, depth - 1),
        8 => x.max(random_expr(rng, vars, depth - 1)),
        9 => x.min(random_expr(rng, vars, depth - 1)),
        _ => {
            let y = random_expr(rng, vars, depth - 1);
            let cond = if rng.below(2) == 0 {
                x.lt(c)
            } else {
                x.lt(&y).not()
            };
            cond.where_(&x, &y)
        }
    };
    if fits_without_wrap(&out) { out } else { x }
}

/// A random expression, sometimes gated: `where(a < k & ..., e, Invalid)`.
pub fn random_gated_expr(rng: &mut impl Entropy, vars: &[UOp], depth: u32) -> UOp {
    let e = random_expr(rng, vars, depth);
    if rng.below(3) != 0 {
        return e;
    }
    let mut clause: Option<UOp> = None;
    for _ in 0..=rng.below(3) {
        let v = &vars[rng.below(vars.len() as u64) as usize];
        let k = rng.below(8) as i64;
        let c = match rng.below(3) {
            0 => v.lt(k + 1),
            1 => v.ge(k),
            _ => (v - k).ge(1), // the shape a pad after a shrink gives
        };
        clause = Some(match clause {
            Some(prev) => prev.and(c),
            None => c,
        });
    }
    let clause = clause.unwrap_or_else(|| UOp::bool(true));
    clause.where_(&e, &UOp::invalid())
}

/// Why an expression and its simplified form disagree.
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    pub point: Vec<i128>,
    pub original: ConstValue,
    pub simplified: ConstValue,
}

/// Evaluates `a` and `b` at `points` random assignments of `vars` (corners included) and
/// returns the first point where their values or validity differ.
pub fn compare_at_random_points(
    a: &UOp,
    b: &UOp,
    vars: &[UOp],
    rng: &mut impl Entropy,
    points: usize,
) -> Result<Option<Mismatch>, uop_ir::EvalError> {
    let mut ea = Evaluator::new(a)?;
    let mut eb = Evaluator::new(b)?;
    for p in 0..points {
        let point: Vec<i128> = vars
            .iter()
            .map(|v| {
                let bd = v.bounds().map_or((0, 0), |b| (b.min, b.max));
                match p {
                    0 => bd.0,
                    1 => bd.1,
                    _ => bd.0 + rng.below((bd.1 - bd.0 + 1) as u64) as i128,
                }
            })
            .collect();
        let at = |e: &Evaluator| -> Vec<i128> {
            e.leaves()
                .iter()
                .map(|l| vars.iter().position(|v| v == l).map_or(0, |i| point[i]))
                .collect()
        };
        let (va, vb) = (ea.eval(&at(&ea))?, eb.eval(&at(&eb))?);
        if va != vb {
            return Ok(Some(Mismatch {
                point,
                original: va,
                simplified: vb,
            }));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic() {
        let make = || {
            let mut rng = SplitMix(7);
            let vars = random_vars(&mut rng);
            random_expr(&mut rng, &vars, 6)
        };
        assert_eq!(make(), make());
    }

    #[test]
    fn bytes_run_out_gracefully() {
        let mut src = Bytes(&[1, 2, 3]);
        let vars = random_vars(&mut src);
        let _ = random_gated_expr(&mut src, &vars, 6);
        assert_eq!(src.next_u64(), 0);
    }
}
