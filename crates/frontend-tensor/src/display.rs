//! `Display` prints a tensor's values as PyTorch does: `tensor([[1., 2.],\n        [3.,
//! 4.]])`, floats with 4 decimals (or none when all are whole, scientific when the range
//! is wide), columns aligned, long dims summarized with `...`, and the dtype named when
//! it is not the default (f32, i64, bool). Printing realizes the tensor; an error is
//! printed in place of the values.

use std::fmt;

use dtype::DType;

use crate::tensor::Tensor;

/// Dims longer than this print their first and last `EDGE` entries when the tensor has
/// more than `SUMMARIZE` elements (PyTorch's defaults).
const SUMMARIZE: i64 = 1000;
const EDGE: i64 = 3;

impl fmt::Display for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let values = match self.cast(DType::F64).and_then(|t| t.to_vec::<f64>()) {
            Ok(v) => v,
            Err(e) => return write!(f, "tensor(<{e}>)"),
        };
        let texts = format_values(&values, self.dtype());
        let summarize = self.numel() > SUMMARIZE;
        let width = texts.iter().map(String::len).max().unwrap_or(0);
        let mut out = String::from("tensor(");
        write_dim(&mut out, self.shape(), 0, 0, &texts, width, summarize);
        let default = matches!(self.dtype(), DType::F32 | DType::I64 | DType::Bool);
        if !default {
            out.push_str(&format!(", dtype={}", self.dtype()));
        }
        if self.numel() == 0 {
            out.push_str(&format!(", size={:?}", self.shape()));
        }
        out.push(')');
        f.write_str(&out)
    }
}

/// The text of every value, in PyTorch's style for the dtype.
fn format_values(values: &[f64], dtype: DType) -> Vec<String> {
    if dtype.is_bool() {
        return values
            .iter()
            .map(|&v| if v != 0.0 { "True" } else { "False" }.to_string())
            .collect();
    }
    if !dtype.is_float() {
        return values.iter().map(|&v| format!("{v}")).collect();
    }
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let whole = finite.iter().all(|v| v.fract() == 0.0);
    let max = finite.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let min = finite
        .iter()
        .filter(|v| **v != 0.0)
        .fold(f64::INFINITY, |m, v| m.min(v.abs()));
    let scientific = max >= 1e8 || (min.is_finite() && (max / min > 1000.0 || min < 1e-4));
    values
        .iter()
        .map(|&v| {
            if v.is_nan() {
                "nan".to_string()
            } else if v.is_infinite() {
                if v > 0.0 { "inf" } else { "-inf" }.to_string()
            } else if whole && !scientific {
                format!("{v:.0}.")
            } else if scientific {
                let s = format!("{v:.4e}");
                // Rust writes 1.2345e-5; PyTorch 1.2345e-05
                match s.split_once('e') {
                    Some((m, e)) => {
                        let (sign, digits) = e.strip_prefix('-').map_or(("+", e), |d| ("-", d));
                        format!("{m}e{sign}{digits:0>2}")
                    }
                    None => s,
                }
            } else {
                format!("{v:.4}")
            }
        })
        .collect()
}

/// Writes the sub-tensor at `offset` of `shape[depth..]`.
fn write_dim(
    out: &mut String,
    shape: &[i64],
    depth: usize,
    offset: usize,
    texts: &[String],
    width: usize,
    summarize: bool,
) {
    if depth == shape.len() {
        out.push_str(&format!(
            "{:>width$}",
            texts.get(offset).map_or("", String::as_str)
        ));
        return;
    }
    let n = shape[depth];
    let inner: usize = shape[depth + 1..].iter().product::<i64>() as usize;
    let indices: Vec<Option<i64>> = if summarize && n > 2 * EDGE {
        (0..EDGE)
            .map(Some)
            .chain([None])
            .chain((n - EDGE..n).map(Some))
            .collect()
    } else {
        (0..n).map(Some).collect()
    };
    out.push('[');
    let last = depth + 1 == shape.len();
    // rows of a matrix go on new lines, indented past "tensor(" and the brackets
    let sep = if last {
        ", ".to_string()
    } else {
        format!(
            ",{}{}",
            "\n".repeat(shape.len() - depth - 1),
            " ".repeat(7 + depth + 1)
        )
    };
    for (k, i) in indices.iter().enumerate() {
        if k > 0 {
            out.push_str(&sep);
        }
        match i {
            Some(i) => write_dim(
                out,
                shape,
                depth + 1,
                offset + *i as usize * inner,
                texts,
                width,
                summarize,
            ),
            None => out.push_str("..."),
        }
    }
    out.push(']');
}
