//! `Op`: every operation a `UOp` can be, grouped in tiers, with the properties that
//! passes ask about (`is_alu`, `is_commutative`, ...). Passes never repeat op lists:
//! they ask these predicates.

use std::fmt;

macro_rules! ops {
    ($($(#[$doc:meta])* $name:ident => $text:literal,)*) => {
        /// The operation of a `UOp`. Declaration order is significant: it is the first key
        /// of the canonical order of nodes (see `UOp::canonical_cmp`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Op { $($(#[$doc])* $name,)* }

        impl Op {
            /// Every op, in declaration order.
            pub const ALL: &'static [Op] = &[$(Op::$name,)*];
            /// The upper-case name used in printed graphs (`ADD`, `RANGE`).
            pub const fn name(self) -> &'static str {
                match self { $(Op::$name => $text,)* }
            }
        }
    };
}

ops! {
    // -- defines and structure --
    /// A global buffer parameter of a kernel; arg `Param { slot }`, dtype = element type.
    Param => "PARAM",
    /// A tensor's storage in a tensor graph; arg `Buffer`.
    Buffer => "BUFFER",
    /// A bounded integer variable; arg `Var { name, min, max }`.
    DefineVar => "DEFINE_VAR",
    /// A launch index (`core_id`, `gidx0`, `lidx1`); arg `Special`, `src[0]` = its count
    /// (the index runs over `0..count`).
    Special => "SPECIAL",
    /// A mutable scalar of a kernel (an accumulator); arg `Param { slot }` numbers it,
    /// `src[0]` is its initial value.
    DefineReg => "DEFINE_REG",
    /// Scratch memory of a kernel, indexed like a PARAM; arg `Param { slot }` numbers it,
    /// `src[0]` is its element count (CONST), dtype = element type. A GPU workgroup shares
    /// one; on the CPU every invocation (`core_id`) has its own.
    DefineLocal => "DEFINE_LOCAL",
    /// Does nothing; a placeholder left by rewrites.
    Noop => "NOOP",
    /// The root that keeps its sources alive; a kernel AST is a SINK of STOREs.
    Sink => "SINK",
    /// `src[0]`, ordered after every other src.
    After => "AFTER",
    /// Groups statements with no order between them.
    Group => "GROUP",
    /// Builds a vector from its scalar srcs (lanes = their count).
    Stack => "STACK",
    /// One lane of a vector; arg `Axes([lane])`.
    Gep => "GEP",
    // -- memory --
    /// Pointer arithmetic: `src[0]` buffer, `src[1..]` index expressions.
    Index => "INDEX",
    /// Reads through an INDEX; an optional `src[1]` is the alternate value of a gated load.
    Load => "LOAD",
    /// Writes `src[1]` through the INDEX `src[0]`.
    Store => "STORE",
    // -- unary ALU --
    Exp2 => "EXP2",
    Log2 => "LOG2",
    Sin => "SIN",
    Sqrt => "SQRT",
    Recip => "RECIP",
    Neg => "NEG",
    Trunc => "TRUNC",
    /// Value conversion to the node's dtype.
    Cast => "CAST",
    /// Bit reinterpretation as the node's dtype.
    Bitcast => "BITCAST",
    // -- binary ALU --
    Add => "ADD",
    Sub => "SUB",
    Mul => "MUL",
    /// Float division.
    FDiv => "FDIV",
    /// Integer division rounding toward zero (C semantics).
    CDiv => "CDIV",
    /// Remainder of CDIV: has the sign of the dividend (C semantics).
    CMod => "CMOD",
    /// Integer division rounding toward negative infinity (index math).
    FloorDiv => "FLOORDIV",
    /// Remainder of FLOORDIV: has the sign of the divisor (index math).
    FloorMod => "FLOORMOD",
    Max => "MAX",
    Pow => "POW",
    Shl => "SHL",
    Shr => "SHR",
    And => "AND",
    Or => "OR",
    Xor => "XOR",
    CmpLt => "CMPLT",
    CmpNe => "CMPNE",
    CmpEq => "CMPEQ",
    /// The threefry2x32 counter-based random function on u64 (key in `src[1]`).
    Threefry => "THREEFRY",
    // -- ternary ALU --
    /// `src[0]` ? `src[1]` : `src[2]`.
    Where => "WHERE",
    /// `src[0]` * `src[1]` + `src[2]`, fused for floats (one rounding, as C's `fma`).
    MulAcc => "MULACC",
    // -- control --
    /// A loop over `0..src[0]`; arg `Range { axis, kind }`.
    Range => "RANGE",
    /// Closes the ranges in `src[1..]` after the statement `src[0]`.
    End => "END",
    If => "IF",
    EndIf => "ENDIF",
    Barrier => "BARRIER",
    /// A constant; arg `Const`.
    Const => "CONST",
    /// Tensor-core matrix multiply-accumulate; arg `Name` of the instruction.
    Wmma => "WMMA",
    // -- tensor graph only --
    /// Reduction; arg `Reduce { op, axes }`. After rangeify the reduced RANGEs are `src[1..]`.
    Reduce => "REDUCE",
    Reshape => "RESHAPE",
    Permute => "PERMUTE",
    Expand => "EXPAND",
    Pad => "PAD",
    Shrink => "SHRINK",
    Flip => "FLIP",
    /// Forces its source into a buffer.
    Contiguous => "CONTIGUOUS",
    /// Copies its source to another device; arg `Name` of the device.
    Copy => "COPY",
    /// Stops gradients.
    Detach => "DETACH",
    /// Writes `src[1]` into the buffer behind `src[0]` (a realized tensor of the same shape);
    /// its value is that buffer after the write.
    Assign => "ASSIGN",
}

impl Op {
    pub const fn is_unary(self) -> bool {
        matches!(
            self,
            Op::Exp2 | Op::Log2 | Op::Sin | Op::Sqrt | Op::Recip | Op::Neg | Op::Trunc
        )
    }

    pub const fn is_binary(self) -> bool {
        matches!(
            self,
            Op::Add
                | Op::Sub
                | Op::Mul
                | Op::FDiv
                | Op::CDiv
                | Op::CMod
                | Op::FloorDiv
                | Op::FloorMod
                | Op::Max
                | Op::Pow
                | Op::Shl
                | Op::Shr
                | Op::And
                | Op::Or
                | Op::Xor
                | Op::CmpLt
                | Op::CmpNe
                | Op::CmpEq
                | Op::Threefry
        )
    }

    pub const fn is_ternary(self) -> bool {
        matches!(self, Op::Where | Op::MulAcc)
    }

    /// Pure arithmetic on values: unary, binary or ternary.
    pub const fn is_alu(self) -> bool {
        self.is_unary() || self.is_binary() || self.is_ternary()
    }

    /// ALU plus the value conversions CAST and BITCAST.
    pub const fn is_elementwise(self) -> bool {
        self.is_alu() || matches!(self, Op::Cast | Op::Bitcast)
    }

    /// `a op b == b op a`.
    pub const fn is_commutative(self) -> bool {
        matches!(
            self,
            Op::Add | Op::Mul | Op::Max | Op::CmpNe | Op::CmpEq | Op::Xor | Op::And | Op::Or
        )
    }

    /// `(a op b) op c == a op (b op c)` (for integers; float ADD/MUL only approximately).
    pub const fn is_associative(self) -> bool {
        matches!(self, Op::Add | Op::Mul | Op::And | Op::Or | Op::Max)
    }

    /// `a op a == a`.
    pub const fn is_idempotent(self) -> bool {
        matches!(self, Op::Or | Op::And | Op::Max)
    }

    /// Produces a bool from two values.
    pub const fn is_comparison(self) -> bool {
        matches!(self, Op::CmpLt | Op::CmpNe | Op::CmpEq)
    }

    /// Changes how a tensor is indexed, never its values.
    pub const fn is_movement(self) -> bool {
        matches!(
            self,
            Op::Reshape | Op::Permute | Op::Expand | Op::Pad | Op::Shrink | Op::Flip
        )
    }

    /// Can be combined by REDUCE.
    pub const fn is_reduce_op(self) -> bool {
        matches!(self, Op::Add | Op::Mul | Op::Max)
    }

    /// Must not be removed or reordered even when its value is unused.
    pub const fn has_side_effect(self) -> bool {
        matches!(
            self,
            Op::Store | Op::Barrier | Op::If | Op::EndIf | Op::End | Op::Copy | Op::Sink
        )
    }

    /// Division or remainder of integers, in either rounding.
    pub const fn is_int_division(self) -> bool {
        matches!(self, Op::CDiv | Op::CMod | Op::FloorDiv | Op::FloorMod)
    }

    /// The value a reduction by this op has over no elements (its identity): 0 for ADD,
    /// 1 for MUL, the lowest value of `dtype` for MAX (-inf for floats). Every pass that
    /// needs it (empty reductions, accumulators, padded reductions) asks here.
    pub fn reduce_identity(self, dtype: dtype::DType) -> crate::ConstValue {
        use crate::ConstValue;
        match self {
            Op::Mul => ConstValue::Int(1),
            Op::Max if dtype.is_float() => ConstValue::Float(f64::NEG_INFINITY),
            Op::Max => ConstValue::Int(dtype.int_min().unwrap_or(0)),
            _ => ConstValue::Int(0),
        }
    }

    /// The number of srcs an ALU op takes, `None` for non-ALU ops.
    pub const fn alu_arity(self) -> Option<usize> {
        if self.is_unary() || matches!(self, Op::Cast | Op::Bitcast) {
            Some(1)
        } else if self.is_binary() {
            Some(2)
        } else if self.is_ternary() {
            Some(3)
        } else {
            None
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a RANGE loops for. Letters are the ones tinygrad prints in kernel names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AxisType {
    Global,
    Warp,
    Local,
    Loop,
    GroupReduce,
    Reduce,
    Upcast,
    Unroll,
    Thread,
    /// A loop that copies values into a DEFINE_LOCAL before the loops that read them.
    Stage,
    /// Stands in for a range that is not placed yet (used to memoize index math).
    Placeholder,
}

impl AxisType {
    /// One letter for kernel names and printed graphs.
    pub const fn letter(self) -> char {
        match self {
            AxisType::Global => 'g',
            AxisType::Warp => 'w',
            AxisType::Local => 'l',
            AxisType::Loop => 'L',
            AxisType::GroupReduce => 'G',
            AxisType::Reduce => 'R',
            AxisType::Upcast => 'u',
            AxisType::Unroll => 'r',
            AxisType::Thread => 't',
            AxisType::Stage => 's',
            AxisType::Placeholder => 'p',
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_alu_op_has_an_arity() {
        for &op in Op::ALL {
            assert_eq!(
                op.is_alu() || matches!(op, Op::Cast | Op::Bitcast),
                op.alu_arity().is_some(),
                "{op}"
            );
        }
    }

    #[test]
    fn commutative_ops_are_binary() {
        for &op in Op::ALL.iter().filter(|op| op.is_commutative()) {
            assert!(op.is_binary(), "{op}");
        }
    }

    #[test]
    fn tiers_are_disjoint() {
        for &op in Op::ALL {
            let n = [
                op.is_unary(),
                op.is_binary(),
                op.is_ternary(),
                op.is_movement(),
            ]
            .iter()
            .filter(|b| **b)
            .count();
            assert!(n <= 1, "{op}");
        }
    }
}
