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
//!
//! A program runs as `dims.global` workgroups of `dims.local` threads each (`LaunchDims`,
//! read off its SPECIALs): a CPU program has one thread per `core_id`
//! (`global = [threads, 1, 1]`), a GPU program a grid of workgroups.

use std::fmt;

use uop_ir::{Arg, AxisType, DType, Op, Special, UOp, toposort};

use crate::LinearizeError;
use crate::ranges::RangeKey;

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

/// The shape of a launch: `global[d]` workgroups along dimension `d` (on a CPU, threads
/// along dimension 0, one per `core_id`), each of `local[d]` threads along `d`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LaunchDims {
    pub global: [u32; 3],
    pub local: [u32; 3],
}

impl Default for LaunchDims {
    /// One invocation.
    fn default() -> LaunchDims {
        LaunchDims {
            global: [1; 3],
            local: [1; 3],
        }
    }
}

impl LaunchDims {
    /// The launch the SPECIALs among `uops` ask for: the count of `core_id` or `gidx{d}`
    /// gives `global`, the count of `lidx{d}` gives `local`. An error says why they ask
    /// for no launch (a count that is not a constant in `1..2^32`, a dimension past 2,
    /// `core_id` next to `gidx0`, or two counts for one index).
    pub fn of(uops: &[UOp]) -> Result<LaunchDims, String> {
        // [grid][dimension]: the index that sets it, and its count
        let mut set: [[Option<(Special, u32)>; 3]; 2] = [[None; 3]; 2];
        for u in uops {
            let Some(which) = u.special_kind() else {
                continue;
            };
            let count = u
                .src()
                .first()
                .and_then(UOp::const_int)
                .and_then(|c| u32::try_from(c).ok())
                .filter(|c| *c > 0)
                .ok_or_else(|| format!("{which} has no constant count in 1..2^32"))?;
            let (grid, d) = match which {
                Special::Core => (0, 0),
                Special::Global(d) => (0, usize::from(d)),
                Special::Local(d) => (1, usize::from(d)),
            };
            let cell = set[grid]
                .get_mut(d)
                .ok_or_else(|| format!("{which} is past the third launch dimension"))?;
            match *cell {
                Some((s, c)) if s != which || c != count => {
                    return Err(format!("{which} of {count} clashes with {s} of {c}"));
                }
                _ => *cell = Some((which, count)),
            }
        }
        let count = |c: Option<(Special, u32)>| c.map_or(1, |(_, n)| n);
        Ok(LaunchDims {
            global: set[0].map(count),
            local: set[1].map(count),
        })
    }

    /// Workgroups (CPU threads) of the launch.
    pub fn global_size(&self) -> u64 {
        self.global.iter().map(|&g| u64::from(g)).product()
    }

    /// Threads of one workgroup.
    pub fn local_size(&self) -> u64 {
        self.local.iter().map(|&l| u64::from(l)).product()
    }
}

/// A kernel ready to render.
#[derive(Clone, PartialEq, Eq)]
pub struct LinearProgram {
    /// A C identifier, e.g. `r_16_4n1` (see `kernel_name`).
    pub name: String,
    pub uops: Vec<UOp>,
    /// Buffer arguments in slot order.
    pub params: Vec<ParamInfo>,
    /// The launch it needs (one invocation when it has no SPECIAL).
    pub dims: LaunchDims,
    /// Floating-point and integer operations of one run (for GFLOP/s).
    pub ops: u64,
    /// Bytes read and written by one run (for GB/s).
    pub bytes: u64,
}

impl fmt::Debug for LinearProgram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "program {} (global {:?}, local {:?})",
            self.name, self.dims.global, self.dims.local
        )?;
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
    /// The program of `uops` (in execution order) named `name`: its buffers (with
    /// `sizes[slot]` elements each), its launch, and its work estimates.
    pub fn build(
        name: String,
        uops: Vec<UOp>,
        sizes: &[usize],
    ) -> Result<LinearProgram, LinearizeError> {
        let params = params(&uops, sizes);
        let dims = LaunchDims::of(&uops).map_err(LinearizeError::Malformed)?;
        let (ops, bytes) = estimates(&uops, &params);
        // the loops of one thread: every thread of every workgroup runs them
        let ops = ops
            .saturating_mul(dims.global_size())
            .saturating_mul(dims.local_size());
        Ok(LinearProgram {
            name,
            uops,
            params,
            dims,
            ops,
            bytes,
        })
    }

    /// The RANGE nodes, in program order.
    pub fn ranges(&self) -> impl Iterator<Item = &UOp> {
        self.uops.iter().filter(|u| u.op() == Op::Range)
    }
}

/// A name from the loop extents: `E_` for elementwise kernels, `r_` with reductions.
pub fn kernel_name(ast: &UOp) -> String {
    let mut outer = Vec::new();
    let mut reduce = Vec::new();
    let mut ranges: Vec<UOp> = toposort(ast)
        .into_iter()
        .filter(|u| u.op() == Op::Range)
        .collect();
    ranges.sort_by_key(RangeKey::of);
    for r in ranges {
        let end = r.src()[0]
            .const_int()
            .map_or("n".to_string(), |e| e.to_string());
        match r.arg() {
            Arg::Range {
                kind: AxisType::Reduce,
                ..
            } => reduce.push(end),
            _ => outer.push(end),
        }
    }
    let prefix = if reduce.is_empty() { "E" } else { "r" };
    let mut parts = vec![prefix.to_string()];
    parts.extend(outer);
    parts.extend(reduce);
    if parts.len() == 1 {
        parts.push("1".into());
    }
    parts.join("_")
}

fn params(uops: &[UOp], sizes: &[usize]) -> Vec<ParamInfo> {
    let mut out: Vec<ParamInfo> = Vec::new();
    for u in uops.iter().filter(|u| u.op() == Op::Param) {
        let Arg::Param { slot } = u.arg() else {
            continue;
        };
        let written = uops.iter().any(|s| {
            s.op() == Op::Store && s.src()[0].op() == Op::Index && &s.src()[0].src()[0] == u
        });
        out.push(ParamInfo {
            slot: *slot,
            dtype: u.dtype(),
            size: sizes.get(*slot as usize).copied().unwrap_or(0),
            written,
        });
    }
    out.sort_by_key(|p| p.slot);
    out.dedup_by_key(|p| p.slot);
    out
}

/// Operations per run (ALU nodes times the iterations of their loops) and bytes moved
/// (every buffer once).
fn estimates(uops: &[UOp], params: &[ParamInfo]) -> (u64, u64) {
    let mut trips: Vec<u64> = vec![1];
    let mut ops = 0u64;
    for u in uops {
        match u.op() {
            Op::Range => {
                let extent = u.src()[0].const_int().unwrap_or(1).max(1) as u64;
                let outer = trips.last().copied().unwrap_or(1);
                trips.push(outer.saturating_mul(extent));
            }
            Op::End => {
                trips.pop();
            }
            op if op.is_alu() && !u.dtype().is_int() && u.dtype() != DType::Bool => {
                let lanes = u.lanes() as u64;
                ops = ops.saturating_add(trips.last().copied().unwrap_or(1) * lanes);
            }
            _ => {}
        }
    }
    let bytes = params
        .iter()
        .map(|p| (p.size * p.dtype.itemsize()) as u64)
        .sum();
    (ops, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launch_dims_come_from_the_specials() {
        let core = UOp::special(Special::Core, 4);
        let dims = LaunchDims::of(std::slice::from_ref(&core)).unwrap();
        assert_eq!(dims.global, [4, 1, 1]);
        assert_eq!((dims.global_size(), dims.local_size()), (4, 1));
        let gpu = [
            UOp::special(Special::Global(1), 3),
            UOp::special(Special::Local(0), 32),
            UOp::special(Special::Local(2), 2),
        ];
        let dims = LaunchDims::of(&gpu).unwrap();
        assert_eq!((dims.global, dims.local), ([1, 3, 1], [32, 1, 2]));
        assert_eq!(LaunchDims::of(&[]).unwrap(), LaunchDims::default());
    }

    #[test]
    fn launch_dims_refuse_what_no_launch_has() {
        let clash = [
            UOp::special(Special::Core, 4),
            UOp::special(Special::Global(0), 4),
        ];
        assert!(LaunchDims::of(&clash).unwrap_err().contains("clashes"));
        let far = [UOp::special(Special::Local(3), 2)];
        assert!(LaunchDims::of(&far).unwrap_err().contains("third"));
        let zero = [UOp::special(Special::Local(0), 0)];
        assert!(LaunchDims::of(&zero).unwrap_err().contains("count"));
    }
}
