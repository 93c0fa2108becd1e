//! The walk over a `LinearProgram`: one statement per node, in program order, in any
//! C-like language (`CStyle`).
//!
//! PARAMs are the buffers `data{slot}` that the language's kernel signature declares;
//! CONSTs are inlined as literals; every other value (LOAD, ALU, CAST, BITCAST, SPECIAL)
//! is declared once as a `const` local named after its kind and a counter shared by all
//! (`alu0`, `val1`, `cast2`); RANGE/END open and close indented `for` loops; DEFINE_REG
//! declares `acc{slot}`, which STORE assigns and LOAD reads into a fresh `val`;
//! DEFINE_LOCAL declares scratch `local{slot}` (`CStyle::local_array`), indexed like a
//! buffer; BARRIER is the language's barrier.
//!
//! It assumes the contract of `linearizer::LinearProgram`, and refuses (with a
//! `RenderError` naming the kernel, the node and its op) anything else: a source used
//! before it is defined or after the loop it lives in is closed, an END that does not
//! close the innermost loop, a RANGE left open, mismatched dtypes on a load or store, and
//! ops the language has no rule for (DEFINE_VAR, WMMA, THREEFRY, ...). SINK, GROUP and
//! NOOP are accepted and emit nothing.
//!
//! This file holds the walk, declarations, launch indices and loops; `memory.rs` the loads
//! and stores, `vectors.rs` the vector values.

mod memory;
mod vectors;

use std::collections::{HashMap, HashSet};

use renderer::{LinearProgram, RenderError};
use uop_ir::{Arg, DType, Op, UOp};

use crate::alu::{self, Operand};
use crate::consts;
use crate::helpers::Helpers;
use crate::language::{CStyle, KernelBuffer};

/// What a node of the program is in C.
#[derive(Clone, Debug)]
enum Node {
    /// A value: a declared name or a literal.
    Value(Operand),
    /// A buffer: a kernel argument (`data{slot}`) or a scratch array (`local{slot}`).
    Buffer { name: String, dtype: DType },
    /// A register (`acc{slot}`), a vector when `lanes > 1`.
    Reg {
        name: String,
        dtype: DType,
        lanes: u8,
    },
    /// The element `offset` of buffer `base` (and the ones after it, for a vector access).
    Element {
        base: String,
        offset: String,
        dtype: DType,
    },
    /// A bool vector of per-lane gates (a STACK of bools): the lanes' conditions, used only
    /// as the gate of a masked vector load or store.
    Lanes(Vec<String>),
    /// A statement, with no value.
    Stmt,
}

#[derive(Debug)]
struct Entry {
    node: Node,
    /// Position in the program.
    pos: usize,
    /// The loop the node lives in; `None` at the top level.
    loop_id: Option<usize>,
}

/// Renders `program` (its decompositions applied) as a file of `lang`.
pub(crate) fn render<L: CStyle + ?Sized>(
    lang: &L,
    program: &LinearProgram,
) -> Result<String, RenderError> {
    if !is_identifier(&program.name) {
        return Err(RenderError::Malformed {
            kernel: program.name.clone(),
            why: "the kernel name is not a C identifier".into(),
        });
    }
    let mut emitter = Emitter {
        lang,
        program,
        entries: HashMap::new(),
        open: Vec::new(),
        loops: 0,
        names: 0,
        regs: HashSet::new(),
        locals: HashSet::new(),
        body: String::new(),
        helpers: Helpers::default(),
    };
    let buffers = emitter.buffers()?;
    for (i, u) in program.uops.iter().enumerate() {
        emitter.node(i, u)?;
    }
    if let Some((range, _)) = emitter.open.last() {
        let pos = emitter.entries.get(range).map_or(0, |e| e.pos);
        return Err(emitter.malformed(pos, range, "the loop is never closed by an END"));
    }
    let mut code = lang.preamble();
    let helpers = emitter.helpers.render();
    if !helpers.is_empty() {
        code += &helpers;
        code.push('\n');
    }
    code += &lang.kernel_open(&program.name, &buffers, &program.dims);
    code += &emitter.body;
    code += "}\n";
    Ok(code)
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

struct Emitter<'a, L: ?Sized> {
    lang: &'a L,
    program: &'a LinearProgram,
    entries: HashMap<UOp, Entry>,
    /// Open loops, outermost first: the RANGE and its loop id.
    open: Vec<(UOp, usize)>,
    /// Loops opened so far (the next loop id).
    loops: usize,
    /// Values named so far (the next name's number).
    names: usize,
    /// Register slots declared so far.
    regs: HashSet<u32>,
    /// Scratch slots declared so far.
    locals: HashSet<u32>,
    body: String,
    helpers: Helpers,
}

impl<L: CStyle + ?Sized> Emitter<'_, L> {
    fn malformed(&self, i: usize, u: &UOp, why: impl std::fmt::Display) -> RenderError {
        RenderError::Malformed {
            kernel: self.program.name.clone(),
            why: format!("%{i} {}: {why}", u.op()),
        }
    }

    fn unsupported(&self, i: usize, u: &UOp, why: impl std::fmt::Display) -> RenderError {
        RenderError::Unsupported {
            target: self.lang.name(),
            kernel: self.program.name.clone(),
            op: u.op(),
            why: format!("%{i} {} {}: {why}", u.op(), u.dtype()),
        }
    }

    /// The buffers, one per PARAM slot in slot order.
    fn buffers(&self) -> Result<Vec<KernelBuffer>, RenderError> {
        let mut slots: Vec<(u32, DType)> = Vec::new();
        for (i, u) in self.program.uops.iter().enumerate() {
            if u.op() != Op::Param {
                continue;
            }
            let slot = self.slot(i, u)?;
            match slots.iter().find(|(s, _)| *s == slot) {
                Some((_, d)) if *d != u.dtype() => {
                    return Err(self.malformed(i, u, format!("slot {slot} is also a {d} buffer")));
                }
                Some(_) => {}
                None => slots.push((slot, u.dtype())),
            }
        }
        slots.sort_unstable();
        let mut out = Vec::new();
        for (slot, dtype) in slots {
            let element_type = self
                .storage_type(dtype)
                .ok_or_else(|| RenderError::Malformed {
                    kernel: self.program.name.clone(),
                    why: format!("buffer {slot} has dtype void"),
                })?;
            out.push(KernelBuffer { slot, element_type });
        }
        Ok(out)
    }

    fn slot(&self, i: usize, u: &UOp) -> Result<u32, RenderError> {
        match u.arg() {
            Arg::Param { slot } => Ok(*slot),
            other => Err(self.malformed(i, u, format!("expected a slot argument, got {other:?}"))),
        }
    }

    /// The entry of a source of node `i`, if it is defined and still in scope.
    fn get(&self, i: usize, u: &UOp, src: &UOp) -> Result<&Entry, RenderError> {
        let entry = self.entries.get(src).ok_or_else(|| {
            self.malformed(
                i,
                u,
                format!("its source {} is not defined before it", src.op()),
            )
        })?;
        match entry.loop_id {
            Some(id) if !self.open.iter().any(|(_, open)| *open == id) => Err(self.malformed(
                i,
                u,
                format!(
                    "uses %{} {} outside the loop it lives in",
                    entry.pos,
                    src.op()
                ),
            )),
            _ => Ok(entry),
        }
    }

    fn value(&self, i: usize, u: &UOp, src: &UOp) -> Result<Operand, RenderError> {
        match &self.get(i, u, src)?.node {
            Node::Value(v) => Ok(v.clone()),
            _ => Err(self.malformed(i, u, format!("uses {} as a value", src.op()))),
        }
    }

    fn line(&mut self, text: &str) {
        let indent = "  ".repeat(self.open.len() + 1);
        self.body += &format!("{indent}{text}\n");
    }

    /// Declares `const T {prefix}{n} = expr;` and returns the name.
    fn declare(
        &mut self,
        i: usize,
        u: &UOp,
        prefix: &str,
        expr: &str,
    ) -> Result<Node, RenderError> {
        let ty = self.type_of(i, u)?;
        let name = format!("{prefix}{}", self.names);
        self.names += 1;
        self.line(&format!("const {ty} {name} = {expr};"));
        Ok(Node::Value(Operand {
            text: name,
            dtype: u.dtype(),
            lanes: u.lanes(),
        }))
    }

    /// The C type of the value of `u`: a scalar type or a vector type.
    fn type_of(&mut self, i: usize, u: &UOp) -> Result<String, RenderError> {
        if u.lanes() > 1 {
            return self
                .lang
                .vector_type(u.dtype(), u.lanes(), &mut self.helpers)
                .map_err(|why| self.unsupported(i, u, why));
        }
        self.lang
            .value_type(u.dtype())
            .map(str::to_string)
            .ok_or_else(|| self.malformed(i, u, "a value of dtype void"))
    }

    fn node(&mut self, i: usize, u: &UOp) -> Result<(), RenderError> {
        if self.entries.contains_key(u) {
            return Err(self.malformed(i, u, "the node appears twice in the program"));
        }
        let node = match u.op() {
            Op::Param => Node::Buffer {
                name: format!("data{}", self.slot(i, u)?),
                dtype: u.dtype(),
            },
            Op::DefineLocal => self.define_local(i, u)?,
            Op::Const => {
                let value = u
                    .const_value()
                    .ok_or_else(|| self.malformed(i, u, "no constant argument"))?;
                let text = consts::literal(self.lang, u.dtype(), value)
                    .map_err(|why| self.malformed(i, u, why))?;
                Node::Value(Operand {
                    text,
                    dtype: u.dtype(),
                    lanes: 1,
                })
            }
            Op::Special => self.special(i, u)?,
            Op::Range => self.range(i, u)?,
            Op::End => self.end(i, u)?,
            Op::DefineReg => self.define_reg(i, u)?,
            Op::After => self.after(i, u)?,
            Op::Index => self.index(i, u)?,
            Op::Load => self.load(i, u)?,
            Op::Store => self.store(i, u)?,
            Op::Barrier => self.barrier(i, u)?,
            Op::Sink | Op::Group | Op::Noop => Node::Stmt,
            Op::Stack => self.stack(i, u)?,
            Op::Gep => self.gep(i, u)?,
            Op::Where if u.lanes() > 1 => self.vector_where(i, u)?,
            op if op.alu_arity().is_some() && u.lanes() > 1 => {
                let mut src = Vec::new();
                for s in u.src() {
                    let v = self.value(i, u, s)?;
                    src.push(self.widen(i, u, v)?);
                }
                let expr = self
                    .lang
                    .vector_alu(op, u.lanes(), &src, &mut self.helpers)
                    .map_err(|why| self.unsupported(i, u, why))?;
                self.declare(i, u, "alu", &expr)?
            }
            op if op.alu_arity().is_some() => {
                let src = u
                    .src()
                    .iter()
                    .map(|s| self.value(i, u, s))
                    .collect::<Result<Vec<_>, _>>()?;
                if src.iter().any(|s| s.lanes != 1) {
                    return Err(self.malformed(i, u, "a scalar op on a vector"));
                }
                let expr = alu::expr(self.lang, op, u.dtype(), &src, &mut self.helpers)
                    .map_err(|why| self.unsupported(i, u, why))?;
                let prefix = if matches!(op, Op::Cast | Op::Bitcast) {
                    "cast"
                } else {
                    "alu"
                };
                self.declare(i, u, prefix, &expr)?
            }
            _ => {
                let why = format!("{} has no rule for it", self.lang.name());
                return Err(self.unsupported(i, u, why));
            }
        };
        let loop_id = match u.op() {
            Op::Const | Op::Param => None,
            _ => self.open.last().map(|(_, id)| *id),
        };
        self.entries.insert(
            u.clone(),
            Entry {
                node,
                pos: i,
                loop_id,
            },
        );
        Ok(())
    }

    /// SPECIAL: `const <index type> name = expr;` as the language reads the index.
    fn special(&mut self, i: usize, u: &UOp) -> Result<Node, RenderError> {
        let which = u
            .special_kind()
            .ok_or_else(|| self.malformed(i, u, "no launch index argument"))?;
        if let Some(count) = u.src().first() {
            self.value(i, u, count)?;
        }
        if self.entries.keys().any(|k| k.special_kind() == Some(which)) {
            return Err(self.malformed(i, u, format!("a second {which}")));
        }
        let index = self
            .lang
            .special_index(which)
            .map_err(|why| self.unsupported(i, u, why))?;
        let ty = self.index_type(i, u)?;
        self.line(&format!("const {ty} {} = {};", index.name, index.expr));
        Ok(Node::Value(Operand {
            text: index.name,
            dtype: DType::Index,
            lanes: 1,
        }))
    }

    /// The type of the index dtype.
    fn index_type(&self, i: usize, u: &UOp) -> Result<&'static str, RenderError> {
        self.lang
            .value_type(DType::Index)
            .ok_or_else(|| self.unsupported(i, u, "the language has no index type"))
    }

    /// BARRIER: the language's barrier, after the statements it orders.
    fn barrier(&mut self, i: usize, u: &UOp) -> Result<Node, RenderError> {
        for s in u.src() {
            self.get(i, u, s)?;
        }
        let line = self
            .lang
            .barrier()
            .ok_or_else(|| self.unsupported(i, u, "the language has no workgroups"))?;
        self.line(line);
        Ok(Node::Stmt)
    }

    fn range(&mut self, i: usize, u: &UOp) -> Result<Node, RenderError> {
        let Arg::Range { axis, .. } = u.arg() else {
            return Err(self.malformed(i, u, "no axis argument"));
        };
        let end = u
            .src()
            .first()
            .ok_or_else(|| self.malformed(i, u, "no end"))?;
        let end = self.value(i, u, end)?;
        if !end.dtype.is_int() {
            return Err(self.malformed(i, u, format!("the end has dtype {}", end.dtype)));
        }
        let name = format!("ridx{axis}");
        if self
            .open
            .iter()
            .any(|(r, _)| matches!(r.arg(), Arg::Range { axis: a, .. } if a == axis))
        {
            return Err(self.malformed(
                i,
                u,
                format!("axis {axis} is already looped over by an open RANGE"),
            ));
        }
        let ty = self.index_type(i, u)?;
        self.line(&format!(
            "for ({ty} {name} = 0; {name} < {}; {name}++) {{",
            end.text
        ));
        self.open.push((u.clone(), self.loops));
        self.loops += 1;
        Ok(Node::Value(Operand {
            text: name,
            dtype: DType::Index,
            lanes: 1,
        }))
    }

    fn end(&mut self, i: usize, u: &UOp) -> Result<Node, RenderError> {
        for s in u.src() {
            self.get(i, u, s)?;
        }
        let ranges: Vec<&UOp> = u.src().iter().filter(|s| s.op() == Op::Range).collect();
        if ranges.is_empty() {
            return Err(self.malformed(i, u, "it closes no RANGE"));
        }
        if ranges.len() > self.open.len() {
            return Err(self.malformed(i, u, "it closes more loops than are open"));
        }
        let innermost = &self.open[self.open.len() - ranges.len()..];
        if let Some(r) = ranges
            .iter()
            .find(|r| !innermost.iter().any(|(o, _)| o == **r))
        {
            let pos = self.entries.get(*r).map_or(0, |e| e.pos);
            return Err(self.malformed(
                i,
                u,
                format!("RANGE %{pos} is not the innermost open loop"),
            ));
        }
        for _ in 0..ranges.len() {
            self.open.pop();
            self.line("}");
        }
        Ok(Node::Stmt)
    }

    /// DEFINE_LOCAL: scratch `local{slot}` of `size` elements (`CStyle::local_array`).
    fn define_local(&mut self, i: usize, u: &UOp) -> Result<Node, RenderError> {
        let slot = self.slot(i, u)?;
        let size = u
            .src()
            .first()
            .and_then(UOp::const_int)
            .filter(|n| *n > 0)
            .ok_or_else(|| self.malformed(i, u, "the size is not a positive constant"))?;
        if !self.locals.insert(slot) {
            return Err(self.malformed(i, u, format!("scratch slot {slot} is defined twice")));
        }
        let ty = self
            .storage_type(u.dtype())
            .ok_or_else(|| self.malformed(i, u, "scratch of dtype void"))?;
        let name = format!("local{slot}");
        let line = self.lang.local_array(ty, &name, size);
        self.line(&line);
        Ok(Node::Buffer {
            name,
            dtype: u.dtype(),
        })
    }

    fn define_reg(&mut self, i: usize, u: &UOp) -> Result<Node, RenderError> {
        let slot = self.slot(i, u)?;
        let ty = self.type_of(i, u)?;
        let init = u
            .src()
            .first()
            .ok_or_else(|| self.malformed(i, u, "no initial value"))?;
        let init = self.value(i, u, init)?;
        let init = self.widen(i, u, init)?;
        if !self.regs.insert(slot) {
            return Err(self.malformed(i, u, format!("register slot {slot} is defined twice")));
        }
        let name = format!("acc{slot}");
        self.line(&format!("{ty} {name} = {};", init.text));
        Ok(Node::Reg {
            name,
            dtype: u.dtype(),
            lanes: u.lanes(),
        })
    }

    fn after(&mut self, i: usize, u: &UOp) -> Result<Node, RenderError> {
        let first = u
            .src()
            .first()
            .ok_or_else(|| self.malformed(i, u, "no source"))?;
        for s in &u.src()[1..] {
            self.get(i, u, s)?;
        }
        match &self.get(i, u, first)?.node {
            node @ (Node::Reg { .. } | Node::Buffer { .. }) => Ok(node.clone()),
            _ => Err(self.malformed(
                i,
                u,
                format!("orders a {}, not a register or buffer", first.op()),
            )),
        }
    }
}
