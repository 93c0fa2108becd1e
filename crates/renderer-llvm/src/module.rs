//! `Module`: what a kernel's IR module holds besides the kernel function: declarations
//! of the intrinsics it calls, helper functions (each defined once, in the order of first
//! use), and module-level globals (a GPU's shared arrays). `FnText` writes the body of a
//! helper one instruction a line, naming each result.

use std::collections::BTreeSet;

/// The parts of a module other than the kernel (see the module doc).
#[derive(Debug, Default)]
pub struct Module {
    declares: BTreeSet<String>,
    helpers: Vec<(String, String)>,
    globals: Vec<String>,
}

impl Module {
    /// Declares a function the kernel calls, e.g. `declare float @llvm.sqrt.f32(float)`.
    pub fn declare(&mut self, line: impl Into<String>) {
        self.declares.insert(line.into());
    }

    /// Defines the helper `name` with the text `define` makes, unless it exists.
    /// `define` may define the helpers it calls first.
    pub fn helper(&mut self, name: &str, define: impl FnOnce(&mut Module) -> String) {
        if self.helpers.iter().any(|(n, _)| n == name) {
            return;
        }
        let at = self.helpers.len();
        self.helpers.push((name.to_string(), String::new()));
        let text = define(self);
        self.helpers[at].1 = text;
    }

    /// Adds a module-level global, e.g. a workgroup's shared array.
    pub fn global(&mut self, line: impl Into<String>) {
        self.globals.push(line.into());
    }

    /// The module: `header`, the globals, `functions` (the kernel), the helpers, the
    /// declarations and the attribute groups the helpers and kernels use.
    pub fn render(&self, header: &str, functions: &str, attributes: &str) -> String {
        let mut out = String::from(header);
        for g in &self.globals {
            out += g;
            out.push('\n');
        }
        if !self.globals.is_empty() {
            out.push('\n');
        }
        out += functions;
        for (_, text) in &self.helpers {
            out.push('\n');
            out += text;
        }
        if !self.declares.is_empty() {
            out.push('\n');
        }
        for d in &self.declares {
            out += d;
            out.push('\n');
        }
        out.push('\n');
        out += attributes;
        out
    }
}

/// The attribute group of helper functions: inlined into the kernel, no side effects
/// beyond their result.
pub const HELPER_ATTRIBUTES: &str = "#0";

/// The body of a helper function: instructions whose results are named `%t0`, `%t1`...
#[derive(Debug, Default)]
pub struct FnText {
    lines: Vec<String>,
    next: usize,
}

impl FnText {
    /// Appends `instruction` (the right-hand side) and returns the name of its result.
    pub fn op(&mut self, instruction: impl AsRef<str>) -> String {
        let name = format!("%t{}", self.next);
        self.next += 1;
        self.lines
            .push(format!("  {name} = {}", instruction.as_ref()));
        name
    }

    /// Appends a line with no result (`ret`, a label).
    pub fn line(&mut self, text: impl AsRef<str>) {
        self.lines.push(format!("  {}", text.as_ref()));
    }

    /// The function `define internal RET @NAME(PARAMS) #0 { ... }` of the lines so far.
    pub fn define(self, ret: &str, name: &str, params: &str) -> String {
        let mut out = format!("define internal {ret} @{name}({params}) {HELPER_ATTRIBUTES} {{\n");
        for l in self.lines {
            out += &l;
            out.push('\n');
        }
        out += "}\n";
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_are_defined_once_in_first_use_order() {
        let mut m = Module::default();
        m.helper("b", |m| {
            m.helper("a", |_| "define a\n".into());
            "define b\n".into()
        });
        m.helper("a", |_| "again\n".into());
        m.declare("declare float @llvm.sqrt.f32(float)");
        m.declare("declare float @llvm.sqrt.f32(float)");
        let text = m.render("; header\n", "define k\n", "attributes\n");
        assert_eq!(
            text,
            "; header\ndefine k\n\ndefine b\n\ndefine a\n\n\
             declare float @llvm.sqrt.f32(float)\n\nattributes\n"
        );
    }

    #[test]
    fn function_text_names_its_results() {
        let mut f = FnText::default();
        let a = f.op("add i32 %x, 1");
        let b = f.op(format!("mul i32 {a}, 2"));
        f.line(format!("ret i32 {b}"));
        assert_eq!(
            f.define("i32", "twice", "i32 %x"),
            "define internal i32 @twice(i32 %x) #0 {\n  %t0 = add i32 %x, 1\n  \
             %t1 = mul i32 %t0, 2\n  ret i32 %t1\n}\n"
        );
    }
}
