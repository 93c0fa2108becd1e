//! Host folding: ops on small tensors known on the host are computed here, with the same
//! results the device kernels give (integers wrap to their dtype, division by zero gives 0,
//! a float op is computed in f64 and rounded once to its dtype, which for `+ - * /` is the
//! correctly rounded result a kernel gives). Shape computations (`Shape -> Gather ->
//! Concat -> Reshape`) stay on the host this way and never become kernels.

use dtype::DType;

use crate::elem::ElemType;
use crate::error::{Result, invalid};
use crate::host::{HostTensor, numel_of};

/// The most elements a folded result may have.
pub(crate) const FOLD_LIMIT: usize = 1 << 14;

/// Binary ops the host computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HostBinary {
    Add,
    Sub,
    Mul,
    /// Integers truncate toward zero.
    Div,
    /// Integer remainder with the divisor's sign.
    Mod,
    /// Integer remainder with the dividend's sign.
    Fmod,
    Max,
    Min,
    Equal,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    And,
    Or,
    Xor,
}

impl HostBinary {
    fn is_comparison(self) -> bool {
        use HostBinary::*;
        matches!(
            self,
            Equal | Less | LessOrEqual | Greater | GreaterOrEqual | And | Or | Xor
        )
    }
}

/// Unary ops the host computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HostUnary {
    Neg,
    Abs,
    Not,
    Floor,
    Ceil,
    Sign,
}

/// The numpy broadcast of two shapes.
pub(crate) fn broadcast_shapes(a: &[i64], b: &[i64]) -> Result<Vec<i64>> {
    let rank = a.len().max(b.len());
    let dim = |s: &[i64], i: usize| {
        if i + s.len() >= rank {
            s[i + s.len() - rank]
        } else {
            1
        }
    };
    (0..rank)
        .map(|i| match (dim(a, i), dim(b, i)) {
            (x, y) if x == y => Ok(x),
            (1, y) => Ok(y),
            (x, 1) => Ok(x),
            _ => Err(invalid!("shapes {a:?} and {b:?} do not broadcast")),
        })
        .collect()
}

/// For each element of `out` (row-major), the element of a tensor of shape `input` that
/// broadcasts to it.
pub(crate) fn broadcast_picks(input: &[i64], out: &[i64]) -> Result<Vec<usize>> {
    let n = numel_of(out)?;
    let lead = out.len() - input.len();
    let mut strides = vec![0usize; out.len()];
    let mut s = 1usize;
    for i in (0..input.len()).rev() {
        strides[lead + i] = if input[i] == 1 { 0 } else { s };
        s *= input[i] as usize;
    }
    Ok(walk(out, n, |idx| {
        idx.iter().zip(&strides).map(|(&i, &st)| i * st).sum()
    }))
}

/// Calls `at` with every index of `shape` in row-major order, collecting the results.
pub(crate) fn walk<T>(shape: &[i64], n: usize, mut at: impl FnMut(&[usize]) -> T) -> Vec<T> {
    let mut out = Vec::with_capacity(n);
    if n == 0 {
        return out;
    }
    let mut idx = vec![0usize; shape.len()];
    loop {
        out.push(at(&idx));
        let mut d = shape.len();
        loop {
            if d == 0 {
                return out;
            }
            d -= 1;
            idx[d] += 1;
            if (idx[d] as i64) < shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
}

/// Whether host folding applies to tensors of these types (integers and bools always,
/// floats for ops whose host result equals the kernel's).
fn foldable(dtype: DType) -> bool {
    matches!(
        dtype,
        DType::Bool
            | DType::I8
            | DType::I16
            | DType::I32
            | DType::I64
            | DType::U8
            | DType::U16
            | DType::U32
            | DType::U64
            | DType::F32
            | DType::F64
    )
}

/// `op(a, b)` on the host, or `None` when the op is not folded for these inputs.
pub(crate) fn binary(op: HostBinary, a: &HostTensor, b: &HostTensor) -> Option<Result<HostTensor>> {
    if a.dtype() != b.dtype() || !foldable(a.dtype()) {
        return None;
    }
    if a.dtype().is_float() && matches!(op, HostBinary::Mod | HostBinary::Fmod) {
        return None;
    }
    let shape = match broadcast_shapes(a.shape(), b.shape()) {
        Ok(s) => s,
        Err(e) => return Some(Err(e)),
    };
    let n = numel_of(&shape).ok()?;
    if n > FOLD_LIMIT {
        return None;
    }
    Some(binary_on(op, a, b, shape))
}

fn binary_on(
    op: HostBinary,
    a: &HostTensor,
    b: &HostTensor,
    shape: Vec<i64>,
) -> Result<HostTensor> {
    use HostBinary::*;
    let pa = broadcast_picks(a.shape(), &shape)?;
    let pb = broadcast_picks(b.shape(), &shape)?;
    let out_elem = if op.is_comparison() {
        ElemType::Native(DType::Bool)
    } else {
        a.elem()
    };
    if a.dtype().is_float() {
        let vals: Vec<f64> = pa
            .iter()
            .zip(&pb)
            .map(|(&i, &j)| {
                let (x, y) = (a.get_f64(i), b.get_f64(j));
                let t = |c: bool| f64::from(u8::from(c));
                match op {
                    Add => x + y,
                    Sub => x - y,
                    Mul => x * y,
                    Div => x / y,
                    Max if x.is_nan() || y.is_nan() => f64::NAN,
                    Max => x.max(y),
                    Min if x.is_nan() || y.is_nan() => f64::NAN,
                    Min => x.min(y),
                    Equal => t(x == y),
                    Less => t(x < y),
                    LessOrEqual => t(x <= y),
                    Greater => t(x > y),
                    GreaterOrEqual => t(x >= y),
                    And => t(x != 0.0 && y != 0.0),
                    Or => t(x != 0.0 || y != 0.0),
                    Xor => t((x != 0.0) != (y != 0.0)),
                    Mod | Fmod => f64::NAN,
                }
            })
            .collect();
        return HostTensor::from_f64s(out_elem, shape, &vals);
    }
    let unsigned = a.dtype().is_unsigned();
    let vals: Vec<i64> = pa
        .iter()
        .zip(&pb)
        .map(|(&i, &j)| {
            let (x, y) = (int_at(a, i, unsigned), int_at(b, j, unsigned));
            let t = |c: bool| i128::from(c);
            let v: i128 = match op {
                Add => x + y,
                Sub => x - y,
                Mul => x.wrapping_mul(y),
                Div if y == 0 => 0,
                Div => x / y,
                Mod if y == 0 => 0,
                Mod => {
                    let r = x % y;
                    if r != 0 && (r < 0) != (y < 0) {
                        r + y
                    } else {
                        r
                    }
                }
                Fmod if y == 0 => 0,
                Fmod => x % y,
                Max => x.max(y),
                Min => x.min(y),
                Equal => t(x == y),
                Less => t(x < y),
                LessOrEqual => t(x <= y),
                Greater => t(x > y),
                GreaterOrEqual => t(x >= y),
                And => t(x != 0 && y != 0),
                Or => t(x != 0 || y != 0),
                Xor => t((x != 0) != (y != 0)),
            };
            v as i64
        })
        .collect();
    HostTensor::from_i64s(out_elem, shape, &vals)
}

/// An integer element, unsigned 64-bit values above `i64::MAX` included.
fn int_at(t: &HostTensor, i: usize, unsigned: bool) -> i128 {
    let v = t.get_i64(i);
    if unsigned && t.dtype() == DType::U64 {
        i128::from(v as u64)
    } else {
        i128::from(v)
    }
}

/// `op(a)` on the host, or `None` when not folded.
pub(crate) fn unary(op: HostUnary, a: &HostTensor) -> Option<Result<HostTensor>> {
    if !foldable(a.dtype()) || a.numel() > FOLD_LIMIT {
        return None;
    }
    let shape = a.shape().to_vec();
    if a.dtype().is_float() {
        let vals: Vec<f64> = a
            .to_f64s()
            .into_iter()
            .map(|x| match op {
                HostUnary::Neg => -x,
                HostUnary::Abs => x.abs(),
                HostUnary::Not => f64::from(u8::from(x == 0.0)),
                HostUnary::Floor => x.floor(),
                HostUnary::Ceil => x.ceil(),
                HostUnary::Sign if x.is_nan() => x,
                HostUnary::Sign if x == 0.0 => 0.0,
                HostUnary::Sign => x.signum(),
            })
            .collect();
        return Some(HostTensor::from_f64s(a.elem(), shape, &vals));
    }
    let vals: Vec<i64> = a
        .to_i64s()
        .into_iter()
        .map(|x| match op {
            HostUnary::Neg => x.wrapping_neg(),
            HostUnary::Abs => x.wrapping_abs(),
            HostUnary::Not => i64::from(x == 0),
            HostUnary::Floor | HostUnary::Ceil => x,
            HostUnary::Sign => x.signum(),
        })
        .collect();
    Some(HostTensor::from_i64s(a.elem(), shape, &vals))
}

/// `a` converted to `to` on the host, or `None` when not folded.
pub(crate) fn cast(a: &HostTensor, to: ElemType) -> Option<Result<HostTensor>> {
    if !foldable(a.dtype())
        || !matches!(to, ElemType::Native(d) if foldable(d))
        || a.numel() > FOLD_LIMIT
    {
        return None;
    }
    let shape = a.shape().to_vec();
    Some(if a.dtype().is_float() {
        HostTensor::from_f64s(to, shape, &a.to_f64s())
    } else if a.dtype() == DType::U64 {
        let vals: Vec<f64> = a.to_i64s().iter().map(|&v| v as u64 as f64).collect();
        if to.is_float() {
            HostTensor::from_f64s(to, shape, &vals)
        } else {
            HostTensor::from_i64s(to, shape, &a.to_i64s())
        }
    } else {
        HostTensor::from_i64s(to, shape, &a.to_i64s())
    })
}

/// Elements picked by flat index into a new shape (the movement ops' host form).
pub(crate) fn pick(a: &HostTensor, picks: &[usize], shape: Vec<i64>) -> Option<Result<HostTensor>> {
    if picks.len() > FOLD_LIMIT {
        return None;
    }
    Some(a.gather_elements(picks, shape))
}

/// Row-major strides of `shape`.
pub(crate) fn strides(shape: &[i64]) -> Vec<usize> {
    let mut s = vec![1usize; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1].max(0) as usize;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(shape: &[i64], v: &[i64]) -> HostTensor {
        HostTensor::from_i64s(ElemType::Native(DType::I64), shape.to_vec(), v).expect("fits")
    }

    #[test]
    fn integer_ops_broadcast_and_round_as_kernels_do() {
        let a = ints(&[2, 1], &[7, -7]);
        let b = ints(&[2], &[2, -2]);
        let div = binary(HostBinary::Div, &a, &b)
            .expect("folded")
            .expect("valid");
        assert_eq!(div.shape(), &[2, 2]);
        assert_eq!(div.to_i64s(), vec![3, -3, -3, 3]);
        let m = binary(HostBinary::Mod, &a, &b)
            .expect("folded")
            .expect("valid");
        assert_eq!(m.to_i64s(), vec![1, -1, 1, -1]);
        let f = binary(HostBinary::Fmod, &a, &b)
            .expect("folded")
            .expect("valid");
        assert_eq!(f.to_i64s(), vec![1, 1, -1, -1]);
        let z = binary(HostBinary::Div, &a, &ints(&[], &[0]))
            .expect("folded")
            .expect("valid");
        assert_eq!(z.to_i64s(), vec![0, 0]);
    }

    #[test]
    fn shapes_that_do_not_broadcast_are_an_error() {
        let r = binary(
            HostBinary::Add,
            &ints(&[2], &[1, 2]),
            &ints(&[3], &[1, 2, 3]),
        );
        assert!(matches!(r, Some(Err(_))));
    }

    #[test]
    fn broadcast_picks_repeat_size_one_dims() {
        assert_eq!(
            broadcast_picks(&[2, 1], &[2, 3]).expect("valid"),
            vec![0, 0, 0, 1, 1, 1]
        );
        assert_eq!(
            broadcast_picks(&[3], &[2, 3]).expect("valid"),
            vec![0, 1, 2, 0, 1, 2]
        );
    }
}
