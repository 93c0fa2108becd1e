//! `interpret`: runs a `LinearProgram` on host values, node by node, as the program
//! contract (`program.rs`) says a renderer's code must. It is the reference that the
//! opts are tested against: a program after any list of opts must compute what the
//! program without them computes, and this runs both without a compiler or a device.
//!
//! Every workgroup of the launch (`LinearProgram::dims`: one per `core_id` on a CPU, one
//! per combination of `gidx` values on a GPU) runs after the other, each with its own
//! scratch (DEFINE_LOCAL). Within one, the threads of a workgroup (one per combination
//! of the `lidx` values) run in turn up to the next BARRIER, which all of them must
//! reach before any goes on. Arithmetic is `uop_ir::exec_alu` (floats computed in f64
//! and rounded to their dtype). Reads and writes out of a buffer's bounds, a barrier that
//! only some threads reach, and ops outside the contract are errors, not panics.

use std::collections::HashMap;

use uop_ir::{Arg, ConstValue, Op, Special, UOp, exec_alu};

use crate::{LinearProgram, LinearizeError};

/// What a buffer reference points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Buf {
    Param(u32),
    Local(u32),
}

/// The value of a node while it runs.
#[derive(Clone, Debug)]
enum Val {
    /// The lanes of a value (one for a scalar).
    Data(Vec<ConstValue>),
    Buf(Buf),
    /// Element `offset` of a buffer.
    Addr(Buf, i64),
    /// A register slot.
    Reg(u32),
    /// A statement, or a node not reached yet.
    None,
}

/// One thread of a workgroup: where it is and what it has computed.
struct Thread {
    pc: usize,
    vals: Vec<Val>,
    regs: HashMap<u32, Vec<ConstValue>>,
    /// Its value of each `lidx{n}`.
    lidx: [i64; 3],
}

/// Why a thread stopped running.
enum Stop {
    Barrier,
    Done,
}

/// The program in a form that runs: sources by position, and loop bounds.
struct Plan<'a> {
    p: &'a LinearProgram,
    srcs: Vec<Vec<usize>>,
    /// For each RANGE, the position of its END; for each END, its RANGE.
    partner: HashMap<usize, usize>,
    locals: Vec<(u32, usize)>,
}

/// Runs `program` on `buffers` (indexed by PARAM slot), writing its outputs into them.
pub fn interpret(
    program: &LinearProgram,
    buffers: &mut [Vec<ConstValue>],
) -> Result<(), LinearizeError> {
    let plan = Plan::new(program)?;
    let global = program.dims.global.map(|g| g as usize);
    let local = program.dims.local.map(|l| l as usize);
    let workgroup: usize = local.iter().product();
    for group in 0..global.iter().product::<usize>() {
        let gidx = unflatten(group, &global);
        let mut locals: HashMap<u32, Vec<ConstValue>> = plan
            .locals
            .iter()
            .map(|&(slot, n)| (slot, vec![ConstValue::Int(0); n]))
            .collect();
        let mut threads: Vec<Thread> = (0..workgroup)
            .map(|t| Thread {
                pc: 0,
                vals: vec![Val::None; program.uops.len()],
                regs: HashMap::new(),
                lidx: unflatten(t, &local),
            })
            .collect();
        loop {
            let mut stops = Vec::new();
            for t in threads.iter_mut() {
                stops.push(plan.run(t, &gidx, buffers, &mut locals)?);
            }
            let at_barrier = stops.iter().filter(|s| matches!(s, Stop::Barrier)).count();
            if at_barrier == 0 {
                break;
            }
            let pc = threads[0].pc;
            if at_barrier != threads.len() || threads.iter().any(|t| t.pc != pc) {
                return Err(plan.error(pc, "not every thread of the workgroup reaches it"));
            }
            threads.iter_mut().for_each(|t| t.pc += 1);
        }
    }
    Ok(())
}

/// The index of each dimension of point `t` of a grid of `sizes` (the last varies
/// fastest).
fn unflatten(mut t: usize, sizes: &[usize; 3]) -> [i64; 3] {
    let mut out = [0i64; 3];
    for (x, s) in out.iter_mut().zip(sizes).rev() {
        *x = (t % s) as i64;
        t /= s;
    }
    out
}

impl<'a> Plan<'a> {
    fn new(p: &'a LinearProgram) -> Result<Plan<'a>, LinearizeError> {
        let pos: HashMap<&UOp, usize> = p.uops.iter().enumerate().map(|(i, u)| (u, i)).collect();
        let mut srcs = Vec::with_capacity(p.uops.len());
        let mut partner = HashMap::new();
        let mut locals = Vec::new();
        let bad = |i: usize, why: String| LinearizeError::Run {
            kernel: p.name.clone(),
            at: format!("%{i} {}", p.uops[i].op()),
            why,
        };
        for (i, u) in p.uops.iter().enumerate() {
            let mut s = Vec::with_capacity(u.src().len());
            for x in u.src() {
                match pos.get(x) {
                    Some(&j) if j < i => s.push(j),
                    _ => return Err(bad(i, format!("its source {} comes after it", x.op()))),
                }
            }
            match u.op() {
                Op::End => {
                    let r = *s
                        .get(1)
                        .ok_or_else(|| bad(i, "it closes no RANGE".into()))?;
                    partner.insert(r, i);
                    partner.insert(i, r);
                }
                Op::DefineLocal => {
                    let (Arg::Param { slot }, Some(n)) =
                        (u.arg(), u.src().first().and_then(UOp::const_int))
                    else {
                        return Err(bad(i, "expected a slot and a constant size".into()));
                    };
                    locals.push((*slot, n.max(0) as usize));
                }
                _ => {}
            }
            srcs.push(s);
        }
        Ok(Plan {
            p,
            srcs,
            partner,
            locals,
        })
    }

    fn error(&self, i: usize, why: impl Into<String>) -> LinearizeError {
        LinearizeError::Run {
            kernel: self.p.name.clone(),
            at: format!("%{i} {}", self.p.uops[i].op()),
            why: why.into(),
        }
    }

    /// Runs thread `t` from its `pc` until a BARRIER (left at its position) or the end.
    fn run(
        &self,
        t: &mut Thread,
        gidx: &[i64; 3],
        params: &mut [Vec<ConstValue>],
        locals: &mut HashMap<u32, Vec<ConstValue>>,
    ) -> Result<Stop, LinearizeError> {
        let uops = &self.p.uops;
        while t.pc < uops.len() {
            let i = t.pc;
            let u = &uops[i];
            let s = &self.srcs[i];
            let data = |t: &Thread, k: usize| -> Result<Vec<ConstValue>, LinearizeError> {
                match &t.vals[s[k]] {
                    Val::Data(d) => Ok(d.clone()),
                    other => Err(self.error(i, format!("source {k} is {other:?}, not a value"))),
                }
            };
            let mut next = i + 1;
            let val = match u.op() {
                Op::Const => Val::Data(vec![
                    u.const_value().ok_or_else(|| self.error(i, "no value"))?,
                ]),
                Op::Param => match u.arg() {
                    Arg::Param { slot } => Val::Buf(Buf::Param(*slot)),
                    _ => return Err(self.error(i, "no slot")),
                },
                Op::DefineLocal => match u.arg() {
                    Arg::Param { slot } => Val::Buf(Buf::Local(*slot)),
                    _ => return Err(self.error(i, "no slot")),
                },
                Op::Special => {
                    Val::Data(vec![ConstValue::Int(self.special(i, u, t, gidx)? as i128)])
                }
                Op::Range => {
                    let end = int(&data(t, 0)?, 0).ok_or_else(|| self.error(i, "no end"))?;
                    if end <= 0 {
                        next = self.partner.get(&i).map_or(uops.len(), |e| e + 1);
                    }
                    Val::Data(vec![ConstValue::Int(0)])
                }
                Op::End => {
                    let r = self.partner[&i];
                    let (Val::Data(c), Some(end)) = (&t.vals[r], t.vals[self.srcs[r][0]].int())
                    else {
                        return Err(self.error(i, "its RANGE has not run"));
                    };
                    let c = int(c, 0).unwrap_or(0) + 1;
                    if c < end {
                        t.vals[r] = Val::Data(vec![ConstValue::Int(c as i128)]);
                        next = r + 1;
                    }
                    Val::None
                }
                Op::DefineReg => {
                    let init = data(t, 0)?;
                    let slot = self.slot(i, u)?;
                    t.regs.insert(slot, widen(&init, u.lanes()));
                    Val::Reg(slot)
                }
                Op::After => t.vals[s[0]].clone(),
                Op::Index => match (&t.vals[s[0]], int(&data(t, 1)?, 0)) {
                    (Val::Buf(b), Some(off)) => Val::Addr(*b, off),
                    _ => return Err(self.error(i, "expected a buffer and an integer offset")),
                },
                Op::Load => {
                    let lanes = u.lanes() as usize;
                    let gate = match s.len() {
                        1 => vec![true; lanes],
                        3 => widen(&data(t, 1)?, u.lanes())
                            .iter()
                            .map(|g| g.as_bool().unwrap_or(false))
                            .collect(),
                        _ => return Err(self.error(i, "expected [target] or [target, gate, alt]")),
                    };
                    let alt = if s.len() == 3 {
                        widen(&data(t, 2)?, u.lanes())
                    } else {
                        Vec::new()
                    };
                    let v = match t.vals[s[0]].clone() {
                        Val::Addr(b, off) => {
                            let mem = self.memory(i, b, params, locals)?;
                            let mut v = Vec::with_capacity(lanes);
                            for (k, g) in gate.iter().enumerate() {
                                let at = off + k as i64;
                                v.push(if *g {
                                    read(mem, at)
                                        .ok_or_else(|| self.out_of_bounds(i, b, at, mem.len()))?
                                } else {
                                    alt[k]
                                });
                            }
                            v
                        }
                        Val::Reg(slot) if gate.iter().all(|g| *g) => t
                            .regs
                            .get(&slot)
                            .cloned()
                            .ok_or_else(|| self.error(i, "an undefined register"))?,
                        other => return Err(self.error(i, format!("reads {other:?}"))),
                    };
                    Val::Data(v)
                }
                Op::Store => {
                    let v = data(t, 1)?;
                    let gate: Vec<bool> = match s.len() {
                        2 => vec![true; v.len()],
                        3 => widen(&data(t, 2)?, v.len() as u8)
                            .iter()
                            .map(|g| g.as_bool().unwrap_or(false))
                            .collect(),
                        _ => {
                            return Err(
                                self.error(i, "expected [target, value] or [target, value, gate]")
                            );
                        }
                    };
                    match t.vals[s[0]].clone() {
                        Val::Addr(b, off) => {
                            let mem = self.memory(i, b, params, locals)?;
                            let len = mem.len();
                            for (k, (x, g)) in v.iter().zip(&gate).enumerate() {
                                if !g {
                                    continue;
                                }
                                let at = off + k as i64;
                                let cell = usize::try_from(at)
                                    .ok()
                                    .and_then(|a| mem.get_mut(a))
                                    .ok_or_else(|| self.out_of_bounds(i, b, at, len))?;
                                *cell = *x;
                            }
                        }
                        Val::Reg(slot) => {
                            if gate.iter().all(|g| *g) {
                                let lanes = t.regs.get(&slot).map_or(1, Vec::len);
                                t.regs.insert(slot, widen(&v, lanes as u8));
                            }
                        }
                        other => return Err(self.error(i, format!("writes {other:?}"))),
                    }
                    Val::None
                }
                Op::Barrier => {
                    t.pc = i;
                    return Ok(Stop::Barrier);
                }
                Op::Sink | Op::Group | Op::Noop => Val::None,
                Op::Stack => {
                    let mut v = Vec::with_capacity(s.len());
                    for k in 0..s.len() {
                        v.push(data(t, k)?[0]);
                    }
                    Val::Data(v)
                }
                Op::Gep => match u.arg() {
                    Arg::Axes(a) if a.len() == 1 => {
                        let v = data(t, 0)?;
                        Val::Data(vec![
                            *v.get(a[0]).ok_or_else(|| self.error(i, "no such lane"))?,
                        ])
                    }
                    _ => return Err(self.error(i, "expected one lane")),
                },
                op if op.alu_arity().is_some() => {
                    let operands = (0..s.len())
                        .map(|k| data(t, k))
                        .collect::<Result<Vec<_>, _>>()?;
                    let mut out = Vec::with_capacity(u.lanes() as usize);
                    for lane in 0..u.lanes() as usize {
                        let args: Vec<ConstValue> =
                            operands.iter().map(|o| o[lane.min(o.len() - 1)]).collect();
                        out.push(
                            exec_alu(op, u.dtype(), &args)
                                .map_err(|e| self.error(i, e.to_string()))?,
                        );
                    }
                    Val::Data(out)
                }
                op => return Err(self.error(i, format!("{op} is not in the program contract"))),
            };
            t.vals[i] = val;
            t.pc = next;
        }
        Ok(Stop::Done)
    }

    fn slot(&self, i: usize, u: &UOp) -> Result<u32, LinearizeError> {
        match u.arg() {
            Arg::Param { slot } => Ok(*slot),
            _ => Err(self.error(i, "no slot")),
        }
    }

    fn special(
        &self,
        i: usize,
        u: &UOp,
        t: &Thread,
        gidx: &[i64; 3],
    ) -> Result<i64, LinearizeError> {
        let (values, d) = match u.special_kind() {
            Some(Special::Core) => (gidx, 0),
            Some(Special::Global(d)) => (gidx, d),
            Some(Special::Local(d)) => (&t.lidx, d),
            None => return Err(self.error(i, "no launch index")),
        };
        values
            .get(usize::from(d))
            .copied()
            .ok_or_else(|| self.error(i, format!("no launch dimension {d}")))
    }

    fn memory<'m>(
        &self,
        i: usize,
        b: Buf,
        params: &'m mut [Vec<ConstValue>],
        locals: &'m mut HashMap<u32, Vec<ConstValue>>,
    ) -> Result<&'m mut Vec<ConstValue>, LinearizeError> {
        match b {
            Buf::Param(s) => params.get_mut(s as usize),
            Buf::Local(s) => locals.get_mut(&s),
        }
        .ok_or_else(|| self.error(i, format!("no buffer {b:?}")))
    }

    fn out_of_bounds(&self, i: usize, b: Buf, at: i64, len: usize) -> LinearizeError {
        self.error(
            i,
            format!("element {at} of {b:?} is out of bounds (it has {len})"),
        )
    }
}

impl Val {
    fn int(&self) -> Option<i64> {
        match self {
            Val::Data(d) => int(d, 0),
            _ => None,
        }
    }
}

fn int(v: &[ConstValue], lane: usize) -> Option<i64> {
    v.get(lane)?.as_int().and_then(|x| i64::try_from(x).ok())
}

fn read(mem: &[ConstValue], k: i64) -> Option<ConstValue> {
    mem.get(usize::try_from(k).ok()?).copied()
}

/// `v` with `lanes` lanes: a scalar repeated, a vector as it is.
fn widen(v: &[ConstValue], lanes: u8) -> Vec<ConstValue> {
    if v.len() == 1 && lanes > 1 {
        vec![v[0]; lanes as usize]
    } else {
        v.to_vec()
    }
}
