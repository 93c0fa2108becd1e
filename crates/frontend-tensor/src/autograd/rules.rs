//! The gradient rules: for each op of the tensor graph, the gradients of its sources given
//! `ctx`, the gradient of its result (`ret`). Each rule is named by its identity. A `None`
//! gradient means none flows to that source (a comparison's operands, a WHERE's
//! condition). An op without a rule is an error that names it, never a silent zero.
//! Composite ops (`exp` is `exp2(x / ln 2)`, softmax, conv) get their gradients by
//! composition.

use std::f64::consts::{FRAC_PI_2, LN_2};
use std::sync::LazyLock;

use uop_ir::{Arg, Op, UOp};

use crate::error::{Result, TensorError};
use crate::tensor::Tensor;

/// What a rule sees: the node, its result and sources as tensors, and `ctx`.
pub(crate) struct Grad<'a> {
    pub node: &'a UOp,
    pub ret: Tensor,
    pub src: Vec<Tensor>,
    pub ctx: &'a Tensor,
}

type Body = fn(&Grad) -> Result<Vec<Option<Tensor>>>;

pub(crate) struct Rule {
    pub name: &'static str,
    pub ops: &'static [Op],
    pub body: Body,
}

/// Ops through which no gradient flows (integer, bit and random ops; comparisons give
/// bools): their float sources, if any, get none.
pub(crate) const NO_GRADIENT: &[Op] = &[
    Op::CmpLt,
    Op::CmpNe,
    Op::CmpEq,
    Op::Bitcast,
    Op::CDiv,
    Op::CMod,
    Op::FloorDiv,
    Op::FloorMod,
    Op::Shl,
    Op::Shr,
    Op::And,
    Op::Or,
    Op::Xor,
    Op::Threefry,
];

fn one(g: Tensor) -> Result<Vec<Option<Tensor>>> {
    Ok(vec![Some(g)])
}

/// `v` in `like`'s dtype, device and shape.
fn scalar(like: &Tensor, v: f64) -> Result<Tensor> {
    like.scalar_like(v)
        .cast(like.dtype())?
        .broadcast_to(like.shape())
}

pub(crate) static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    vec![
        Rule {
            name: "d cast(a) = cast(ctx) to a's dtype",
            ops: &[Op::Cast],
            body: |g| one(g.ctx.cast(g.src[0].dtype())?),
        },
        Rule {
            name: "d(a + b) = (ctx, ctx)",
            ops: &[Op::Add],
            body: |g| Ok(vec![Some(g.ctx.clone()), Some(g.ctx.clone())]),
        },
        Rule {
            name: "d(a - b) = (ctx, -ctx)",
            ops: &[Op::Sub],
            body: |g| Ok(vec![Some(g.ctx.clone()), Some(g.ctx.neg())]),
        },
        Rule {
            name: "d(a * b) = (ctx * b, ctx * a)",
            ops: &[Op::Mul],
            body: |g| {
                Ok(vec![
                    Some(g.ctx.mul(&g.src[1])?),
                    Some(g.ctx.mul(&g.src[0])?),
                ])
            },
        },
        Rule {
            name: "d(a / b) = (ctx / b, -ctx * ret / b)",
            ops: &[Op::FDiv],
            body: |g| {
                let da = g.ctx.div(&g.src[1])?;
                let db = g.ctx.mul(&g.ret)?.div(&g.src[1])?.neg();
                Ok(vec![Some(da), Some(db)])
            },
        },
        Rule {
            name: "d(a * b + c) = (ctx * b, ctx * a, ctx)",
            ops: &[Op::MulAcc],
            body: |g| {
                Ok(vec![
                    Some(g.ctx.mul(&g.src[1])?),
                    Some(g.ctx.mul(&g.src[0])?),
                    Some(g.ctx.clone()),
                ])
            },
        },
        Rule {
            name: "d(-a) = -ctx",
            ops: &[Op::Neg],
            body: |g| one(g.ctx.neg()),
        },
        Rule {
            name: "d(1/a) = -ctx * ret * ret",
            ops: &[Op::Recip],
            body: |g| one(g.ctx.mul(&g.ret)?.mul(&g.ret)?.neg()),
        },
        Rule {
            name: "d sqrt(a) = ctx / (2 * ret)",
            ops: &[Op::Sqrt],
            body: |g| one(g.ctx.div(&g.ret.mul_scalar(2.0)?)?),
        },
        Rule {
            name: "d exp2(a) = ctx * ret * ln 2",
            ops: &[Op::Exp2],
            body: |g| one(g.ctx.mul(&g.ret)?.mul_scalar(LN_2)?),
        },
        Rule {
            name: "d log2(a) = ctx / (a * ln 2)",
            ops: &[Op::Log2],
            body: |g| one(g.ctx.div(&g.src[0].mul_scalar(LN_2)?)?),
        },
        Rule {
            name: "d sin(a) = ctx * sin(pi/2 - a)",
            ops: &[Op::Sin],
            body: |g| one(g.ctx.mul(&g.src[0].neg().add_scalar(FRAC_PI_2)?.sin()?)?),
        },
        Rule {
            name: "d trunc(a) = 0",
            ops: &[Op::Trunc],
            body: |g| one(scalar(g.ctx, 0.0)?),
        },
        Rule {
            name: "d max(a, b) = ctx to the larger, ctx/2 to each on a tie (all of it to a \
                   constant: relu'(0) = 0)",
            ops: &[Op::Max],
            body: |g| {
                let (a, b) = (&g.src[0], &g.src[1]);
                let share = |x: &Tensor, y: &Tensor| -> Result<Tensor> {
                    let tie = if is_constant(&x.node()) {
                        1.0
                    } else if is_constant(&y.node()) {
                        0.0
                    } else {
                        0.5
                    };
                    let on_tie = x
                        .eq(y)?
                        .where_(&scalar(g.ctx, tie)?, &scalar(g.ctx, 0.0)?)?;
                    let w = x.gt(y)?.where_(&scalar(g.ctx, 1.0)?, &on_tie)?;
                    g.ctx.mul(&w)
                };
                Ok(vec![Some(share(a, b)?), Some(share(b, a)?)])
            },
        },
        Rule {
            name: "d pow(a, b) = (ctx * b * a^(b-1), ctx * ret * ln a)",
            ops: &[Op::Pow],
            body: |g| {
                let (a, b) = (&g.src[0], &g.src[1]);
                let da = g.ctx.mul(b)?.mul(&a.pow(&b.add_scalar(-1.0)?)?)?;
                // a = 0: the limit of ret * ln a is 0 for b > 0 (and -inf for b < 0)
                let ln_a = a.log()?;
                let zero = a.eq(&scalar(a, 0.0)?)?;
                let db_nonzero = g.ctx.mul(&g.ret)?.mul(&ln_a)?;
                let at_zero = b
                    .lt(&scalar(b, 0.0)?)?
                    .where_(&scalar(g.ctx, f64::NEG_INFINITY)?, &scalar(g.ctx, 0.0)?)?;
                let db = zero.where_(&g.ctx.mul(&at_zero)?, &db_nonzero)?;
                Ok(vec![Some(da), Some(db)])
            },
        },
        Rule {
            name: "d where(c, a, b) = (none, where(c, ctx, 0), where(c, 0, ctx))",
            ops: &[Op::Where],
            body: |g| {
                let c = &g.src[0];
                let zero = scalar(g.ctx, 0.0)?;
                Ok(vec![
                    None,
                    Some(c.where_(g.ctx, &zero)?),
                    Some(c.where_(&zero, g.ctx)?),
                ])
            },
        },
        Rule {
            name: "d reduce(a) = expand(ctx) (sum); ctx over the maxima (max); ctx * ret / a (prod)",
            ops: &[Op::Reduce],
            body: |g| {
                let Arg::Reduce { op, axes } = g.node.arg() else {
                    return Err(malformed(g.node, "REDUCE without its op"));
                };
                let shape = g.src[0].shape();
                let ctx = g.ctx.expand(shape)?;
                match op {
                    Op::Add => one(ctx),
                    Op::Max => {
                        let hit = g.src[0].eq(&g.ret.expand(shape)?)?.cast(g.ctx.dtype())?;
                        let axes: Vec<isize> = axes.iter().map(|&a| a as isize).collect();
                        let count = hit.sum(&axes, true)?.expand(shape)?;
                        one(hit.mul(&ctx)?.div(&count)?)
                    }
                    Op::Mul => one(ctx.mul(&g.ret.expand(shape)?)?.div(&g.src[0])?),
                    _ => Err(malformed(g.node, "a REDUCE by an op with no gradient")),
                }
            },
        },
        Rule {
            name: "d reshape(a) = reshape(ctx) to a's shape",
            ops: &[Op::Reshape],
            body: |g| one(g.ctx.reshape(g.src[0].shape())?),
        },
        Rule {
            name: "d permute(a, p) = permute(ctx, inverse of p)",
            ops: &[Op::Permute],
            body: |g| {
                let Arg::Axes(p) = g.node.arg() else {
                    return Err(malformed(g.node, "PERMUTE without axes"));
                };
                let mut inverse = vec![0; p.len()];
                for (i, &a) in p.iter().enumerate() {
                    inverse[a] = i;
                }
                one(g.ctx.permute(&inverse)?)
            },
        },
        Rule {
            name: "d expand(a) = sum(ctx) over the expanded axes",
            ops: &[Op::Expand],
            body: |g| {
                let from = g.src[0].shape();
                let axes: Vec<isize> = from
                    .iter()
                    .zip(g.ctx.shape())
                    .enumerate()
                    .filter(|(_, (f, t))| f != t)
                    .map(|(i, _)| i as isize)
                    .collect();
                if axes.is_empty() {
                    return one(g.ctx.clone());
                }
                one(g.ctx.sum(&axes, true)?)
            },
        },
        Rule {
            name: "d pad(a) = shrink(ctx) to a",
            ops: &[Op::Pad],
            body: |g| {
                let Arg::Pairs(p) = g.node.arg() else {
                    return Err(malformed(g.node, "PAD without pairs"));
                };
                let ranges: Vec<(i64, i64)> = p
                    .iter()
                    .zip(g.src[0].shape())
                    .map(|(&(before, _), &s)| (before, before + s))
                    .collect();
                one(g.ctx.shrink(&ranges)?)
            },
        },
        Rule {
            name: "d shrink(a) = pad(ctx) back to a's shape",
            ops: &[Op::Shrink],
            body: |g| {
                let Arg::Pairs(p) = g.node.arg() else {
                    return Err(malformed(g.node, "SHRINK without pairs"));
                };
                let pads: Vec<(i64, i64)> = p
                    .iter()
                    .zip(g.src[0].shape())
                    .map(|(&(b, e), &s)| (b, s - e))
                    .collect();
                one(g.ctx.pad(&pads)?)
            },
        },
        Rule {
            name: "d flip(a) = flip(ctx)",
            ops: &[Op::Flip],
            body: |g| {
                let Arg::Axes(axes) = g.node.arg() else {
                    return Err(malformed(g.node, "FLIP without axes"));
                };
                one(g.ctx.flip(axes)?)
            },
        },
        Rule {
            name: "d contiguous(a) = ctx",
            ops: &[Op::Contiguous],
            body: |g| one(g.ctx.clone()),
        },
    ]
});

/// A constant, possibly reshaped or broadcast: it has no gradient path.
fn is_constant(u: &UOp) -> bool {
    let mut u = u;
    while u.op().is_movement() {
        u = &u.src()[0];
    }
    u.op() == Op::Const
}

fn malformed(node: &UOp, why: &str) -> TensorError {
    TensorError::Gradient {
        op: node.op(),
        why: why.to_string(),
    }
}

/// The gradients of `node`'s sources given `ctx`, the gradient of its result.
pub(crate) fn gradient(node: &UOp, ctx: &Tensor, device: &str) -> Result<Vec<Option<Tensor>>> {
    let tensor = |u: &UOp| -> Result<Tensor> {
        let shape = u
            .shape()
            .ok_or_else(|| malformed(u, "a source without a shape"))?;
        Ok(Tensor::from_node(u.clone(), shape.to_vec(), device))
    };
    if NO_GRADIENT.contains(&node.op()) {
        return Ok(vec![None; node.src().len()]);
    }
    let rule = RULES
        .iter()
        .find(|r| r.ops.contains(&node.op()))
        .ok_or_else(|| malformed(node, "no gradient rule for this op"))?;
    let g = Grad {
        node,
        ret: tensor(node)?,
        src: node.src().iter().map(tensor).collect::<Result<_>>()?,
        ctx,
    };
    (rule.body)(&g).map_err(|e| TensorError::Gradient {
        op: node.op(),
        why: format!("rule `{}` failed: {e}", rule.name),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every op that can be in a tensor graph with a float result has a rule, passes no
    /// gradient by design, or is a leaf or a gradient stop.
    #[test]
    fn every_tensor_op_is_covered() {
        let leaves_and_stops = [
            Op::Buffer,
            Op::Const,
            Op::DefineVar,
            Op::Detach,
            Op::Assign,
            Op::Sink,
            // device copies get their rule with multi-device support
            Op::Copy,
        ];
        for &op in Op::ALL {
            let tensor_op = op.is_elementwise()
                || op.is_movement()
                || matches!(op, Op::Reduce | Op::Contiguous);
            if !tensor_op || leaves_and_stops.contains(&op) {
                continue;
            }
            let ruled = RULES.iter().any(|r| r.ops.contains(&op));
            assert!(
                ruled != NO_GRADIENT.contains(&op),
                "{op}: needs exactly one of a rule or a NO_GRADIENT entry"
            );
        }
    }

    #[test]
    fn rules_are_named_by_their_identity_and_own_their_ops() {
        let mut seen = Vec::new();
        for r in RULES.iter() {
            assert!(
                r.name.starts_with('d') && r.name.contains(" = "),
                "{}",
                r.name
            );
            for op in r.ops {
                assert!(!seen.contains(op), "{op} has two rules");
                seen.push(*op);
            }
        }
    }
}
