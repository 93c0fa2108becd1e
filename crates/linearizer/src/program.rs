//! `LinearProgram`: a kernel as an ordered list of `UOp`s, the contract between the
//! linearizer and every renderer. Each node comes after its sources. The ops that can
//! appear, and what a renderer must make of them:
//!
//! | op | dtype | srcs | arg | meaning |
//! |---|---|---|---|---|
//! | PARAM | element T | - | `Param { slot }` | buffer argument `slot`, elements of T |
//! | SPECIAL | index | `[count]` (CONST) | `Special(Core)` | this invocation's CPU thread (`core_id`), `0..count` |
//! | SPECIAL | index | `[count]` (CONST) | `Special(Local(n))` | this thread's index in dimension `n` of its workgroup (`lidx{n}`) |
//! | BARRIER | void | `[stmt..]` | - | every thread of the workgroup gets here before any goes on; the statements' writes are seen after it |
//! | CONST | any | - | `Const` | a literal (never Invalid) |
//! | RANGE | index | `[end]` | `Range { axis, .. }` | opens `for (r = 0; r < end; r++)` |
//! | END | void | `[stmt, range]` | - | closes the loop of that RANGE (always the innermost open one) after `stmt` |
//! | DEFINE_REG | T | `[init, range..]` | `Param { slot }` | a mutable scalar `T acc{slot} = init` (the ranges only order it) |
//! | DEFINE_LOCAL | element T | `[size]` (CONST) | `Param { slot }` | scratch `T local{slot}[size]`, one per invocation, shared by its workgroup |
//! | AFTER | T | `[reg or local, stmt..]` | - | the register's value, or the scratch, read after the statements |
//! | INDEX | element T | `[param or local or after, offset]` | - | the address of element `offset` (index dtype) |
//! | LOAD | T | `[index or reg or after]` or `[index, gate, alt]` | - | a read; gated: `gate ? *index : alt` (a bool vector gate: lane by lane, a masked load) |
//! | STORE | void | `[index or reg, value]` or `[index, value, gate]` | - | a write; gated: only where `gate` holds (a bool vector gate: lane by lane) |
//! | STACK | T, lanes n | n scalars of T | - | a vector of its sources |
//! | GEP | T | `[vector]` | `Axes([k])` | lane `k` of a vector |
//!
//! A node with `lanes() > 1` is a vector of that many elements of its dtype: a LOAD or
//! STORE of one reads or writes consecutive elements from its INDEX; an ALU op works lane
//! by lane, and a scalar source of one stands for that value in every lane. A
//! DEFINE_REG vector is initialized with its scalar initial value in every lane.
//! | ALU, CAST, BITCAST, WHERE | T | operands | - | a pure value |
//!
//! The index dtype is a signed 64-bit integer in generated code.

use std::fmt;

use uop_ir::{Arg, DType, Op, Special, UOp};

/// A buffer argument of a kernel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamInfo {
    pub slot: u32,
    pub dtype: DType,
    /// Element count of the buffer the kernel expects.
    pub size: usize,
    /// Whether the kernel writes it.
    pub written: bool,
}

/// A kernel ready to render.
#[derive(Clone, PartialEq, Eq)]
pub struct LinearProgram {
    /// A C identifier, e.g. `r_16_4n1` (see `kernel_name`).
    pub name: String,
    pub uops: Vec<UOp>,
    /// Buffer arguments in slot order.
    pub params: Vec<ParamInfo>,
    /// How many invocations run, each with its own `core_id` (1 when no THREAD axis).
    pub threads: usize,
    /// Floating-point and integer operations of one run (for GFLOP/s).
    pub ops: u64,
    /// Bytes read and written by one run (for GB/s).
    pub bytes: u64,
}

impl fmt::Debug for LinearProgram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "program {} ({} threads)", self.name, self.threads)?;
        let pos = |u: &UOp| {
            self.uops
                .iter()
                .position(|x| x == u)
                .map_or("?".to_string(), |i| i.to_string())
        };
        for (i, u) in self.uops.iter().enumerate() {
            let srcs: Vec<String> = u.src().iter().map(|s| format!("%{}", pos(s))).collect();
            let arg = if matches!(u.arg(), Arg::None) {
                String::new()
            } else {
                format!(" {}", u.arg())
            };
            writeln!(
                f,
                "%{i} = {} {}{arg} ({})",
                u.op(),
                u.dtype_text(),
                srcs.join(", ")
            )?;
        }
        Ok(())
    }
}

impl LinearProgram {
    /// The size of each workgroup dimension: the counts of the `lidx0`, `lidx1`, ...
    /// SPECIALs (empty when the kernel has no workgroup).
    pub fn local_sizes(&self) -> Vec<usize> {
        let mut dims: Vec<(usize, usize)> = self
            .uops
            .iter()
            .filter_map(|u| match u.special_kind() {
                Some(Special::Local(dim)) => {
                    let size = u.src().first()?.const_int()?;
                    Some((usize::from(dim), usize::try_from(size).ok()?))
                }
                _ => None,
            })
            .collect();
        dims.sort_unstable();
        dims.dedup();
        dims.into_iter().map(|(_, s)| s).collect()
    }

    /// The RANGE nodes, in program order.
    pub fn ranges(&self) -> impl Iterator<Item = &UOp> {
        self.uops.iter().filter(|u| u.op() == Op::Range)
    }
}
