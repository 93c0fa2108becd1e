//! `Arg`: the typed payload of a `UOp` (a constant, a range's axis, a permutation...).
//! `ConstValue` compares floats by bits, so `-0.0 != 0.0` and a NaN equals itself:
//! interning constants stays sound.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use crate::op::{AxisType, Op};

/// The value of a CONST.
#[derive(Clone, Copy, Debug)]
pub enum ConstValue {
    Bool(bool),
    /// Any integer dtype; wide enough for every value of i64 and u64.
    Int(i128),
    Float(f64),
    /// The poison value of a gated index: `where(valid, idx, Invalid)`.
    Invalid,
}

impl ConstValue {
    /// The value as an integer, if it is a bool or an int.
    pub fn as_int(self) -> Option<i128> {
        match self {
            ConstValue::Bool(b) => Some(b as i128),
            ConstValue::Int(v) => Some(v),
            _ => None,
        }
    }

    pub fn as_bool(self) -> Option<bool> {
        match self {
            ConstValue::Bool(b) => Some(b),
            ConstValue::Int(v) => Some(v != 0),
            ConstValue::Float(f) => Some(f != 0.0),
            ConstValue::Invalid => None,
        }
    }

    pub fn as_f64(self) -> Option<f64> {
        match self {
            ConstValue::Bool(b) => Some(b as i64 as f64),
            ConstValue::Int(v) => Some(v as f64),
            ConstValue::Float(f) => Some(f),
            ConstValue::Invalid => None,
        }
    }

    /// Numeric equality with an integer literal (`1` matches `Int(1)`, `Float(1.0)`, `Bool(true)`).
    pub fn equals_int(self, v: i64) -> bool {
        match self {
            ConstValue::Bool(b) => (b as i64) == v,
            ConstValue::Int(x) => x == v as i128,
            ConstValue::Float(f) => f == v as f64,
            ConstValue::Invalid => false,
        }
    }
}

impl PartialEq for ConstValue {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (ConstValue::Bool(a), ConstValue::Bool(b)) => a == b,
            (ConstValue::Int(a), ConstValue::Int(b)) => a == b,
            (ConstValue::Float(a), ConstValue::Float(b)) => {
                canonical_bits(*a) == canonical_bits(*b)
            }
            (ConstValue::Invalid, ConstValue::Invalid) => true,
            _ => false,
        }
    }
}

impl Eq for ConstValue {}

/// Bits of a float with every NaN mapped to one pattern.
fn canonical_bits(f: f64) -> u64 {
    if f.is_nan() {
        f64::NAN.to_bits()
    } else {
        f.to_bits()
    }
}

impl Hash for ConstValue {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            ConstValue::Bool(b) => (0u8, *b).hash(state),
            ConstValue::Int(v) => (1u8, *v).hash(state),
            ConstValue::Float(f) => (2u8, canonical_bits(*f)).hash(state),
            ConstValue::Invalid => 3u8.hash(state),
        }
    }
}

impl fmt::Display for ConstValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConstValue::Bool(b) => write!(f, "{b}"),
            ConstValue::Int(v) => write!(f, "{v}"),
            ConstValue::Float(x) => write!(f, "{x:?}"),
            ConstValue::Invalid => f.write_str("Invalid"),
        }
    }
}

/// Which launch index a SPECIAL is. Printed with tinygrad's names: `core_id`, `gidx0`,
/// `lidx1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Special {
    /// This invocation's CPU thread among the threads of a launch (`core_id`).
    Core,
    /// This workgroup's index in dimension `d` (0..3) of the launch grid (`gidx{d}`).
    Global(u8),
    /// This thread's index in dimension `d` (0..3) of its workgroup (`lidx{d}`).
    Local(u8),
}

impl fmt::Display for Special {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Special::Core => f.write_str("core_id"),
            Special::Global(d) => write!(f, "gidx{d}"),
            Special::Local(d) => write!(f, "lidx{d}"),
        }
    }
}

/// The typed payload of a `UOp`. Which variant an op takes is listed on `Op`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub enum Arg {
    #[default]
    None,
    Const(ConstValue),
    /// RANGE: a loop axis; `src[0]` is the end.
    Range {
        axis: u32,
        kind: AxisType,
    },
    /// DEFINE_VAR: a named integer in `min..=max`.
    Var {
        name: Arc<str>,
        min: i64,
        max: i64,
    },
    /// PARAM: the kernel argument slot.
    Param {
        slot: u32,
    },
    /// BUFFER: a tensor's storage: unique id, element count, device name.
    Buffer {
        id: u64,
        size: usize,
        device: Arc<str>,
    },
    /// PERMUTE: the new order of axes; FLIP: the flipped axes.
    Axes(Arc<[usize]>),
    /// RESHAPE, EXPAND: the new shape.
    Shape(Arc<[i64]>),
    /// PAD: (before, after) per axis; SHRINK: (begin, end) per axis.
    Pairs(Arc<[(i64, i64)]>),
    /// REDUCE: the combining op and the reduced axes.
    Reduce {
        op: Op,
        axes: Arc<[usize]>,
    },
    /// COPY, WMMA, SINK names.
    Name(Arc<str>),
    /// SPECIAL: which launch index.
    Special(Special),
}

impl Arg {
    pub fn as_const(&self) -> Option<ConstValue> {
        match self {
            Arg::Const(c) => Some(*c),
            _ => None,
        }
    }
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::None => Ok(()),
            Arg::Const(c) => write!(f, "{c}"),
            Arg::Range { axis, kind } => write!(f, "{axis}{}", kind.letter()),
            Arg::Var { name, min, max } => write!(f, "{name}[{min}..={max}]"),
            Arg::Param { slot } => write!(f, "slot {slot}"),
            Arg::Buffer { id, size, device } => write!(f, "#{id} x{size} on {device}"),
            Arg::Axes(a) => write!(f, "{a:?}"),
            Arg::Shape(s) => write!(f, "{s:?}"),
            Arg::Pairs(p) => write!(f, "{p:?}"),
            Arg::Reduce { op, axes } => write!(f, "{op} {axes:?}"),
            Arg::Name(n) => f.write_str(n),
            Arg::Special(s) => write!(f, "{s}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_consts_compare_by_bits() {
        assert_ne!(ConstValue::Float(0.0), ConstValue::Float(-0.0));
        assert_eq!(ConstValue::Float(f64::NAN), ConstValue::Float(-f64::NAN));
        assert_ne!(ConstValue::Int(1), ConstValue::Float(1.0));
        assert!(ConstValue::Float(1.0).equals_int(1));
    }

    #[test]
    fn specials_print_tinygrads_names() {
        let names: Vec<String> = [Special::Core, Special::Global(0), Special::Local(2)]
            .iter()
            .map(|s| Arg::Special(*s).to_string())
            .collect();
        assert_eq!(names, ["core_id", "gidx0", "lidx2"]);
    }
}
