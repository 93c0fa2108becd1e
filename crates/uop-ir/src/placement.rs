//! The loop-placement contract between rangeify and the linearizer, in one place.
//!
//! A kernel's output loops nest in axis order. A reduction, or a copy into scratch memory,
//! that depends on some of those loops is hoisted by the linearizer: it runs once per trip
//! of the loops it depends on, between them and the others, exactly when those loops are
//! the first `k` output loops. Rangeify fuses a reduction that a consumer broadcasts (and
//! places a scratch copy) only where this says it runs once per trip; the linearizer cuts
//! the output loops at the same `k`. Both ask [`hoist_depth`], so neither assumes what the
//! other does.

/// How many outer output loops a computation that depends on output loops `needs` runs
/// inside, when it runs once per trip of them: `Some(k)` when `needs` are exactly the
/// first `k` of `outputs` (the kernel's output loop axes in nesting order); `None` when
/// some loop it needs comes after one it does not need (it would then run on every trip
/// of all of them). `needs` may list axes more than once and in any order; axes that are
/// not output loops are ignored.
pub fn hoist_depth(outputs: &[u32], needs: &[u32]) -> Option<usize> {
    let needed = |a: &u32| needs.contains(a);
    let k = outputs.iter().take_while(|a| needed(a)).count();
    outputs[k..].iter().all(|a| !needed(a)).then_some(k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_hoisted() {
        assert_eq!(hoist_depth(&[0, 1, 2], &[0]), Some(1));
        assert_eq!(hoist_depth(&[0, 1, 2], &[1, 0, 0]), Some(2));
        assert_eq!(hoist_depth(&[0, 1, 2], &[]), Some(0));
        assert_eq!(hoist_depth(&[0, 1, 2], &[0, 1, 2, 7]), Some(3));
    }

    #[test]
    fn a_gap_runs_inside_every_loop() {
        assert_eq!(hoist_depth(&[0, 1, 2], &[1]), None);
        assert_eq!(hoist_depth(&[0, 1, 2], &[0, 2]), None);
    }
}
