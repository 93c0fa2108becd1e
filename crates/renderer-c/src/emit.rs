//! The walk over a `LinearProgram`: one C statement per node, in program order.
//!
//! PARAMs become `T* restrict data{slot}` at the top of the body; CONSTs are inlined as
//! literals; every other value (LOAD, ALU, CAST, BITCAST, SPECIAL) is declared once as a
//! `const` local named after its kind and a counter shared by all (`alu0`, `val1`,
//! `cast2`); RANGE/END open and close indented `for` loops; DEFINE_REG declares
//! `acc{slot}`, which STORE assigns and LOAD reads into a fresh `val`; DEFINE_LOCAL
//! declares a stack array `local{slot}`, indexed like a buffer.
//!
//! It assumes the contract of `linearizer::LinearProgram`, and refuses (with a
//! `RenderError` naming the kernel, the node and its op) anything else: a source used
//! before it is defined or after the loop it lives in is closed, an END that does not
//! close the innermost loop, a RANGE left open, mismatched dtypes on a load or store, and
//! ops the C target has no rule for (DEFINE_VAR, WMMA, THREEFRY, ...). SINK, GROUP and
//! NOOP are accepted and emit nothing.

use std::collections::{HashMap, HashSet};

use renderer::{LinearProgram, RenderError};
use uop_ir::{Arg, DType, Op, Special, UOp};

use crate::alu::{self, Operand};
use crate::consts;
use crate::dtypes::{Helpers, storage_type, value_type};
use crate::vector;

const TARGET: &str = "C";

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

/// Renders `program` as a C file.
pub(crate) fn render(program: &LinearProgram) -> Result<String, RenderError> {
    if !is_identifier(&program.name) {
        return Err(RenderError::Malformed {
            kernel: program.name.clone(),
            why: "the kernel name is not a C identifier".into(),
        });
    }
    let mut emitter = Emitter {
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
    let params = emitter.params()?;
    for (i, u) in program.uops.iter().enumerate() {
        emitter.node(i, u)?;
    }
    if let Some((range, _)) = emitter.open.last() {
        let pos = emitter.entries.get(range).map_or(0, |e| e.pos);
        return Err(emitter.malformed(pos, range, "the loop is never closed by an END"));
    }
    let mut code = String::from("#include <stdint.h>\n#include <math.h>\n\n");
    let helpers = emitter.helpers.render();
    if !helpers.is_empty() {
        code += &helpers;
        code.push('\n');
    }
    code += &format!("void {}(void* const* bufs, int core_id) {{\n", program.name);
    code += &params;
    code += &emitter.body;
    code += "}\n";
    Ok(code)
}

/// The condition that every lane's gate holds (each condition once; lanes whose gate is
/// the literal `1` left out).
fn all_lanes(lanes: &[String]) -> String {
    let mut conds: Vec<&str> = Vec::new();
    for g in lanes.iter().map(String::as_str).filter(|g| *g != "1") {
        if !conds.contains(&g) {
            conds.push(g);
        }
    }
    if conds.is_empty() {
        "1".into()
    } else {
        conds.join(" && ")
    }
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

struct Emitter<'a> {
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

impl Emitter<'_> {
    fn malformed(&self, i: usize, u: &UOp, why: impl std::fmt::Display) -> RenderError {
        RenderError::Malformed {
            kernel: self.program.name.clone(),
            why: format!("%{i} {}: {why}", u.op()),
        }
    }

    fn unsupported(&self, i: usize, u: &UOp, why: impl std::fmt::Display) -> RenderError {
        RenderError::Unsupported {
            target: TARGET,
            kernel: self.program.name.clone(),
            op: u.op(),
            why: format!("%{i} {} {}: {why}", u.op(), u.dtype()),
        }
    }

    /// The declarations of the buffers, one per PARAM slot in slot order.
    fn params(&self) -> Result<String, RenderError> {
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
        let mut out = String::new();
        for (slot, dtype) in slots {
            let ty = storage_type(dtype).ok_or_else(|| RenderError::Malformed {
                kernel: self.program.name.clone(),
                why: format!("buffer {slot} has dtype void"),
            })?;
            out += &format!("  {ty}* restrict data{slot} = ({ty}*)bufs[{slot}];\n");
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
            return vector::vector_type(u.dtype(), u.lanes(), &mut self.helpers)
                .map_err(|why| self.unsupported(i, u, why));
        }
        value_type(u.dtype())
            .map(str::to_string)
            .ok_or_else(|| self.malformed(i, u, "a value of dtype void"))
    }

    /// A scalar operand of a vector op, broadcast to every lane.
    fn widen(&mut self, i: usize, u: &UOp, v: Operand) -> Result<Operand, RenderError> {
        if v.lanes == u.lanes() {
            return Ok(v);
        }
        if v.lanes != 1 {
            return Err(self.malformed(i, u, format!("mixes {} and {} lanes", v.lanes, u.lanes())));
        }
        let ty = self.type_of(i, u)?;
        Ok(Operand {
            text: vector::broadcast(&ty, &v.text, u.lanes()),
            dtype: v.dtype,
            lanes: u.lanes(),
        })
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
                let text =
                    consts::literal(u.dtype(), value).map_err(|why| self.malformed(i, u, why))?;
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
                let expr = vector::expr(op, u.lanes(), &src, &mut self.helpers)
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
                let expr = alu::expr(op, u.dtype(), &src, &mut self.helpers)
                    .map_err(|why| self.unsupported(i, u, why))?;
                let prefix = if matches!(op, Op::Cast | Op::Bitcast) {
                    "cast"
                } else {
                    "alu"
                };
                self.declare(i, u, prefix, &expr)?
            }
            _ => return Err(self.unsupported(i, u, "the C renderer has no rule for it")),
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

    fn special(&mut self, i: usize, u: &UOp) -> Result<Node, RenderError> {
        match u.special_kind() {
            Some(Special::Core) => {}
            _ => {
                return Err(self.unsupported(
                    i,
                    u,
                    format!("C kernels have only core_id, not {}", u.arg()),
                ));
            }
        }
        if let Some(count) = u.src().first() {
            self.value(i, u, count)?;
        }
        if self.entries.keys().any(|k| k.op() == Op::Special) {
            return Err(self.malformed(i, u, "a second core_id"));
        }
        self.line("const long long core_id64 = core_id;");
        Ok(Node::Value(Operand {
            text: "core_id64".into(),
            dtype: DType::Index,
            lanes: 1,
        }))
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
        self.line(&format!(
            "for (long long {name} = 0; {name} < {}; {name}++) {{",
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

    /// DEFINE_LOCAL: `T local{slot}[size]`, aligned for vectors; each call of the kernel
    /// (each `core_id`) has its own.
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
        let ty =
            storage_type(u.dtype()).ok_or_else(|| self.malformed(i, u, "scratch of dtype void"))?;
        let name = format!("local{slot}");
        self.line(&format!(
            "{ty} {name}[{size}] __attribute__((aligned(64)));"
        ));
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

    fn index(&mut self, i: usize, u: &UOp) -> Result<Node, RenderError> {
        let [buf, offset] = u.src() else {
            return Err(self.malformed(i, u, "expected [buffer, offset]"));
        };
        let Node::Buffer { name, dtype } = self.get(i, u, buf)?.node.clone() else {
            return Err(self.malformed(i, u, format!("indexes a {}, not a buffer", buf.op())));
        };
        let offset = self.value(i, u, offset)?;
        if !offset.dtype.is_int() {
            return Err(self.malformed(i, u, format!("the offset has dtype {}", offset.dtype)));
        }
        if u.dtype() != dtype {
            return Err(self.malformed(
                i,
                u,
                format!("has dtype {} but buffer {name} holds {dtype}", u.dtype()),
            ));
        }
        Ok(Node::Element {
            base: name,
            offset: offset.text,
            dtype,
        })
    }

    fn load(&mut self, i: usize, u: &UOp) -> Result<Node, RenderError> {
        let (target, gate) = match u.src() {
            [t] => (t, None),
            [t, gate, alt] => (t, Some((gate, alt))),
            _ => return Err(self.malformed(i, u, "expected [index] or [index, gate, alt]")),
        };
        let target_node = self.get(i, u, target)?.node.clone();
        let (read, dtype) = match target_node.clone() {
            Node::Element {
                base,
                offset,
                dtype,
            } if u.lanes() > 1 => {
                let ty = self.type_of(i, u)?;
                (format!("*(const {ty}_u*)({base} + {offset})"), dtype)
            }
            Node::Element {
                base,
                offset,
                dtype,
            } => (
                self.helpers.load(dtype, &format!("{base}[{offset}]")),
                dtype,
            ),
            Node::Reg { name, dtype, lanes } if lanes == u.lanes() => (name, dtype),
            _ => return Err(self.malformed(i, u, format!("reads a {}", target.op()))),
        };
        if u.dtype() != dtype {
            return Err(self.malformed(i, u, format!("has dtype {} but reads {dtype}", u.dtype())));
        }
        let expr = match gate {
            None => read,
            Some((gate, alt)) => {
                let gate = self.gate(i, u, gate, u.lanes())?;
                let alt = self.value(i, u, alt)?;
                if alt.dtype != dtype {
                    return Err(self.malformed(
                        i,
                        u,
                        format!("the alternative has dtype {}", alt.dtype),
                    ));
                }
                match gate {
                    Err(g) => {
                        let alt = self.widen(i, u, alt)?;
                        format!("{g} ? {read} : {}", alt.text)
                    }
                    Ok(lanes) => {
                        // every lane in range: one vector load; else lane by lane
                        let Node::Element { base, offset, .. } = target_node else {
                            return Err(self.malformed(i, u, "a masked load of a register"));
                        };
                        let ty = self.type_of(i, u)?;
                        let elems: Vec<String> = lanes
                            .iter()
                            .enumerate()
                            .map(|(k, g)| {
                                let alt_k = if alt.lanes > 1 {
                                    format!("{}[{k}]", alt.text)
                                } else {
                                    alt.text.clone()
                                };
                                let elem =
                                    self.helpers.load(dtype, &format!("{base}[{offset} + {k}]"));
                                if g == "1" {
                                    elem
                                } else {
                                    format!("({g}) ? {elem} : {alt_k}")
                                }
                            })
                            .collect();
                        format!(
                            "({}) ? {read} : ({ty}){{{}}}",
                            all_lanes(&lanes),
                            elems.join(", ")
                        )
                    }
                }
            }
        };
        self.declare(i, u, "val", &expr)
    }

    fn store(&mut self, i: usize, u: &UOp) -> Result<Node, RenderError> {
        let (target, value, gate) = match u.src() {
            [t, v] => (t, v, None),
            [t, v, g] => (t, v, Some(g)),
            _ => {
                return Err(self.malformed(
                    i,
                    u,
                    "expected [index or register, value] or [index, value, gate]",
                ));
            }
        };
        let value = self.value(i, u, value)?;
        let gate = match gate {
            Some(g) => Some(self.gate(i, u, g, value.lanes)?),
            None => None,
        };
        let (lvalue, text, dtype) = match self.get(i, u, target)?.node.clone() {
            Node::Element {
                base,
                offset,
                dtype,
            } if value.lanes > 1 => {
                let ty = vector::vector_type(dtype, value.lanes, &mut self.helpers)
                    .map_err(|why| self.unsupported(i, u, why))?;
                (
                    format!("*({ty}_u*)({base} + {offset})"),
                    value.text.clone(),
                    dtype,
                )
            }
            Node::Element {
                base,
                offset,
                dtype,
            } => {
                let text = self.helpers.store(dtype, &value.text);
                (format!("{base}[{offset}]"), text, dtype)
            }
            Node::Reg { name, dtype, lanes } if lanes == value.lanes => {
                (name, value.text.clone(), dtype)
            }
            _ => return Err(self.malformed(i, u, format!("writes to a {}", target.op()))),
        };
        if value.dtype != dtype {
            return Err(self.malformed(i, u, format!("stores a {} into a {dtype}", value.dtype)));
        }
        match gate {
            Some(Err(g)) => self.line(&format!("if ({g}) {{ {lvalue} = {text}; }}")),
            Some(Ok(lanes)) => {
                // every lane in range: one vector store; else lane by lane
                let Node::Element { base, offset, .. } = self.get(i, u, target)?.node.clone()
                else {
                    return Err(self.malformed(i, u, "a masked store to a register"));
                };
                let each: Vec<String> = lanes
                    .iter()
                    .enumerate()
                    .map(|(k, g)| {
                        let lane = self.helpers.store(dtype, &format!("{text}[{k}]"));
                        if g == "1" {
                            format!("{base}[{offset} + {k}] = {lane};")
                        } else {
                            format!("if ({g}) {{ {base}[{offset} + {k}] = {lane}; }}")
                        }
                    })
                    .collect();
                self.line(&format!(
                    "if ({}) {{ {lvalue} = {text}; }} else {{ {} }}",
                    all_lanes(&lanes),
                    each.join(" ")
                ));
            }
            None => self.line(&format!("{lvalue} = {text};")),
        }
        Ok(Node::Stmt)
    }

    /// STACK: `(f32x8){a, b, ...}` from scalars.
    fn stack(&mut self, i: usize, u: &UOp) -> Result<Node, RenderError> {
        if u.src().len() != u.lanes() as usize {
            return Err(self.malformed(
                i,
                u,
                format!("{} elements for {} lanes", u.src().len(), u.lanes()),
            ));
        }
        let mut elems = Vec::new();
        for s in u.src() {
            let v = self.value(i, u, s)?;
            if v.lanes != 1 || v.dtype != u.dtype() {
                return Err(self.malformed(i, u, "an element is not a scalar of its dtype"));
            }
            elems.push(v.text);
        }
        if u.dtype() == DType::Bool {
            return Ok(Node::Lanes(elems));
        }
        let ty = self.type_of(i, u)?;
        self.declare(i, u, "vec", &format!("({ty}){{{}}}", elems.join(", ")))
    }

    /// WHERE on vectors: its condition is one bool or a bool per lane.
    fn vector_where(&mut self, i: usize, u: &UOp) -> Result<Node, RenderError> {
        let [cond, a, b] = u.src() else {
            return Err(self.malformed(i, u, "expected [cond, a, b]"));
        };
        let conds = match self.gate(i, u, cond, u.lanes())? {
            Ok(lanes) => lanes,
            Err(one) => vec![one; u.lanes() as usize],
        };
        let a = self.value(i, u, a)?;
        let a = self.widen(i, u, a)?;
        let b = self.value(i, u, b)?;
        let b = self.widen(i, u, b)?;
        let expr = vector::select(
            u.dtype(),
            u.lanes(),
            &conds,
            &a.text,
            &b.text,
            &mut self.helpers,
        )
        .map_err(|why| self.unsupported(i, u, why))?;
        self.declare(i, u, "alu", &expr)
    }

    /// A gate: one condition (`Ok(Err(text))`) or one per lane (`Ok(Ok(lanes))`).
    fn gate(
        &self,
        i: usize,
        u: &UOp,
        gate: &UOp,
        lanes: u8,
    ) -> Result<Result<Vec<String>, String>, RenderError> {
        match &self.get(i, u, gate)?.node {
            Node::Lanes(ls) if ls.len() == lanes as usize => Ok(Ok(ls.clone())),
            Node::Value(g) if g.lanes == 1 && g.dtype == DType::Bool => Ok(Err(g.text.clone())),
            _ => Err(self.malformed(i, u, "the gate is not a bool or a bool per lane")),
        }
    }

    /// GEP: one lane of a vector.
    fn gep(&mut self, i: usize, u: &UOp) -> Result<Node, RenderError> {
        let (Some(src), Arg::Axes(lanes)) = (u.src().first(), u.arg()) else {
            return Err(self.malformed(i, u, "expected [vector] and a lane"));
        };
        let v = self.value(i, u, src)?;
        match lanes[..] {
            [k] if k < v.lanes as usize && u.lanes() == 1 => {
                self.declare(i, u, "lane", &format!("{}[{k}]", v.text))
            }
            _ => Err(self.malformed(i, u, format!("lane {lanes:?} of {} lanes", v.lanes))),
        }
    }
}
