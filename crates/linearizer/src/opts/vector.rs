//! The vector opt: one range `r` of extent `n` becomes `r' * u + lane` with `r'` looping
//! over `n/u` and `lane` the `u` lanes of a vector. Every node that depends on `lane`
//! becomes a vector node (`lanes = u`); the rest stay scalars and are broadcast where a
//! vector op reads them.
//!
//! What each dependent node becomes:
//! - LOAD: a vector load at the lane-0 address when lane `k` reads element `off_0 + k`; a
//!   gate that differs between lanes (the last vector of a padded loop) becomes a bool
//!   vector of the lanes' gates (a masked load). Otherwise (a gather) `u` scalar loads
//!   stacked into a vector (STACK). On a target whose vector accesses must be aligned
//!   (`VectorTarget::aligned`), a load or store whose lane-0 offset is not provably a
//!   multiple of the lanes is a gather (or scatter) too.
//! - STORE: a vector store under the same condition (a gated store keeps its gate, a
//!   gate per lane becomes a bool vector); otherwise `u` scalar stores of the lanes
//!   (GEP), in lane order, each with its gate.
//! - ALU, CAST, BITCAST, WHERE: a vector op when the target has it for that dtype
//!   (`VectorTarget`); otherwise devectorized: the scalar op per lane, stacked.
//! - REDUCE: a vector accumulator. When `r` is one of the reduced ranges, the lanes are
//!   combined at the end (a horizontal reduction), which reassociates float sums as the
//!   UNROLL opt does.
//!
//! It assumes gated loads are lowered (`LOAD(INDEX(b, off), gate, alt)`) and reductions
//! are not. It refuses (returns `None`, leaving the kernel scalar) when an address or gate
//! that depends on the lane holds a reduction, a node it has no rule for depends on the
//! lane, or a node that depends on it is a vector already (several axes may be split into
//! vectors, but only where their nodes do not meet: softmax's row reductions and its
//! output loop).

use std::collections::{HashMap, HashSet};

use uop_ir::{Arg, DType, Op, UOp, substitute, toposort};

use crate::LinearizeError;
use crate::target::VectorTarget;

/// The marker for the lane index while the graph is rebuilt.
fn lane_var(axis: u32, lanes: u8) -> UOp {
    UOp::new(
        Op::DefineVar,
        DType::Index,
        [],
        Arg::Var {
            name: format!("lane@{axis}").into(),
            min: 0,
            max: lanes as i64 - 1,
        },
    )
}

/// Lane `k` of `v`: `v` itself for a scalar, the element of a STACK, else a GEP.
pub fn lane_of(v: &UOp, k: usize) -> UOp {
    if v.lanes() == 1 {
        v.clone()
    } else if v.op() == Op::Stack {
        v.src()[k].clone()
    } else {
        UOp::new(Op::Gep, v.dtype(), [v.clone()], Arg::Axes([k].into()))
    }
}

/// `v` as a vector of `lanes`: a scalar is broadcast with a STACK.
fn widen(v: &UOp, lanes: u8) -> UOp {
    if v.lanes() == lanes {
        v.clone()
    } else {
        stack(v.dtype(), vec![v.clone(); lanes as usize])
    }
}

fn stack(dtype: DType, elems: Vec<UOp>) -> UOp {
    let lanes = elems.len() as u8;
    UOp::new_vec(Op::Stack, dtype, lanes, elems, Arg::None)
}

/// `r` of `ast` split into vectors of `lanes`; `None` when the pass refuses (see the
/// module doc) or `r` is not a constant range that `lanes` divides.
pub fn vectorize(
    ast: &UOp,
    r: &UOp,
    lanes: u8,
    target: &VectorTarget,
) -> Result<Option<UOp>, LinearizeError> {
    let Arg::Range { axis, kind } = r.arg() else {
        return Ok(None);
    };
    let Some(n) = r.src().first().and_then(UOp::const_int) else {
        return Ok(None);
    };
    let u = lanes as i128;
    if lanes < 2 || n < u || n % u != 0 {
        return Ok(None);
    }
    if crate::ranges::pinned(ast).contains(r) {
        return Ok(None);
    }
    let lane = lane_var(*axis, lanes);
    let outer = UOp::range_of(UOp::int((n / u) as i64), *axis, *kind);
    let split = if n == u {
        lane.clone()
    } else {
        &outer * lanes as i64 + &lane
    };
    let ast = substitute(ast, &HashMap::from([(r.clone(), split)]));
    let mut v = Vectorizer {
        lane,
        lanes,
        outer,
        target,
        done: HashMap::new(),
        depends: HashMap::new(),
    };
    let values = value_nodes(&ast);
    for n in toposort(&ast) {
        let dep = n == v.lane || n.src().iter().any(|s| v.depends[s]);
        if dep && (n.lanes() > 1 || n.src().iter().any(|s| s.lanes() > 1)) {
            // a vector already, or it reads one (another axis was split into lanes): no
            // vectors of vectors
            return Ok(None);
        }
        v.depends.insert(n.clone(), dep);
        // addresses and gates are read per lane from the old nodes: no vector form
        let new = if dep && values.contains(&n) {
            match v.node(&n)? {
                Some(new) => new,
                None => return Ok(None),
            }
        } else if n.src().iter().any(|s| v.done[s] != *s) {
            // reads a horizontal reduction: the same node over the combined value
            n.with_src(
                n.src()
                    .iter()
                    .map(|s| v.done[s].clone())
                    .collect::<Vec<_>>(),
            )
        } else {
            n.clone()
        };
        // a reduction over the split range combines its lanes: its readers do not depend
        // on the lane
        if dep && n.op() == Op::Reduce && n.src()[1..].iter().any(|r| v.depends[r]) {
            v.depends.insert(n.clone(), false);
        }
        v.done.insert(n, new);
    }
    Ok(Some(v.done[&ast].clone()))
}

/// The nodes whose vector form is used: statements, and the values that stores and
/// reductions take, down to the loads (not the addresses or gates of loads and stores),
/// and the copies that fill the scratch a load reads.
fn value_nodes(ast: &UOp) -> HashSet<UOp> {
    let mut seen = HashSet::new();
    let mut stack = vec![ast.clone()];
    while let Some(n) = stack.pop() {
        if !seen.insert(n.clone()) {
            continue;
        }
        match n.op() {
            // a load of scratch: the copy that fills it holds values too
            Op::Load => {
                if let Some(after) = n.src()[0].src().first().filter(|b| b.op() == Op::After) {
                    stack.extend(after.src()[1..].iter().cloned());
                }
            }
            Op::Index => {}
            Op::Store => stack.push(n.src()[1].clone()),
            Op::Reduce => stack.push(n.src()[0].clone()),
            _ => stack.extend(n.src().iter().cloned()),
        }
    }
    seen
}

struct Vectorizer<'a> {
    lane: UOp,
    lanes: u8,
    /// The range `r'` that replaces `r`.
    outer: UOp,
    target: &'a VectorTarget,
    /// Old node -> new node.
    done: HashMap<UOp, UOp>,
    /// Whether an old node depends on the lane.
    depends: HashMap<UOp, bool>,
}

impl Vectorizer<'_> {
    fn vector_dtype(&self, d: DType) -> bool {
        self.target.lanes(d).is_some_and(|l| l >= self.lanes)
    }

    /// `e` (an old scalar address or gate) with the lane fixed to `k`, simplified; `None`
    /// when it holds a reduction over the split range.
    fn at_lane(&self, e: &UOp, k: usize) -> Result<Option<UOp>, LinearizeError> {
        if toposort(e)
            .iter()
            .any(|x| x.op() == Op::Reduce && self.depends[x])
        {
            return Ok(None);
        }
        let fixed = substitute(e, &HashMap::from([(self.lane.clone(), UOp::int(k as i64))]));
        Ok(Some(symbolic::simplify(&fixed)?))
    }

    /// Whether a vector access may start at element `off`: always where the target allows
    /// any offset, else only where every term and the constant of `off` are multiples of
    /// the lanes (so every value it takes is).
    fn aligned(&self, off: &UOp) -> bool {
        if !self.target.aligned {
            return true;
        }
        let u = self.lanes as i128;
        symbolic::Linear::of(off)
            .is_some_and(|l| l.constant % u == 0 && l.terms.iter().all(|(_, c)| c % u == 0))
    }

    /// `off` per lane, and whether lane `k` is `off_0 + k`.
    fn lane_offsets(&self, off: &UOp) -> Result<Option<(Vec<UOp>, bool)>, LinearizeError> {
        let mut offs = Vec::new();
        for k in 0..self.lanes as usize {
            match self.at_lane(off, k)? {
                Some(o) => offs.push(o),
                None => return Ok(None),
            }
        }
        let mut contiguous = true;
        for (k, o) in offs.iter().enumerate().skip(1) {
            let d = symbolic::simplify(&(o - &offs[0]))?;
            contiguous &= d.const_int() == Some(k as i128);
        }
        Ok(Some((offs, contiguous)))
    }

    /// The gate `g` of each lane, as a bool vector (a STACK of the lanes' gates).
    fn lane_gates(&self, g: &UOp) -> Result<Option<UOp>, LinearizeError> {
        let mut lanes = Vec::with_capacity(self.lanes as usize);
        for k in 0..self.lanes as usize {
            match self.at_lane(g, k)? {
                Some(x) => lanes.push(x),
                None => return Ok(None),
            }
        }
        Ok(Some(stack(DType::Bool, lanes)))
    }

    fn node(&self, n: &UOp) -> Result<Option<UOp>, LinearizeError> {
        let new_src: Vec<UOp> = n.src().iter().map(|s| self.done[s].clone()).collect();
        Ok(match n.op() {
            Op::DefineVar => Some(stack(
                DType::Index,
                (0..self.lanes as i64).map(UOp::int).collect(),
            )),
            // addresses are resolved per lane by the LOAD or STORE that uses them
            Op::Index => Some(n.clone()),
            Op::Load => self.load(n)?,
            Op::Store => self.store(n, &new_src)?,
            Op::Reduce => self.reduce(n, &new_src),
            Op::Sink | Op::Group => Some(n.with_src(new_src)),
            op if op.alu_arity().is_some() => Some(self.alu(n, &new_src)),
            _ => None,
        })
    }

    fn load(&self, n: &UOp) -> Result<Option<UOp>, LinearizeError> {
        let idx = &n.src()[0];
        let [buf, off] = idx.src() else {
            return Ok(None);
        };
        if buf.op() != Op::Param {
            return Ok(None);
        }
        let Some((offs, contiguous)) = self.lane_offsets(off)? else {
            return Ok(None);
        };
        let gate = n.src().get(1);
        let gate_uniform = gate.is_none_or(|g| !self.depends[g]);
        if contiguous && self.vector_dtype(n.dtype()) && self.aligned(&offs[0]) {
            let mut src = vec![idx.with_src([buf.clone(), offs[0].clone()])];
            if let Some(g) = gate.filter(|_| !gate_uniform) {
                // a gate per lane (a padded loop's last vector): a masked load
                let Some(lanes) = self.lane_gates(g)? else {
                    return Ok(None);
                };
                src.push(lanes);
                src.extend(n.src()[2..].iter().cloned());
            } else {
                src.extend(n.src()[1..].iter().cloned());
            }
            return Ok(Some(UOp::new_vec(
                Op::Load,
                n.dtype(),
                self.lanes,
                src,
                Arg::None,
            )));
        }
        let mut elems = Vec::new();
        for (k, o) in offs.into_iter().enumerate() {
            let mut src = vec![idx.with_src([buf.clone(), o])];
            if let Some(g) = gate {
                let Some(g) = self.at_lane(g, k)? else {
                    return Ok(None);
                };
                src.push(g);
                src.extend(n.src()[2..].iter().cloned());
            }
            elems.push(n.with_src(src));
        }
        Ok(Some(stack(n.dtype(), elems)))
    }

    fn store(&self, n: &UOp, new_src: &[UOp]) -> Result<Option<UOp>, LinearizeError> {
        let idx = &n.src()[0];
        let value = &new_src[1];
        let [buf, off] = idx.src() else {
            return Ok(None);
        };
        let gate = n.src().get(2);
        let gate_uniform = gate.is_none_or(|g| !self.depends[g]);
        let with_gate = |mut src: Vec<UOp>, g: Option<UOp>| {
            src.extend(g);
            n.with_src(src)
        };
        if !self.depends[idx] && gate_uniform {
            // every lane writes the same element: the last lane's value is the one left
            let last = lane_of(value, self.lanes as usize - 1);
            return Ok(Some(with_gate(vec![idx.clone(), last], gate.cloned())));
        }
        let Some((offs, contiguous)) = self.lane_offsets(off)? else {
            return Ok(None);
        };
        if contiguous && self.vector_dtype(value.dtype()) && self.aligned(&offs[0]) {
            let idx = idx.with_src([buf.clone(), offs[0].clone()]);
            let src = vec![idx, widen(value, self.lanes)];
            let gate = match gate {
                // a gate per lane: a masked store
                Some(g) if !gate_uniform => match self.lane_gates(g)? {
                    Some(lanes) => Some(lanes),
                    None => return Ok(None),
                },
                g => g.cloned(),
            };
            return Ok(Some(with_gate(src, gate)));
        }
        let mut stores = Vec::new();
        for (k, o) in offs.into_iter().enumerate() {
            let g = match gate {
                Some(g) => match self.at_lane(g, k)? {
                    Some(g) => Some(g),
                    None => return Ok(None),
                },
                None => None,
            };
            let src = vec![idx.with_src([buf.clone(), o]), lane_of(value, k)];
            stores.push(with_gate(src, g));
        }
        Ok(Some(UOp::new(Op::Group, DType::Void, stores, Arg::None)))
    }

    fn reduce(&self, n: &UOp, new_src: &[UOp]) -> Option<UOp> {
        let Arg::Reduce { op, .. } = n.arg() else {
            return None;
        };
        let value = &new_src[0];
        let mut horizontal = false;
        let mut ranges = Vec::new();
        for (old, new) in n.src()[1..].iter().zip(&new_src[1..]) {
            if self.depends[old] {
                horizontal = true;
                if self.outer.src()[0].const_int() != Some(1) {
                    ranges.push(self.outer.clone());
                }
            } else {
                ranges.push(new.clone());
            }
        }
        let combine = |parts: Vec<UOp>| parts.into_iter().reduce(|a, b| UOp::alu(*op, [a, b]));
        let reduce_of = |v: UOp| {
            let mut src = vec![v.clone()];
            src.extend(ranges.iter().cloned());
            UOp::new_vec(Op::Reduce, n.dtype(), v.lanes(), src, n.arg().clone())
        };
        let lanes = self.lanes as usize;
        if value.lanes() == 1 {
            let red = reduce_of(value.clone());
            return if horizontal {
                combine(vec![red; lanes])
            } else {
                Some(red)
            };
        }
        let red = if self.vector_dtype(n.dtype()) && self.target.alu.contains(&(*op, n.dtype())) {
            reduce_of(value.clone())
        } else {
            stack(
                n.dtype(),
                (0..lanes).map(|k| reduce_of(lane_of(value, k))).collect(),
            )
        };
        if horizontal {
            combine((0..lanes).map(|k| lane_of(&red, k)).collect())
        } else {
            Some(red)
        }
    }

    fn alu(&self, n: &UOp, new_src: &[UOp]) -> UOp {
        // WHERE selects between vectors by a bool per lane (a STACK of bools, or one bool)
        let values = if n.op() == Op::Where {
            &new_src[1..]
        } else {
            new_src
        };
        let native = self.target.alu.contains(&(n.op(), n.dtype()))
            && self.vector_dtype(n.dtype())
            && values.iter().all(|s| self.vector_dtype(s.dtype()));
        if native {
            let src: Vec<UOp> = new_src
                .iter()
                .enumerate()
                .map(|(k, s)| {
                    if n.op() == Op::Where && k == 0 && s.lanes() == 1 {
                        s.clone()
                    } else {
                        widen(s, self.lanes)
                    }
                })
                .collect();
            return UOp::new_vec(n.op(), n.dtype(), self.lanes, src, n.arg().clone());
        }
        let elems = (0..self.lanes as usize)
            .map(|k| {
                let src: Vec<UOp> = new_src.iter().map(|s| lane_of(s, k)).collect();
                n.with_src(src)
            })
            .collect();
        stack(n.dtype(), elems)
    }
}
