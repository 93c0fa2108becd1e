//! Whole-graph helpers: `toposort` (sources before users, iterative), `substitute`
//! (replace nodes by others everywhere), `node_count`.

use std::collections::HashMap;

use crate::uop::{UOp, UOpMap, UOpSet};

/// Every node reachable from `root`, each once, sources before the nodes that use them.
/// The order is deterministic (sources in order, depth first).
pub fn toposort(root: &UOp) -> Vec<UOp> {
    toposort_many(std::slice::from_ref(root))
}

/// `toposort` over several roots.
pub fn toposort_many(roots: &[UOp]) -> Vec<UOp> {
    let mut out = Vec::new();
    let mut done: UOpSet = UOpSet::default();
    let mut stack: Vec<(UOp, bool)> = roots.iter().rev().map(|r| (r.clone(), false)).collect();
    while let Some((n, expanded)) = stack.pop() {
        if done.contains(&n) {
            continue;
        }
        if expanded {
            done.insert(n.clone());
            out.push(n);
        } else {
            stack.push((n.clone(), true));
            stack.extend(
                n.src()
                    .iter()
                    .rev()
                    .filter(|s| !done.contains(*s))
                    .map(|s| (s.clone(), false)),
            );
        }
    }
    out
}

/// The number of distinct nodes reachable from `root`.
pub fn node_count(root: &UOp) -> usize {
    toposort(root).len()
}

/// `root` with every occurrence of a key of `map` replaced by its value. Replacements are
/// not searched again.
pub fn substitute<S: std::hash::BuildHasher>(root: &UOp, map: &HashMap<UOp, UOp, S>) -> UOp {
    let mut done: UOpMap<UOp> = UOpMap::default();
    let mut stack: Vec<(UOp, bool)> = vec![(root.clone(), false)];
    while let Some((n, expanded)) = stack.pop() {
        if done.contains_key(&n) {
            continue;
        }
        if let Some(to) = map.get(&n) {
            done.insert(n, to.clone());
        } else if n.src().is_empty() {
            done.insert(n.clone(), n);
        } else if !expanded {
            stack.push((n.clone(), true));
            stack.extend(
                n.src()
                    .iter()
                    .filter(|s| !done.contains_key(*s))
                    .map(|s| (s.clone(), false)),
            );
        } else {
            let src: Vec<UOp> = n.src().iter().map(|s| done[s].clone()).collect();
            let new = if src.as_slice() == n.src() {
                n.clone()
            } else {
                n.with_src(src)
            };
            done.insert(n, new);
        }
    }
    done.remove(root).unwrap_or_else(|| root.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_come_first_and_once() {
        let x = UOp::var("x", 0, 3);
        let e = (&x + &x) * &x;
        let order = toposort(&e);
        assert_eq!(order.len(), 3);
        assert_eq!(order[0], x);
        assert_eq!(order.last(), Some(&e));
    }

    #[test]
    fn substitute_replaces_everywhere() {
        let x = UOp::var("x", 0, 3);
        let y = UOp::var("y", 0, 3);
        let e = (&x + 1) * &x;
        let out = substitute(&e, &HashMap::from([(x.clone(), y.clone())]));
        assert_eq!(out, (&y + 1) * &y);
    }

    #[test]
    fn deep_graphs_sort_without_recursion() {
        let mut e = UOp::int(0);
        for i in 0..100_000 {
            e = e + (i % 3);
        }
        assert_eq!(toposort(&e).len(), 100_000 + 3);
    }
}
