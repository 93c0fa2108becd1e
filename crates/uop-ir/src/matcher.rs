//! `PatternMatcher`: an ordered list of rules (pattern + body), indexed by op. `rewrite`
//! tries the rules that can match a node's op in insertion order and returns the first
//! result that differs from the node. Every rule records its name (its algebra, e.g.
//! `"x*1 -> x"`) and where it was written, for diagnostics such as `shadowed`.

use std::fmt;
use std::panic::Location;
use std::sync::Arc;

use crate::op::Op;
use crate::uop::UOp;
use crate::upat::{ArgPat, Bindings, SrcPat, UPat};

type RuleFn<C> = Arc<dyn Fn(&mut C, &Bindings) -> Result<Option<UOp>, String> + Send + Sync>;

/// One rewrite rule.
pub struct Rule<C> {
    /// The identity the rule implements, e.g. `"x*1 -> x"`.
    pub name: &'static str,
    pub pat: UPat,
    /// Whether the body always rewrites when the pattern matches.
    pub total: bool,
    /// Where the rule was added.
    pub location: &'static Location<'static>,
    body: RuleFn<C>,
}

impl<C> Clone for Rule<C> {
    fn clone(&self) -> Self {
        Rule {
            name: self.name,
            pat: self.pat.clone(),
            total: self.total,
            location: self.location,
            body: self.body.clone(),
        }
    }
}

impl<C> fmt::Debug for Rule<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rule `{}` at {}", self.name, self.location)
    }
}

/// A rule body failed: the message says why (e.g. a division by zero), with the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleFailure {
    pub rule: &'static str,
    pub location: String,
    pub message: String,
}

/// An ordered, op-indexed set of rules. `C` is the context a rule body may read and write.
pub struct PatternMatcher<C = ()> {
    rules: Vec<Rule<C>>,
    by_op: Vec<Vec<usize>>,
}

impl<C> Clone for PatternMatcher<C> {
    fn clone(&self) -> Self {
        PatternMatcher {
            rules: self.rules.clone(),
            by_op: self.by_op.clone(),
        }
    }
}

impl<C> fmt::Debug for PatternMatcher<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.rules).finish()
    }
}

impl<C: 'static> Default for PatternMatcher<C> {
    fn default() -> Self {
        PatternMatcher::new()
    }
}

/// A rule that can never fire because an earlier total rule matches everything it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shadowed {
    pub rule: String,
    pub by: String,
}

impl fmt::Display for Shadowed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} can never fire: {} matches everything it matches and always rewrites",
            self.rule, self.by
        )
    }
}

impl<C: 'static> PatternMatcher<C> {
    pub fn new() -> Self {
        PatternMatcher {
            rules: Vec::new(),
            by_op: vec![Vec::new(); Op::ALL.len()],
        }
    }

    fn push(mut self, rule: Rule<C>) -> Self {
        let index = self.rules.len();
        match &rule.pat.ops {
            Some(ops) => ops
                .iter()
                .for_each(|op| self.by_op[*op as usize].push(index)),
            None => self.by_op.iter_mut().for_each(|v| v.push(index)),
        }
        self.rules.push(rule);
        self
    }

    /// A rule whose body may decline (return `None`).
    #[track_caller]
    pub fn rule(
        self,
        name: &'static str,
        pat: UPat,
        body: impl Fn(&Bindings) -> Option<UOp> + Send + Sync + 'static,
    ) -> Self {
        let body: RuleFn<C> = Arc::new(move |_, b| Ok(body(b)));
        self.push(Rule {
            name,
            pat,
            total: false,
            location: Location::caller(),
            body,
        })
    }

    /// A rule that always rewrites when its pattern matches.
    #[track_caller]
    pub fn always(
        self,
        name: &'static str,
        pat: UPat,
        body: impl Fn(&Bindings) -> UOp + Send + Sync + 'static,
    ) -> Self {
        let body: RuleFn<C> = Arc::new(move |_, b| Ok(Some(body(b))));
        self.push(Rule {
            name,
            pat,
            total: true,
            location: Location::caller(),
            body,
        })
    }

    /// A rule that reads or writes the rewrite context.
    #[track_caller]
    pub fn rule_ctx(
        self,
        name: &'static str,
        pat: UPat,
        body: impl Fn(&mut C, &Bindings) -> Option<UOp> + Send + Sync + 'static,
    ) -> Self {
        let body: RuleFn<C> = Arc::new(move |c, b| Ok(body(c, b)));
        self.push(Rule {
            name,
            pat,
            total: false,
            location: Location::caller(),
            body,
        })
    }

    /// A rule that can fail with a message (e.g. on a division by a zero constant).
    #[track_caller]
    pub fn rule_try(
        self,
        name: &'static str,
        pat: UPat,
        body: impl Fn(&Bindings) -> Result<Option<UOp>, String> + Send + Sync + 'static,
    ) -> Self {
        let body: RuleFn<C> = Arc::new(move |_, b| body(b));
        self.push(Rule {
            name,
            pat,
            total: false,
            location: Location::caller(),
            body,
        })
    }

    /// This matcher's rules followed by `other`'s.
    pub fn extend(self, other: &PatternMatcher<C>) -> Self {
        other.rules.iter().cloned().fold(self, PatternMatcher::push)
    }

    pub fn rules(&self) -> &[Rule<C>] {
        &self.rules
    }

    /// The first rewrite of `u` by a rule, with the rule that made it; `None` when no rule
    /// applies (or every applicable rule returned `u` itself).
    pub fn rewrite(&self, ctx: &mut C, u: &UOp) -> Result<Option<(UOp, &Rule<C>)>, RuleFailure> {
        let mut b = Bindings::default();
        for &i in &self.by_op[u.op() as usize] {
            let rule = &self.rules[i];
            b = Bindings::default_from(b);
            if !rule.pat.matches(u, &mut b) {
                continue;
            }
            match (rule.body)(ctx, &b) {
                Ok(Some(new)) if &new != u => return Ok(Some((new, rule))),
                Ok(_) => {}
                Err(message) => {
                    return Err(RuleFailure {
                        rule: rule.name,
                        location: rule.location.to_string(),
                        message,
                    });
                }
            }
        }
        Ok(None)
    }

    /// Rules that can never fire because an earlier `always` rule subsumes their pattern.
    pub fn shadowed(&self) -> Vec<Shadowed> {
        let mut out = Vec::new();
        for (j, later) in self.rules.iter().enumerate() {
            if let Some(earlier) = self.rules[..j]
                .iter()
                .find(|r| r.total && subsumes(&r.pat, &later.pat))
            {
                out.push(Shadowed {
                    rule: format!("`{}` ({})", later.name, later.location),
                    by: format!("`{}` ({})", earlier.name, earlier.location),
                });
            }
        }
        out
    }
}

impl Bindings {
    /// Empties `b` for reuse (keeps its allocation).
    fn default_from(mut b: Bindings) -> Bindings {
        b.clear();
        b
    }
}

/// Whether every node that `b` matches is also matched by `a` (conservative: `false`
/// when unsure).
pub fn subsumes(a: &UPat, b: &UPat) -> bool {
    if has_repeated_name(a) {
        return a == b;
    }
    subsumes_inner(a, b)
}

fn subsumes_inner(a: &UPat, b: &UPat) -> bool {
    let arg_ok = match (&a.arg, &b.arg) {
        (ArgPat::Any, _) => true,
        (x, y) => x == y,
    };
    if !(set_ok(&a.ops, &b.ops) && set_ok(&a.dtypes, &b.dtypes) && arg_ok) {
        return false;
    }
    let pairwise = |ps: &[UPat], qs: &[UPat]| {
        ps.len() == qs.len() && ps.iter().zip(qs).all(|(p, q)| subsumes_inner(p, q))
    };
    match (&a.src, &b.src) {
        (SrcPat::Any, _) => true,
        (SrcPat::Each(p), SrcPat::Exact(qs) | SrcPat::AnyOrder(qs)) => {
            qs.iter().all(|q| subsumes_inner(p, q))
        }
        (SrcPat::Each(p), SrcPat::Each(q)) => subsumes_inner(p, q),
        (SrcPat::Exact(ps), SrcPat::Exact(qs)) => pairwise(ps, qs),
        (SrcPat::AnyOrder(ps), SrcPat::Exact(qs) | SrcPat::AnyOrder(qs)) => {
            pairwise(ps, qs)
                || (ps.len() == 2 && qs.len() == 2 && pairwise(&[ps[1].clone(), ps[0].clone()], qs))
        }
        _ => false,
    }
}

/// Whether the set `y` (None = everything) lies inside the set `x`.
fn set_ok<T: PartialEq>(x: &Option<Vec<T>>, y: &Option<Vec<T>>) -> bool {
    match (x, y) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(x), Some(y)) => y.iter().all(|v| x.contains(v)),
    }
}

fn has_repeated_name(p: &UPat) -> bool {
    fn collect(p: &UPat, names: &mut Vec<&'static str>) {
        names.extend(p.name);
        match &p.src {
            SrcPat::Any => {}
            SrcPat::Exact(ps) | SrcPat::AnyOrder(ps) => ps.iter().for_each(|q| collect(q, names)),
            SrcPat::Each(q) => collect(q, names),
        }
    }
    let mut names = Vec::new();
    collect(p, &mut names);
    let n = names.len();
    names.sort_unstable();
    names.dedup();
    names.len() != n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_matching_rule_wins() {
        let pm: PatternMatcher = PatternMatcher::new()
            .always("x*1 -> x", UPat::var("x") * 1, |b| b["x"].clone())
            .always("x*c -> 0", UPat::var("x") * UPat::cvar("c"), |b| {
                b["x"].const_like(0)
            });
        let x = UOp::var("x", 0, 5);
        let (out, rule) = pm
            .rewrite(&mut (), &(&x * 1))
            .ok()
            .flatten()
            .expect("rewrites");
        assert_eq!(out, x);
        assert_eq!(rule.name, "x*1 -> x");
        assert!(pm.rewrite(&mut (), &x).ok().flatten().is_none());
    }

    #[test]
    fn reports_shadowed_rules() {
        let pm: PatternMatcher = PatternMatcher::new()
            .always("x+y -> y+x", UPat::var("x") + UPat::var("y"), |b| {
                &b["y"] + &b["x"]
            })
            .always("x+0 -> x", UPat::var("x") + 0, |b| b["x"].clone())
            .rule("x*1 -> x", UPat::var("x") * 1, |b| Some(b["x"].clone()));
        let shadowed = pm.shadowed();
        assert_eq!(shadowed.len(), 1);
        assert!(shadowed[0].rule.contains("x+0 -> x"), "{}", shadowed[0]);
        assert!(shadowed[0].by.contains("x+y -> y+x"));
    }

    #[test]
    fn repeated_names_do_not_subsume_more_general_patterns() {
        let same = UPat::var("x") + UPat::var("x");
        let any = UPat::var("a") + UPat::var("b");
        assert!(!subsumes(&same, &any));
        assert!(subsumes(&any, &same));
    }

    #[test]
    fn failing_bodies_name_their_rule() {
        let pm: PatternMatcher =
            PatternMatcher::new().rule_try("x//0 -> error", UPat::var("x").floordiv(0), |_| {
                Err("division by zero".into())
            });
        let e = pm
            .rewrite(&mut (), &UOp::var("x", 0, 3).floordiv(0))
            .expect_err("fails");
        assert_eq!(e.rule, "x//0 -> error");
        assert!(e.location.contains("matcher.rs"));
    }
}
