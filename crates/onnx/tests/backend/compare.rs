//! The comparison of an output with the expected one: the same kind of value, element
//! type and shape; floats within `|got - want| <= 1e-5 + 1e-3 * |want|` with NaN where NaN
//! is expected and infinities equal; integers and booleans exactly.

use onnx::{TensorValue, Value};

pub const RTOL: f64 = 1e-3;
pub const ATOL: f64 = 1e-5;

/// `None` when `got` matches `want`, else why not.
pub fn compare(want: &Value, got: &Value, what: &str) -> Option<String> {
    match (want, got) {
        (Value::None, Value::None) => None,
        (Value::None, g) => Some(format!(
            "{what}: expected an empty optional, got {}",
            g.kind()
        )),
        (Value::Sequence(w), Value::Sequence(g)) => {
            if w.items.len() != g.items.len() {
                return Some(format!(
                    "{what}: a sequence of {} tensors, expected {}",
                    g.items.len(),
                    w.items.len()
                ));
            }
            w.items
                .iter()
                .zip(&g.items)
                .enumerate()
                .find_map(|(k, (w, g))| compare_tensor(w, g, &format!("{what}[{k}]")))
        }
        (Value::Tensor(w), Value::Tensor(g)) => compare_tensor(w, g, what),
        (w, g) => Some(format!("{what}: expected {}, got {}", w.kind(), g.kind())),
    }
}

fn compare_tensor(want: &TensorValue, got: &TensorValue, what: &str) -> Option<String> {
    if want.elem() != got.elem() {
        return Some(format!(
            "{what}: type {}, expected {}",
            got.elem(),
            want.elem()
        ));
    }
    if want.shape() != got.shape() {
        return Some(format!(
            "{what}: shape {:?}, expected {:?}",
            got.shape(),
            want.shape()
        ));
    }
    let (w, g) = match (want.to_host(), got.to_host()) {
        (Ok(w), Ok(g)) => (w, g),
        (Err(e), _) | (_, Err(e)) => return Some(format!("{what}: {e}")),
    };
    if !want.elem().is_float() {
        let (w, g) = (w.to_i64s(), g.to_i64s());
        let bad = w.iter().zip(&g).filter(|(a, b)| a != b).count();
        let first = w.iter().zip(&g).position(|(a, b)| a != b)?;
        return Some(format!(
            "{what}: {bad} of {} values differ (exact); first at {first}: {} vs {}",
            w.len(),
            g[first],
            w[first]
        ));
    }
    let (w, g) = (w.to_f64s(), g.to_f64s());
    let mut bad = 0;
    let mut worst = (0.0f64, 0usize);
    for (k, (&a, &b)) in w.iter().zip(&g).enumerate() {
        let ok = if a.is_nan() {
            b.is_nan()
        } else {
            a == b || (b - a).abs() <= ATOL + RTOL * a.abs()
        };
        if !ok {
            bad += 1;
            let err = if (b - a).is_nan() {
                f64::INFINITY
            } else {
                (b - a).abs()
            };
            if err >= worst.0 {
                worst = (err, k);
            }
        }
    }
    (bad > 0).then(|| {
        format!(
            "{what}: {bad} of {} values differ; max abs error {:.3e} at {}: {} vs {}",
            w.len(),
            worst.0,
            worst.1,
            g[worst.1],
            w[worst.1]
        )
    })
}
