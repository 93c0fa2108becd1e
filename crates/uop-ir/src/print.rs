//! Printing: `expr_string` renders index math as infix (`((r0 * 4) + r1) // 2`);
//! `graph_string` lists every node as one numbered line, for snapshots of any graph.
//! Both walk the graph iteratively.

use std::collections::HashMap;
use std::fmt::Write;

use crate::arg::Arg;
use crate::graph::toposort;
use crate::op::Op;
use crate::uop::UOp;

/// Graphs larger than this print as a summary in `expr_string`.
const EXPR_NODE_LIMIT: usize = 4096;

/// Infix rendering of an expression graph (shared subexpressions are repeated).
pub fn expr_string(root: &UOp) -> String {
    let order = toposort(root);
    if order.len() > EXPR_NODE_LIMIT {
        return format!("<{} graph of {} nodes>", root.op(), order.len());
    }
    let mut text: HashMap<UOp, String> = HashMap::new();
    for n in order {
        let s: Vec<&str> = n.src().iter().map(|x| text[x].as_str()).collect();
        let t = render(&n, &s);
        text.insert(n, t);
    }
    text.remove(root).unwrap_or_default()
}

/// `expr_string` cut to 200 characters, for error messages.
pub fn short_string(u: &UOp) -> String {
    let s = expr_string(u);
    if s.chars().count() > 200 {
        s.chars().take(197).chain("...".chars()).collect()
    } else {
        s
    }
}

fn infix(op: Op) -> Option<&'static str> {
    Some(match op {
        Op::Add => "+",
        Op::Sub => "-",
        Op::Mul => "*",
        Op::FDiv => "/",
        Op::FloorDiv => "//",
        Op::FloorMod => "%",
        Op::CmpLt => "<",
        Op::CmpNe => "!=",
        Op::CmpEq => "==",
        Op::And => "&",
        Op::Or => "|",
        Op::Xor => "^",
        Op::Shl => "<<",
        Op::Shr => ">>",
        _ => return None,
    })
}

fn render(n: &UOp, s: &[&str]) -> String {
    match (n.op(), n.arg()) {
        (Op::Const, Arg::Const(c)) => c.to_string(),
        (Op::Range, Arg::Range { axis, .. }) => format!("r{axis}"),
        (Op::DefineVar, Arg::Var { name, .. }) => name.to_string(),
        (Op::Special, Arg::Special(s)) => s.to_string(),
        (Op::Neg, _) => format!("-{}", s[0]),
        (Op::Cast, _) => format!("cast<{}>({})", n.dtype(), s[0]),
        (op, _) if s.len() == 2 && infix(op).is_some() => {
            format!("({} {} {})", s[0], infix(op).unwrap_or("?"), s[1])
        }
        (op, arg) => {
            let name = op.name().to_lowercase();
            let arg = if matches!(arg, Arg::None) {
                String::new()
            } else {
                format!("[{arg}]")
            };
            format!("{name}{arg}({})", s.join(", "))
        }
    }
}

/// One line per node: `%3 = ADD index (%1, %2)`, sources before users.
pub fn graph_string(root: &UOp) -> String {
    let mut ids: HashMap<UOp, usize> = HashMap::new();
    let mut out = String::new();
    for (i, n) in toposort(root).into_iter().enumerate() {
        let srcs: Vec<String> = n.src().iter().map(|s| format!("%{}", ids[s])).collect();
        let arg = if matches!(n.arg(), Arg::None) {
            String::new()
        } else {
            format!(" {}", n.arg())
        };
        let _ = writeln!(
            out,
            "%{i} = {} {}{arg} ({})",
            n.op(),
            n.dtype_text(),
            srcs.join(", ")
        );
        ids.insert(n, i);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_math_prints_infix() {
        let r0 = UOp::range(4, 0);
        let r1 = UOp::range(3, 1);
        let e = (&r0 * 3 + &r1).floordiv(2).lt(5);
        insta::assert_snapshot!(expr_string(&e), @"((((r0 * 3) + r1) // 2) < 5)");
    }

    #[test]
    fn graphs_print_one_line_per_node() {
        let r0 = UOp::range(4, 0);
        let gated = r0.lt(3).where_(&(&r0 + 1), &UOp::invalid());
        insta::assert_snapshot!(graph_string(&gated));
    }
}
