//! The walk over a `LinearProgram`: one or a few IR instructions per node, in program
//! order, for any `Flavor`.
//!
//! Every value node (LOAD, ALU, CAST, SPECIAL, ...) at position `i` is the SSA value
//! `%v{i}`; helper instructions of a node are `%t{n}`. CONSTs are literals. A RANGE opens
//! a loop of four blocks (`loop{n}`: the header with the counter's phi and the exit test,
//! the body, the latch that counts, the exit) and its END closes it. DEFINE_REG is an
//! `alloca` in the entry block, initialized where the program defines it, which LOAD
//! and STORE read and write (LLVM promotes it to SSA); DEFINE_LOCAL is scratch where the
//! flavor keeps it. Gated loads and stores branch around the access, or use LLVM's
//! masked loads and stores when the gate is a bool per lane.
//!
//! It assumes the contract of `linearizer::LinearProgram` and refuses, with a
//! `RenderError` naming the kernel, the node and its op, what the C renderer refuses: a
//! source used before it is defined or after its loop is closed, an END that does not
//! close the innermost loop, a RANGE left open, mismatched dtypes, and ops the target
//! has no rule for.
//!
//! This file holds the walk, declarations, launch indices, loops and registers;
//! `memory.rs` the buffers, loads and stores, `alu.rs` the arithmetic and `cast.rs` the
//! conversions.

mod alu;
mod cast;
mod memory;
mod narrow;

use std::collections::{HashMap, HashSet};

use renderer::{LinearProgram, RenderError};
use uop_ir::{Arg, DType, Op, Special, UOp};

use crate::flavor::{Flavor, KernelBody, KernelOperand, KernelParam, Line, SpecialRead, pointer};
use crate::module::Module;
use crate::types::{literal, splat, value_type, value_type_of};

/// A value: its text (an SSA name or a literal), dtype and lanes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Val {
    pub text: String,
    pub dtype: DType,
    pub lanes: u8,
}

impl Val {
    /// Its register type.
    pub fn ty(&self) -> String {
        value_type_of(self.dtype, self.lanes).unwrap_or_else(|| "void".into())
    }

    /// `type text`, as an operand with its type.
    pub fn typed(&self) -> String {
        format!("{} {}", self.ty(), self.text)
    }
}

/// What a node of the program is in IR.
#[derive(Clone, Debug)]
enum Node {
    Value(Val),
    /// Memory: a buffer parameter, or scratch; `ptr` points at its first element.
    Buffer {
        ptr: String,
        space: u32,
        dtype: DType,
    },
    /// A register: an `alloca` of `lanes` values of `dtype`.
    Reg {
        ptr: String,
        dtype: DType,
        lanes: u8,
    },
    /// The address of an element (and the ones after it, for a vector access).
    Element {
        ptr: String,
        space: u32,
        dtype: DType,
    },
    /// A statement, with no value.
    Stmt,
}

#[derive(Debug)]
struct Entry {
    node: Node,
    pos: usize,
    /// The loop the node lives in; `None` at the top level.
    loop_id: Option<usize>,
}

/// The kernel function(s) and attribute groups of `program`, its helpers and
/// declarations in `module`.
pub(crate) fn render<F: Flavor + ?Sized>(
    flavor: &F,
    program: &LinearProgram,
    module: &mut Module,
) -> Result<(String, String), RenderError> {
    if !is_identifier(&program.name) {
        return Err(RenderError::Malformed {
            kernel: program.name.clone(),
            why: "the kernel name is not an identifier".into(),
        });
    }
    let mut e = Emitter {
        flavor,
        program,
        module,
        entries: HashMap::new(),
        open: Vec::new(),
        loops: 0,
        temps: 0,
        allocas: String::new(),
        body: String::new(),
        block: "entry".into(),
        regs: HashSet::new(),
        locals: HashSet::new(),
        specials: Vec::new(),
    };
    let params = e.params()?;
    for (i, u) in program.uops.iter().enumerate() {
        e.node(i, u)?;
    }
    if let Some((range, _)) = e.open.last() {
        let pos = e.entries.get(range).map_or(0, |x| x.pos);
        return Err(e.malformed(pos, range, "the loop is never closed by an END"));
    }
    let blocks = format!("entry:\n{}{}  ret void\n", e.allocas, e.body);
    let specials = e.specials.clone();
    let body = KernelBody {
        name: &program.name,
        params: &params,
        blocks: &blocks,
        dims: &program.dims,
        specials: &specials,
    };
    flavor
        .kernel(&body, e.module)
        .map_err(|why| RenderError::Malformed {
            kernel: program.name.clone(),
            why,
        })
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

struct Emitter<'a, F: ?Sized> {
    flavor: &'a F,
    program: &'a LinearProgram,
    module: &'a mut Module,
    entries: HashMap<UOp, Entry>,
    /// Open loops, outermost first: the RANGE and its loop id.
    open: Vec<(UOp, usize)>,
    loops: usize,
    temps: usize,
    /// The entry block's `alloca`s.
    allocas: String,
    body: String,
    /// The label of the block instructions go to now.
    block: String,
    regs: HashSet<u32>,
    locals: HashSet<u32>,
    specials: Vec<Special>,
}

impl<F: Flavor + ?Sized> Emitter<'_, F> {
    fn malformed(&self, i: usize, u: &UOp, why: impl std::fmt::Display) -> RenderError {
        RenderError::Malformed {
            kernel: self.program.name.clone(),
            why: format!("%{i} {}: {why}", u.op()),
        }
    }

    fn unsupported(&self, i: usize, u: &UOp, why: impl std::fmt::Display) -> RenderError {
        RenderError::Unsupported {
            target: self.flavor.name(),
            kernel: self.program.name.clone(),
            op: u.op(),
            why: format!("%{i} {} {}: {why}", u.op(), u.dtype()),
        }
    }

    /// The buffer parameters, one per PARAM slot in slot order.
    fn params(&self) -> Result<Vec<KernelParam>, RenderError> {
        let mut out: Vec<KernelParam> = Vec::new();
        for (i, u) in self.program.uops.iter().enumerate() {
            if u.op() != Op::Param {
                continue;
            }
            let slot = self.slot(i, u)?;
            match out.iter().find(|p| p.slot == slot) {
                Some(p) if p.dtype != u.dtype() => {
                    return Err(self.malformed(
                        i,
                        u,
                        format!("slot {slot} is also a {} buffer", p.dtype),
                    ));
                }
                Some(_) => {}
                None => {
                    let memory_type = self
                        .memory_ty(u.dtype())
                        .ok_or_else(|| self.malformed(i, u, "a buffer of dtype void"))?;
                    out.push(KernelParam {
                        slot,
                        dtype: u.dtype(),
                        memory_type,
                    });
                }
            }
        }
        out.sort_by_key(|p| p.slot);
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

    fn value(&self, i: usize, u: &UOp, src: &UOp) -> Result<Val, RenderError> {
        match &self.get(i, u, src)?.node {
            Node::Value(v) => Ok(v.clone()),
            _ => Err(self.malformed(i, u, format!("uses {} as a value", src.op()))),
        }
    }

    /// Appends `name = instruction` to the current block.
    fn ins(&mut self, name: &str, instruction: impl AsRef<str>) {
        self.body += &format!("  {name} = {}\n", instruction.as_ref());
    }

    /// Appends an instruction with no result.
    fn stmt(&mut self, instruction: impl AsRef<str>) {
        self.body += &format!("  {}\n", instruction.as_ref());
    }

    /// Starts the block `label` (the current one must have ended with a branch).
    fn start_block(&mut self, label: String) {
        self.body += &format!("{label}:\n");
        self.block = label;
    }

    /// A fresh name for a helper instruction.
    fn temp(&mut self) -> String {
        self.temps += 1;
        format!("%t{}", self.temps - 1)
    }

    /// The value `%v{i}` of node `i`, computed by `instruction`.
    fn define(&mut self, i: usize, u: &UOp, instruction: impl AsRef<str>) -> Node {
        let name = format!("%v{i}");
        self.ins(&name, instruction);
        Node::Value(Val {
            text: name,
            dtype: u.dtype(),
            lanes: u.lanes(),
        })
    }

    /// The register type of node `u`'s value.
    fn type_of(&self, i: usize, u: &UOp) -> Result<String, RenderError> {
        value_type_of(u.dtype(), u.lanes())
            .ok_or_else(|| self.malformed(i, u, "a value of dtype void"))
    }

    fn node(&mut self, i: usize, u: &UOp) -> Result<(), RenderError> {
        if self.entries.contains_key(u) {
            return Err(self.malformed(i, u, "the node appears twice in the program"));
        }
        let node = match u.op() {
            Op::Param => Node::Buffer {
                ptr: format!("%data{}", self.slot(i, u)?),
                space: self.flavor.global_space(),
                dtype: u.dtype(),
            },
            Op::DefineLocal => self.define_local(i, u)?,
            Op::Const => {
                let value = u
                    .const_value()
                    .ok_or_else(|| self.malformed(i, u, "no constant argument"))?;
                let text = literal(u.dtype(), value).map_err(|why| self.malformed(i, u, why))?;
                Node::Value(Val {
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
            Op::Wmma => self.wmma(i, u)?,
            op if op.alu_arity().is_some() => self.alu(i, u)?,
            _ => {
                let why = format!("{} has no rule for it", self.flavor.name());
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

    /// SPECIAL: the launch index as the flavor reads it, widened to the index type.
    fn special(&mut self, i: usize, u: &UOp) -> Result<Node, RenderError> {
        let which = u
            .special_kind()
            .ok_or_else(|| self.malformed(i, u, "no launch index argument"))?;
        if let Some(count) = u.src().first() {
            self.value(i, u, count)?;
        }
        if self.specials.contains(&which) {
            return Err(self.malformed(i, u, format!("a second {which}")));
        }
        let read = self
            .flavor
            .special(which)
            .map_err(|why| self.unsupported(i, u, why))?;
        let narrow = match read {
            SpecialRead::Argument(name) => format!("%{name}"),
            SpecialRead::Intrinsic { name, declare } => {
                self.module.declare(declare);
                let t = self.temp();
                self.ins(&t, format!("call i32 @{name}()"));
                t
            }
        };
        self.specials.push(which);
        Ok(self.define(i, u, format!("zext i32 {narrow} to i64")))
    }

    /// BARRIER: the flavor's barrier, after the statements it orders.
    fn barrier(&mut self, i: usize, u: &UOp) -> Result<Node, RenderError> {
        for s in u.src() {
            self.get(i, u, s)?;
        }
        let lines = self
            .flavor
            .barrier(self.module)
            .ok_or_else(|| self.unsupported(i, u, "the target has no workgroups"))?;
        for l in lines {
            self.stmt(l);
        }
        Ok(Node::Stmt)
    }

    /// RANGE: `for (r = 0; r < end; r++)` as header, body, latch and exit blocks.
    fn range(&mut self, i: usize, u: &UOp) -> Result<Node, RenderError> {
        let Arg::Range { axis, .. } = u.arg() else {
            return Err(self.malformed(i, u, "no axis argument"));
        };
        let end = u
            .src()
            .first()
            .ok_or_else(|| self.malformed(i, u, "no end"))?;
        let end = self.value(i, u, end)?;
        if !end.dtype.is_int() || end.lanes != 1 {
            return Err(self.malformed(i, u, format!("the end has dtype {}", end.dtype)));
        }
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
        let end = self.index_value(&end);
        let n = self.loops;
        let (pre, r) = (self.block.clone(), format!("%v{i}"));
        self.stmt(format!("br label %loop{n}"));
        self.start_block(format!("loop{n}"));
        self.ins(
            &r,
            format!("phi i64 [ 0, %{pre} ], [ {r}.next, %loop{n}.latch ]"),
        );
        let more = self.temp();
        self.ins(&more, format!("icmp slt i64 {r}, {end}"));
        self.stmt(format!(
            "br i1 {more}, label %loop{n}.body, label %loop{n}.exit"
        ));
        self.start_block(format!("loop{n}.body"));
        self.open.push((u.clone(), n));
        self.loops += 1;
        Ok(Node::Value(Val {
            text: r,
            dtype: DType::Index,
            lanes: 1,
        }))
    }

    /// `v` as an `i64` (the index type), widened or narrowed by its sign.
    fn index_value(&mut self, v: &Val) -> String {
        let ty = value_type(v.dtype).unwrap_or("i64");
        if ty == "i64" {
            return v.text.clone();
        }
        let t = self.temp();
        let how = if crate::types::is_signed(v.dtype) {
            "sext"
        } else {
            "zext"
        };
        self.ins(&t, format!("{how} {ty} {} to i64", v.text));
        t
    }

    /// END: the latch and exit of each loop it closes, innermost first.
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
            let Some((range, n)) = self.open.pop() else {
                break;
            };
            let r = self
                .entries
                .get(&range)
                .map_or(String::new(), |e| format!("%v{}", e.pos));
            self.stmt(format!("br label %loop{n}.latch"));
            self.start_block(format!("loop{n}.latch"));
            self.ins(&format!("{r}.next"), format!("add nuw nsw i64 {r}, 1"));
            self.stmt(format!("br label %loop{n}"));
            self.start_block(format!("loop{n}.exit"));
        }
        Ok(Node::Stmt)
    }

    /// DEFINE_REG: an `alloca` in the entry block, set to its initial value here.
    fn define_reg(&mut self, i: usize, u: &UOp) -> Result<Node, RenderError> {
        let slot = self.slot(i, u)?;
        let ty = self.type_of(i, u)?;
        let init = u
            .src()
            .first()
            .ok_or_else(|| self.malformed(i, u, "no initial value"))?;
        let init = self.value(i, u, init)?;
        let init = self
            .widen(&init, u.lanes())
            .map_err(|why| self.malformed(i, u, why))?;
        if init.dtype != u.dtype() {
            return Err(self.malformed(i, u, format!("initialized with a {}", init.dtype)));
        }
        if !self.regs.insert(slot) {
            return Err(self.malformed(i, u, format!("register slot {slot} is defined twice")));
        }
        let space = self.flavor.private_space();
        let ptr = format!("%acc{slot}");
        let at = if space == 0 {
            String::new()
        } else {
            format!(", addrspace({space})")
        };
        self.allocas += &format!("  {ptr} = alloca {ty}{at}\n");
        self.stmt(format!("store {}, {} {ptr}", init.typed(), pointer(space)));
        Ok(Node::Reg {
            ptr,
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

    /// A scalar `v` broadcast to `lanes` lanes (`v` itself when it has them already).
    fn widen(&mut self, v: &Val, lanes: u8) -> Result<Val, String> {
        if v.lanes == lanes {
            return Ok(v.clone());
        }
        if v.lanes != 1 {
            return Err(format!("mixes {} and {lanes} lanes", v.lanes));
        }
        let scalar = value_type(v.dtype).ok_or("a value of dtype void")?;
        let vty = value_type_of(v.dtype, lanes).ok_or("a value of dtype void")?;
        let text = if v.text.starts_with('%') {
            let one = self.temp();
            self.ins(
                &one,
                format!("insertelement {vty} poison, {scalar} {}, i64 0", v.text),
            );
            let all = self.temp();
            self.ins(
                &all,
                format!("shufflevector {vty} {one}, {vty} poison, <{lanes} x i32> zeroinitializer"),
            );
            all
        } else {
            splat(scalar, &v.text, lanes)
        };
        Ok(Val {
            text,
            dtype: v.dtype,
            lanes,
        })
    }

    /// STACK: a vector of its scalars.
    fn stack(&mut self, i: usize, u: &UOp) -> Result<Node, RenderError> {
        if u.src().len() != u.lanes() as usize {
            return Err(self.malformed(
                i,
                u,
                format!("{} elements for {} lanes", u.src().len(), u.lanes()),
            ));
        }
        let ty = self.type_of(i, u)?;
        let mut acc = "poison".to_string();
        let last = u.src().len() - 1;
        for (k, s) in u.src().iter().enumerate() {
            let v = self.value(i, u, s)?;
            if v.lanes != 1 || v.dtype != u.dtype() {
                return Err(self.malformed(i, u, "an element is not a scalar of its dtype"));
            }
            let name = if k == last {
                format!("%v{i}")
            } else {
                self.temp()
            };
            self.ins(
                &name,
                format!("insertelement {ty} {acc}, {}, i64 {k}", v.typed()),
            );
            acc = name;
        }
        Ok(Node::Value(Val {
            text: acc,
            dtype: u.dtype(),
            lanes: u.lanes(),
        }))
    }

    /// WMMA: a matrix multiply-accumulate by the flavor's matrix instruction named by
    /// the node's argument; the sources are the A and B fragments and the accumulator.
    /// A WMMA of dtype void is a whole GEMM (`gemm`).
    fn wmma(&mut self, i: usize, u: &UOp) -> Result<Node, RenderError> {
        let Arg::Name(name) = u.arg() else {
            return Err(self.malformed(i, u, "no instruction name"));
        };
        if u.dtype() == DType::Void {
            return self.gemm(i, u, name);
        }
        let mut src = Vec::new();
        for s in u.src() {
            let v = self.value(i, u, s)?;
            src.push(crate::flavor::Operand {
                text: v.text,
                dtype: v.dtype,
                lanes: v.lanes,
            });
        }
        let dest = format!("%v{i}");
        let lines = self
            .flavor
            .wmma(name, &dest, (u.dtype(), u.lanes()), &src, self.module)
            .map_err(|why| self.unsupported(i, u, why))?;
        for l in lines {
            self.body += &format!("  {l}\n");
        }
        Ok(Node::Value(Val {
            text: dest,
            dtype: u.dtype(),
            lanes: u.lanes(),
        }))
    }

    /// A whole-kernel WMMA (the TC opt's GEMM): the flavor's blocks over its buffers and
    /// launch indices.
    fn gemm(&mut self, i: usize, u: &UOp, name: &str) -> Result<Node, RenderError> {
        let mut src = Vec::new();
        for s in u.src() {
            let operand = match &self.get(i, u, s)?.node {
                Node::Buffer { ptr, dtype, .. } => KernelOperand::Buffer {
                    ptr: ptr.clone(),
                    dtype: *dtype,
                },
                Node::Value(v) if v.lanes == 1 && v.dtype.is_int() => {
                    let v = v.clone();
                    KernelOperand::Index(self.index_value(&v))
                }
                _ => return Err(self.malformed(i, u, "a source is no buffer or index")),
            };
            src.push(operand);
        }
        let lines = self
            .flavor
            .gemm(name, &format!("v{i}"), &src, self.module)
            .map_err(|why| self.unsupported(i, u, why))?;
        for l in lines {
            match l {
                Line::Ins(text) => self.stmt(text),
                Line::Label(label) => self.start_block(label),
            }
        }
        Ok(Node::Stmt)
    }

    /// GEP: one lane of a vector.
    fn gep(&mut self, i: usize, u: &UOp) -> Result<Node, RenderError> {
        let (Some(src), Arg::Axes(lanes)) = (u.src().first(), u.arg()) else {
            return Err(self.malformed(i, u, "expected [vector] and a lane"));
        };
        let v = self.value(i, u, src)?;
        match lanes[..] {
            [k] if k < v.lanes as usize && u.lanes() == 1 && v.lanes > 1 => {
                Ok(self.define(i, u, format!("extractelement {}, i64 {k}", v.typed())))
            }
            _ => Err(self.malformed(i, u, format!("lane {lanes:?} of {} lanes", v.lanes))),
        }
    }
}
