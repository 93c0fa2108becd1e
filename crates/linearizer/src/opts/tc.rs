//! The TC opt: a kernel that is a (batched) matrix product of narrow floats accumulated
//! in f32, `C[b, m, n] = cast(alpha * Σ_k f32(A[b, m, k]) * f32(B[b, k, n]))` (or with
//! `alpha` applied after the cast, rounding again, as `(q @ k^T) * scale` is), runs on the
//! target's tensor cores as a tiled GEMM the renderer instantiates (`TcGemm`): the opt
//! matches the kernel's AST and replaces it by one WMMA node that names the GEMM, with
//! the launch's SPECIALs (`gidx0` over column tiles, `gidx1` over row tiles, `gidx2` over
//! the batch, `lidx0` the block's 256 threads) as its sources. It refuses (`None`)
//! anything else: a gated or second store, another epilogue than a constant scale, a
//! non-affine address, strides it has no layout for, sizes the tile does not divide, or a
//! dtype the target has no unit for that a GEMM is made of (`GemmUnit`: NVIDIA's
//! `mma.sync` m16n8k16, AMD's 16x16x16 MFMA). The GEMM names its unit, so each renderer
//! knows what it instantiates and refuses what it does not.
//!
//! Layouts: A row-major (`k` contiguous); B row-major (`n` contiguous) or transposed
//! (`k` contiguous, as `q @ k^T` reads it); C row-major. Batch loops may have any strides
//! that are multiples of 8 elements in A and B and of 2 in C (whole 16-byte copies).

use std::fmt;

use uop_ir::{Arg, AxisType, DType, Op, Special, UOp, toposort};

use crate::access::stride;
use crate::ranges::{output_ranges, ranges_of_kind};
use crate::{Target, TensorCore};

/// The matrix unit a GEMM is made of, with `dtype_in` in and f32 accumulators. It fixes
/// the block's tiles and K step; the renderer of its vendor instantiates it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GemmUnit {
    /// NVIDIA `mma.sync` m16n8k16 (sm_80 and later): 8 warps of 32 threads per block, block
    /// tiles of 128 or 64 rows and columns, K in steps of 32 (one shared-memory stage).
    M16n8k16,
    /// AMD `v_mfma_f32_16x16x16` (CDNA 3): 4 wavefronts of 64 lanes per block (2 x 2), block
    /// tiles of 64 or 32 rows and columns (a wavefront's part is 2 x 2 or 1 x 1 tiles of
    /// 16 x 16), K in steps of 16.
    Mfma16x16x16,
}

impl GemmUnit {
    /// The units in the order the TC opt tries them.
    pub const ALL: [GemmUnit; 2] = [GemmUnit::M16n8k16, GemmUnit::Mfma16x16x16];

    /// The name a GEMM's text gives the unit.
    pub fn name(self) -> &'static str {
        match self {
            GemmUnit::M16n8k16 => "m16n8k16",
            GemmUnit::Mfma16x16x16 => "16x16x16",
        }
    }

    /// The tensor core a target must list for this unit with `dtype_in` inputs.
    pub fn tensor_core(self, dtype_in: DType) -> TensorCore {
        let n = match self {
            GemmUnit::M16n8k16 => 8,
            GemmUnit::Mfma16x16x16 => 16,
        };
        TensorCore {
            dtype_in,
            dtype_acc: DType::F32,
            m: 16,
            n,
            k: 16,
        }
    }

    /// The block tile along M or N for an extent of `extent`: the largest this unit's
    /// blocks are made in that divides it.
    pub fn tile(self, extent: i64) -> Option<i64> {
        let tiles: &[i64] = match self {
            GemmUnit::M16n8k16 => &[128, 64],
            GemmUnit::Mfma16x16x16 => &[64, 32],
        };
        tiles.iter().copied().find(|t| extent % t == 0)
    }

    /// How far along K a block steps at a time: K must be a multiple of it.
    pub fn k_step(self) -> i64 {
        match self {
            GemmUnit::M16n8k16 => 32,
            GemmUnit::Mfma16x16x16 => 16,
        }
    }
}

/// Threads of a GEMM block: 8 warps of 32, or 4 wavefronts of 64.
pub const GEMM_THREADS: i64 = 256;

/// One batch loop of a GEMM: its extent and its stride in A, B and C (elements).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchDim {
    pub extent: i64,
    pub a: i64,
    pub b: i64,
    pub c: i64,
}

/// A tensor-core GEMM, as the TC opt found it and the renderer instantiates it.
#[derive(Clone, Debug, PartialEq)]
pub struct TcGemm {
    /// The matrix unit the renderer builds the GEMM of.
    pub unit: GemmUnit,
    pub m: i64,
    pub n: i64,
    pub k: i64,
    /// Element dtype of A and B (f16 or bf16).
    pub dtype_in: DType,
    /// Dtype C is stored as.
    pub dtype_out: DType,
    /// B is stored `[n][k]` (`k` contiguous) rather than `[k][n]`.
    pub b_transposed: bool,
    /// The constant the sum is multiplied by (1 when none): before the cast to
    /// `dtype_out`, or after it (rounding again) when `scale_after_cast`.
    pub alpha: f64,
    pub scale_after_cast: bool,
    /// C holds f32: the result, rounded to `dtype_out`, is widened again to store it.
    pub store_f32: bool,
    /// Block tile: rows and columns of C per block.
    pub tile_m: i64,
    pub tile_n: i64,
    /// Batch loops, outermost first.
    pub batch: Vec<BatchDim>,
    /// PARAM slots of C, A and B.
    pub slots: [u32; 3],
}

impl TcGemm {
    pub fn batch_size(&self) -> i64 {
        self.batch.iter().map(|d| d.extent).product()
    }

    /// The kernel that stands for this GEMM: SINK(WMMA(C, A, B, gidx0..2, lidx0)).
    pub fn kernel(&self, params: [UOp; 3]) -> UOp {
        let specials = [
            UOp::special(Special::Global(0), self.n / self.tile_n),
            UOp::special(Special::Global(1), self.m / self.tile_m),
            UOp::special(Special::Global(2), self.batch_size()),
            UOp::special(Special::Local(0), GEMM_THREADS),
        ];
        let mut src: Vec<UOp> = params.to_vec();
        src.extend(specials);
        let wmma = UOp::new(
            Op::Wmma,
            DType::Void,
            src,
            Arg::Name(self.to_string().into()),
        );
        UOp::new(Op::Sink, DType::Void, [wmma], Arg::None)
    }

    /// Reads back what `Display` wrote.
    pub fn parse(text: &str) -> Option<TcGemm> {
        let mut g = TcGemm {
            unit: GemmUnit::M16n8k16,
            m: 0,
            n: 0,
            k: 0,
            dtype_in: DType::F16,
            dtype_out: DType::F16,
            b_transposed: false,
            alpha: 1.0,
            scale_after_cast: false,
            store_f32: false,
            tile_m: 0,
            tile_n: 0,
            batch: Vec::new(),
            slots: [0, 1, 2],
        };
        let body = text.strip_prefix("gemm ")?;
        for field in body.split(' ') {
            let (key, value) = field.split_once('=')?;
            let int = || value.parse::<i64>().ok();
            match key {
                "unit" => g.unit = GemmUnit::ALL.into_iter().find(|u| u.name() == value)?,
                "m" => g.m = int()?,
                "n" => g.n = int()?,
                "k" => g.k = int()?,
                "in" => g.dtype_in = DType::ALL.into_iter().find(|d| d.name() == value)?,
                "out" => g.dtype_out = DType::ALL.into_iter().find(|d| d.name() == value)?,
                "bt" => g.b_transposed = value == "1",
                "late" => g.scale_after_cast = value == "1",
                "wide" => g.store_f32 = value == "1",
                "alpha" => g.alpha = f64::from_bits(u64::from_str_radix(value, 16).ok()?),
                "tile" => {
                    let (a, b) = value.split_once('x')?;
                    (g.tile_m, g.tile_n) = (a.parse().ok()?, b.parse().ok()?);
                }
                "slots" => {
                    let v: Vec<u32> = value.split(',').filter_map(|s| s.parse().ok()).collect();
                    g.slots = v.try_into().ok()?;
                }
                "batch" if !value.is_empty() => {
                    for d in value.split(';') {
                        let v: Vec<i64> = d.split(',').filter_map(|s| s.parse().ok()).collect();
                        let [extent, a, b, c] = v[..] else {
                            return None;
                        };
                        g.batch.push(BatchDim { extent, a, b, c });
                    }
                }
                "batch" => {}
                _ => return None,
            }
        }
        Some(g)
    }
}

impl fmt::Display for TcGemm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let batch: Vec<String> = self
            .batch
            .iter()
            .map(|d| format!("{},{},{},{}", d.extent, d.a, d.b, d.c))
            .collect();
        write!(
            f,
            "gemm unit={} m={} n={} k={} in={} out={} bt={} alpha={:016x} late={} wide={} tile={}x{} slots={},{},{} batch={}",
            self.unit.name(),
            self.m,
            self.n,
            self.k,
            self.dtype_in.name(),
            self.dtype_out.name(),
            u8::from(self.b_transposed),
            self.alpha.to_bits(),
            u8::from(self.scale_after_cast),
            u8::from(self.store_f32),
            self.tile_m,
            self.tile_n,
            self.slots[0],
            self.slots[1],
            self.slots[2],
            batch.join(";")
        )
    }
}

/// `(param, address)` of `LOAD(INDEX(param, off))` seen through a CAST to f32.
fn operand(u: &UOp) -> Option<(UOp, UOp)> {
    let ld = if u.op() == Op::Cast && u.dtype() == DType::F32 {
        &u.src()[0]
    } else {
        return None;
    };
    let idx = ld
        .src()
        .first()
        .filter(|_| ld.op() == Op::Load && ld.src().len() == 1)?;
    let [buf, off] = idx.src() else { return None };
    (buf.op() == Op::Param).then(|| (buf.clone(), off.clone()))
}

/// Whether `off` is exactly `Σ stride(r) * r` over `ranges` (affine, no constant).
fn affine(off: &UOp, ranges: &[UOp]) -> Option<Vec<i64>> {
    let strides: Vec<i64> = ranges
        .iter()
        .map(|r| stride(off, r).map(|s| s as i64))
        .collect::<Option<_>>()?;
    let rebuilt = ranges
        .iter()
        .zip(&strides)
        .fold(UOp::int(0), |acc, (r, s)| acc + r * *s);
    let diff = symbolic::simplify(&(off.clone() - rebuilt)).ok()?;
    (diff.const_int() == Some(0)).then_some(strides)
}

/// The GEMM `ast` computes on `target`'s tensor cores (see the module doc).
pub fn match_gemm(ast: &UOp, target: &Target) -> Option<TcGemm> {
    let [st] = ast.src() else { return None };
    let [idx_c, val] = st.src() else { return None };
    let [c_buf, off_c] = idx_c.src() else {
        return None;
    };
    if st.op() != Op::Store || c_buf.op() != Op::Param {
        return None;
    }
    // the value: [scale after the cast] cast [scale before it] sum
    let scaled = |u: &UOp| -> Option<(f64, UOp)> {
        let [x, y] = u.src() else { return None };
        // a float constant, or one cast to f32 (the narrow-float stage writes those)
        let float = |c: &UOp| {
            let c = match c.op() {
                Op::Cast => c.src().first()?,
                _ => c,
            };
            match c.const_value() {
                Some(uop_ir::ConstValue::Float(v)) => Some(v),
                _ => None,
            }
        };
        match (u.op(), float(x), float(y)) {
            (Op::Mul, _, Some(c)) => Some((c, x.clone())),
            (Op::Mul, Some(c), _) => Some((c, y.clone())),
            _ => None,
        }
    };
    // a narrow result widened to f32 for its consumers (softmax of f16 scores): rounded
    // to the narrow dtype, stored as f32
    let (store_f32, val) = match val.src().first() {
        Some(x)
            if val.op() == Op::Cast
                && val.dtype() == DType::F32
                && x.op() == Op::Cast
                && matches!(x.dtype(), DType::F16 | DType::BF16) =>
        {
            (true, x.clone())
        }
        _ => (false, val.clone()),
    };
    let (dtype_out, inner) = match val.op() {
        Op::Cast => (val.dtype(), val.src()[0].clone()),
        _ => (val.dtype(), val.clone()),
    };
    // after the narrow-float stage a scale after the cast reads
    // cast(f32(cast(sum)) * c): the sum rounded, scaled in f32, rounded again
    let rounded_sum = |x: &UOp| -> Option<UOp> {
        let once = x
            .src()
            .first()
            .filter(|_| x.op() == Op::Cast && x.dtype() == DType::F32)?;
        let red = once
            .src()
            .first()
            .filter(|_| once.op() == Op::Cast && once.dtype() == dtype_out)?;
        Some(red.clone())
    };
    let (alpha, scale_after_cast, red) = match scaled(&inner) {
        Some((c, x)) => match rounded_sum(&x) {
            Some(red) => (c, true, red),
            None => (c, false, x),
        },
        None => (1.0, false, inner.clone()),
    };
    if red.op() != Op::Reduce || !matches!(red.arg(), Arg::Reduce { op: Op::Add, .. }) {
        return None;
    }
    // a blocked sum (rangeify's `block_reduce`: a sum of sums over `k = k1 * q + k0`)
    // is one sum over both ranges
    let (prod, ks): (UOp, Vec<UOp>) = match red.src()[0].op() {
        Op::Reduce if matches!(red.src()[0].arg(), Arg::Reduce { op: Op::Add, .. }) => {
            let inner = &red.src()[0];
            let mut ks = inner.src()[1..].to_vec();
            ks.extend(red.src()[1..].iter().cloned());
            (inner.src()[0].clone(), ks)
        }
        _ => (red.src()[0].clone(), red.src()[1..].to_vec()),
    };
    let [x, y] = prod.src() else { return None };
    if prod.op() != Op::Mul || red.dtype() != DType::F32 || ks.is_empty() {
        return None;
    }
    let ((pa, off_a), (pb, off_b)) = (operand(x)?, operand(y)?);
    let dtype_in = pa.dtype();
    let unit = GemmUnit::ALL
        .into_iter()
        .find(|u| target.tensor_cores.contains(&u.tensor_core(dtype_in)))?;
    if pb.dtype() != dtype_in || !matches!(dtype_out, DType::F16 | DType::BF16 | DType::F32) {
        return None;
    }
    let loops = output_ranges(ast);
    let reductions = toposort(ast)
        .into_iter()
        .filter(|u| u.op() == Op::Reduce)
        .count();
    if ranges_of_kind(ast, AxisType::Reduce).len() != ks.len()
        || reductions
            != if ks.len() > 1 && red.src()[0].op() == Op::Reduce {
                2
            } else {
                1
            }
    {
        return None;
    }
    let mut all = loops.clone();
    all.extend(ks.iter().cloned());
    let (sc, sx, sy) = (
        affine(off_c, &all)?,
        affine(&off_a, &all)?,
        affine(&off_b, &all)?,
    );
    // the k ranges, innermost first, must nest into one k in both operands
    let nl = loops.len();
    let extent_of = |r: &UOp| r.src()[0].const_int().map(|e| e as i64);
    let mut order: Vec<usize> = (nl..all.len()).collect();
    order.sort_by_key(|&i| sx[i].abs());
    let nests = |s: &[i64]| {
        let mut want = s[order[0]];
        order.iter().all(|&i| {
            let ok = s[i] == want;
            want *= extent_of(&all[i]).unwrap_or(0);
            ok
        })
    };
    if !nests(&sx) || !nests(&sy) || order.iter().any(|&i| sc[i] != 0) {
        return None;
    }
    let k_extent: i64 = order
        .iter()
        .map(|&i| extent_of(&all[i]))
        .product::<Option<i64>>()?;
    let collapse = |s: &[i64]| {
        let mut v = s[..nl].to_vec();
        v.push(s[order[0]]);
        v
    };
    let (sc, sx, sy) = (collapse(&sc), collapse(&sx), collapse(&sy));
    let k = &all[order[0]];
    let mut all = loops.clone();
    all.push(k.clone());
    let kpos = all.len() - 1;
    let extent = |r: &UOp| r.src()[0].const_int().map(|e| e as i64);
    // C: n has stride 1, m stride N; both among the loops
    let n_pos = (0..kpos).find(|&i| sc[i] == 1)?;
    let nn = extent(&all[n_pos])?;
    let m_pos = (0..kpos).find(|&i| i != n_pos && sc[i] == nn)?;
    let (mm, kk) = (extent(&all[m_pos])?, k_extent);
    // A reads m and k; B reads k and n: find which operand is which
    let reads = |s: &[i64], i: usize| s[i] != 0;
    let (sa, sb, slot_a, slot_b) = if reads(&sx, m_pos) && !reads(&sx, n_pos) {
        (sx, sy, pa, pb)
    } else {
        (sy, sx, pb, pa)
    };
    if reads(&sa, n_pos) || reads(&sb, m_pos) || sa[kpos] != 1 || sa[m_pos] != kk {
        return None;
    }
    let b_transposed = match (sb[kpos], sb[n_pos]) {
        (s, 1) if s == nn => false,
        (1, s) if s == kk => true,
        _ => return None,
    };
    let batch: Vec<BatchDim> = (0..kpos)
        .filter(|&i| i != m_pos && i != n_pos)
        .map(|i| {
            Some(BatchDim {
                extent: extent(&all[i])?,
                a: sa[i],
                b: sb[i],
                c: sc[i],
            })
        })
        .collect::<Option<_>>()?;
    // 16-byte copies: every row and batch start a multiple of 8 elements
    if batch
        .iter()
        .any(|d| d.a % 8 != 0 || d.b % 8 != 0 || d.c % 2 != 0)
    {
        return None;
    }
    let (tile_m, tile_n) = (unit.tile(mm)?, unit.tile(nn)?);
    if kk % unit.k_step() != 0 {
        return None;
    }
    let slot = |p: &UOp| match p.arg() {
        Arg::Param { slot } => Some(*slot),
        _ => None,
    };
    Some(TcGemm {
        unit,
        m: mm,
        n: nn,
        k: kk,
        dtype_in,
        dtype_out,
        b_transposed,
        alpha,
        scale_after_cast,
        store_f32,
        tile_m,
        tile_n,
        batch,
        slots: [slot(c_buf)?, slot(&slot_a)?, slot(&slot_b)?],
    })
}

/// TC: `ast` as its tensor-core GEMM kernel, or `None` when it is no such GEMM.
pub fn tc(ast: &UOp, target: &Target) -> Option<UOp> {
    let g = match_gemm(ast, target)?;
    let params: Vec<UOp> = toposort(ast)
        .into_iter()
        .filter(|u| u.op() == Op::Param)
        .collect();
    let find = |slot: u32| {
        params
            .iter()
            .find(|p| matches!(p.arg(), Arg::Param { slot: s } if *s == slot))
            .cloned()
    };
    let [c, a, b] = g.slots;
    Some(g.kernel([find(c)?, find(a)?, find(b)?]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gemm_round_trips_through_its_name() {
        let g = TcGemm {
            unit: GemmUnit::Mfma16x16x16,
            m: 256,
            n: 64,
            k: 96,
            dtype_in: DType::BF16,
            dtype_out: DType::F32,
            b_transposed: true,
            alpha: 0.125,
            scale_after_cast: true,
            store_f32: true,
            tile_m: 128,
            tile_n: 64,
            batch: vec![BatchDim {
                extent: 8,
                a: 1,
                b: 0,
                c: 7,
            }],
            slots: [0, 2, 1],
        };
        assert_eq!(TcGemm::parse(&g.to_string()), Some(g));
        assert!(TcGemm::parse("gemm m=x").is_none());
        assert!(TcGemm::parse("gemm unit=8x8x4 m=64").is_none());
    }
}
