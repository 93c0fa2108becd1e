//! Type promotion: the dtype a binary op computes in, as the least upper bound on a
//! lattice (JAX's type-promotion design, with tinygrad's dtypes).
//!
//! ```text
//!                f64
//!                 |
//!                f32
//!               /   \
//!            f16     bf16
//!               \   /
//!            fp8e5m2fnuz
//!                 |
//!              fp8e5m2
//!                 |
//!            fp8e4m3fnuz
//!                 |
//!              fp8e4m3
//!              /     \
//!          index      u64
//!            |        /
//!           i64      /
//!            |  \   /
//!           i32  u32
//!            |  \  |
//!           i16  u16
//!            |  \  |
//!           i8   u8
//!             \  |
//!             bool
//! ```
//!
//! Edges: bool→{i8,u8}, i8→i16→i32→i64→index, u8→{i16,u16}, u16→{i32,u32},
//! u32→{i64,u64}, index→fp8e4m3, u64→fp8e4m3, then the chain fp8e4m3→fp8e4m3fnuz→
//! fp8e5m2→fp8e5m2fnuz→{f16,bf16}→f32→f64. `void` has no values and is not in it.
//!
//! The least upper bound is the least element of the intersection of the operands'
//! ancestor sets. That is only well defined, and only associative, if the graph is a true
//! lattice; the tests check it is. This forces two departures from tinygrad, whose graph
//! sends i64 and u64 to both OCP fp8s and every fp8 to both f16 and bf16, so that
//! (fp8e4m3 ⊔ fp8e5m2) ⊔ bf16 = f32 but fp8e4m3 ⊔ (fp8e5m2 ⊔ bf16) = bf16:
//! - The fp8 tier is a chain, ordered E4M3 before E5M2 (tinygrad's priority) and each OCP
//!   format before its fnuz sibling (every E5M2 value is an E5M2FNUZ value). Mixing two
//!   fp8 formats gives the higher one, not f16.
//! - Every integer reaches the bottom of that chain, so int ⊔ float is that float for every
//!   float, and i64 ⊔ u64 = fp8e4m3 as in tinygrad.
//!
//! `index` sits above i64 (it is a signed 64-bit integer) and below the floats.
//!
//! Python literals are weak: [`Operand::WeakInt`] takes the other operand's dtype if that is
//! an integer or float, [`Operand::WeakFloat`] takes it if it is a float; otherwise they
//! become [`DEFAULT_INT`] and [`DEFAULT_FLOAT`].

use crate::{DType, DTypeError};

/// The dtype of an integer literal with no other dtype to adopt.
pub const DEFAULT_INT: DType = DType::I64;
/// The dtype of a float literal, or of an integer op promoted by a float literal.
pub const DEFAULT_FLOAT: DType = DType::F32;

/// One operand of a binary op, for promotion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operand {
    /// A value that has a dtype: a tensor, or a constant cast explicitly.
    Strong(DType),
    /// An integer (or bool) literal, as Python's `int`.
    WeakInt,
    /// A float literal, as Python's `float`.
    WeakFloat,
}

impl From<DType> for Operand {
    fn from(dtype: DType) -> Operand {
        Operand::Strong(dtype)
    }
}

/// The edges of the lattice: the dtypes directly above `dtype`.
const fn parents(dtype: DType) -> &'static [DType] {
    use DType::*;
    match dtype {
        Void | F64 => &[],
        Bool => &[I8, U8],
        I8 => &[I16],
        I16 => &[I32],
        I32 => &[I64],
        I64 => &[Index],
        U8 => &[I16, U16],
        U16 => &[I32, U32],
        U32 => &[I64, U64],
        U64 | Index => &[Fp8E4M3],
        Fp8E4M3 => &[Fp8E4M3Fnuz],
        Fp8E4M3Fnuz => &[Fp8E5M2],
        Fp8E5M2 => &[Fp8E5M2Fnuz],
        Fp8E5M2Fnuz => &[F16, BF16],
        F16 | BF16 => &[F32],
        F32 => &[F64],
    }
}

/// Every promotable dtype, each after all the dtypes below it.
const TOPOLOGICAL: [DType; 18] = {
    use DType::*;
    [
        Bool,
        I8,
        U8,
        I16,
        U16,
        I32,
        U32,
        I64,
        U64,
        Index,
        Fp8E4M3,
        Fp8E4M3Fnuz,
        Fp8E5M2,
        Fp8E5M2Fnuz,
        F16,
        BF16,
        F32,
        F64,
    ]
};

const fn bit(dtype: DType) -> u32 {
    1 << dtype as u32
}

/// `dtype` and everything above it, as a bit set indexed by declaration order.
fn ancestors(dtype: DType) -> u32 {
    parents(dtype)
        .iter()
        .fold(bit(dtype), |set, &p| set | ancestors(p))
}

/// The smallest dtype that every dtype in `dtypes` promotes to.
pub fn least_upper_dtype(dtypes: &[DType]) -> Result<DType, DTypeError> {
    if dtypes.is_empty() {
        return Err(DTypeError::EmptyPromotion);
    }
    let mut common = u32::MAX;
    for &d in dtypes {
        if d == DType::Void {
            return Err(DTypeError::NotPromotable(d));
        }
        common &= ancestors(d);
    }
    // In a lattice the least upper bound comes first in any topological order. f64 is
    // above everything, so the search always finds one.
    Ok(TOPOLOGICAL
        .into_iter()
        .find(|&d| common & bit(d) != 0)
        .unwrap_or(DType::F64))
}

/// The dtype of a binary op between `a` and `b`, with weak literals as the module docs say.
pub fn promote(a: Operand, b: Operand) -> Result<DType, DTypeError> {
    match (a, b) {
        (Operand::Strong(x), Operand::Strong(y)) => least_upper_dtype(&[x, y]),
        (Operand::Strong(d), weak) | (weak, Operand::Strong(d)) => adopt(d, weak),
        (Operand::WeakInt, Operand::WeakInt) => Ok(DEFAULT_INT),
        _ => Ok(DEFAULT_FLOAT),
    }
}

/// The dtype a weak literal takes next to a strong operand of dtype `dtype`.
fn adopt(dtype: DType, weak: Operand) -> Result<DType, DTypeError> {
    if dtype == DType::Void {
        return Err(DTypeError::NotPromotable(dtype));
    }
    Ok(match weak {
        Operand::WeakFloat if !dtype.is_float() => DEFAULT_FLOAT,
        Operand::WeakInt if dtype.is_bool() => DEFAULT_INT,
        _ => dtype,
    })
}

/// The dtype a sum of `dtype` accumulates in, as PyTorch sums: f32 for the narrow floats
/// (the result is rounded back to the input's dtype), the dtype itself for f32 and f64,
/// i64 for bool and every integer but u64, which stays u64 (the integer sum is also the
/// result's dtype).
pub fn sum_acc_dtype(dtype: DType) -> Result<DType, DTypeError> {
    let floor = if dtype == DType::U64 {
        DType::U64
    } else if dtype.is_float() {
        DType::F32
    } else {
        DType::I64
    };
    least_upper_dtype(&[dtype, floor])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topological_lists_every_promotable_dtype_below_its_parents() {
        let promotable: Vec<DType> = DType::ALL
            .into_iter()
            .filter(|&d| d != DType::Void)
            .collect();
        let mut sorted = TOPOLOGICAL.to_vec();
        sorted.sort();
        assert_eq!(sorted, promotable);
        for (i, d) in TOPOLOGICAL.into_iter().enumerate() {
            for p in parents(d) {
                assert!(TOPOLOGICAL[i + 1..].contains(p), "{p} must come after {d}");
            }
        }
    }

    #[test]
    fn the_graph_is_a_lattice() {
        // Every pair has a unique least upper bound: the result's ancestors are exactly the
        // common ancestors.
        for a in TOPOLOGICAL {
            for b in TOPOLOGICAL {
                let join = least_upper_dtype(&[a, b]);
                assert_eq!(
                    join.map(ancestors),
                    Ok(ancestors(a) & ancestors(b)),
                    "{a} {b}"
                );
            }
        }
    }

    #[test]
    fn errors_name_the_input() {
        let err = least_upper_dtype(&[DType::F32, DType::Void]);
        assert_eq!(err, Err(DTypeError::NotPromotable(DType::Void)));
        assert_eq!(least_upper_dtype(&[]), Err(DTypeError::EmptyPromotion));
        let msg = promote(Operand::WeakInt, DType::Void.into()).map_err(|e| e.to_string());
        assert_eq!(
            msg,
            Err("cannot promote `void`: it has no values".to_string())
        );
        assert_eq!(
            sum_acc_dtype(DType::Void),
            Err(DTypeError::NotPromotable(DType::Void))
        );
    }

    #[test]
    fn sum_accumulators() {
        let cases = [
            (DType::Bool, DType::I64),
            (DType::I8, DType::I64),
            (DType::U8, DType::I64),
            (DType::U16, DType::I64),
            (DType::U32, DType::I64),
            (DType::I64, DType::I64),
            (DType::U64, DType::U64),
            (DType::Index, DType::Index),
            (DType::Fp8E5M2, DType::F32),
            (DType::F16, DType::F32),
            (DType::BF16, DType::F32),
            (DType::F64, DType::F64),
        ];
        for (d, acc) in cases {
            assert_eq!(sum_acc_dtype(d), Ok(acc), "{d}");
        }
    }
}
