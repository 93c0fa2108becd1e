//! Where every value of the MFMA GEMM comes from and goes to, written once over `Arith`
//! so that the IR generator (`ir.rs`, which emits the arithmetic as instructions) and the
//! software model of the tests (`model.rs`, which evaluates it on `i64`) compute the same
//! indices with the same functions:
//!
//! - the lane layout of `v_mfma_f32_16x16x16{f16,bf16}` (`a_element`, `b_element`,
//!   `c_element`: which element of a 16 x 16 tile a lane holds as its `item`-th value);
//! - the split of a block (`Plan`): 2 x 2 wavefronts of 64 lanes, each over
//!   `tiles_m x tiles_n` tiles of 16 x 16, and the offsets of A, B and C elements for a
//!   batch entry, a wavefront, a tile, a `k` step, a lane and an item;
//! - the epilogue (`epilogue`): the scale and roundings between the f32 sum and C.

use linearizer::opts::tc::{GEMM_THREADS, GemmUnit, TcGemm};
use uop_ir::DType;

/// Lanes of a wavefront.
pub const LANES: i64 = 64;
/// Values of each of A, B and C a lane holds for one instruction.
pub const ITEMS: i64 = 4;
/// The instruction's tile: 16 x 16 of C, 16 along `k`.
pub const TILE: i64 = 16;
/// Wavefronts of a block along M and along N.
pub const WAVES: (i64, i64) = (2, 2);

/// Integer arithmetic on non-negative indices, as the layout is written: evaluated (`i64`)
/// or emitted as IR.
pub trait Arith {
    type V: Clone;
    fn int(&mut self, c: i64) -> Self::V;
    fn add(&mut self, a: &Self::V, b: &Self::V) -> Self::V;
    fn mul(&mut self, a: &Self::V, c: i64) -> Self::V;
    /// Division by a positive constant, rounding down.
    fn div(&mut self, a: &Self::V, c: i64) -> Self::V;
    /// Remainder by a positive constant.
    fn rem(&mut self, a: &Self::V, c: i64) -> Self::V;

    /// `a + c`.
    fn add_int(&mut self, a: &Self::V, c: i64) -> Self::V {
        let c = self.int(c);
        self.add(a, &c)
    }
}

/// `Arith` on numbers.
#[derive(Clone, Copy, Debug, Default)]
pub struct Eval;

impl Arith for Eval {
    type V = i64;
    fn int(&mut self, c: i64) -> i64 {
        c
    }
    fn add(&mut self, a: &i64, b: &i64) -> i64 {
        a + b
    }
    fn mul(&mut self, a: &i64, c: i64) -> i64 {
        a * c
    }
    fn div(&mut self, a: &i64, c: i64) -> i64 {
        a / c
    }
    fn rem(&mut self, a: &i64, c: i64) -> i64 {
        a % c
    }
}

/// `(row, k)` of A's tile held by `lane` as value `item`: row `lane % 16`,
/// k `4 * (lane / 16) + item`.
pub fn a_element<A: Arith>(ar: &mut A, lane: &A::V, item: i64) -> (A::V, A::V) {
    let row = ar.rem(lane, TILE);
    (row, k_of(ar, lane, item))
}

/// `(k, col)` of B's tile held by `lane` as value `item`: col `lane % 16`,
/// k `4 * (lane / 16) + item`.
pub fn b_element<A: Arith>(ar: &mut A, lane: &A::V, item: i64) -> (A::V, A::V) {
    let col = ar.rem(lane, TILE);
    (k_of(ar, lane, item), col)
}

/// `(row, col)` of C's tile held by `lane` as value `item`: row `4 * (lane / 16) + item`,
/// col `lane % 16`.
pub fn c_element<A: Arith>(ar: &mut A, lane: &A::V, item: i64) -> (A::V, A::V) {
    let col = ar.rem(lane, TILE);
    (k_of(ar, lane, item), col)
}

/// `4 * (lane / 16) + item`: the lane's group of 16 picks 4 consecutive values.
fn k_of<A: Arith>(ar: &mut A, lane: &A::V, item: i64) -> A::V {
    let group = ar.div(lane, TILE);
    let first = ar.mul(&group, ITEMS);
    ar.add_int(&first, item)
}

/// A wavefront's place: the first row and column of C it computes, and the lane.
#[derive(Clone, Debug)]
pub struct Origin<V> {
    pub row: V,
    pub col: V,
    pub lane: V,
}

/// How blocks of a GEMM are split (see the module doc).
#[derive(Clone, Debug)]
pub struct Plan<'g> {
    pub g: &'g TcGemm,
    /// 16 x 16 tiles of a wavefront along M and along N.
    pub tiles_m: i64,
    pub tiles_n: i64,
}

impl<'g> Plan<'g> {
    /// The plan of `g`, or why it is no MFMA GEMM this split can compute.
    pub fn new(g: &'g TcGemm) -> Result<Plan<'g>, String> {
        if g.unit != GemmUnit::Mfma16x16x16 {
            return Err(format!("a GEMM of {} is not made of MFMA", g.unit.name()));
        }
        if !matches!(g.dtype_in, DType::F16 | DType::BF16)
            || !matches!(g.dtype_out, DType::F16 | DType::BF16 | DType::F32)
        {
            return Err(format!(
                "no MFMA GEMM of {} into {}",
                g.dtype_in, g.dtype_out
            ));
        }
        let (per_m, per_n) = (WAVES.0 * TILE, WAVES.1 * TILE);
        let fits = |extent: i64, tile: i64, per: i64| {
            extent > 0 && tile > 0 && tile % per == 0 && extent % tile == 0
        };
        if !fits(g.m, g.tile_m, per_m) || !fits(g.n, g.tile_n, per_n) {
            return Err(format!(
                "tiles {}x{} do not split {}x{} into 16 x 16 tiles of 2 x 2 wavefronts",
                g.tile_m, g.tile_n, g.m, g.n
            ));
        }
        if g.k <= 0 || g.k % TILE != 0 {
            return Err(format!("K = {} is no multiple of 16", g.k));
        }
        if g.batch.iter().any(|d| d.extent <= 0) {
            return Err("an empty batch loop".into());
        }
        Ok(Plan {
            g,
            tiles_m: g.tile_m / per_m,
            tiles_n: g.tile_n / per_n,
        })
    }

    /// Threads of a block: one lane each.
    pub fn threads(&self) -> i64 {
        GEMM_THREADS
    }

    /// The offsets of batch entry `batch` (`gidx2`) into A, B and C: its index in each
    /// batch loop (innermost fastest) times the loop's strides.
    pub fn batch_offsets<A: Arith>(&self, ar: &mut A, batch: &A::V) -> [A::V; 3] {
        let mut offs = [ar.int(0), ar.int(0), ar.int(0)];
        let mut rest = batch.clone();
        for d in self.g.batch.iter().rev() {
            let i = ar.rem(&rest, d.extent);
            rest = ar.div(&rest, d.extent);
            for (off, stride) in offs.iter_mut().zip([d.a, d.b, d.c]) {
                let step = ar.mul(&i, stride);
                *off = ar.add(off, &step);
            }
        }
        offs
    }

    /// Where thread `tid` of block (`col_block`, `row_block`) = (`gidx0`, `gidx1`)
    /// works: its wavefront `tid / 64` is at (`wave / 2`, `wave % 2`) of the block's 2 x 2.
    pub fn origin<A: Arith>(
        &self,
        ar: &mut A,
        col_block: &A::V,
        row_block: &A::V,
        tid: &A::V,
    ) -> Origin<A::V> {
        let wave = ar.div(tid, LANES);
        let lane = ar.rem(tid, LANES);
        let wave_row = ar.div(&wave, WAVES.1);
        let wave_col = ar.rem(&wave, WAVES.1);
        let corner = |ar: &mut A, block: &A::V, tile: i64, w: &A::V, part: i64| {
            let b = ar.mul(block, tile);
            let w = ar.mul(w, part);
            ar.add(&b, &w)
        };
        let row = corner(ar, row_block, self.g.tile_m, &wave_row, self.tiles_m * TILE);
        let col = corner(ar, col_block, self.g.tile_n, &wave_col, self.tiles_n * TILE);
        Origin { row, col, lane }
    }

    /// The offset in A (row-major, `k` contiguous) of value `item` of the lane for the
    /// wavefront's tile row `i` at `k0`.
    pub fn a_offset<A: Arith>(
        &self,
        ar: &mut A,
        base: &A::V,
        o: &Origin<A::V>,
        i: i64,
        k0: &A::V,
        item: i64,
    ) -> A::V {
        let (r, k) = a_element(ar, &o.lane, item);
        let row = tile_start(ar, &o.row, i, &r);
        let k = ar.add(k0, &k);
        two_d(ar, base, &row, self.g.k, &k)
    }

    /// The offset in B (`[k][n]`, or `[n][k]` when transposed) of value `item` of the lane
    /// for the wavefront's tile column `j` at `k0`.
    pub fn b_offset<A: Arith>(
        &self,
        ar: &mut A,
        base: &A::V,
        o: &Origin<A::V>,
        j: i64,
        k0: &A::V,
        item: i64,
    ) -> A::V {
        let (k, c) = b_element(ar, &o.lane, item);
        let col = tile_start(ar, &o.col, j, &c);
        let k = ar.add(k0, &k);
        if self.g.b_transposed {
            two_d(ar, base, &col, self.g.k, &k)
        } else {
            two_d(ar, base, &k, self.g.n, &col)
        }
    }

    /// The offset in C (row-major) of value `item` of the lane in tile (`i`, `j`).
    pub fn c_offset<A: Arith>(
        &self,
        ar: &mut A,
        base: &A::V,
        o: &Origin<A::V>,
        (i, j): (i64, i64),
        item: i64,
    ) -> A::V {
        let (r, c) = c_element(ar, &o.lane, item);
        let row = tile_start(ar, &o.row, i, &r);
        let col = tile_start(ar, &o.col, j, &c);
        two_d(ar, base, &row, self.g.n, &col)
    }
}

/// `start + 16 * t + within`: an index in the `t`-th tile from `start`.
fn tile_start<A: Arith>(ar: &mut A, start: &A::V, t: i64, within: &A::V) -> A::V {
    let first = ar.add_int(start, t * TILE);
    ar.add(&first, within)
}

/// `base + outer * stride + inner`.
fn two_d<A: Arith>(ar: &mut A, base: &A::V, outer: &A::V, stride: i64, inner: &A::V) -> A::V {
    let o = ar.mul(outer, stride);
    let at = ar.add(base, &o);
    ar.add(&at, inner)
}

/// A step between the f32 sum and C.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Step {
    /// Multiply by the constant (an f32).
    Scale(f32),
    /// Round to the narrow dtype and back to f32.
    Round(DType),
}

/// The steps from the f32 sum to the stored value, as the program computes them: a
/// scale by `alpha` (rounded to f32) before the cast, or after it (the sum rounded
/// first), then the cast to `dtype_out`. A stored value of f32 is the result widened.
pub fn epilogue(g: &TcGemm) -> Vec<Step> {
    let alpha = DType::F32.round_float(g.alpha) as f32;
    let narrow = g.dtype_out != DType::F32;
    let mut steps = Vec::new();
    if g.scale_after_cast && narrow {
        steps.push(Step::Round(g.dtype_out));
    }
    if alpha != 1.0 {
        steps.push(Step::Scale(alpha));
    }
    if narrow {
        steps.push(Step::Round(g.dtype_out));
    }
    steps
}

/// The dtype C's buffer holds: f32 when the result is f32 or widened again to f32.
pub fn stored_dtype(g: &TcGemm) -> DType {
    if g.store_f32 { DType::F32 } else { g.dtype_out }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each lane's values are distinct elements, and the 64 x 4 values of each operand
    /// cover its 16 x 16 tile once.
    #[test]
    fn the_lanes_cover_each_tile_once() {
        type Element = fn(&mut Eval, &i64, i64) -> (i64, i64);
        for element in [a_element::<Eval> as Element, b_element, c_element] {
            let mut seen = [[false; 16]; 16];
            for lane in 0..LANES {
                for item in 0..ITEMS {
                    let (x, y) = element(&mut Eval, &lane, item);
                    let cell = &mut seen[x as usize][y as usize];
                    assert!(!*cell, "({x}, {y}) twice");
                    *cell = true;
                }
            }
            assert!(seen.iter().flatten().all(|s| *s));
        }
    }

    #[test]
    fn the_epilogue_rounds_as_the_program_does() {
        let g = TcGemm::parse(
            "gemm unit=16x16x16 m=32 n=32 k=16 in=f16 out=f16 bt=0 \
             alpha=3fc0000000000000 late=1 wide=1 tile=32x32 slots=0,1,2 batch=",
        )
        .expect("a GEMM");
        assert_eq!(
            epilogue(&g),
            [
                Step::Round(DType::F16),
                Step::Scale(0.125),
                Step::Round(DType::F16)
            ]
        );
        assert_eq!(stored_dtype(&g), DType::F32);
        let plain = TcGemm {
            alpha: 1.0,
            scale_after_cast: false,
            dtype_out: DType::F32,
            store_f32: false,
            ..g.clone()
        };
        assert!(epilogue(&plain).is_empty());
        let refused = TcGemm { k: 24, ..g.clone() };
        assert!(Plan::new(&refused).is_err());
        let nv = TcGemm {
            unit: GemmUnit::M16n8k16,
            ..g
        };
        assert!(Plan::new(&nv).unwrap_err().contains("m16n8k16"));
    }
}
