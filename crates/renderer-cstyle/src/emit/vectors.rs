//! Vector values of the walk: broadcasts of scalar operands, STACK (a vector of its
//! scalars, or the lanes' conditions of a bool vector), GEP (one lane), and WHERE on
//! vectors, each in the language's spelling (`CStyle::vector_*`).

use dtype::DType;
use renderer::RenderError;
use uop_ir::{Arg, UOp};

use super::{Emitter, Node};
use crate::alu::Operand;
use crate::language::CStyle;

impl<L: CStyle + ?Sized> Emitter<'_, L> {
    /// A scalar operand of a vector op, broadcast to every lane.
    pub(super) fn widen(&mut self, i: usize, u: &UOp, v: Operand) -> Result<Operand, RenderError> {
        if v.lanes == u.lanes() {
            return Ok(v);
        }
        if v.lanes != 1 {
            return Err(self.malformed(i, u, format!("mixes {} and {} lanes", v.lanes, u.lanes())));
        }
        let ty = self.type_of(i, u)?;
        let lanes = vec![v.text; u.lanes() as usize];
        Ok(Operand {
            text: self.lang.vector_literal(&ty, &lanes),
            dtype: v.dtype,
            lanes: u.lanes(),
        })
    }

    /// STACK: a vector of its scalars (`CStyle::vector_literal`), or the lanes' conditions
    /// of a bool vector.
    pub(super) fn stack(&mut self, i: usize, u: &UOp) -> Result<Node, RenderError> {
        if u.src().len() != u.lanes() as usize {
            return Err(self.malformed(
                i,
                u,
                format!("{} elements for {} lanes", u.src().len(), u.lanes()),
            ));
        }
        let mut elems = Vec::new();
        for s in u.src() {
            let v = self.value(i, u, s)?;
            if v.lanes != 1 || v.dtype != u.dtype() {
                return Err(self.malformed(i, u, "an element is not a scalar of its dtype"));
            }
            elems.push(v.text);
        }
        if u.dtype() == DType::Bool {
            return Ok(Node::Lanes(elems));
        }
        let ty = self.type_of(i, u)?;
        let literal = self.lang.vector_literal(&ty, &elems);
        self.declare(i, u, "vec", &literal)
    }

    /// WHERE on vectors: its condition is one bool or a bool per lane.
    pub(super) fn vector_where(&mut self, i: usize, u: &UOp) -> Result<Node, RenderError> {
        let [cond, a, b] = u.src() else {
            return Err(self.malformed(i, u, "expected [cond, a, b]"));
        };
        let conds = match self.gate(i, u, cond, u.lanes())? {
            Ok(lanes) => lanes,
            Err(one) => vec![one; u.lanes() as usize],
        };
        let a = self.value(i, u, a)?;
        let a = self.widen(i, u, a)?;
        let b = self.value(i, u, b)?;
        let b = self.widen(i, u, b)?;
        let expr = self
            .lang
            .vector_select(
                u.dtype(),
                u.lanes(),
                &conds,
                &a.text,
                &b.text,
                &mut self.helpers,
            )
            .map_err(|why| self.unsupported(i, u, why))?;
        self.declare(i, u, "alu", &expr)
    }

    /// GEP: one lane of a vector.
    pub(super) fn gep(&mut self, i: usize, u: &UOp) -> Result<Node, RenderError> {
        let (Some(src), Arg::Axes(lanes)) = (u.src().first(), u.arg()) else {
            return Err(self.malformed(i, u, "expected [vector] and a lane"));
        };
        let v = self.value(i, u, src)?;
        match lanes[..] {
            [k] if k < v.lanes as usize && u.lanes() == 1 => {
                let lane = self.lang.vector_lane(&v.text, k);
                self.declare(i, u, "lane", &lane)
            }
            _ => Err(self.malformed(i, u, format!("lane {lanes:?} of {} lanes", v.lanes))),
        }
    }
}
