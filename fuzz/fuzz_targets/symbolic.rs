//! `symbolic::simplify` on expressions decoded from the fuzzer's bytes. Fails when
//! simplifying returns an error (the generator divides only by nonzero constants, and a
//! rule loop is reported as an error, so any error is a bug) or when the simplified
//! expression differs from the original at any of 64 points (corners included), in value
//! or in validity.
#![no_main]

use libfuzzer_sys::fuzz_target;
use symbolic::corpus::{Bytes, SplitMix, compare_at_random_points, random_gated_expr, random_vars};
use uop_ir::expr_string;

const DEPTH: u32 = 6;
const POINTS: usize = 64;

fuzz_target!(|data: &[u8]| {
    let mut src = Bytes(data);
    let vars = random_vars(&mut src);
    let orig = random_gated_expr(&mut src, &vars, DEPTH);
    let bounds: Vec<String> = vars
        .iter()
        .map(|v| match v.bounds() {
            Some(b) => format!("{} in {}..={}", expr_string(v), b.min, b.max),
            None => expr_string(v),
        })
        .collect();
    let simplified = match symbolic::simplify(&orig) {
        Ok(s) => s,
        Err(e) => panic!(
            "simplify failed on {}\n  vars: {bounds:?}\n  error: {e}",
            expr_string(&orig)
        ),
    };
    // The point sampler is seeded from the input so that a crash reproduces.
    let seed = data
        .iter()
        .fold(0x5eed_u64, |h, b| h.rotate_left(5) ^ u64::from(*b));
    match compare_at_random_points(&orig, &simplified, &vars, &mut SplitMix(seed), POINTS) {
        Ok(None) => {}
        Ok(Some(m)) => panic!(
            "simplify changed the value\n  original:   {}\n  simplified: {}\n  vars: {bounds:?}\n  at {:?}: original {:?}, simplified {:?}",
            expr_string(&orig),
            expr_string(&simplified),
            m.point,
            m.original,
            m.simplified,
        ),
        Err(e) => panic!(
            "evaluation failed: {e}\n  original:   {}\n  simplified: {}\n  vars: {bounds:?}",
            expr_string(&orig),
            expr_string(&simplified),
        ),
    }
});
