//! Compositions: matmul at odd and transposed shapes, softmax and layernorm along every
//! axis.

mod common;

use common::{ATOL, F32, Rng, SHAPES, TRANS, check_f32, check_i32};

#[test]
fn matmul_shapes() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(12);
    for (m, k, n) in [
        (1, 1, 1),
        (3, 5, 7),
        (13, 1, 4),
        (1, 9, 1),
        (8, 8, 8),
        (2, 33, 3),
        // large enough for the CPU heuristics to tile, vectorize and pack B
        (64, 48, 128),
        (37, 100, 80),
        (16, 256, 32),
        (24, 64, 17),
    ] {
        let (a, ra) = rng.tensor(&[m, k]);
        let (b, rb) = rng.tensor(&[k, n]);
        // matmul reduces [m, n, k] over k
        check_f32(
            &a.matmul(&b).unwrap(),
            &ra.matmul(&rb),
            F32,
            1e-6 * 4.0 * k as f64,
            &format!("matmul {m}x{k} @ {k}x{n}"),
        );
    }
    // transposed operands and a chain
    let (a, ra) = rng.tensor(&[5, 6]);
    let (b, rb) = rng.tensor(&[7, 6]);
    let (c, rc) = rng.tensor(&[7, 3]);
    let t = a
        .matmul(&b.transpose(0, 1).unwrap())
        .unwrap()
        .matmul(&c)
        .unwrap();
    let rt = ra.matmul(&rb.permute(&[1, 0])).matmul(&rc);
    check_f32(&t, &rt, 1e-5, 1e-4, "(a @ b.T) @ c");
    // integer matmul is exact
    let (x, rx) = rng.tensor_i32(&[4, 3], 9);
    let (y, ry) = rng.tensor_i32(&[3, 5], 9);
    check_i32(&x.matmul(&y).unwrap(), &rx.matmul(&ry), "i32 matmul");
}

#[test]
fn softmax_and_layernorm() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(13);
    for shape in SHAPES {
        let (a, ra) = rng.tensor(shape);
        let rank = shape.len();
        for axis in 0..rank {
            let what = |op: &str| format!("{op} {shape:?} axis {axis}");
            check_f32(
                &a.softmax(axis as isize).unwrap(),
                &ra.softmax(axis),
                TRANS,
                ATOL,
                &what("softmax"),
            );
            check_f32(
                &a.softmax(axis as isize - rank as isize).unwrap(),
                &ra.softmax(axis),
                TRANS,
                ATOL,
                &what("softmax negative axis"),
            );
            // eps keeps the size-1 axes (variance 0) finite
            check_f32(
                &a.layernorm(axis as isize, 1e-5).unwrap(),
                &ra.layernorm(axis, 1e-5),
                1e-4,
                1e-4,
                &what("layernorm"),
            );
        }
    }
}
