//! The symbolic simplifier: rewrite rules that simplify integer and index math the way
//! view arithmetic would, plus bounds-based folding, comparisons, `where` and gated
//! indices. `simplify` applies them all to a fixed point.
//!
//! Three contracts hold for every rule (see `rules/` for the families, one per file):
//! 1. **Sound.** A rule never changes the value of an expression for any values of its
//!    variables within their bounds, nor whether it is Invalid. Each family has a
//!    proptest that checks this by evaluation.
//! 2. **Directional.** A rule never rewrites to something worse: it removes nodes, folds
//!    constants, or moves an expression to its single canonical form (sums in linear
//!    form with terms in `UOp::canonical_cmp` order and the constant last; constants on
//!    the right of commutative ops; `x - y` as `x + y*-1`). The set terminates; the
//!    rewrite engine reports a loop as an error rather than hanging.
//! 3. **Canonical order first.** Operand order is fixed by one early family
//!    (`canonical`), so later rules match one order only.
//!
//! Side conditions are named predicates (`predicates.rs`).

pub mod corpus;
mod linear;
pub mod predicates;
pub mod rules;

use std::sync::LazyLock;

use thiserror::Error;
use uop_ir::{PatternMatcher, RewriteError, UOp, rewrite};

pub use linear::Linear;

/// Why an expression could not be simplified.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SymbolicError {
    /// A rule failed (e.g. a division by a zero constant) or the rules looped.
    #[error("cannot simplify: {0}")]
    Rewrite(#[from] RewriteError),
}

/// Every family, in the order they are tried.
static SYMBOLIC: LazyLock<PatternMatcher> = LazyLock::new(|| {
    rules::fold::rules()
        .extend(&rules::identity::rules())
        .extend(&rules::canonical::rules())
        .extend(&rules::combine::rules())
        .extend(&rules::divmod::rules())
        .extend(&rules::compare::rules())
        .extend(&rules::cast::rules())
        .extend(&rules::gate::rules())
        .extend(&rules::valid::rules())
});

/// The full rule set.
pub fn symbolic() -> &'static PatternMatcher {
    &SYMBOLIC
}

/// `u` rewritten by every rule to a fixed point.
pub fn simplify(u: &UOp) -> Result<UOp, SymbolicError> {
    Ok(rewrite(u, symbolic())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_rule_is_shadowed() {
        let shadowed = symbolic().shadowed();
        assert!(shadowed.is_empty(), "{shadowed:?}");
    }

    #[test]
    fn rules_are_named_and_located() {
        for r in symbolic().rules() {
            assert!(
                r.name.contains("->"),
                "rule name is not an identity: {}",
                r.name
            );
            assert!(r.location.file().contains("rules"), "{}", r.location);
        }
    }
}
