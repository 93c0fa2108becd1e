//! Evaluates an expression graph at given values of its leaves (RANGE, DEFINE_VAR,
//! SPECIAL). The graph is flattened once into a tape, so evaluating it at many points is
//! cheap. Arithmetic is `exec_alu`, the same code constant folding uses.

use std::collections::HashMap;

use thiserror::Error;

use crate::alu::{AluError, exec_alu};
use crate::arg::ConstValue;
use crate::graph::toposort;
use crate::op::Op;
use crate::uop::{UOp, UOpMap};

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EvalError {
    #[error("cannot evaluate a {0} node: only constants, variables and ALU ops have values")]
    NotAValue(Op),
    #[error("{0}")]
    Alu(#[from] AluError),
    #[error("expected {expected} leaf values, got {got}")]
    WrongLeafCount { expected: usize, got: usize },
}

enum Step {
    Const(ConstValue),
    Leaf(usize),
    Alu { node: UOp, src: Vec<usize> },
}

/// A flattened expression, ready to evaluate at many points.
pub struct Evaluator {
    leaves: Vec<UOp>,
    steps: Vec<Step>,
    values: Vec<ConstValue>,
}

impl std::fmt::Debug for Evaluator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Evaluator({} steps, leaves {:?})",
            self.steps.len(),
            self.leaves
        )
    }
}

impl Evaluator {
    /// Flattens `root`. Leaves are listed by `leaves()` in a deterministic order.
    pub fn new(root: &UOp) -> Result<Evaluator, EvalError> {
        let order = toposort(root);
        let mut at: UOpMap<usize> = UOpMap::default();
        let mut leaves = Vec::new();
        let mut steps = Vec::with_capacity(order.len());
        for n in order {
            let step = match n.op() {
                Op::Const => Step::Const(n.const_value().unwrap_or(ConstValue::Invalid)),
                Op::Range | Op::DefineVar | Op::Special => {
                    leaves.push(n.clone());
                    Step::Leaf(leaves.len() - 1)
                }
                op if op.alu_arity().is_some() => Step::Alu {
                    node: n.clone(),
                    src: n.src().iter().map(|s| at[s]).collect(),
                },
                op => return Err(EvalError::NotAValue(op)),
            };
            at.insert(n, steps.len());
            steps.push(step);
        }
        let values = vec![ConstValue::Invalid; steps.len()];
        Ok(Evaluator {
            leaves,
            steps,
            values,
        })
    }

    /// The leaves, in the order `eval` takes their values.
    pub fn leaves(&self) -> &[UOp] {
        &self.leaves
    }

    /// The value of the root when leaf `i` has value `leaf_values[i]`.
    pub fn eval(&mut self, leaf_values: &[i128]) -> Result<ConstValue, EvalError> {
        if leaf_values.len() != self.leaves.len() {
            return Err(EvalError::WrongLeafCount {
                expected: self.leaves.len(),
                got: leaf_values.len(),
            });
        }
        for i in 0..self.steps.len() {
            self.values[i] = match &self.steps[i] {
                Step::Const(c) => *c,
                Step::Leaf(l) => ConstValue::Int(leaf_values[*l]),
                Step::Alu { node, src } => {
                    let mut args = [ConstValue::Invalid; 3];
                    src.iter()
                        .zip(args.iter_mut())
                        .for_each(|(s, a)| *a = self.values[*s]);
                    exec_alu(node.op(), node.dtype(), &args[..src.len()])?
                }
            };
        }
        Ok(self.values.last().copied().unwrap_or(ConstValue::Invalid))
    }
}

/// Evaluates `root` once, with leaf values given by node.
pub fn eval_with(root: &UOp, env: &HashMap<UOp, i128>) -> Result<ConstValue, EvalError> {
    let mut e = Evaluator::new(root)?;
    let values: Vec<i128> = e
        .leaves()
        .iter()
        .map(|l| env.get(l).copied().unwrap_or(0))
        .collect();
    e.eval(&values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluates_gated_index_math() {
        let r = UOp::range(8, 0);
        let e = r.lt(5).where_(&(&r * 3).floormod(4), &UOp::invalid());
        let mut ev = Evaluator::new(&e).expect("flattens");
        assert_eq!(ev.eval(&[3]), Ok(ConstValue::Int(1)));
        assert_eq!(ev.eval(&[6]), Ok(ConstValue::Invalid));
        assert!(matches!(
            ev.eval(&[]),
            Err(EvalError::WrongLeafCount { .. })
        ));
    }

    #[test]
    fn division_by_zero_is_an_error() {
        let v = UOp::var("v", 0, 3);
        let e = UOp::int(7).floordiv(&v);
        let mut ev = Evaluator::new(&e).expect("flattens");
        assert!(matches!(
            ev.eval(&[0]),
            Err(EvalError::Alu(AluError::DivisionByZero { .. }))
        ));
    }
}
