//! GCC/clang vector extensions for the vector nodes of a program (lanes > 1): the
//! vector types (`f32x8`, and `f32x8_u` with element alignment for unaligned loads and
//! stores) and the expressions of the vector ALU ops the C target declares
//! (`c_vector_alu`). Vector literals (`(f32x8){a, b, ...}`) and lane reads (`v[k]`) are
//! the base's C spelling.
//!
//! Only f32 and f64 vectors exist (`C_VECTOR_DTYPES`); the linearizer devectorizes every
//! other dtype and op into scalar lanes. MAX keeps the scalar rule (NaN if either side is
//! NaN) with a compare-and-select helper, and WHERE selects by bits with a mask built from
//! the lanes' conditions, since C has no `?:` on vectors.

use renderer_cstyle::{Helpers, Operand, Rank, c_value_type};
use uop_ir::{DType, Op};

use crate::exp2::{EXP2_POLY, exp2_poly_lines};

/// Element dtypes of C vectors.
pub const C_VECTOR_DTYPES: [DType; 2] = [DType::F32, DType::F64];
/// ALU ops the C renderer emits on vectors of both vector dtypes.
const C_VECTOR_OPS: [Op; 6] = [Op::Add, Op::Sub, Op::Mul, Op::FDiv, Op::Neg, Op::Max];

/// Every (op, dtype) the C renderer emits on vectors: `C_VECTOR_OPS` on f32 and f64,
/// EXP2 on f32 (`exp2_f32x8`, lane for lane the scalar `exp2_f32`), and MULACC (fused,
/// `fma_f32x8`: one FMA instruction where the CPU has it, else `fma` lane by lane).
pub fn c_vector_alu() -> Vec<(Op, DType)> {
    let mut v: Vec<(Op, DType)> = C_VECTOR_DTYPES
        .iter()
        .flat_map(|&d| C_VECTOR_OPS.iter().map(move |&op| (op, d)))
        .collect();
    v.push((Op::Exp2, DType::F32));
    v.extend(C_VECTOR_DTYPES.iter().map(|&d| (Op::MulAcc, d)));
    v.extend(C_VECTOR_DTYPES.iter().map(|&d| (Op::Where, d)));
    v
}

/// WHERE on vectors of `dtype`: `mask` is an integer vector of the lanes' conditions
/// (all ones where true), `a` and `b` the values; C has no `?:` on vectors, so it selects
/// by bits.
pub(crate) fn select(
    dtype: DType,
    lanes: u8,
    conds: &[String],
    a: &str,
    b: &str,
    helpers: &mut Helpers,
) -> Result<String, String> {
    let (Some(s), Some(m)) = (short(dtype), short(mask_dtype(dtype))) else {
        return Err(format!("C has no vector WHERE on {dtype}"));
    };
    vector_type(dtype, lanes, helpers)?;
    vector_type(mask_dtype(dtype), lanes, helpers)?;
    let ity = if dtype == DType::F64 {
        "long long"
    } else {
        "int"
    };
    let mask: Vec<String> = conds.iter().map(|c| format!("-({ity})({c})")).collect();
    let mask = format!("({m}x{lanes}){{{}}}", mask.join(", "));
    Ok(format!(
        "({s}x{lanes})(({mask} & ({m}x{lanes}){a}) | (~{mask} & ({m}x{lanes}){b}))"
    ))
}

/// `fma_f32x8`: `a * b + c` rounded once, lane by lane: the x86 FMA intrinsic of the
/// vector's width when the compiler targets it (`-march=native`), else C's `fma` on
/// each lane (exact, and slow: the heuristics only ask for MULACC where the CPU has FMA).
fn fma_helper(dtype: DType, lanes: u8) -> String {
    let Some(s) = short(dtype) else {
        return String::new();
    };
    let v = format!("{s}x{lanes}");
    let bits = lanes as usize * dtype.itemsize() * 8;
    let (prefix, feature) = match bits {
        512 => ("_mm512", "__AVX512F__"),
        256 => ("_mm256", "__FMA__"),
        _ => ("_mm", "__FMA__"),
    };
    let (suffix, scalar) = if dtype == DType::F64 {
        ("pd", "fma")
    } else {
        ("ps", "fmaf")
    };
    let m = match (bits, dtype == DType::F64) {
        (512, false) => "__m512",
        (512, true) => "__m512d",
        (256, false) => "__m256",
        (256, true) => "__m256d",
        (_, false) => "__m128",
        (_, true) => "__m128d",
    };
    let intrinsic = matches!(bits, 128 | 256 | 512);
    let fast = if intrinsic {
        format!(
            "#if defined(__x86_64__) && defined({feature})\n\
             \x20 return ({v}){prefix}_fmadd_{suffix}(({m})a, ({m})b, ({m})c);\n\
             #else\n"
        )
    } else {
        "#if 1\n".to_string()
    };
    format!(
        "static inline {v} fma_{v}({v} a, {v} b, {v} c) {{\n\
         {fast}\
         \x20 {v} r;\n\
         \x20 for (int k = 0; k < {lanes}; k++) r[k] = {scalar}(a[k], b[k], c[k]);\n\
         \x20 return r;\n\
         #endif\n\
         }}\n"
    )
}

/// The dtype's name (`f32`) in vector type names, for the dtypes C vectors hold and the
/// integer masks of their comparisons.
fn short(dtype: DType) -> Option<&'static str> {
    matches!(dtype, DType::F32 | DType::F64 | DType::I32 | DType::I64).then(|| dtype.name())
}

/// The vector type of `lanes` elements of `dtype` (declared through `helpers`).
pub(crate) fn vector_type(
    dtype: DType,
    lanes: u8,
    helpers: &mut Helpers,
) -> Result<String, String> {
    let s = short(dtype).ok_or_else(|| format!("C has no vectors of {dtype}"))?;
    let name = format!("{s}x{lanes}");
    helpers.define(Rank::Type, &name, || typedef(dtype, lanes));
    Ok(name)
}

/// The typedefs of `f32x8`-like types: the vector, and its `_u` twin for memory.
fn typedef(dtype: DType, lanes: u8) -> String {
    let (Some(s), Some(elem)) = (short(dtype), c_value_type(dtype)) else {
        return String::new();
    };
    let bytes = dtype.itemsize() * lanes as usize;
    let align = dtype.itemsize();
    format!(
        "typedef {elem} {s}x{lanes} __attribute__((vector_size({bytes})));\n\
         typedef {elem} {s}x{lanes}_u __attribute__((vector_size({bytes}), aligned({align})));\n"
    )
}

/// The integer dtype as wide as float `dtype` (the lanes of a comparison mask).
fn mask_dtype(dtype: DType) -> DType {
    if dtype == DType::F64 {
        DType::I64
    } else {
        DType::I32
    }
}

/// `max_f32x8`: lane-wise max, NaN when either lane is NaN.
fn max_helper(dtype: DType, lanes: u8) -> String {
    let (Some(s), Some(m)) = (short(dtype), short(mask_dtype(dtype))) else {
        return String::new();
    };
    format!(
        "static inline {s}x{lanes} max_{s}x{lanes}({s}x{lanes} a, {s}x{lanes} b) {{\n\
         \x20 {m}x{lanes} take_a = (a > b) | (a != a);\n\
         \x20 return ({s}x{lanes})((take_a & ({m}x{lanes})a) | (~take_a & ({m}x{lanes})b));\n\
         }}\n"
    )
}

/// `exp2_f32x8`: the scalar `exp2_f32` on every lane, with the same operations in the
/// same order (so the same bits): clamp, `n = floor(x + 0.5)` by truncation and a
/// correction, the polynomial, and `2^n` in two exponent factors.
fn exp2_helper(lanes: u8) -> String {
    let (v, m) = (format!("f32x{lanes}"), format!("i32x{lanes}"));
    let lo = broadcast(&v, "-150.0f", lanes);
    let hi = broadcast(&v, "128.0f", lanes);
    let poly = exp2_poly_lines(&broadcast(&v, EXP2_POLY[0], lanes));
    format!(
        "static inline {v} exp2_f32x{lanes}({v} x) {{
  {m} below = x < -150.0f, above = x > 128.0f;
  {v} xc = ({v})((above & ({m}){hi}) | (~above & ({m})x));
  xc = ({v})((below & ({m}){lo}) | (~below & ({m})xc));
  {v} t = xc + 0.5f;
  {m} ti = __builtin_convertvector(t, {m});
  ti += ({m})(__builtin_convertvector(ti, {v}) > t);
  {v} n = __builtin_convertvector(ti, {v});
  {v} f = xc - n;
  {v} p;
{poly}  {m} n1 = ti >> 1, n2 = ti - n1;
  {v} r = p * ({v})((n1 + 127) << 23) * ({v})((n2 + 127) << 23);
  {m} nan = x != x;
  return ({v})((nan & ({m})x) | (~nan & ({m})r));
}}
"
    )
}

/// The expression of vector `op` on `src` (vectors of `lanes`, same dtype).
pub(crate) fn alu(
    op: Op,
    lanes: u8,
    src: &[Operand],
    helpers: &mut Helpers,
) -> Result<String, String> {
    let dt = src.first().ok_or("no operands")?.dtype;
    if !c_vector_alu().contains(&(op, dt)) {
        return Err(format!("C has no vector {op} on {dt}"));
    }
    let arity = op.alu_arity().ok_or("not an ALU op")?;
    if src.len() != arity {
        return Err(format!("takes {arity} operands, got {}", src.len()));
    }
    let a = &src[0].text;
    let b = src.get(1).map_or("", |o| o.text.as_str());
    Ok(match op {
        Op::Add => format!("{a} + {b}"),
        Op::Sub => format!("{a} - {b}"),
        Op::Mul => format!("{a} * {b}"),
        Op::FDiv => format!("{a} / {b}"),
        Op::Neg => format!("-{a}"),
        Op::Exp2 => {
            vector_type(DType::F32, lanes, helpers)?;
            vector_type(DType::I32, lanes, helpers)?;
            let name = format!("exp2_f32x{lanes}");
            helpers.define(Rank::Vector, &name, || exp2_helper(lanes));
            format!("{name}({a})")
        }
        Op::MulAcc => {
            helpers.define(Rank::Include, "immintrin.h", || INTRINSICS.into());
            let v = vector_type(dt, lanes, helpers)?;
            let name = format!("fma_{v}");
            helpers.define(Rank::Vector, &name, || fma_helper(dt, lanes));
            let c = &src[2].text;
            format!("{name}({a}, {b}, {c})")
        }
        _ => {
            let v = vector_type(dt, lanes, helpers)?;
            vector_type(mask_dtype(dt), lanes, helpers)?;
            let name = format!("max_{v}");
            helpers.define(Rank::Vector, &name, || max_helper(dt, lanes));
            format!("{name}({a}, {b})")
        }
    })
}

/// The x86 intrinsics that `fma_f32x8` and its kin use.
const INTRINSICS: &str = "#if defined(__x86_64__)\n#include <immintrin.h>\n#endif\n";

/// `(f32x8){x, x, ...}`: `x` in every lane.
fn broadcast(ty: &str, x: &str, lanes: u8) -> String {
    let elems = vec![x; lanes as usize].join(", ");
    format!("({ty}){{{elems}}}")
}
