//! `graph_rewrite`: applies a `PatternMatcher` to a whole graph.
//!
//! - `Mode::PostOrder` (default): sources first, then the node, again and again until no
//!   rule applies anywhere: the result is a fixed point.
//! - `Mode::BottomUp`: rules fire on a node before its sources (to a fixed point on that
//!   node), then the walk descends into the result.
//! - `Mode::Walk`: one pass, sources first, each node rewritten at most once, results
//!   not revisited.
//!
//! It uses an explicit stack (no recursion: a 100,000-deep chain is fine) and memoizes per
//! node within a call. Rule sets that do not terminate are reported, not run forever: a
//! node rewritten into something that contains a node still being rewritten is a cycle,
//! and a chain of more than `CHAIN_LIMIT` rewrites of one node is an error.

use std::panic::Location;

use thiserror::Error;

use crate::matcher::PatternMatcher;
use crate::print::short_string;
use crate::uop::{UOp, UOpMap, UOpSet};

/// The longest chain of rewrites of one node before the rule set is declared looping.
pub const CHAIN_LIMIT: u32 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    PostOrder,
    BottomUp,
    Walk,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RewriteError {
    #[error("rule `{rule}` ({location}) failed on {node}: {message}")]
    RuleFailed {
        rule: &'static str,
        location: String,
        node: String,
        message: String,
    },
    #[error(
        "rewrite does not terminate: rule `{rule}` ({location}) rewrote {node} into a graph that contains a node still being rewritten"
    )]
    Cycle {
        rule: &'static str,
        location: String,
        node: String,
    },
    #[error(
        "rewrite does not terminate: {node} was rewritten {CHAIN_LIMIT} times in a row, last by rule `{rule}` ({location})"
    )]
    ChainTooLong {
        rule: &'static str,
        location: String,
        node: String,
    },
}

/// Rewrites `root` with `pm` in `mode`; `ctx` is passed to every rule body.
pub fn graph_rewrite<C: 'static>(
    root: &UOp,
    pm: &PatternMatcher<C>,
    ctx: &mut C,
    mode: Mode,
) -> Result<UOp, RewriteError> {
    let mut r = Rewriter {
        pm,
        ctx,
        replace: UOpMap::default(),
        pending: UOpSet::default(),
    };
    match mode {
        Mode::PostOrder => r.post_order(root),
        Mode::BottomUp => r.bottom_up(root),
        Mode::Walk => r.walk(root),
    }
}

/// `graph_rewrite` in the default mode with no context.
pub fn rewrite(root: &UOp, pm: &PatternMatcher) -> Result<UOp, RewriteError> {
    graph_rewrite(root, pm, &mut (), Mode::PostOrder)
}

struct Rewriter<'a, C> {
    pm: &'a PatternMatcher<C>,
    ctx: &'a mut C,
    replace: UOpMap<UOp>,
    /// Nodes opened but not finished: meeting one again means the rules loop.
    pending: UOpSet,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Visit the sources.
    Open,
    /// Sources are done: rebuild, then try the rules.
    Rebuild,
    /// `n` became `to`; take `to`'s result.
    Link,
}

struct Frame {
    n: UOp,
    stage: Stage,
    to: Option<UOp>,
    chain: u32,
    by: Option<By>,
}

/// The rule that made a node (its name and where it is written), for error messages:
/// formatted only when one is reported.
type By = (&'static str, &'static Location<'static>);

impl Frame {
    fn open(n: UOp, chain: u32, by: Option<By>) -> Frame {
        Frame {
            n,
            stage: Stage::Open,
            to: None,
            chain,
            by,
        }
    }
}

impl<C: 'static> Rewriter<'_, C> {
    fn apply(&mut self, u: &UOp) -> Result<Option<(UOp, By)>, RewriteError> {
        match self.pm.rewrite(self.ctx, u) {
            Ok(Some((new, rule))) => Ok(Some((new, (rule.name, rule.location)))),
            Ok(None) => Ok(None),
            Err(f) => Err(RewriteError::RuleFailed {
                rule: f.rule,
                location: f.location,
                node: short_string(u),
                message: f.message,
            }),
        }
    }

    fn cycle(n: &UOp, by: Option<By>) -> RewriteError {
        let (rule, location) = by.map_or(("?", String::new()), |(r, l)| (r, l.to_string()));
        RewriteError::Cycle {
            rule,
            location,
            node: short_string(n),
        }
    }

    fn post_order(&mut self, root: &UOp) -> Result<UOp, RewriteError> {
        let mut stack = vec![Frame::open(root.clone(), 0, None)];
        while let Some(f) = stack.pop() {
            match f.stage {
                Stage::Open => {
                    if self.replace.contains_key(&f.n) {
                        continue;
                    }
                    if !self.pending.insert(f.n.clone()) {
                        return Err(Self::cycle(&f.n, f.by));
                    }
                    let srcs: Vec<UOp> =
                        f.n.src()
                            .iter()
                            .rev()
                            .filter(|s| !self.replace.contains_key(*s))
                            .cloned()
                            .collect();
                    stack.push(Frame {
                        stage: Stage::Rebuild,
                        ..f
                    });
                    stack.extend(srcs.into_iter().map(|s| Frame::open(s, 0, None)));
                }
                Stage::Rebuild => {
                    let new_src: Vec<UOp> =
                        f.n.src().iter().map(|s| self.replace[s].clone()).collect();
                    let next = if new_src.as_slice() == f.n.src() {
                        match self.apply(&f.n)? {
                            None => {
                                self.pending.remove(&f.n);
                                self.replace.insert(f.n.clone(), f.n);
                                continue;
                            }
                            Some((new, by)) => {
                                if f.chain >= CHAIN_LIMIT {
                                    return Err(RewriteError::ChainTooLong {
                                        rule: by.0,
                                        location: by.1.to_string(),
                                        node: short_string(&f.n),
                                    });
                                }
                                Frame::open(new, f.chain + 1, Some(by))
                            }
                        }
                    } else {
                        Frame::open(f.n.with_src(new_src), f.chain, f.by)
                    };
                    stack.push(Frame {
                        n: f.n,
                        stage: Stage::Link,
                        to: Some(next.n.clone()),
                        chain: 0,
                        by: None,
                    });
                    stack.push(next);
                }
                Stage::Link => self.link(f),
            }
        }
        Ok(self.replace[root].clone())
    }

    fn link(&mut self, f: Frame) {
        if let Some(to) = f.to {
            let result = self.replace[&to].clone();
            self.pending.remove(&f.n);
            self.replace.insert(result.clone(), result.clone());
            self.replace.insert(f.n, result);
        }
    }

    fn bottom_up(&mut self, root: &UOp) -> Result<UOp, RewriteError> {
        let mut stack = vec![Frame::open(root.clone(), 0, None)];
        while let Some(f) = stack.pop() {
            match f.stage {
                Stage::Open => {
                    if self.replace.contains_key(&f.n) {
                        continue;
                    }
                    if !self.pending.insert(f.n.clone()) {
                        return Err(Self::cycle(&f.n, f.by));
                    }
                    // rules first, to a fixed point on this node (most nodes take no
                    // rewrite or one: the chain is a list until it grows long)
                    let mut cur = f.n.clone();
                    let mut chain: Vec<UOp> = Vec::new();
                    let mut seen = UOpSet::default();
                    while let Some((new, by)) = self.apply(&cur)? {
                        let again = if chain.len() < 16 {
                            new == f.n || chain.contains(&new)
                        } else {
                            if seen.is_empty() {
                                seen.extend(chain.iter().cloned());
                                seen.insert(f.n.clone());
                            }
                            !seen.insert(new.clone())
                        };
                        chain.push(new.clone());
                        if again || chain.len() as u32 >= CHAIN_LIMIT {
                            return Err(Self::cycle(&cur, Some(by)));
                        }
                        cur = new;
                    }
                    let srcs: Vec<UOp> = cur
                        .src()
                        .iter()
                        .rev()
                        .filter(|s| !self.replace.contains_key(*s))
                        .cloned()
                        .collect();
                    stack.push(Frame {
                        n: f.n,
                        stage: Stage::Rebuild,
                        to: Some(cur),
                        chain: f.chain,
                        by: f.by,
                    });
                    stack.extend(srcs.into_iter().map(|s| Frame::open(s, 0, None)));
                }
                Stage::Rebuild => {
                    let Some(cur) = f.to.clone() else { continue };
                    let new_src: Vec<UOp> =
                        cur.src().iter().map(|s| self.replace[s].clone()).collect();
                    if new_src.as_slice() == cur.src() {
                        self.pending.remove(&f.n);
                        self.replace.insert(cur.clone(), cur.clone());
                        self.replace.insert(f.n, cur);
                    } else {
                        // new sources may let rules fire on the node again
                        let rebuilt = cur.with_src(new_src);
                        stack.push(Frame {
                            n: f.n,
                            stage: Stage::Link,
                            to: Some(rebuilt.clone()),
                            chain: 0,
                            by: None,
                        });
                        stack.push(Frame::open(rebuilt, f.chain + 1, f.by));
                    }
                }
                Stage::Link => self.link(f),
            }
        }
        Ok(self.replace[root].clone())
    }

    fn walk(&mut self, root: &UOp) -> Result<UOp, RewriteError> {
        for n in crate::graph::toposort(root) {
            let new_src: Vec<UOp> = n.src().iter().map(|s| self.replace[s].clone()).collect();
            let rebuilt = if new_src.as_slice() == n.src() {
                n.clone()
            } else {
                n.with_src(new_src)
            };
            let out = self.apply(&rebuilt)?.map_or(rebuilt, |(new, _)| new);
            self.replace.insert(n, out);
        }
        Ok(self.replace[root].clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::Op;
    use crate::upat::UPat;

    fn fold() -> PatternMatcher {
        PatternMatcher::new()
            .always("x+0 -> x", UPat::var("x") + 0, |b| b["x"].clone())
            .rule("c1+c2 -> c", UPat::cvar("a") + UPat::cvar("b"), |b| {
                Some(UOp::int((b["a"].const_int()? + b["b"].const_int()?) as i64))
            })
    }

    #[test]
    fn post_order_reaches_a_fixed_point() {
        let x = UOp::var("x", 0, 9);
        let e = (&x + (UOp::int(2) + UOp::int(-2))) + 0;
        assert_eq!(rewrite(&e, &fold()), Ok(x));
    }

    #[test]
    fn deep_chains_need_no_recursion() {
        let mut e = UOp::var("x", 0, 9);
        for _ in 0..100_000 {
            e = e + 0;
        }
        assert_eq!(rewrite(&e, &fold()), Ok(UOp::var("x", 0, 9)));
    }

    #[test]
    fn looping_rule_sets_are_errors() {
        let swap: PatternMatcher =
            PatternMatcher::new().always("x+y -> y+x", UPat::var("x") + UPat::var("y"), |b| {
                UOp::alu(Op::Add, [b["y"].clone(), b["x"].clone()])
            });
        let e = UOp::var("a", 0, 1) + UOp::var("b", 0, 1);
        let err = rewrite(&e, &swap).expect_err("must not loop");
        assert!(err.to_string().contains("x+y -> y+x"), "{err}");

        let grow: PatternMatcher = PatternMatcher::new().rule("c -> c+1", UPat::cvar("c"), |b| {
            Some(UOp::int(b["c"].const_int()? as i64 + 1))
        });
        assert!(matches!(
            rewrite(&UOp::int(0), &grow),
            Err(RewriteError::ChainTooLong { .. })
        ));
    }

    #[test]
    fn bottom_up_sees_parents_first() {
        // x*0 -> 0 fires on the parent before the (expensive) child is visited
        let pm: PatternMatcher = PatternMatcher::new()
            .always("x*0 -> 0", UPat::var("x") * 0, |b| b["x"].const_like(0))
            .always("x+0 -> x", UPat::var("x") + 0, |b| b["x"].clone());
        let x = UOp::var("x", 0, 9);
        let e = ((&x + 0) * 0) + 0;
        assert_eq!(
            graph_rewrite(&e, &pm, &mut (), Mode::BottomUp),
            Ok(UOp::int(0))
        );
    }

    #[test]
    fn walk_rewrites_each_node_once() {
        let pm: PatternMatcher = PatternMatcher::new().rule("c -> c+1", UPat::cvar("c"), |b| {
            Some(UOp::int(b["c"].const_int()? as i64 + 1))
        });
        let e = UOp::var("x", 0, 9) + 1;
        let out = graph_rewrite(&e, &pm, &mut (), Mode::Walk).expect("walks");
        assert_eq!(out, UOp::var("x", 0, 9) + 2);
    }

    #[test]
    fn context_is_threaded_through() {
        let pm: PatternMatcher<u32> =
            PatternMatcher::new().rule_ctx("count vars", UPat::op(Op::DefineVar), |n, _| {
                *n += 1;
                None
            });
        let mut n = 0;
        let x = UOp::var("x", 0, 9);
        graph_rewrite(&(&x + &x), &pm, &mut n, Mode::PostOrder).expect("runs");
        assert_eq!(n, 1, "memoized: the shared node is visited once");
    }
}
