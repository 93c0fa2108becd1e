//! The backward walk. The gradient graph of a node follows its sources, except that
//! DETACH and ASSIGN pass no gradient and a realized view passes it to its origin (the
//! graph it was realized from). Nodes on no path to a target are skipped; the others are
//! visited from the root back, each node's gradient (summed over its users) going to its
//! sources by its rule (`rules.rs`). Only float nodes carry gradients.

use uop_ir::{Op, UOp, UOpMap, UOpSet};

use super::{leaves, origins, rules};
use crate::error::{Result, TensorError};
use crate::tensor::Tensor;

/// The nodes a gradient flows to from `u`.
fn parents(u: &UOp) -> Vec<UOp> {
    match u.op() {
        Op::Detach | Op::Assign => Vec::new(),
        _ => match origins::any().then(|| origins::origin_of(u)).flatten() {
            Some(origin) => vec![origin],
            None => u.src().to_vec(),
        },
    }
}

/// The nodes reachable from `root` through `parents`, sources before users.
fn order(root: &UOp) -> Vec<UOp> {
    let mut out = Vec::new();
    let mut seen = UOpSet::default();
    let mut stack = vec![(root.clone(), false)];
    while let Some((u, expanded)) = stack.pop() {
        if expanded {
            out.push(u);
            continue;
        }
        if !seen.insert(u.clone()) {
            continue;
        }
        stack.push((u.clone(), true));
        for p in parents(&u).into_iter().rev() {
            if !seen.contains(&p) {
                stack.push((p, false));
            }
        }
    }
    out
}

/// For each tensor: whether its graph leads to a leaf that requires grad (it is not
/// such a leaf itself, nor an assignment).
pub(crate) fn tracked(tensors: &[&Tensor]) -> Vec<bool> {
    let leaves = leaves::live();
    if leaves.is_empty() {
        return vec![false; tensors.len()];
    }
    let targets: UOpSet = leaves.iter().map(Tensor::node).collect();
    tensors
        .iter()
        .map(|t| {
            let n = t.node();
            !targets.contains(&n)
                && n.op() != Op::Assign
                && order(&n).iter().any(|u| targets.contains(u))
        })
        .collect()
}

/// The gradient of `root` (whose own gradient is `seed`) with respect to each node of
/// `targets` that it depends on.
pub(crate) fn gradients(root: &UOp, seed: Tensor, targets: &[UOp]) -> Result<UOpMap<Tensor>> {
    let device = seed.device().to_string();
    let wanted: UOpSet = targets.iter().cloned().collect();
    let order = order(root);
    // nodes with a path to a target
    let mut on_path = UOpSet::default();
    for u in &order {
        if wanted.contains(u) || parents(u).iter().any(|p| on_path.contains(p)) {
            on_path.insert(u.clone());
        }
    }
    let mut grads: UOpMap<Tensor> = UOpMap::default();
    if on_path.contains(root) {
        grads.insert(root.clone(), seed);
    }
    for u in order.iter().rev() {
        if !on_path.contains(u) || wanted.contains(u) && parents(u).is_empty() {
            continue;
        }
        let Some(ctx) = grads.get(u).cloned() else {
            continue;
        };
        let (to, gs): (Vec<UOp>, Vec<Option<Tensor>>) = match origins::origin_of(u) {
            Some(origin) => (vec![origin], vec![Some(ctx)]),
            None => (u.src().to_vec(), rules::gradient(u, &ctx, &device)?),
        };
        if gs.len() != to.len() {
            return Err(TensorError::Gradient {
                op: u.op(),
                why: format!(
                    "its rule gave {} gradients for {} sources",
                    gs.len(),
                    to.len()
                ),
            });
        }
        for (p, g) in to.into_iter().zip(gs) {
            let Some(g) = g else { continue };
            if !on_path.contains(&p) || !p.dtype().is_float() {
                continue;
            }
            let sum = match grads.remove(&p) {
                Some(have) => have.add(&g)?,
                None => g,
            };
            grads.insert(p, sum);
        }
    }
    Ok(targets
        .iter()
        .filter_map(|t| grads.get(t).map(|g| (t.clone(), g.clone())))
        .collect())
}
