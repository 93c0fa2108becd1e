//! ALU nodes of the walk: one instruction (or a short sequence) per op, the same on
//! scalars and on vectors, whose scalar operands are broadcast first. Integers wrap
//! (no `nsw`/`nuw`), division and comparison take the sign of the operands' dtype, and
//! floats follow the C renderer: nothing is fused but MULACC (`llvm.fma`), MAX of floats
//! is NaN if either side is NaN (a compare and a select), EXP2 of f32 is the shared
//! polynomial (`helpers::exp2`), and the other math functions are LLVM's intrinsics
//! (the same C library functions the C renderer calls). Floor division and modulo, MAX of
//! scalar floats and bool arithmetic arrive decomposed by the base rules of the C-like
//! renderers. Casts and bitcasts are `cast.rs`.

use renderer::RenderError;
use uop_ir::{DType, Op, UOp};

use super::{Emitter, Node, Val};
use crate::flavor::Flavor;
use crate::helpers::exp2::exp2_f32;
use crate::types::{intrinsic_suffix, is_signed, splat, value_type, vector_of};

impl<F: Flavor + ?Sized> Emitter<'_, F> {
    /// An ALU, CAST or BITCAST node.
    pub(super) fn alu(&mut self, i: usize, u: &UOp) -> Result<Node, RenderError> {
        let op = u.op();
        let arity = op.alu_arity().unwrap_or(0);
        if u.src().len() != arity {
            return Err(self.malformed(
                i,
                u,
                format!("takes {arity} operands, got {}", u.src().len()),
            ));
        }
        let lanes = u.lanes();
        let mut src = Vec::with_capacity(arity);
        for (k, s) in u.src().iter().enumerate() {
            let v = self.value(i, u, s)?;
            // a WHERE may select whole vectors with one bool
            let keep = op == Op::Where && k == 0 && v.lanes == 1;
            src.push(if keep {
                v
            } else {
                self.widen(&v, lanes)
                    .map_err(|why| self.malformed(i, u, why))?
            });
        }
        match op {
            Op::Cast => return self.cast(i, u, &src[0]),
            Op::Bitcast => return self.bitcast(i, u, &src[0]),
            Op::Trunc if src[0].dtype.is_int() || src[0].dtype == DType::Bool => {
                return Ok(Node::Value(Val {
                    dtype: u.dtype(),
                    ..src[0].clone()
                }));
            }
            _ => {}
        }
        let instruction = self
            .instruction(op, &src)
            .map_err(|why| self.unsupported(i, u, why))?;
        Ok(self.define(i, u, instruction))
    }

    /// The instruction computing `op` on `src` (operands of one dtype and lanes, but a
    /// WHERE's condition), after any it needs first.
    fn instruction(&mut self, op: Op, src: &[Val]) -> Result<String, String> {
        let a = &src[0];
        let dt = if op == Op::Where {
            src[1].dtype
        } else {
            a.dtype
        };
        let float = dt.is_float();
        let ty = a.ty();
        let b = src.get(1).map_or("", |v| v.text.as_str());
        let signed = is_signed(dt);
        let float_only = |e: String| {
            if float {
                Ok(e)
            } else {
                Err(format!("{op} needs floats, got {dt}"))
            }
        };
        let int_only = |e: String| {
            if float {
                Err(format!("{op} needs integers, got {dt}"))
            } else {
                Ok(e)
            }
        };
        let pick = |f: &str, s: &str, u: &str| {
            if float {
                f.to_string()
            } else if signed {
                s.to_string()
            } else {
                u.to_string()
            }
        };
        let x = &a.text;
        Ok(match op {
            Op::Add => format!("{} {ty} {x}, {b}", pick("fadd", "add", "add")),
            Op::Sub => format!("{} {ty} {x}, {b}", pick("fsub", "sub", "sub")),
            Op::Mul => format!("{} {ty} {x}, {b}", pick("fmul", "mul", "mul")),
            Op::CmpLt => format!("{} {ty} {x}, {b}", pick("fcmp olt", "icmp slt", "icmp ult")),
            Op::CmpNe => format!("{} {ty} {x}, {b}", pick("fcmp une", "icmp ne", "icmp ne")),
            Op::CmpEq => format!("{} {ty} {x}, {b}", pick("fcmp oeq", "icmp eq", "icmp eq")),
            Op::Where => format!(
                "select {}, {}, {}",
                a.typed(),
                src[1].typed(),
                src[2].typed()
            ),
            Op::Neg if float => format!("fneg {ty} {x}"),
            Op::Neg => format!("sub {ty} {}, {x}", self.zero(a)),
            Op::Max if float => {
                let gt = self.temp();
                self.ins(&gt, format!("fcmp ogt {ty} {x}, {b}"));
                let nan = self.temp();
                self.ins(&nan, format!("fcmp uno {ty} {x}, {x}"));
                let take = self.temp();
                let cond = vector_of("i1", a.lanes);
                self.ins(&take, format!("or {cond} {gt}, {nan}"));
                format!("select {cond} {take}, {ty} {x}, {ty} {b}")
            }
            Op::Max => {
                let gt = self.temp();
                let cmp = if signed { "icmp sgt" } else { "icmp ugt" };
                self.ins(&gt, format!("{cmp} {ty} {x}, {b}"));
                let cond = vector_of("i1", a.lanes);
                format!("select {cond} {gt}, {ty} {x}, {ty} {b}")
            }
            Op::MulAcc if float => self.intrinsic("fma", a, src)?,
            Op::MulAcc => {
                let prod = self.temp();
                self.ins(&prod, format!("mul {ty} {x}, {b}"));
                format!("add {ty} {prod}, {}", src[2].text)
            }
            Op::FDiv => float_only(format!("fdiv {ty} {x}, {b}"))?,
            Op::Recip => float_only(format!("fdiv {ty} {}, {x}", self.one(a)))?,
            Op::Exp2 if float && dt != DType::F64 => {
                let f = exp2_f32(self.module, a.lanes);
                format!("call {ty} {f}({ty} {x})")
            }
            Op::Exp2 if float => self.intrinsic("exp2", a, src)?,
            Op::Log2 if float => self.intrinsic("log2", a, src)?,
            Op::Sin if float => self.intrinsic("sin", a, src)?,
            Op::Sqrt if float => self.intrinsic("sqrt", a, src)?,
            Op::Trunc if float => self.intrinsic("trunc", a, src)?,
            Op::Pow if float => self.intrinsic("pow", a, src)?,
            Op::Exp2 | Op::Log2 | Op::Sin | Op::Sqrt | Op::Trunc | Op::Pow => {
                return Err(format!("{op} needs floats, got {dt}"));
            }
            Op::CDiv | Op::CMod if float => return Err(format!("{op} needs integers, got {dt}")),
            Op::CDiv | Op::CMod => self.division(op, a, &src[1])?,
            Op::And => int_only(format!("and {ty} {x}, {b}"))?,
            Op::Or => int_only(format!("or {ty} {x}, {b}"))?,
            Op::Xor => int_only(format!("xor {ty} {x}, {b}"))?,
            Op::Shl => int_only(format!("shl {ty} {x}, {b}"))?,
            Op::Shr => int_only(format!("{} {ty} {x}, {b}", pick("", "ashr", "lshr")))?,
            Op::FloorDiv | Op::FloorMod => {
                return Err(format!(
                    "{op} on {dt} is decomposed by the base rules (integers only)"
                ));
            }
            _ => return Err(format!("{} has no rule for it", self.flavor.name())),
        })
    }

    /// C's `/` or `%` of integers: integers narrower than 32 bits are divided as `i32`, as
    /// C promotes them, so that `-128 / -1` on i8 wraps to -128 instead of trapping.
    fn division(&mut self, op: Op, a: &Val, b: &Val) -> Result<String, String> {
        let signed = is_signed(a.dtype);
        let name = match (op, signed) {
            (Op::CDiv, true) => "sdiv",
            (Op::CDiv, false) => "udiv",
            (_, true) => "srem",
            (_, false) => "urem",
        };
        let ty = a.ty();
        if a.dtype == DType::Bool || a.dtype.itemsize() >= 4 {
            return Ok(format!("{name} {ty} {}, {}", a.text, b.text));
        }
        let wide = vector_of("i32", a.lanes);
        let widen = if signed { "sext" } else { "zext" };
        let (x, y) = (self.temp(), self.temp());
        self.ins(&x, format!("{widen} {ty} {} to {wide}", a.text));
        self.ins(&y, format!("{widen} {ty} {} to {wide}", b.text));
        let q = self.temp();
        self.ins(&q, format!("{name} {wide} {x}, {y}"));
        Ok(format!("trunc {wide} {q} to {ty}"))
    }

    /// `call @llvm.NAME.SUFFIX(operands)`, declared on first use.
    fn intrinsic(&mut self, name: &str, a: &Val, src: &[Val]) -> Result<String, String> {
        let ty = a.ty();
        let f = format!("llvm.{name}.{}", intrinsic_suffix(a.dtype, a.lanes));
        let params = vec![ty.clone(); src.len()].join(", ");
        self.module.declare(format!("declare {ty} @{f}({params})"));
        let args: Vec<String> = src.iter().map(Val::typed).collect();
        Ok(format!("call {ty} @{f}({})", args.join(", ")))
    }

    /// Zero of `v`'s type, untyped.
    fn zero(&self, v: &Val) -> String {
        self.constant(v, if v.dtype.is_float() { "0.0" } else { "0" })
    }

    /// One of the float `v`'s type, untyped.
    fn one(&self, v: &Val) -> String {
        self.constant(v, "1.0")
    }

    /// The literal `c` in every lane of `v`'s type.
    fn constant(&self, v: &Val, c: &str) -> String {
        splat(value_type(v.dtype).unwrap_or("i64"), c, v.lanes)
    }
}
