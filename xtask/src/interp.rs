//! The plain interpreter `fuzz-kernels` compares against: naive loops on `Vec<f32>`, with
//! movement ops indexed through `view-ref` (a point the views mask out reads 0).

use view_ref::ViewStack;

use crate::check::{apply, next_point};
use crate::program::{BinOp, Node, Program, RedOp, UnOp};

/// The value of every node, row-major.
pub fn evaluate(p: &Program) -> Result<Vec<Vec<f32>>, String> {
    let shapes = p.shapes()?;
    let mut values: Vec<Vec<f32>> = Vec::with_capacity(p.nodes.len());
    for (i, node) in p.nodes.iter().enumerate() {
        let out = match node {
            Node::Input { data, .. } => data.clone(),
            Node::Move { src, chain } => {
                let mut stack = ViewStack::from_shape(&shapes[*src])
                    .map_err(|e| format!("t{i}: view-ref: {e}"))?;
                for m in chain {
                    stack =
                        apply(&stack, m).map_err(|e| format!("t{i}: view-ref rejects {m}: {e}"))?;
                }
                let input = &values[*src];
                let shape = &shapes[i];
                let mut out = Vec::with_capacity(input.len());
                let mut point = vec![0i64; shape.len()];
                loop {
                    out.push(match stack.index_at(&point) {
                        Some(at) => *input.get(at as usize).ok_or_else(|| {
                            format!("t{i}: view-ref index {at} at {point:?} is out of range")
                        })?,
                        None => 0.0,
                    });
                    if !next_point(&mut point, shape) {
                        break;
                    }
                }
                out
            }
            Node::Binary { op, a, b } => {
                let f = match op {
                    BinOp::Add => |x: f32, y: f32| x + y,
                    BinOp::Sub => |x: f32, y: f32| x - y,
                    BinOp::Mul => |x: f32, y: f32| x * y,
                    BinOp::Maximum => |x: f32, y: f32| x.max(y),
                };
                values[*a]
                    .iter()
                    .zip(&values[*b])
                    .map(|(&x, &y)| f(x, y))
                    .collect()
            }
            Node::Unary { op, src } => {
                let op = *op;
                values[*src]
                    .iter()
                    .map(|&x| match op {
                        UnOp::Neg => -x,
                        UnOp::Relu => x.max(0.0),
                        UnOp::MaxConst(c) => x.max(c as f32),
                        UnOp::MulScalar(c) => x * c as f32,
                        UnOp::AddScalar(c) => x + c as f32,
                    })
                    .collect()
            }
            Node::Reduce { op, src, axes, .. } => {
                let in_shape = &shapes[*src];
                // the flat index into the keepdim shape equals the one into the dropped shape
                let kept: Vec<i64> = in_shape
                    .iter()
                    .enumerate()
                    .map(|(a, &d)| if axes.contains(&a) { 1 } else { d })
                    .collect();
                let n: i64 = kept.iter().product();
                let (init, f): (f32, fn(f32, f32) -> f32) = match op {
                    RedOp::Sum => (0.0, |acc, x| acc + x),
                    RedOp::Max => (f32::NEG_INFINITY, f32::max),
                };
                let mut out = vec![init; n as usize];
                let input = &values[*src];
                let mut point = vec![0i64; in_shape.len()];
                let mut flat = 0usize;
                loop {
                    let mut o = 0i64;
                    for ((&x, &d), a) in point.iter().zip(&kept).zip(0..) {
                        let x = if axes.contains(&a) { 0 } else { x };
                        o = o * d + x;
                    }
                    out[o as usize] = f(out[o as usize], input[flat]);
                    flat += 1;
                    if !next_point(&mut point, in_shape) {
                        break;
                    }
                }
                out
            }
        };
        values.push(out);
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use uop_ir::Movement;

    #[test]
    fn a_small_program_by_hand() {
        let p = Program {
            nodes: vec![
                Node::Input {
                    shape: vec![2, 3],
                    data: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
                },
                Node::Move {
                    src: 0,
                    chain: vec![
                        Movement::Permute(vec![1, 0]),
                        Movement::Pad(vec![(1, 0), (0, 0)]),
                    ],
                },
                Node::Reduce {
                    op: RedOp::Sum,
                    src: 1,
                    axes: vec![1],
                    keepdim: false,
                },
                Node::Reduce {
                    op: RedOp::Max,
                    src: 0,
                    axes: vec![0, 1],
                    keepdim: true,
                },
            ],
            outputs: vec![2, 3],
        };
        let v = evaluate(&p).expect("runs");
        assert_eq!(v[1], vec![0.0, 0.0, 1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
        assert_eq!(v[2], vec![0.0, 5.0, 7.0, 9.0]);
        assert_eq!(v[3], vec![6.0]);
    }
}
