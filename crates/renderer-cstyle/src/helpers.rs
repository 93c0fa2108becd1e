//! The helpers a kernel uses: functions, types and includes that its source defines once,
//! before the kernel, and only when something in the kernel asked for them. The base
//! defines the bit casts and the narrow-float conversions (`narrow.rs`); a language adds
//! its own (C: vector types, a vectorizable `exp2`).
//!
//! Helpers are emitted by `Rank`, and within a rank in the order they were first asked
//! for. A helper may call helpers of an earlier rank, or of its own rank that were asked
//! for before it (ask for those first).

use std::collections::HashMap;

/// Where a helper goes in the file: ranks are emitted in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rank {
    /// `#include` lines and macros.
    Include,
    /// Type definitions (vector types).
    Type,
    /// Bit casts between floats and integers.
    Bits,
    /// Rounding steps shared by conversions.
    Support,
    /// Narrow float to `float`.
    Decode,
    /// `float` to a narrow float.
    Encode,
    /// Scalar math.
    Math,
    /// Vector math.
    Vector,
}

/// The helpers a kernel uses, by name.
#[derive(Debug, Default)]
pub struct Helpers {
    defined: HashMap<String, (Rank, usize, String)>,
}

impl Helpers {
    /// Asks for the helper `name` of `rank`; `text` gives its definition and is called
    /// only the first time.
    pub fn define(&mut self, rank: Rank, name: &str, text: impl FnOnce() -> String) {
        if !self.defined.contains_key(name) {
            let order = self.defined.len();
            self.defined.insert(name.to_string(), (rank, order, text()));
        }
    }

    /// Whether the helper `name` has been asked for.
    pub fn has(&self, name: &str) -> bool {
        self.defined.contains_key(name)
    }

    /// The text of every helper asked for, by rank and then in order, separated by blank
    /// lines.
    pub fn render(&self) -> String {
        let mut all: Vec<&(Rank, usize, String)> = self.defined.values().collect();
        all.sort_by_key(|(rank, order, _)| (*rank, *order));
        let texts: Vec<&str> = all.iter().map(|(_, _, text)| text.as_str()).collect();
        texts.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_come_once_by_rank_then_by_first_use() {
        let mut h = Helpers::default();
        h.define(Rank::Math, "m", || "m\n".into());
        h.define(Rank::Bits, "b2", || "b2\n".into());
        h.define(Rank::Bits, "b1", || "b1\n".into());
        h.define(Rank::Math, "m", || unreachable!("defined once"));
        h.define(Rank::Include, "i", || "i\n".into());
        assert!(h.has("b1") && !h.has("x"));
        assert_eq!(h.render(), "i\n\nb2\n\nb1\n\nm\n");
    }
}
