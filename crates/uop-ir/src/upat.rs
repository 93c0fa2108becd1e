//! `UPat`: a pattern over `UOp`s. A pattern constrains the op (or a set of ops), the
//! dtype, the arg and the sources, and can bind names for the rule body. Sources match
//! positionally, in any order (commutative ops), or as one pattern repeated over every
//! source. Arithmetic on patterns builds patterns, so `UPat::var("x") * 1` reads as the
//! algebra it matches.

use std::ops;

use dtype::DType;

use crate::arg::{Arg, ConstValue};
use crate::op::Op;
use crate::uop::UOp;

/// How a pattern's sources are matched.
#[derive(Clone, Debug, PartialEq)]
pub enum SrcPat {
    /// Any sources.
    Any,
    /// Exactly these, in this order.
    Exact(Vec<UPat>),
    /// Exactly these, in some order (tried in every order).
    AnyOrder(Vec<UPat>),
    /// Every source matches this one pattern.
    Each(Box<UPat>),
}

/// What a pattern asks of a node's arg.
#[derive(Clone, Debug, PartialEq)]
pub enum ArgPat {
    Any,
    Exact(Arg),
    /// A CONST numerically equal to this integer, of any dtype (`1` matches `1.0`).
    Int(i64),
}

/// A pattern; see the module doc.
#[derive(Clone, Debug, PartialEq)]
pub struct UPat {
    pub ops: Option<Vec<Op>>,
    pub dtypes: Option<Vec<DType>>,
    pub src: SrcPat,
    pub arg: ArgPat,
    pub name: Option<&'static str>,
}

/// Names bound by a match, in binding order.
#[derive(Clone, Debug, Default)]
pub struct Bindings {
    pairs: Vec<(&'static str, UOp)>,
}

impl Bindings {
    pub fn get(&self, name: &str) -> Option<&UOp> {
        self.pairs.iter().find(|(n, _)| *n == name).map(|(_, u)| u)
    }

    pub(crate) fn clear(&mut self) {
        self.pairs.clear();
    }

    fn bind(&mut self, name: &'static str, u: &UOp) -> bool {
        match self.get(name) {
            Some(bound) => bound == u,
            None => {
                self.pairs.push((name, u.clone()));
                true
            }
        }
    }
}

impl ops::Index<&str> for Bindings {
    type Output = UOp;
    /// The node bound to `name`. Rule bodies only ask for names their pattern binds, so a
    /// missing name is a bug in the rule, reported with the name.
    fn index(&self, name: &str) -> &UOp {
        match self.get(name) {
            Some(u) => u,
            None => panic!("rule body asked for `{name}`, which its pattern does not bind"),
        }
    }
}

impl UPat {
    /// Any node.
    pub fn any() -> UPat {
        UPat {
            ops: None,
            dtypes: None,
            src: SrcPat::Any,
            arg: ArgPat::Any,
            name: None,
        }
    }

    /// Any node, bound to `name`.
    pub fn var(name: &'static str) -> UPat {
        UPat::any().named(name)
    }

    /// A node with this op.
    pub fn op(op: Op) -> UPat {
        UPat {
            ops: Some(vec![op]),
            ..UPat::any()
        }
    }

    /// A node with one of these ops.
    pub fn ops(ops: &[Op]) -> UPat {
        UPat {
            ops: Some(ops.to_vec()),
            ..UPat::any()
        }
    }

    /// Any CONST, bound to `name`.
    pub fn cvar(name: &'static str) -> UPat {
        UPat::op(Op::Const).named(name)
    }

    /// A CONST numerically equal to `v` (any dtype).
    pub fn int(v: i64) -> UPat {
        UPat {
            arg: ArgPat::Int(v),
            ..UPat::op(Op::Const)
        }
    }

    /// The `Invalid` constant.
    pub fn invalid() -> UPat {
        UPat {
            arg: ArgPat::Exact(Arg::Const(ConstValue::Invalid)),
            ..UPat::op(Op::Const)
        }
    }

    pub fn named(mut self, name: &'static str) -> UPat {
        self.name = Some(name);
        self
    }

    pub fn dtype(mut self, dtypes: &[DType]) -> UPat {
        self.dtypes = Some(dtypes.to_vec());
        self
    }

    pub fn arg(mut self, arg: Arg) -> UPat {
        self.arg = ArgPat::Exact(arg);
        self
    }

    pub fn src(mut self, src: impl IntoIterator<Item = UPat>) -> UPat {
        self.src = SrcPat::Exact(src.into_iter().collect());
        self
    }

    pub fn src_any_order(mut self, src: impl IntoIterator<Item = UPat>) -> UPat {
        self.src = SrcPat::AnyOrder(src.into_iter().collect());
        self
    }

    pub fn src_each(mut self, src: UPat) -> UPat {
        self.src = SrcPat::Each(Box::new(src));
        self
    }

    /// An ALU pattern: sources in any order when `op` is commutative.
    pub fn alu(op: Op, src: impl IntoIterator<Item = UPat>) -> UPat {
        if op.is_commutative() {
            UPat::op(op).src_any_order(src)
        } else {
            UPat::op(op).src(src)
        }
    }

    pub fn floordiv(self, rhs: impl Into<UPat>) -> UPat {
        UPat::alu(Op::FloorDiv, [self, rhs.into()])
    }

    pub fn floormod(self, rhs: impl Into<UPat>) -> UPat {
        UPat::alu(Op::FloorMod, [self, rhs.into()])
    }

    pub fn lt(self, rhs: impl Into<UPat>) -> UPat {
        UPat::alu(Op::CmpLt, [self, rhs.into()])
    }

    pub fn ne(self, rhs: impl Into<UPat>) -> UPat {
        UPat::alu(Op::CmpNe, [self, rhs.into()])
    }

    pub fn max(self, rhs: impl Into<UPat>) -> UPat {
        UPat::alu(Op::Max, [self, rhs.into()])
    }

    pub fn where_(self, t: impl Into<UPat>, f: impl Into<UPat>) -> UPat {
        UPat::alu(Op::Where, [self, t.into(), f.into()])
    }

    /// Matches `u`, appending bound names to `b`. On failure `b` is left as it was.
    pub fn matches(&self, u: &UOp, b: &mut Bindings) -> bool {
        let mark = b.pairs.len();
        let ok = self.match_inner(u, b);
        if !ok {
            b.pairs.truncate(mark);
        }
        ok
    }

    fn match_inner(&self, u: &UOp, b: &mut Bindings) -> bool {
        if self.ops.as_ref().is_some_and(|ops| !ops.contains(&u.op()))
            || self
                .dtypes
                .as_ref()
                .is_some_and(|d| !d.contains(&u.dtype()))
            || !self.arg_matches(u)
            || self.name.is_some_and(|n| !b.bind(n, u))
        {
            return false;
        }
        match &self.src {
            SrcPat::Any => true,
            SrcPat::Exact(pats) => {
                pats.len() == u.src().len()
                    && pats.iter().zip(u.src()).all(|(p, s)| p.matches(s, b))
            }
            SrcPat::Each(p) => u.src().iter().all(|s| p.matches(s, b)),
            SrcPat::AnyOrder(pats) => {
                pats.len() == u.src().len()
                    && match_any_order(pats, u.src(), &mut vec![false; pats.len()], b)
            }
        }
    }

    fn arg_matches(&self, u: &UOp) -> bool {
        match &self.arg {
            ArgPat::Any => true,
            ArgPat::Exact(a) => u.arg() == a,
            ArgPat::Int(v) => u.const_value().is_some_and(|c| c.equals_int(*v)),
        }
    }
}

/// Backtracking match of `pats` against `srcs` in any order.
fn match_any_order(pats: &[UPat], srcs: &[UOp], used: &mut Vec<bool>, b: &mut Bindings) -> bool {
    let Some((first, rest)) = pats.split_first() else {
        return true;
    };
    for i in 0..srcs.len() {
        if used[i] {
            continue;
        }
        let mark = b.pairs.len();
        if first.matches(&srcs[i], b) {
            used[i] = true;
            if match_any_order(rest, srcs, used, b) {
                return true;
            }
            used[i] = false;
        }
        b.pairs.truncate(mark);
    }
    false
}

impl From<i64> for UPat {
    fn from(v: i64) -> UPat {
        UPat::int(v)
    }
}

impl From<bool> for UPat {
    /// A bool CONST with this value.
    fn from(v: bool) -> UPat {
        UPat::int(v as i64).dtype(&[DType::Bool])
    }
}

macro_rules! pattern_operator {
    ($trait:ident, $method:ident, $op:expr) => {
        impl<R: Into<UPat>> ops::$trait<R> for UPat {
            type Output = UPat;
            fn $method(self, rhs: R) -> UPat {
                UPat::alu($op, [self, rhs.into()])
            }
        }
    };
}

pattern_operator!(Add, add, Op::Add);
pattern_operator!(Sub, sub, Op::Sub);
pattern_operator!(Mul, mul, Op::Mul);
pattern_operator!(BitAnd, bitand, Op::And);
pattern_operator!(BitOr, bitor, Op::Or);
pattern_operator!(BitXor, bitxor, Op::Xor);

impl ops::Neg for UPat {
    type Output = UPat;
    fn neg(self) -> UPat {
        UPat::op(Op::Neg).src([self])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commutative_patterns_match_either_order() {
        let x = UOp::var("x", 0, 10);
        let p = UPat::var("x") * 1;
        let mut b = Bindings::default();
        assert!(p.matches(&(&x * 1), &mut b));
        assert_eq!(b["x"], x);
        let one_x = UOp::alu(Op::Mul, [UOp::int(1), x.clone()]);
        assert!(p.matches(&one_x, &mut Bindings::default()));
        assert!(!p.matches(&(&x * 2), &mut Bindings::default()));
    }

    #[test]
    fn repeated_names_must_bind_the_same_node() {
        let x = UOp::var("x", 0, 10);
        let y = UOp::var("y", 0, 10);
        let p = UPat::var("x") + UPat::var("x");
        assert!(p.matches(&(&x + &x), &mut Bindings::default()));
        let mut b = Bindings::default();
        assert!(!p.matches(&(&x + &y), &mut b));
        assert!(b.get("x").is_none(), "failed matches leave no bindings");
    }

    #[test]
    fn int_patterns_match_any_numeric_dtype() {
        let f = UOp::const_of(DType::F32, ConstValue::Float(1.0));
        assert!(UPat::int(1).matches(&f, &mut Bindings::default()));
        assert!(!UPat::int(1).matches(&UOp::int(2), &mut Bindings::default()));
    }
}
