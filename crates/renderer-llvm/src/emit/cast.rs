//! CAST and BITCAST nodes of the walk, as `uop_ir::exec_alu` defines them and the C
//! renderer writes them:
//!
//! - to bool: `x != 0` (a NaN is true);
//! - to a narrow float: rounded once, as C does it: wide sources (f64, integers of 32
//!   bits or more) go through `double` rounded to float with round-to-odd, then the value
//!   is encoded to the narrow format and decoded back, so the register holds it exactly;
//! - from a narrow float to f32: nothing to do (the register is a `float` already);
//! - float to integer: truncation toward zero that saturates at the 64-bit range
//!   (`llvm.fptosi.sat`) and then wraps to the target width, which is `exec_alu`'s result
//!   wherever C's conversion is defined, and never LLVM's poison;
//! - the rest as C converts: sign or zero extension by the source's sign, truncation,
//!   `sitofp`/`uitofp`, `fpext`/`fptrunc`.
//!
//! BITCAST reinterprets bits of the same size; a narrow float's bits are its encoding.

use renderer::RenderError;
use uop_ir::{DType, UOp};

use super::{Emitter, Node, Val};
use crate::flavor::Flavor;
use crate::helpers::narrow::f64_to_f32_odd;
use crate::types::{int_type, is_signed, splat, value_type, vector_of};

impl<F: Flavor + ?Sized> Emitter<'_, F> {
    pub(super) fn cast(&mut self, i: usize, u: &UOp, x: &Val) -> Result<Node, RenderError> {
        let (from, to) = (x.dtype, u.dtype());
        if value_type(to).is_none() || value_type(from).is_none() {
            return Err(self.unsupported(i, u, "cannot cast to or from void"));
        }
        if to == from || (to == DType::F32 && from.is_narrow_float()) {
            return Ok(Node::Value(Val {
                dtype: to,
                ..x.clone()
            }));
        }
        if x.lanes > 1 && (to.is_narrow_float() || from.is_narrow_float()) {
            return Err(self.unsupported(i, u, "no vectors of narrow floats"));
        }
        let instruction = self
            .conversion(x, to)
            .map_err(|why| self.unsupported(i, u, why))?;
        Ok(self.define(i, u, instruction))
    }

    /// The instruction converting `x` to `to` (after any it needs first).
    fn conversion(&mut self, x: &Val, to: DType) -> Result<String, String> {
        let from = x.dtype;
        let lanes = x.lanes;
        let fty = x.ty();
        let tty = vector_of(value_type(to).ok_or("void")?, lanes);
        if to == DType::Bool {
            let zero = if from.is_float() { "0.0" } else { "0" };
            let zero = splat(value_type(from).unwrap_or("i64"), zero, lanes);
            let cmp = if from.is_float() {
                "fcmp une"
            } else {
                "icmp ne"
            };
            return Ok(format!("{cmp} {fty} {}, {zero}", x.text));
        }
        if to.is_narrow_float() {
            let single = if from == DType::F64 || (from.is_int() && from.bitsize() >= 32) {
                let wide = if from == DType::F64 {
                    x.text.clone()
                } else {
                    let t = self.temp();
                    let how = if is_signed(from) { "sitofp" } else { "uitofp" };
                    self.ins(&t, format!("{how} {fty} {} to double", x.text));
                    t
                };
                let odd = f64_to_f32_odd(self.module);
                let t = self.temp();
                self.ins(&t, format!("call float {odd}(double {wide})"));
                t
            } else if from.is_float() {
                x.text.clone()
            } else {
                let t = self.temp();
                let how = if is_signed(from) { "sitofp" } else { "uitofp" };
                self.ins(&t, format!("{how} {fty} {} to float", x.text));
                t
            };
            let encoded = self.encode_narrow(to, &single, 1);
            return Ok(self.decode_instruction(to, &encoded, 1));
        }
        if from.is_float() && to.is_float() {
            // f32 (or a narrow float held in one) to f64, or f64 to f32
            let how = if to == DType::F64 { "fpext" } else { "fptrunc" };
            return Ok(format!("{how} {fty} {} to {tty}", x.text));
        }
        if from.is_float() {
            return self.float_to_int(x, to);
        }
        // from an integer or a bool
        let signed = is_signed(from);
        if to.is_float() {
            let how = if signed { "sitofp" } else { "uitofp" };
            return Ok(format!("{how} {fty} {} to {tty}", x.text));
        }
        let (fb, tb) = (bits_of(from), bits_of(to));
        Ok(if tb < fb {
            format!("trunc {fty} {} to {tty}", x.text)
        } else if tb > fb {
            let how = if signed { "sext" } else { "zext" };
            format!("{how} {fty} {} to {tty}", x.text)
        } else {
            // same width, another sign: the bits are the value
            format!("bitcast {fty} {} to {tty}", x.text)
        })
    }

    /// A float `x` truncated toward zero into the integer dtype `to`: saturated to the
    /// 64-bit range (unsigned above 2^63 for u64), then wrapped.
    fn float_to_int(&mut self, x: &Val, to: DType) -> Result<String, String> {
        let lanes = x.lanes;
        let fty = x.ty();
        let wide = vector_of("i64", lanes);
        let fsuffix = crate::types::intrinsic_suffix(x.dtype, lanes);
        let isuffix = if lanes > 1 {
            format!("v{lanes}i64")
        } else {
            "i64".into()
        };
        let sat = |e: &mut Self, how: &str| {
            let f = format!("llvm.{how}.sat.{isuffix}.{fsuffix}");
            e.module.declare(format!("declare {wide} @{f}({fty})"));
            let t = e.temp();
            e.ins(&t, format!("call {wide} @{f}({fty} {})", x.text));
            t
        };
        let signed = sat(self, "fptosi");
        let value = if to == DType::U64 {
            let unsigned = sat(self, "fptoui");
            let big = self.temp();
            let limit = splat(
                value_type(x.dtype).unwrap_or("float"),
                &crate::types::float_bits_literal(2f64.powi(63)),
                lanes,
            );
            self.ins(&big, format!("fcmp oge {fty} {}, {limit}", x.text));
            let t = self.temp();
            let cond = vector_of("i1", lanes);
            self.ins(
                &t,
                format!("select {cond} {big}, {wide} {unsigned}, {wide} {signed}"),
            );
            t
        } else {
            signed
        };
        let tty = vector_of(value_type(to).ok_or("void")?, lanes);
        Ok(if bits_of(to) < 64 {
            format!("trunc {wide} {value} to {tty}")
        } else {
            format!("bitcast {wide} {value} to {tty}")
        })
    }

    pub(super) fn bitcast(&mut self, i: usize, u: &UOp, x: &Val) -> Result<Node, RenderError> {
        let (from, to) = (x.dtype, u.dtype());
        if from.itemsize() != to.itemsize() || from == DType::Void || to == DType::Void {
            return Err(self.unsupported(
                i,
                u,
                format!("cannot bitcast {from} to {to}: sizes differ"),
            ));
        }
        if x.lanes > 1 && (to.is_narrow_float() || from.is_narrow_float() || to == DType::Bool) {
            return Err(self.unsupported(i, u, "no vector bitcasts of narrow floats or bools"));
        }
        let lanes = x.lanes;
        let ity = vector_of(int_type(from.itemsize()), lanes);
        // the bits of x as an integer
        let bits = if from.is_narrow_float() {
            self.narrow_bits(from, &x.text)
        } else if from == DType::Bool {
            let t = self.temp();
            self.ins(&t, format!("zext {} to {ity}", x.typed()));
            t
        } else if from.is_float() {
            let t = self.temp();
            self.ins(&t, format!("bitcast {} to {ity}", x.typed()));
            t
        } else {
            x.text.clone()
        };
        let instruction = if to == DType::Bool {
            format!("icmp ne {ity} {bits}, 0")
        } else if to.is_narrow_float() {
            self.narrow_from_bits(to, &bits)
        } else if to.is_float() {
            let tty = vector_of(value_type(to).unwrap_or("float"), lanes);
            format!("bitcast {ity} {bits} to {tty}")
        } else {
            // an integer of the same width: the bits are the value
            format!("bitcast {ity} {bits} to {ity}")
        };
        Ok(self.define(i, u, instruction))
    }
}

/// The width in bits of an integer or bool value of `dtype` in registers.
fn bits_of(dtype: DType) -> u32 {
    if dtype == DType::Bool {
        1
    } else {
        8 * dtype.itemsize() as u32
    }
}
