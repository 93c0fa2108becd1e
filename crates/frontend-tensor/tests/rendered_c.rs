//! The C that canonical kernels render to, as `insta` snapshots: a change in the
//! linearizer or the C renderer shows up as a diff to review like code. Kernels are
//! linearized for `Target::default()` (scalar, one thread), so the text does not depend on the
//! machine. Rendering runs nothing, so no C compiler is needed.

mod common;

use frontend_tensor::Tensor;
use renderer::Renderer;

/// The C source of each kernel that realizing `t` schedules.
fn render(t: &Tensor) -> Vec<String> {
    render_with(
        t,
        &linearizer::Target::default(),
        &linearizer::LinearizeOptions::default(),
    )
}

/// The same with the CPU heuristics and the C target's vectors (one thread).
fn render_optimized(t: &Tensor) -> Vec<String> {
    let target = renderer_c::CRenderer::with_vectors(1, 32, true)
        .target()
        .clone();
    let options = linearizer::LinearizeOptions {
        optimize: true,
        opts: None,
    };
    render_with(t, &target, &options)
}

fn render_with(
    t: &Tensor,
    target: &linearizer::Target,
    options: &linearizer::LinearizeOptions,
) -> Vec<String> {
    let sched = Tensor::schedule(&[t]).unwrap_or_else(|e| panic!("schedule: {e}"));
    let renderer = renderer_c::CRenderer::new();
    sched
        .kernels
        .iter()
        .map(|k| {
            let sizes = k.buffer_sizes();
            let program = linearizer::linearize(&k.ast, &sizes, target, options)
                .unwrap_or_else(|e| panic!("linearize: {e}"));
            renderer
                .render(&program)
                .unwrap_or_else(|e| panic!("render: {e}"))
                .code
        })
        .collect()
}

/// The one kernel of `t`.
fn render_one(t: &Tensor) -> String {
    let mut src = render(t);
    assert_eq!(
        src.len(),
        1,
        "expected one kernel, got:\n{}",
        src.join("\n")
    );
    src.remove(0)
}

/// `1, 2, 3, ..` of `shape` (registers the device first).
fn ramp(shape: &[i64]) -> Tensor {
    common::cpu();
    let n: i64 = shape.iter().product();
    let data: Vec<f32> = (0..n).map(|i| i as f32 + 1.0).collect();
    Tensor::from_slice(&data, shape).expect("from_slice")
}

#[test]
fn elementwise_add() {
    let (a, b) = (ramp(&[16]), ramp(&[16]));
    insta::assert_snapshot!(render_one(&a.add(&b).unwrap()));
}

#[test]
fn row_sum() {
    let a = ramp(&[4, 8]);
    insta::assert_snapshot!(render_one(&a.sum(&[1], false).unwrap()));
}

#[test]
fn matmul_4x4() {
    let (a, b) = (ramp(&[4, 4]), ramp(&[4, 4]));
    insta::assert_snapshot!(render_one(&a.matmul(&b).unwrap()));
}

#[test]
fn padded_load() {
    let a = ramp(&[3, 5]);
    let b = ramp(&[5, 7]);
    let t = a.pad(&[(1, 1), (1, 1)]).unwrap().add(&b).unwrap();
    insta::assert_snapshot!(render_one(&t));
}

#[test]
fn i32_where_and_cast() {
    common::cpu();
    let data: Vec<i32> = (0..12).map(|i| i - 6).collect();
    let a = Tensor::from_slice(&data, &[12]).unwrap();
    let zero = Tensor::zeros(&[1], frontend_tensor::DType::I32).unwrap();
    let t = a
        .lt(&zero)
        .unwrap()
        .where_(&a.neg(), &a)
        .unwrap()
        .cast(frontend_tensor::DType::F32)
        .unwrap();
    insta::assert_snapshot!(render_one(&t));
}

#[test]
fn vectorized_mul_add() {
    let (a, b) = (ramp(&[64]), ramp(&[64]));
    let t = a.mul(&b).unwrap().add_scalar(1.0).unwrap();
    insta::assert_snapshot!(render_optimized(&t).join("\n"));
}

#[test]
fn vectorized_softmax() {
    let a = ramp(&[4, 32]);
    insta::assert_snapshot!(render_optimized(&a.softmax(-1).unwrap()).join("\n"));
}

#[test]
fn vectorized_matmul() {
    let (a, b) = (ramp(&[8, 16]), ramp(&[16, 16]));
    insta::assert_snapshot!(render_optimized(&a.matmul(&b).unwrap()).join("\n"));
}

/// B's rows are 128 bytes apart: each 16-column strip of B is packed into scratch once per
/// strip, and the rows of A read it from there.
#[test]
fn packed_matmul() {
    let (a, b) = (ramp(&[32, 64]), ramp(&[64, 32]));
    let c = render_optimized(&a.matmul(&b).unwrap()).join("\n");
    assert!(c.contains("local0["), "{c}");
    insta::assert_snapshot!(c);
}

/// 77 elements: no lane count divides the loop, so it is padded to 80 and its last vector
/// loads and stores lane by lane.
#[test]
fn masked_vectors() {
    let (a, b) = (ramp(&[77]), ramp(&[77]));
    let t = a.mul(&b).unwrap().add_scalar(1.0).unwrap();
    insta::assert_snapshot!(render_optimized(&t).join("\n"));
}
