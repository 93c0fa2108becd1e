//! Memory statements of the walk: scratch (DEFINE_LOCAL), INDEX (the address of an
//! element), and LOAD and STORE of scalars and vectors through buffers and registers.
//! A gate of one bool branches around the access (a gated load's value is a phi of the
//! loaded value and the alternative); a bool per lane makes a masked vector access
//! (`llvm.masked.load`, `llvm.masked.store`). Bools are bytes in memory and the narrow
//! floats their bits: loads decode and stores encode them (`helpers::narrow`).

use renderer::RenderError;
use uop_ir::{DType, UOp};

use super::{Emitter, Node, Val};
use crate::flavor::{Flavor, Scratch, pointer};
use crate::types::{splat, vector_of};

/// The alignment of an element of `dtype` in memory.
fn align(dtype: DType) -> usize {
    dtype.itemsize().max(1)
}

impl<F: Flavor + ?Sized> Emitter<'_, F> {
    /// DEFINE_LOCAL: `size` elements of scratch `local{slot}` where the flavor keeps it.
    pub(super) fn define_local(&mut self, i: usize, u: &UOp) -> Result<Node, RenderError> {
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
            .memory_ty(u.dtype())
            .ok_or_else(|| self.malformed(i, u, "scratch of dtype void"))?;
        let (ptr, space) = match self.flavor.scratch() {
            Scratch::Stack => {
                let space = self.flavor.private_space();
                let at = if space == 0 {
                    String::new()
                } else {
                    format!(", addrspace({space})")
                };
                let ptr = format!("%local{slot}");
                self.allocas += &format!("  {ptr} = alloca [{size} x {ty}], align 64{at}\n");
                (ptr, space)
            }
            Scratch::Shared { space } => {
                let ptr = format!("@local{slot}");
                self.module.global(format!(
                    "{ptr} = internal addrspace({space}) global [{size} x {ty}] poison, align 16"
                ));
                (ptr, space)
            }
        };
        Ok(Node::Buffer {
            ptr,
            space,
            dtype: u.dtype(),
        })
    }

    /// INDEX: the address of element `offset` of a buffer or scratch.
    pub(super) fn index(&mut self, i: usize, u: &UOp) -> Result<Node, RenderError> {
        let [buf, offset] = u.src() else {
            return Err(self.malformed(i, u, "expected [buffer, offset]"));
        };
        let Node::Buffer { ptr, space, dtype } = self.get(i, u, buf)?.node.clone() else {
            return Err(self.malformed(i, u, format!("indexes a {}, not a buffer", buf.op())));
        };
        let offset = self.value(i, u, offset)?;
        if !offset.dtype.is_int() || offset.lanes != 1 {
            return Err(self.malformed(i, u, format!("the offset has dtype {}", offset.dtype)));
        }
        if u.dtype() != dtype {
            return Err(self.malformed(
                i,
                u,
                format!("has dtype {} but the buffer holds {dtype}", u.dtype()),
            ));
        }
        let ty = self
            .memory_ty(dtype)
            .ok_or_else(|| self.malformed(i, u, "an element of dtype void"))?;
        let offset = self.index_value(&offset);
        let name = format!("%v{i}");
        self.ins(
            &name,
            format!("getelementptr {ty}, {} {ptr}, i64 {offset}", pointer(space)),
        );
        Ok(Node::Element {
            ptr: name,
            space,
            dtype,
        })
    }

    /// Loads `lanes` elements of `dtype` at `ptr` (in `space`) into the register value
    /// `dest`, decoded.
    fn read(
        &mut self,
        ptr: &str,
        space: u32,
        dtype: DType,
        lanes: u8,
        dest: &str,
    ) -> Result<(), String> {
        let mty = self.memory_ty(dtype).ok_or("an element of dtype void")?;
        self.narrow_lanes_ok(dtype, lanes)?;
        let converts = dtype == DType::Bool || dtype.is_narrow_float();
        let raw = if converts {
            self.temp()
        } else {
            dest.to_string()
        };
        self.ins(
            &raw,
            format!(
                "load {}, {} {ptr}, align {}",
                vector_of(mty, lanes),
                pointer(space),
                align(dtype)
            ),
        );
        if dtype == DType::Bool {
            let zero = splat(mty, "0", lanes);
            self.ins(
                dest,
                format!("icmp ne {} {raw}, {zero}", vector_of(mty, lanes)),
            );
        } else if dtype.is_narrow_float() {
            self.decode_into(dtype, &raw, lanes, dest);
        }
        Ok(())
    }

    /// The memory form of the register value `v` of `dtype`, encoded.
    fn encoded(&mut self, v: &Val) -> Result<String, String> {
        let mty = self.memory_ty(v.dtype).ok_or("an element of dtype void")?;
        if v.dtype == DType::Bool {
            let t = self.temp();
            self.ins(
                &t,
                format!("zext {} to {}", v.typed(), vector_of(mty, v.lanes)),
            );
            return Ok(t);
        }
        if v.dtype.is_narrow_float() {
            self.narrow_lanes_ok(v.dtype, v.lanes)?;
            return Ok(self.encode_narrow(v.dtype, &v.text, v.lanes));
        }
        Ok(v.text.clone())
    }

    pub(super) fn load(&mut self, i: usize, u: &UOp) -> Result<Node, RenderError> {
        let (target, gate) = match u.src() {
            [t] => (t, None),
            [t, gate, alt] => (t, Some((gate, alt))),
            _ => return Err(self.malformed(i, u, "expected [index] or [index, gate, alt]")),
        };
        let lanes = u.lanes();
        let name = format!("%v{i}");
        let node = match self.get(i, u, target)?.node.clone() {
            Node::Reg {
                ptr,
                dtype,
                lanes: l,
            } if l == lanes => {
                self.check_dtype(i, u, dtype)?;
                if gate.is_some() {
                    return Err(self.malformed(i, u, "a gated load of a register"));
                }
                let ty = self.type_of(i, u)?;
                let space = self.flavor.private_space();
                self.ins(&name, format!("load {ty}, {} {ptr}", pointer(space)));
                Node::Value(self.named(u, name))
            }
            Node::Element { ptr, space, dtype } => {
                self.check_dtype(i, u, dtype)?;
                match gate {
                    None => {
                        self.read(&ptr, space, dtype, lanes, &name)
                            .map_err(|why| self.unsupported(i, u, why))?;
                        Node::Value(self.named(u, name))
                    }
                    Some((gate, alt)) => self.gated_load(i, u, (&ptr, space, dtype), gate, alt)?,
                }
            }
            _ => return Err(self.malformed(i, u, format!("reads a {}", target.op()))),
        };
        Ok(node)
    }

    fn check_dtype(&self, i: usize, u: &UOp, dtype: DType) -> Result<(), RenderError> {
        if u.dtype() == dtype {
            Ok(())
        } else {
            Err(self.malformed(i, u, format!("has dtype {} but reads {dtype}", u.dtype())))
        }
    }

    /// The value `name` of node `u`.
    fn named(&self, u: &UOp, name: String) -> Val {
        Val {
            text: name,
            dtype: u.dtype(),
            lanes: u.lanes(),
        }
    }

    /// `gate ? *ptr : alt`: a branch around the load for one gate, a masked load for a
    /// bool per lane.
    fn gated_load(
        &mut self,
        i: usize,
        u: &UOp,
        (ptr, space, dtype): (&str, u32, DType),
        gate: &UOp,
        alt: &UOp,
    ) -> Result<Node, RenderError> {
        let lanes = u.lanes();
        let gate = self.value(i, u, gate)?;
        let alt = self.value(i, u, alt)?;
        if alt.dtype != dtype {
            return Err(self.malformed(i, u, format!("the alternative has dtype {}", alt.dtype)));
        }
        if gate.dtype != DType::Bool || (gate.lanes != 1 && gate.lanes != lanes) {
            return Err(self.malformed(i, u, "the gate is not a bool or a bool per lane"));
        }
        let alt = self
            .widen(&alt, lanes)
            .map_err(|why| self.malformed(i, u, why))?;
        let ty = self.type_of(i, u)?;
        let name = format!("%v{i}");
        if gate.lanes > 1 {
            let mty = self
                .memory_ty(dtype)
                .ok_or_else(|| self.malformed(i, u, "dtype void"))?;
            if dtype == DType::Bool || self.narrow_lanes_ok(dtype, lanes).is_err() {
                return Err(self.unsupported(i, u, format!("no masked loads of {dtype}")));
            }
            let vty = vector_of(mty, lanes);
            let p = pointer(space);
            let f = format!("llvm.masked.load.{}.p{space}", suffix(mty, lanes));
            self.module.declare(format!(
                "declare {vty} @{f}({p}, i32, {}, {vty})",
                vector_of("i1", lanes)
            ));
            self.ins(
                &name,
                format!(
                    "call {vty} @{f}({p} {ptr}, i32 {}, {}, {})",
                    align(dtype),
                    gate.typed(),
                    alt.typed()
                ),
            );
            return Ok(Node::Value(self.named(u, name)));
        }
        let (from, n) = (self.block.clone(), i);
        self.stmt(format!(
            "br i1 {}, label %load{n}, label %load{n}.done",
            gate.text
        ));
        self.start_block(format!("load{n}"));
        let v = self.temp();
        self.read(ptr, space, dtype, lanes, &v)
            .map_err(|why| self.unsupported(i, u, why))?;
        let loaded_in = self.block.clone();
        self.stmt(format!("br label %load{n}.done"));
        self.start_block(format!("load{n}.done"));
        self.ins(
            &name,
            format!("phi {ty} [ {v}, %{loaded_in} ], [ {}, %{from} ]", alt.text),
        );
        Ok(Node::Value(self.named(u, name)))
    }

    pub(super) fn store(&mut self, i: usize, u: &UOp) -> Result<Node, RenderError> {
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
        let gate = gate.map(|g| self.value(i, u, g)).transpose()?;
        if let Some(g) = &gate
            && (g.dtype != DType::Bool || (g.lanes != 1 && g.lanes != value.lanes))
        {
            return Err(self.malformed(i, u, "the gate is not a bool or a bool per lane"));
        }
        match self.get(i, u, target)?.node.clone() {
            Node::Reg { ptr, dtype, lanes } if lanes == value.lanes => {
                if value.dtype != dtype {
                    return Err(self.stores(i, u, &value, dtype));
                }
                if gate.is_some() {
                    return Err(self.malformed(i, u, "a gated store to a register"));
                }
                let space = self.flavor.private_space();
                self.stmt(format!("store {}, {} {ptr}", value.typed(), pointer(space)));
            }
            Node::Element { ptr, space, dtype } => {
                if value.dtype != dtype {
                    return Err(self.stores(i, u, &value, dtype));
                }
                self.store_element(i, u, (&ptr, space, dtype), &value, gate.as_ref())?;
            }
            _ => return Err(self.malformed(i, u, format!("writes to a {}", target.op()))),
        }
        Ok(Node::Stmt)
    }

    fn stores(&self, i: usize, u: &UOp, value: &Val, dtype: DType) -> RenderError {
        self.malformed(i, u, format!("stores a {} into a {dtype}", value.dtype))
    }

    fn store_element(
        &mut self,
        i: usize,
        u: &UOp,
        (ptr, space, dtype): (&str, u32, DType),
        value: &Val,
        gate: Option<&Val>,
    ) -> Result<(), RenderError> {
        let mty = self
            .memory_ty(dtype)
            .ok_or_else(|| self.malformed(i, u, "dtype void"))?;
        let vty = vector_of(mty, value.lanes);
        let p = pointer(space);
        match gate {
            Some(g) if g.lanes > 1 => {
                if dtype == DType::Bool || self.narrow_lanes_ok(dtype, value.lanes).is_err() {
                    return Err(self.unsupported(i, u, format!("no masked stores of {dtype}")));
                }
                let f = format!("llvm.masked.store.{}.p{space}", suffix(mty, value.lanes));
                self.module.declare(format!(
                    "declare void @{f}({vty}, {p}, i32, {})",
                    vector_of("i1", value.lanes)
                ));
                self.stmt(format!(
                    "call void @{f}({vty} {}, {p} {ptr}, i32 {}, {})",
                    value.text,
                    align(dtype),
                    g.typed()
                ));
            }
            Some(g) => {
                self.stmt(format!(
                    "br i1 {}, label %store{i}, label %store{i}.done",
                    g.text
                ));
                self.start_block(format!("store{i}"));
                let bits = self
                    .encoded(value)
                    .map_err(|why| self.unsupported(i, u, why))?;
                self.stmt(format!(
                    "store {vty} {bits}, {p} {ptr}, align {}",
                    align(dtype)
                ));
                self.stmt(format!("br label %store{i}.done"));
                self.start_block(format!("store{i}.done"));
            }
            None => {
                let bits = self
                    .encoded(value)
                    .map_err(|why| self.unsupported(i, u, why))?;
                self.stmt(format!(
                    "store {vty} {bits}, {p} {ptr}, align {}",
                    align(dtype)
                ));
            }
        }
        Ok(())
    }
}

/// The suffix of a masked load or store of `lanes` elements of the memory type `mty`.
fn suffix(mty: &str, lanes: u8) -> String {
    let scalar = match mty {
        "float" => "f32",
        "double" => "f64",
        other => other,
    };
    format!("v{lanes}{scalar}")
}
