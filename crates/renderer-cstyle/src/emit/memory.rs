//! Memory statements of the walk: INDEX (an element of a buffer, scratch or nothing
//! else), LOAD and STORE of scalars and vectors, gated by one condition or by one per lane
//! (masked: the whole vector where every lane is in range, else lane by lane), and the
//! narrow floats' bits on the way in and out (`narrow.rs`).

use dtype::DType;
use renderer::RenderError;
use uop_ir::UOp;

use super::{Emitter, Node};
use crate::dtypes::bits_type;
use crate::language::CStyle;

impl<L: CStyle + ?Sized> Emitter<'_, L> {
    /// The type of an element of `dtype` in memory: its bits where the language stores
    /// it as bits, else its value type.
    pub(super) fn storage_type(&self, dtype: DType) -> Option<&'static str> {
        if self.lang.stores_as_bits(dtype) {
            Some(bits_type(dtype))
        } else {
            self.lang.value_type(dtype)
        }
    }

    /// The value of a buffer element `lvalue` of `dtype`.
    pub(super) fn load_element(&mut self, dtype: DType, lvalue: &str) -> String {
        if self.lang.stores_as_bits(dtype) {
            self.lang.decode_narrow(dtype, lvalue, &mut self.helpers)
        } else {
            lvalue.to_string()
        }
    }

    /// The element of `dtype` that stores the value `x`.
    pub(super) fn store_element(&mut self, dtype: DType, x: &str) -> String {
        if self.lang.stores_as_bits(dtype) {
            self.lang.encode_narrow(dtype, x, &mut self.helpers)
        } else {
            x.to_string()
        }
    }

    pub(super) fn index(&mut self, i: usize, u: &UOp) -> Result<Node, RenderError> {
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

    pub(super) fn load(&mut self, i: usize, u: &UOp) -> Result<Node, RenderError> {
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
                (self.lang.vector_access(&ty, &base, &offset, false), dtype)
            }
            Node::Element {
                base,
                offset,
                dtype,
            } => (
                self.load_element(dtype, &format!("{base}[{offset}]")),
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
                        let mut elems = Vec::with_capacity(lanes.len());
                        for (k, g) in lanes.iter().enumerate() {
                            let alt_k = if alt.lanes > 1 {
                                self.lang.vector_lane(&alt.text, k)
                            } else {
                                alt.text.clone()
                            };
                            let elem = self.load_element(dtype, &format!("{base}[{offset} + {k}]"));
                            elems.push(if g == "1" {
                                elem
                            } else {
                                format!("({g}) ? {elem} : {alt_k}")
                            });
                        }
                        let each = self.lang.vector_literal(&ty, &elems);
                        format!("({}) ? {read} : {each}", all_lanes(&lanes))
                    }
                }
            }
        };
        self.declare(i, u, "val", &expr)
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
                let ty = self
                    .lang
                    .vector_type(dtype, value.lanes, &mut self.helpers)
                    .map_err(|why| self.unsupported(i, u, why))?;
                (
                    self.lang.vector_access(&ty, &base, &offset, true),
                    value.text.clone(),
                    dtype,
                )
            }
            Node::Element {
                base,
                offset,
                dtype,
            } => {
                let text = self.store_element(dtype, &value.text);
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
                let mut each = Vec::with_capacity(lanes.len());
                for (k, g) in lanes.iter().enumerate() {
                    let lane = self.lang.vector_lane(&text, k);
                    let lane = self.store_element(dtype, &lane);
                    each.push(if g == "1" {
                        format!("{base}[{offset} + {k}] = {lane};")
                    } else {
                        format!("if ({g}) {{ {base}[{offset} + {k}] = {lane}; }}")
                    });
                }
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

    /// A gate: one condition (`Ok(Err(text))`) or one per lane (`Ok(Ok(lanes))`).
    pub(super) fn gate(
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
