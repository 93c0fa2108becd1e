//! Reads a program back from the text `fuzz-kernels` prints (`Program`'s `Display` plus the
//! `tN data: [...]` lines), so that a repro can be edited by hand and run with
//! `cargo xtask fuzz-kernels --program FILE`.
//!
//! One node per line: `tN = input[dims]`, `tN = tS.<movement>[..].<movement>[..]...` or
//! `tN = tS.<op>(..)` with `op` one of add/sub/mul/maximum (of a node), maximum (of an
//! integer constant), neg, relu, mul_scalar, add_scalar, sum/max (`[axes], keepdim=bool`).
//! `realize_all([tA, tB])` names the outputs (the last node when missing). Text after `#`
//! is a comment. An input without a data line gets the values `1, -2, 3, -4, 1, ...`.

use uop_ir::{Movement, checked_numel};

use crate::program::{BinOp, Node, Program, RedOp, UnOp};

pub fn parse_program(text: &str) -> Result<Program, String> {
    let mut nodes: Vec<Node> = Vec::new();
    let mut data: Vec<(usize, Vec<f32>)> = Vec::new();
    let mut outputs = None;
    for (line_no, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        // empty, or a heading such as `program:` or `minimized:`
        if line.is_empty() || line.ends_with(':') {
            continue;
        }
        let at = |e: String| format!("line {}: {e}: `{}`", line_no + 1, raw.trim());
        if let Some(rest) = line.strip_prefix("realize_all(") {
            let inner = rest
                .strip_suffix(')')
                .ok_or_else(|| at("missing `)`".into()))?;
            let list = brackets(inner, '[', ']').map_err(at)?;
            outputs = Some(
                split_top(list)
                    .iter()
                    .map(|t| node_ref(t))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(at)?,
            );
            continue;
        }
        if let Some((lhs, rhs)) = line.split_once(" data:") {
            let values = numbers::<f32>(brackets(rhs.trim(), '[', ']').map_err(at)?).map_err(at)?;
            data.push((node_ref(lhs.trim()).map_err(at)?, values));
            continue;
        }
        let (lhs, rhs) = line
            .split_once('=')
            .ok_or_else(|| at("expected `tN = ...`".into()))?;
        let index = node_ref(lhs.trim()).map_err(at)?;
        if index != nodes.len() {
            return Err(at(format!("expected t{} next", nodes.len())));
        }
        nodes.push(parse_node(rhs.trim()).map_err(at)?);
    }
    for (i, values) in data {
        match nodes.get_mut(i) {
            Some(Node::Input { data, .. }) => *data = values,
            _ => return Err(format!("t{i} has data but is not an input")),
        }
    }
    if nodes.is_empty() {
        return Err("no nodes".into());
    }
    let outputs = outputs.unwrap_or_else(|| vec![nodes.len() - 1]);
    let p = Program { nodes, outputs };
    p.shapes()?;
    Ok(p)
}

fn parse_node(rhs: &str) -> Result<Node, String> {
    if let Some(rest) = rhs.strip_prefix("input") {
        let shape = numbers::<i64>(brackets(rest, '[', ']')?)?;
        let n = checked_numel(&shape).map_err(|e| e.to_string())? as usize;
        let data = (0..n)
            .map(|i| {
                let v = (i % 4 + 1) as f32;
                if i % 2 == 0 { v } else { -v }
            })
            .collect();
        return Ok(Node::Input { shape, data });
    }
    let dot = rhs.find('.').ok_or("expected `tS.op(...)`")?;
    let src = node_ref(&rhs[..dot])?;
    let mut rest = &rhs[dot..];
    let mut chain = Vec::new();
    while let Some(r) = rest.strip_prefix('.') {
        let open = r
            .find(['(', '['])
            .ok_or("expected `(` or `[` after an op name")?;
        let name = &r[..open];
        let (close_ch, open_ch) = if r.as_bytes()[open] == b'[' {
            (']', '[')
        } else {
            (')', '(')
        };
        let end = matching(r, open, open_ch, close_ch)?;
        let arg = &r[open + 1..end];
        rest = &r[end + 1..];
        if open_ch == '[' {
            chain.push(movement(name, arg)?);
            continue;
        }
        if !chain.is_empty() || !rest.is_empty() {
            return Err("an op other than a movement must stand alone on its line".into());
        }
        return op_node(name, arg, src);
    }
    if !rest.is_empty() {
        return Err(format!("cannot read `{rest}`"));
    }
    Ok(Node::Move { src, chain })
}

fn movement(name: &str, arg: &str) -> Result<Movement, String> {
    Ok(match name {
        "reshape" => Movement::Reshape(numbers(arg)?),
        "expand" => Movement::Expand(numbers(arg)?),
        "permute" => Movement::Permute(numbers(arg)?),
        "flip" => Movement::Flip(numbers(arg)?),
        "pad" | "shrink" => {
            let flat: Vec<i64> = numbers(&arg.replace(['(', ')'], ""))?;
            if !flat.len().is_multiple_of(2) {
                return Err(format!("{name} takes (begin, end) pairs"));
            }
            let pairs = flat.chunks(2).map(|c| (c[0], c[1])).collect();
            if name == "pad" {
                Movement::Pad(pairs)
            } else {
                Movement::Shrink(pairs)
            }
        }
        _ => return Err(format!("unknown movement op `{name}`")),
    })
}

fn op_node(name: &str, arg: &str, src: usize) -> Result<Node, String> {
    let arg = arg.trim();
    let int = || {
        arg.parse::<i32>()
            .map_err(|_| format!("`{name}` takes an integer, not `{arg}`"))
    };
    let unary = |op| Ok(Node::Unary { op, src });
    let binary = |op| {
        Ok(Node::Binary {
            op,
            a: src,
            b: node_ref(arg)?,
        })
    };
    match name {
        "add" => binary(BinOp::Add),
        "sub" => binary(BinOp::Sub),
        "mul" => binary(BinOp::Mul),
        "maximum" if arg.starts_with('t') => binary(BinOp::Maximum),
        "maximum" => unary(UnOp::MaxConst(int()?)),
        "neg" => unary(UnOp::Neg),
        "relu" => unary(UnOp::Relu),
        "mul_scalar" => unary(UnOp::MulScalar(int()?)),
        "add_scalar" => unary(UnOp::AddScalar(int()?)),
        "sum" | "max" => {
            let close = arg.find(']').ok_or("expected `[axes], keepdim=...`")?;
            let axes = numbers(brackets(&arg[..=close], '[', ']')?)?;
            let keepdim = match arg[close + 1..].replace([',', ' '], "").as_str() {
                "keepdim=true" => true,
                "keepdim=false" | "" => false,
                other => return Err(format!("cannot read `{other}`")),
            };
            let op = if name == "sum" {
                RedOp::Sum
            } else {
                RedOp::Max
            };
            Ok(Node::Reduce {
                op,
                src,
                axes,
                keepdim,
            })
        }
        _ => Err(format!("unknown op `{name}`")),
    }
}

fn node_ref(s: &str) -> Result<usize, String> {
    s.trim()
        .strip_prefix('t')
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("`{}` is not a node like `t3`", s.trim()))
}

/// The text inside `open ... close` that makes up all of `s`.
fn brackets(s: &str, open: char, close: char) -> Result<&str, String> {
    s.trim()
        .strip_prefix(open)
        .and_then(|r| r.strip_suffix(close))
        .ok_or_else(|| format!("expected `{open}...{close}`, not `{s}`"))
}

/// The index of the bracket closing the one at `open`.
fn matching(s: &str, open: usize, open_ch: char, close_ch: char) -> Result<usize, String> {
    let mut depth = 0;
    for (i, c) in s[open..].char_indices() {
        if c == open_ch {
            depth += 1;
        } else if c == close_ch {
            depth -= 1;
            if depth == 0 {
                return Ok(open + i);
            }
        }
    }
    Err(format!("unclosed `{open_ch}`"))
}

/// Comma-separated items, not splitting inside brackets.
fn split_top(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in s.char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            ',' if depth == 0 => {
                out.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    if !s[start..].trim().is_empty() {
        out.push(s[start..].trim());
    }
    out
}

fn numbers<T: std::str::FromStr>(s: &str) -> Result<Vec<T>, String> {
    split_top(s)
        .into_iter()
        .map(|x| x.parse().map_err(|_| format!("cannot read `{x}`")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::random_program;

    #[test]
    fn printed_programs_read_back() {
        for i in 0..200 {
            let p = random_program(11, i);
            let mut text = p.to_string();
            for (j, n) in p.nodes.iter().enumerate() {
                if let Node::Input { data, .. } = n {
                    text.push_str(&format!("\nt{j} data: {data:?}"));
                }
            }
            assert_eq!(parse_program(&text).expect("reads back"), p, "{text}");
        }
    }

    #[test]
    fn bad_text_says_where() {
        let e = parse_program("t0 = input[2]\nt1 = t0.frob()").expect_err("unknown op");
        assert!(e.contains("line 2") && e.contains("frob"), "{e}");
    }
}
