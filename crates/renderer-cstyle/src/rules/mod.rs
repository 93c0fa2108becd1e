//! The decompositions every C-like language shares, as rule sets over a linear program
//! (applied by `rewrite_program` before a program is written): ops that C has no operator
//! for become ops it has. One family per file, each rule with its identity above it:
//!
//! - `floordiv.rs`: floor division and modulo in C's truncating `/` and `%`;
//! - `max.rs`: MAX of floats, NaN if either side is NaN (C's `fmax` would drop a NaN);
//! - `bools.rs`: ADD, MUL and MULACC of bools as OR and AND;
//! - `casts.rs`: a float to a narrow integer through `i64` (wrapping, as the IR does).
//!
//! Every rule keeps the value `uop_ir::exec_alu` gives (proptests in
//! `tests/rules.rs`). The rules make only ops that no rule matches, so a rewrite ends.

pub mod bools;
pub mod casts;
pub mod floordiv;
pub mod max;

use std::sync::LazyLock;

use uop_ir::PatternMatcher;

/// Every shared decomposition: the rules a language applies unless it has its own.
pub fn base() -> &'static PatternMatcher {
    static BASE: LazyLock<PatternMatcher> = LazyLock::new(|| {
        floordiv::rules()
            .extend(&max::rules())
            .extend(&bools::rules())
            .extend(&casts::rules())
    });
    &BASE
}
