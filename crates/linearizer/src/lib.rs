//! The linearizer: a kernel AST (a SINK of STOREs over RANGEs, with REDUCEs) becomes a
//! `LinearProgram` for a `Target`. `linearize` runs the stages of `STAGES` in order, each
//! on the kernel the one before left, and then orders the nodes (`order.rs`):
//!
//! | stage | file | what it does |
//! |---|---|---|
//! | round narrow floats | `narrow.rs` | f16/bf16/fp8 math in f32, rounded after each op |
//! | lower gated loads | `gate.rs` | a load through a gated index reads only where valid |
//! | apply opts | `opts/` | the given opts, or the heuristics' (`heuristics.rs`; `heuristics_gpu.rs` for targets with workgroups) |
//! | map output loops to the grid | `grid.rs` | on a GPU, the loops around the reductions become `gidx0` |
//! | lower workgroup reductions | `opts/group.rs` | GROUP's ranges become `lidx`, partials in scratch |
//! | lower reductions | `reduce.rs` | REDUCE becomes an accumulator register and a loop |
//! | close the output loops | `loops.rs` | every store wrapped in the ENDs of its loops |
//! | order | `order.rs` | a deterministic execution order (then `LinearProgram::build`) |
//!
//! Beside them: `target.rs` (what a device offers), `program.rs` (the program contract
//! with renderers, and its launch), `ranges.rs` and `access.rs` (what the opts and the
//! heuristics ask of ranges and memory accesses), and `interpret.rs`, which runs a
//! program on host values as the reference the opts are tested against.

mod access;
mod gate;
mod grid;
pub mod heuristics;
pub mod heuristics_gpu;
mod interpret;
mod loops;
mod narrow;
pub mod opts;
mod order;
mod program;
mod ranges;
mod reduce;
mod target;

use thiserror::Error;
use uop_ir::{Op, UOp};

pub use gate::lower_gates;
pub use grid::map_to_grid;
pub use heuristics::{THREAD_MIN_ELEMENTS, choose_vector_axis};
pub use interpret::interpret;
pub use narrow::round_narrow_floats;
pub use opts::vector::{lane_of, vectorize};
pub use opts::{Opt, apply_opt, candidate_opts};
pub use program::{LaunchDims, LinearProgram, ParamInfo, kernel_name};
pub use ranges::{RangeKey, open_ranges};
pub use reduce::identity;
pub use target::{Target, TensorCore, VectorTarget};

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LinearizeError {
    #[error("kernel AST is malformed: {0}")]
    Malformed(String),
    #[error("{0}")]
    Rewrite(#[from] uop_ir::RewriteError),
    #[error("{0}")]
    Symbolic(#[from] symbolic::SymbolicError),
    #[error("{opt} does not apply: {why}")]
    Opt { opt: String, why: String },
    #[error("kernel {kernel} cannot run at {at}: {why}")]
    Run {
        kernel: String,
        at: String,
        why: String,
    },
}

/// How to linearize one kernel for its target.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinearizeOptions {
    /// Apply the heuristics (`NOOPT=1` turns them off).
    pub optimize: bool,
    /// Opts to apply in this order instead of the heuristics (`optimize` is then ignored).
    pub opts: Option<Vec<Opt>>,
}

/// What every stage of `linearize` is given besides the kernel.
#[derive(Clone, Copy, Debug)]
pub struct StageContext<'a> {
    pub target: &'a Target,
    pub options: &'a LinearizeOptions,
}

/// One stage of `linearize`: the kernel as the stage before left it, to the kernel as
/// the next one takes it.
pub type Stage = fn(&UOp, &StageContext) -> Result<UOp, LinearizeError>;

/// The stages of `linearize`, in order, by name (see the module doc).
pub const STAGES: [(&str, Stage); 7] = [
    ("round narrow floats", |ast, _| {
        Ok(narrow::round_narrow_floats(ast)?)
    }),
    ("lower gated loads", |ast, _| Ok(gate::lower_gates(ast)?)),
    ("apply opts", opts::apply_opts),
    ("map output loops to the grid", |ast, ctx| {
        grid::map_to_grid(ast, ctx.target)
    }),
    ("lower workgroup reductions", |ast, ctx| {
        opts::group::lower_groups(ast, ctx.target)
    }),
    ("lower reductions", |ast, ctx| {
        Ok(reduce::lower_reduces(ast, ctx.target))
    }),
    ("close the output loops", |ast, _| {
        Ok(loops::close_loops(ast))
    }),
];

/// Linearizes the kernel `ast` for `target`; `sizes[slot]` is the element count of
/// buffer `slot`.
pub fn linearize(
    ast: &UOp,
    sizes: &[usize],
    target: &Target,
    options: &LinearizeOptions,
) -> Result<LinearProgram, LinearizeError> {
    if ast.op() != Op::Sink {
        return Err(LinearizeError::Malformed(format!(
            "expected a SINK, got {}",
            ast.op()
        )));
    }
    // the name is the kernel's shape before opts
    let name = kernel_name(ast);
    let ctx = StageContext { target, options };
    let mut kernel = ast.clone();
    for (_, stage) in STAGES {
        kernel = stage(&kernel, &ctx)?;
    }
    LinearProgram::build(name, order::linear_order(&kernel), sizes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stages_read_in_order() {
        let names: Vec<&str> = STAGES.iter().map(|(name, _)| *name).collect();
        assert_eq!(
            names,
            [
                "round narrow floats",
                "lower gated loads",
                "apply opts",
                "map output loops to the grid",
                "lower workgroup reductions",
                "lower reductions",
                "close the output loops",
            ]
        );
    }

    #[test]
    fn only_a_sink_linearizes() {
        let e = linearize(
            &UOp::int(3),
            &[],
            &Target::default(),
            &LinearizeOptions::default(),
        );
        assert!(matches!(e, Err(LinearizeError::Malformed(_))), "{e:?}");
    }
}
