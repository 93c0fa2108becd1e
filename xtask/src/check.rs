//! One case of `fuzz-symbolic`: build the view stack and the symbolic index expression,
//! simplify it, and compare both at every point of the output shape.
//!
//! Expected values come from `view-ref` (the stack simplified by `ViewStack::simplify`).
//! The simplified expression must agree with it on validity (`None` vs `Invalid`) and on
//! the offset everywhere. The reference expression of `reference.rs` is checked the same
//! way, so a size comparison never rests on a wrong yardstick. At a disagreeing point the
//! unsimplified expression is evaluated too, which tells a simplifier bug (the raw one
//! agrees) from a movement-op bug (it does not).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use uop_ir::{Arg, ConstValue, Evaluator, Movement, UOp, expr_string, index_through, node_count};
use view_ref::ViewStack;

use crate::cases::Case;
use crate::reference::reference_expr;

/// Disagreeing points kept per expression, for printing.
const KEPT_POINTS: usize = 10;

/// Everything built for one case.
#[derive(Debug)]
pub struct Built {
    pub shapes: Vec<Vec<i64>>,
    pub stack: ViewStack,
    pub raw: UOp,
    pub simplified: UOp,
    pub reference: UOp,
    pub simplify_time: Duration,
}

/// A point where an expression disagrees with `view-ref`.
#[derive(Debug, Clone)]
pub struct BadPoint {
    pub point: Vec<i64>,
    pub expected: Option<i64>,
    pub got: ConstValue,
    /// The unsimplified expression's value there.
    pub raw: Option<ConstValue>,
}

/// How an expression compared with `view-ref`.
#[derive(Debug, Clone, Default)]
pub struct Comparison {
    pub bad: u64,
    pub kept: Vec<BadPoint>,
}

/// The result of one case.
#[derive(Debug)]
pub struct Outcome {
    pub families: u8,
    pub points: u64,
    pub views: usize,
    pub raw_nodes: usize,
    pub simplified_nodes: usize,
    pub reference_nodes: usize,
    pub simplify_time: Duration,
    pub simplified: Comparison,
    pub reference: Comparison,
    /// A failure before any point was compared (simplify error, panic, ...).
    pub error: Option<String>,
}

impl Outcome {
    pub fn failed(&self) -> bool {
        self.error.is_some() || self.simplified.bad > 0 || self.reference.bad > 0
    }

    pub fn no_larger(&self) -> bool {
        self.error.is_none() && self.simplified_nodes <= self.reference_nodes
    }
}

/// Runs `case`, turning a panic anywhere into a failure.
pub fn run_case(case: &Case) -> Outcome {
    let mut out = Outcome {
        families: case.families(),
        points: 0,
        views: 0,
        raw_nodes: 0,
        simplified_nodes: 0,
        reference_nodes: 0,
        simplify_time: Duration::ZERO,
        simplified: Comparison::default(),
        reference: Comparison::default(),
        error: None,
    };
    match catch_unwind(AssertUnwindSafe(|| {
        build(case).and_then(|b| compare(&b).map(|c| (b, c)))
    })) {
        Ok(Ok((b, (simplified, reference, points)))) => {
            out.points = points;
            out.views = b.stack.views.len();
            out.raw_nodes = node_count(&b.raw);
            out.simplified_nodes = node_count(&b.simplified);
            out.reference_nodes = node_count(&b.reference);
            out.simplify_time = b.simplify_time;
            out.simplified = simplified;
            out.reference = reference;
        }
        Ok(Err(e)) => out.error = Some(e),
        Err(panic) => {
            out.error = Some(format!("panic: {}", panic_message(panic.as_ref())));
        }
    }
    out
}

/// Builds the stack, the raw and simplified expressions, and the reference expression.
pub fn build(case: &Case) -> Result<Built, String> {
    let shapes = case
        .shapes()
        .map_err(|e| format!("chain does not fit: {e}"))?;
    let mut stack = ViewStack::from_shape(&case.base).map_err(|e| format!("view-ref: {e}"))?;
    for m in &case.chain {
        stack = apply(&stack, m).map_err(|e| format!("view-ref rejects {m}: {e}"))?;
    }
    let stack = stack.simplify();
    let out_shape = &shapes[shapes.len() - 1];
    let ranges: Vec<UOp> = out_shape
        .iter()
        .enumerate()
        .map(|(axis, &dim)| UOp::range(dim, axis as u32))
        .collect();
    let (raw, _) = index_through(&case.base, &case.chain, &ranges)
        .map_err(|e| format!("index_through: {e}"))?;
    let start = Instant::now();
    let simplified = symbolic::simplify(&raw).map_err(|e| format!("simplify: {e}"))?;
    let simplify_time = start.elapsed();
    let reference = reference_expr(&stack, &ranges);
    Ok(Built {
        shapes,
        stack,
        raw,
        simplified,
        reference,
        simplify_time,
    })
}

/// `m` applied to the top of `stack` (view-ref's movement ops).
pub fn apply(stack: &ViewStack, m: &Movement) -> view_ref::Result<ViewStack> {
    match m {
        Movement::Reshape(s) => stack.reshape(s),
        Movement::Permute(p) => stack.permute(p),
        Movement::Expand(s) => stack.expand(s),
        Movement::Pad(p) => stack.pad(p),
        Movement::Shrink(s) => stack.shrink(s),
        Movement::Flip(f) => stack.flip(f),
    }
}

/// Compares the simplified and the reference expression with `view-ref` at every point;
/// also returns the number of points.
pub fn compare(b: &Built) -> Result<(Comparison, Comparison, u64), String> {
    let shape = &b.shapes[b.shapes.len() - 1];
    let mut simplified = PointEval::new(&b.simplified)?;
    let mut reference = PointEval::new(&b.reference)?;
    let mut raw = PointEval::new(&b.raw)?;
    let (mut cs, mut cr) = (Comparison::default(), Comparison::default());
    let mut point = vec![0i64; shape.len()];
    let mut points = 0u64;
    loop {
        points += 1;
        let expected = b.stack.index_at(&point);
        for (eval, cmp) in [(&mut simplified, &mut cs), (&mut reference, &mut cr)] {
            let got = eval.at(&point)?;
            if !agrees(expected, got) {
                cmp.bad += 1;
                if cmp.kept.len() < KEPT_POINTS {
                    cmp.kept.push(BadPoint {
                        point: point.clone(),
                        expected,
                        got,
                        raw: raw.at(&point).ok(),
                    });
                }
            }
        }
        if !next_point(&mut point, shape) {
            return Ok((cs, cr, points));
        }
    }
}

pub fn agrees(expected: Option<i64>, got: ConstValue) -> bool {
    match (expected, got) {
        (None, ConstValue::Invalid) => true,
        (Some(e), ConstValue::Int(g)) => i128::from(e) == g,
        _ => false,
    }
}

/// Row-major odometer; false once every point was visited.
pub fn next_point(point: &mut [i64], shape: &[i64]) -> bool {
    for (x, &dim) in point.iter_mut().zip(shape).rev() {
        *x += 1;
        if *x < dim {
            return true;
        }
        *x = 0;
    }
    false
}

/// An expression ready to evaluate at points of the output shape: its RANGE leaves are
/// mapped to their axes.
struct PointEval {
    eval: Evaluator,
    axes: Vec<usize>,
    values: Vec<i128>,
}

impl PointEval {
    fn new(e: &UOp) -> Result<PointEval, String> {
        let eval = Evaluator::new(e).map_err(|err| format!("cannot evaluate: {err}"))?;
        let axes = eval
            .leaves()
            .iter()
            .map(|l| match l.arg() {
                Arg::Range { axis, .. } => Ok(*axis as usize),
                _ => Err(format!("leaf {} is not a RANGE", expr_string(l))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let values = vec![0; axes.len()];
        Ok(PointEval { eval, axes, values })
    }

    fn at(&mut self, point: &[i64]) -> Result<ConstValue, String> {
        for (v, &a) in self.values.iter_mut().zip(&self.axes) {
            *v = point.get(a).copied().map_or(-1, i128::from);
        }
        self.eval
            .eval(&self.values)
            .map_err(|e| format!("evaluation at {point:?} failed: {e}"))
    }
}

/// `case` with ops removed, one at a time, for as long as the remaining chain still fits
/// and still fails.
pub fn minimize(case: &Case) -> Case {
    let mut best = case.clone();
    let mut i = 0;
    while i < best.chain.len() && best.chain.len() > 1 {
        let mut trial = best.clone();
        trial.chain.remove(i);
        if trial.shapes().is_ok() && run_case(&trial).failed() {
            best = trial;
        } else {
            i += 1;
        }
    }
    best
}

/// The message a caught panic carries (`panic!` with a literal or a formatted string).
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odometer_visits_every_point_once() {
        let shape = [2, 1, 3];
        let mut p = vec![0; 3];
        let mut n = 1;
        while next_point(&mut p, &shape) {
            n += 1;
        }
        assert_eq!(n, 6);
        assert_eq!(p, vec![0, 0, 0]);
    }

    #[test]
    fn a_known_case_agrees() {
        let case = Case {
            base: vec![4],
            chain: vec![Movement::Pad(vec![(1, 1)]), Movement::Reshape(vec![2, 3])],
        };
        let out = run_case(&case);
        assert!(out.error.is_none(), "{:?}", out.error);
        assert_eq!(out.points, 6);
        assert_eq!(out.reference.bad, 0);
        assert_eq!(out.views, 2);
    }
}
