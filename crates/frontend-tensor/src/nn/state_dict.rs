//! Loading a state dict into a module: every name is checked first (missing, unexpected,
//! shape, dtype, device), and only a state that matches in full is written, each value
//! assigned into the existing tensor's buffer, all of them realized in one schedule.

use std::collections::{HashMap, HashSet};

use crate::autograd::no_grad;
use crate::error::{Result, TensorError};
use crate::tensor::Tensor;

/// Writes `given` into `targets` (a module's state dict) after checking that the names,
/// shapes, dtypes and devices match exactly.
pub(crate) fn load_into(targets: &[(String, Tensor)], given: &[(String, Tensor)]) -> Result<()> {
    let mut by_name: HashMap<&str, &Tensor> = HashMap::new();
    let mut mismatched = Vec::new();
    for (name, t) in given {
        if by_name.insert(name, t).is_some() {
            mismatched.push(format!("{name}: given more than once"));
        }
    }
    let wanted: HashSet<&str> = targets.iter().map(|(n, _)| n.as_str()).collect();
    let missing: Vec<String> = targets
        .iter()
        .filter(|(n, _)| !by_name.contains_key(n.as_str()))
        .map(|(n, _)| n.clone())
        .collect();
    let mut unexpected: Vec<String> = by_name
        .keys()
        .filter(|n| !wanted.contains(*n))
        .map(|n| n.to_string())
        .collect();
    unexpected.sort();
    for (name, target) in targets {
        let Some(value) = by_name.get(name.as_str()) else {
            continue;
        };
        if let Some(why) = mismatch(target, value) {
            mismatched.push(format!("{name}: {why}"));
        }
    }
    if !(missing.is_empty() && unexpected.is_empty() && mismatched.is_empty()) {
        return Err(TensorError::StateDict {
            missing,
            unexpected,
            mismatched,
        });
    }
    // a tensor listed under two names (tied weights) is written once
    let mut written: Vec<Tensor> = Vec::new();
    no_grad(|| -> Result<()> {
        for (name, target) in targets {
            let value = by_name[name.as_str()];
            if target.same(value) || written.iter().any(|w| w.same(target)) {
                continue;
            }
            target.assign(value)?;
            written.push(target.clone());
        }
        Ok(())
    })?;
    let refs: Vec<&Tensor> = written.iter().collect();
    Tensor::realize_all(&refs)
}

/// What keeps `value` from being written into `target`, if anything.
fn mismatch(target: &Tensor, value: &Tensor) -> Option<String> {
    if target.shape() != value.shape() || target.dtype() != value.dtype() {
        return Some(format!(
            "the module has {:?} {}, the state gives {:?} {}",
            target.shape(),
            target.dtype(),
            value.shape(),
            value.dtype()
        ));
    }
    if target.device() != value.device() {
        return Some(format!(
            "the module's tensor is on {}, the state's on {}",
            target.device(),
            value.device()
        ));
    }
    None
}
