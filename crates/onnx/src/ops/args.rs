//! `Inputs`: a node's input values by position, with accessors that say which input was
//! missing or of the wrong kind.

use crate::error::{Result, invalid};
use crate::value::{Sequence, TensorValue, Value};

pub(crate) struct Inputs<'a> {
    args: &'a [Option<Value>],
}

impl<'a> Inputs<'a> {
    pub fn new(args: &'a [Option<Value>]) -> Inputs<'a> {
        Inputs { args }
    }

    /// How many inputs the node lists (omitted optional ones included).
    pub fn len(&self) -> usize {
        self.args.len()
    }

    /// Input `i`, if given.
    pub fn value(&self, i: usize) -> Option<&'a Value> {
        self.args.get(i).and_then(|v| v.as_ref())
    }

    /// Every input from `start` on that is given.
    pub fn rest(&self, start: usize) -> Result<Vec<&'a TensorValue>> {
        (start..self.args.len())
            .filter(|&i| self.value(i).is_some())
            .map(|i| self.tensor(i))
            .collect()
    }

    /// Input `i`, which must be a tensor.
    pub fn tensor(&self, i: usize) -> Result<&'a TensorValue> {
        match self.value(i) {
            Some(Value::Tensor(t)) => Ok(t),
            Some(other) => Err(invalid!("input {i} must be a tensor, got {}", other.kind())),
            None => Err(invalid!("input {i} is required")),
        }
    }

    /// Input `i` if given (an empty optional counts as not given).
    pub fn opt_tensor(&self, i: usize) -> Result<Option<&'a TensorValue>> {
        match self.value(i) {
            Some(Value::Tensor(t)) => Ok(Some(t)),
            Some(Value::None) | None => Ok(None),
            Some(other) => Err(invalid!("input {i} must be a tensor, got {}", other.kind())),
        }
    }

    /// Input `i`, which must be a sequence.
    pub fn sequence(&self, i: usize) -> Result<&'a Sequence> {
        match self.value(i) {
            Some(Value::Sequence(s)) => Ok(s),
            Some(other) => Err(invalid!(
                "input {i} must be a sequence, got {}",
                other.kind()
            )),
            None => Err(invalid!("input {i} is required")),
        }
    }

    /// Input `i` as integers (a shape, axes, a count), if given.
    pub fn ints_opt(&self, i: usize) -> Result<Option<Vec<i64>>> {
        self.opt_tensor(i)?.map(|t| t.ints()).transpose()
    }

    /// Input `i` as floats, if given.
    pub fn floats_opt(&self, i: usize) -> Result<Option<Vec<f64>>> {
        self.opt_tensor(i)?.map(|t| t.floats()).transpose()
    }
}
