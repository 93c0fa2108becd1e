//! The base of C-like renderers. A C-like language (C for the CPU, CUDA C, ...) is a
//! `CStyle`: what it writes differently (preamble, kernel signature, launch indices,
//! scratch, barrier, types, vectors). Everything else is shared here, and `render`
//! writes a `LinearProgram` in any of them:
//!
//! 1. the program is rewritten with the language's rules (`CStyle::rules`; by default
//!    the shared decompositions of `rules/`: floor division, NaN-propagating MAX, bool
//!    arithmetic), by `rewrite_program`;
//! 2. `emit` writes one statement per node: declarations, loops, loads and stores,
//!    with expressions from `alu` and literals from `consts`; floats narrower than f32
//!    are stored as bits and computed on as `float` (`narrow`), through helper functions
//!    that the file defines once (`helpers`).
//!
//! A new C-like backend is a small crate with one `CStyle` implementation and a
//! `Renderer` that calls `render`. A renderer runs nothing.

mod alu;
mod consts;
mod dtypes;
mod emit;
mod helpers;
mod language;
pub mod narrow;
mod rewrite;
pub mod rules;

use renderer::{LinearProgram, RenderError, Source};

pub use alu::Operand;
pub use consts::literal;
pub use dtypes::{bits_type, c_value_type, math_suffix};
pub use helpers::{Helpers, Rank};
pub use language::{CStyle, KernelBuffer, SpecialIndex};
pub use rewrite::rewrite_program;

/// `program` written in `lang`: its rules applied, then every node as a statement.
pub fn render<L: CStyle + ?Sized>(
    lang: &L,
    program: &LinearProgram,
) -> Result<Source, RenderError> {
    let program = rewrite_program(program, lang.rules()).map_err(|e| RenderError::Malformed {
        kernel: program.name.clone(),
        why: format!("the {} rules failed: {e}", lang.name()),
    })?;
    Ok(Source {
        function: program.name.clone(),
        code: emit::render(lang, &program)?,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use renderer::LaunchDims;
    use uop_ir::Special;

    use super::*;

    /// A language with every default: C11 with buffers as arguments and one invocation.
    #[derive(Debug)]
    pub(crate) struct Plain;

    impl CStyle for Plain {
        fn name(&self) -> &'static str {
            "plain"
        }

        fn preamble(&self) -> String {
            String::new()
        }

        fn kernel_open(&self, name: &str, buffers: &[KernelBuffer], _: &LaunchDims) -> String {
            let args: Vec<String> = buffers
                .iter()
                .map(|b| format!("{}* data{}", b.element_type, b.slot))
                .collect();
            format!("void {name}({}) {{\n", args.join(", "))
        }

        fn special_index(&self, which: Special) -> Result<SpecialIndex, String> {
            Err(format!("no {which}"))
        }

        fn local_array(&self, ty: &str, name: &str, size: i128) -> String {
            format!("{ty} {name}[{size}];")
        }
    }
}
