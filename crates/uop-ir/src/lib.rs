//! The one IR of ferrograd. Tensor graphs, kernel ASTs and linear programs are all graphs
//! of `UOp`s: small immutable nodes, interned so that equal content is the same node.
//! Every compiler pass is a `PatternMatcher` (rules of `UPat` => body) applied by
//! `graph_rewrite`. This crate knows no pass: it defines the nodes, what ALU ops compute
//! (`exec_alu`), their integer bounds, movement ops as index functions, patterns and the
//! rewrite engine.

mod alu;
mod arg;
mod bounds;
mod build;
mod eval;
mod graph;
mod key;
mod matcher;
mod movement;
mod op;
mod placement;
mod print;
mod rewrite;
mod shape;
mod uop;
mod upat;

pub use alu::{AluError, exec_alu};
pub use arg::{Arg, ConstValue, Special};
pub use bounds::{Bounds, floor_div, floor_mod};
pub use build::IntoOperand;
pub use dtype::DType;
pub use eval::{EvalError, Evaluator, eval_with};
pub use graph::{node_count, substitute, toposort, toposort_many};
pub use key::{Key, StableHasher};
pub use matcher::{PatternMatcher, Rule, RuleFailure, Shadowed, subsumes};
pub use movement::{
    Movement, ShapeError, checked_numel, contiguous_strides, index_through, linearize,
};
pub use op::{AxisType, Op};
pub use placement::hoist_depth;
pub use print::{expr_string, graph_string, short_string};
pub use rewrite::{CHAIN_LIMIT, Mode, RewriteError, graph_rewrite, rewrite};
pub use shape::{ShapeInferError, infer_shape};
pub use uop::{PassThrough, UOp, UOpMap, UOpSet, WeakUOp, live_nodes, on_buffer_freed};
pub use upat::{ArgPat, Bindings, SrcPat, UPat};
