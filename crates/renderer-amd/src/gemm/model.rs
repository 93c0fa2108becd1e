//! The MFMA GEMM in software, for the tests: every block, wavefront and `k` step as the
//! IR runs them, with `Plan`'s index functions evaluated on numbers and the instruction
//! computed lane by lane from its definition (where the ISA keeps each element of A, B
//! and D: the right-hand column of the layout table in `gemm`'s module doc, written here
//! independently of `layout`'s lane-to-element functions). The proptest checks it
//! against a plain triple loop with the program's roundings, over shapes, both B
//! layouts, batch loops (B broadcast or not), scales before and after the cast, and
//! every output dtype.

use linearizer::opts::tc::{BatchDim, GemmUnit, TcGemm};
use proptest::prelude::*;
use uop_ir::DType;

use super::layout::{
    Eval, ITEMS, LANES, Plan, Step, TILE, a_element, b_element, c_element, epilogue, stored_dtype,
};

/// One operand in registers: 64 lanes of 4 values.
type Regs = [[f32; ITEMS as usize]; LANES as usize];

/// `v_mfma_f32_16x16x16`: `D = A B + C` on 16 x 16 tiles, each element read from and
/// written to the lane and value where the ISA keeps it.
fn mfma(a: &Regs, b: &Regs, c: &Regs) -> Regs {
    let mut d = *c;
    for i in 0..16 {
        for j in 0..16 {
            let mut sum = 0.0f32;
            for k in 0..16 {
                sum += a[i + 16 * (k / 4)][k % 4] * b[j + 16 * (k / 4)][k % 4];
            }
            d[j + 16 * (i / 4)][i % 4] += sum;
        }
    }
    d
}

fn apply(steps: &[Step], mut v: f32) -> f32 {
    for s in steps {
        v = match *s {
            Step::Scale(alpha) => v * alpha,
            Step::Round(d) => d.round_float(f64::from(v)) as f32,
        };
    }
    v
}

/// `g` run as the IR runs it on `a` and `b` (values of `dtype_in`, as f32), into `c`
/// (the stored values, as f32). An index outside a buffer is an error.
pub(super) fn run(g: &TcGemm, a: &[f32], b: &[f32], c: &mut [f32]) -> Result<(), String> {
    let plan = Plan::new(g)?;
    let steps = epilogue(g);
    let read = |buf: &[f32], at: i64| {
        usize::try_from(at)
            .ok()
            .and_then(|i| buf.get(i).copied())
            .ok_or_else(|| format!("read at {at} of {}", buf.len()))
    };
    let ar = &mut Eval;
    for batch in 0..g.batch_size() {
        let [a0, b0, c0] = plan.batch_offsets(ar, &batch);
        for row_block in 0..g.m / g.tile_m {
            for col_block in 0..g.n / g.tile_n {
                for wave in 0..plan.threads() / LANES {
                    let origins: Vec<_> = (0..LANES)
                        .map(|lane| plan.origin(ar, &col_block, &row_block, &(wave * LANES + lane)))
                        .collect();
                    let tiles = (plan.tiles_m * plan.tiles_n) as usize;
                    let mut acc = vec![[[0.0f32; 4]; 64]; tiles];
                    for k0 in (0..g.k).step_by(TILE as usize) {
                        let (mut fa, mut fb) = (
                            vec![[[0.0f32; 4]; 64]; plan.tiles_m as usize],
                            vec![[[0.0f32; 4]; 64]; plan.tiles_n as usize],
                        );
                        for (lane, o) in origins.iter().enumerate() {
                            for item in 0..ITEMS {
                                let v = item as usize;
                                for i in 0..plan.tiles_m {
                                    let at = plan.a_offset(ar, &a0, o, i, &k0, item);
                                    fa[i as usize][lane][v] = read(a, at)?;
                                }
                                for j in 0..plan.tiles_n {
                                    let at = plan.b_offset(ar, &b0, o, j, &k0, item);
                                    fb[j as usize][lane][v] = read(b, at)?;
                                }
                            }
                        }
                        for i in 0..plan.tiles_m {
                            for j in 0..plan.tiles_n {
                                let t = (i * plan.tiles_n + j) as usize;
                                acc[t] = mfma(&fa[i as usize], &fb[j as usize], &acc[t]);
                            }
                        }
                    }
                    for (lane, o) in origins.iter().enumerate() {
                        for i in 0..plan.tiles_m {
                            for j in 0..plan.tiles_n {
                                let t = (i * plan.tiles_n + j) as usize;
                                for item in 0..ITEMS {
                                    let at = plan.c_offset(ar, &c0, o, (i, j), item);
                                    let v = apply(&steps, acc[t][lane][item as usize]);
                                    let slot = usize::try_from(at)
                                        .ok()
                                        .and_then(|x| c.get_mut(x))
                                        .ok_or_else(|| format!("write at {at}"))?;
                                    *slot = v;
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// The batch entries of `g` as (A, B, C) offsets, outermost loop first.
fn batch_entries(g: &TcGemm) -> Vec<(i64, i64, i64)> {
    let mut out = vec![(0, 0, 0)];
    for d in &g.batch {
        out = out
            .iter()
            .flat_map(|&(a, b, c)| {
                (0..d.extent).map(move |x| (a + x * d.a, b + x * d.b, c + x * d.c))
            })
            .collect();
    }
    out
}

/// What the program computes: `C = cast(alpha * A B)` (or `cast(alpha * f32(cast(A B)))`
/// when the scale comes after the cast) in a triple loop, widened to f32 when C holds f32.
fn reference(g: &TcGemm, a: &[f32], b: &[f32], c: &mut [f32]) {
    let alpha = g.alpha as f32;
    let round = |v: f32| g.dtype_out.round_float(f64::from(v)) as f32;
    for (ao, bo, co) in batch_entries(g) {
        for i in 0..g.m {
            for j in 0..g.n {
                let mut sum = 0.0f32;
                for k in 0..g.k {
                    let bk = if g.b_transposed {
                        j * g.k + k
                    } else {
                        k * g.n + j
                    };
                    sum += a[(ao + i * g.k + k) as usize] * b[(bo + bk) as usize];
                }
                let v = if g.scale_after_cast {
                    round(round(sum) * alpha)
                } else {
                    round(sum * alpha)
                };
                c[(co + i * g.n + j) as usize] = v;
            }
        }
    }
}

/// Small integers (exact in f16 and bf16, their sums exact in f32 in any order).
fn values(n: i64, seed: &mut u64) -> Vec<f32> {
    (0..n)
        .map(|_| {
            *seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((*seed >> 33) % 7) as f32 - 3.0
        })
        .collect()
}

/// A GEMM of the given shape with contiguous batch loops (B's stride 0 when shared).
#[allow(clippy::too_many_arguments)]
fn gemm(
    (m, n, k): (i64, i64, i64),
    batch: &[i64],
    b_shared: bool,
    dtype_in: DType,
    dtype_out: DType,
    b_transposed: bool,
    alpha: f64,
    late: bool,
    wide: bool,
) -> TcGemm {
    let unit = GemmUnit::Mfma16x16x16;
    let mut dims = Vec::new();
    let (mut sa, mut sb, mut sc) = (m * k, if b_shared { 0 } else { k * n }, m * n);
    for &extent in batch.iter().rev() {
        dims.push(BatchDim {
            extent,
            a: sa,
            b: sb,
            c: sc,
        });
        (sa, sb, sc) = (sa * extent, sb * extent, sc * extent);
    }
    dims.reverse();
    TcGemm {
        unit,
        m,
        n,
        k,
        dtype_in,
        dtype_out,
        b_transposed,
        alpha,
        scale_after_cast: late && dtype_out != DType::F32,
        store_f32: wide && dtype_out != DType::F32,
        tile_m: unit.tile(m).unwrap_or(0),
        tile_n: unit.tile(n).unwrap_or(0),
        batch: dims,
        slots: [0, 1, 2],
    }
}

/// The model's C and the reference's, on the same random inputs.
fn both(g: &TcGemm, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let entries = g.batch_size();
    let b_entries = if g.batch.iter().all(|d| d.b == 0) {
        1
    } else {
        entries
    };
    let mut seed = seed;
    let a = values(entries * g.m * g.k, &mut seed);
    let b = values(b_entries * g.k * g.n, &mut seed);
    let size = (entries * g.m * g.n) as usize;
    let (mut got, mut want) = (vec![f32::NAN; size], vec![f32::NAN; size]);
    run(g, &a, &b, &mut got).unwrap_or_else(|e| panic!("{e}: {g}"));
    reference(g, &a, &b, &mut want);
    (got, want)
}

#[test]
fn the_model_computes_a_matmul() {
    let g = gemm(
        (64, 32, 48),
        &[],
        false,
        DType::F16,
        DType::F32,
        false,
        1.0,
        false,
        false,
    );
    assert_eq!((g.tile_m, g.tile_n), (64, 32));
    let (got, want) = both(&g, 1);
    assert_eq!(got, want);
    assert!(want.iter().any(|v| *v != 0.0));
}

/// One 16 x 16 tile product through the registers: A and B placed by `a_element` and
/// `b_element`, D read back by `c_element`, against the product of the matrices; a layout
/// that swapped A's rows and k (A transposed) would give another product.
#[test]
fn one_instruction_multiplies_the_tiles_the_layout_names() {
    let mut seed = 5;
    let (a, b) = (values(256, &mut seed), values(256, &mut seed));
    let at = |x: i64, y: i64| (x * 16 + y) as usize;
    let (mut ra, mut rb, mut ra_t): (Regs, Regs, Regs) =
        ([[0.0; 4]; 64], [[0.0; 4]; 64], [[0.0; 4]; 64]);
    for lane in 0..LANES {
        for item in 0..ITEMS {
            let (l, v) = (lane as usize, item as usize);
            let (row, k) = a_element(&mut Eval, &lane, item);
            ra[l][v] = a[at(row, k)];
            ra_t[l][v] = a[at(k, row)];
            let (k, col) = b_element(&mut Eval, &lane, item);
            rb[l][v] = b[at(k, col)];
        }
    }
    let zero = [[0.0; 4]; 64];
    let (d, d_t) = (mfma(&ra, &rb, &zero), mfma(&ra_t, &rb, &zero));
    let (mut same, mut other) = (true, true);
    for lane in 0..LANES {
        for item in 0..ITEMS {
            let (i, j) = c_element(&mut Eval, &lane, item);
            let want: f32 = (0..16).map(|k| a[at(i, k)] * b[at(k, j)]).sum();
            let (l, v) = (lane as usize, item as usize);
            same &= d[l][v] == want;
            other &= d_t[l][v] == want;
        }
    }
    assert!(same, "the layout's product");
    assert!(!other, "A transposed gives another product");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn the_model_matches_a_plain_matmul(
        m in prop::sample::select(vec![32i64, 64, 96, 128]),
        n in prop::sample::select(vec![32i64, 64, 96, 128]),
        k in prop::sample::select(vec![16i64, 32, 48, 80]),
        batch in prop::collection::vec(1i64..4, 0..3),
        b_shared in any::<bool>(),
        bf16 in any::<bool>(),
        dtype_out in prop::sample::select(vec![DType::F16, DType::BF16, DType::F32]),
        b_transposed in any::<bool>(),
        alpha in prop::sample::select(vec![1.0f64, 0.5, 0.125, 3.0, 0.1]),
        late in any::<bool>(),
        wide in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let dtype_in = if bf16 { DType::BF16 } else { DType::F16 };
        let g = gemm(
            (m, n, k), &batch, b_shared, dtype_in, dtype_out, b_transposed, alpha, late, wide,
        );
        prop_assert_eq!(stored_dtype(&g) == DType::F32, dtype_out == DType::F32 || g.store_f32);
        let (got, want) = both(&g, seed);
        for (x, (u, v)) in got.iter().zip(&want).enumerate() {
            prop_assert!(u == v, "{}: element {} is {} not {}", g, x, u, v);
        }
    }
}
