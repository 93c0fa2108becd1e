//! Snapshots of the IR rendered for the canonical programs (each also parsed and verified
//! by LLVM when the `llvm` feature is on), and the errors of malformed ones.

mod common;

use common::*;
use renderer::{RenderError, Renderer};
use renderer_llvm::LlvmRenderer;
use uop_ir::{Arg, DType, Op, UOp};

fn renderer() -> LlvmRenderer {
    LlvmRenderer::with_vectors(4, 32, true)
}

/// The IR of `p`, checked by LLVM's parser and verifier where LLVM is built in.
fn render(p: &renderer::LinearProgram) -> String {
    let src = renderer().render(p).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(src.function, p.name);
    #[cfg(feature = "llvm")]
    if let Err(e) = renderer_llvm::compile::verify(&p.name, &src.code) {
        panic!("{e}\n{}", src.code);
    }
    src.code
}

fn render_err(p: &renderer::LinearProgram) -> RenderError {
    match renderer().render(p) {
        Ok(src) => panic!("rendered a malformed program:\n{}", src.code),
        Err(e) => e,
    }
}

#[test]
fn target_matches_the_c_renderers_but_its_name() {
    for fma in [false, true] {
        let llvm = LlvmRenderer::with_vectors(3, 32, fma).target().clone();
        let c = renderer_c::CRenderer::with_vectors(3, 32, fma)
            .target()
            .clone();
        assert_eq!(llvm.name, "LLVM");
        assert_eq!(renderer::Target { name: "C", ..llvm }, c);
    }
    let host = LlvmRenderer::new();
    assert_eq!(
        host.target().vector.as_ref().map(|v| v.bytes),
        Some(renderer_llvm::native_vector_bytes())
    );
}

#[test]
fn snapshot_elementwise() {
    insta::assert_snapshot!(render(&elementwise(16)));
}

#[test]
fn snapshot_row_sums() {
    insta::assert_snapshot!(render(&row_sums(4, 8)));
}

#[test]
fn snapshot_padded_load() {
    insta::assert_snapshot!(render(&padded(10, 2, 3)));
}

#[test]
fn snapshot_floor_index() {
    insta::assert_snapshot!(render(&floor_index(12)));
}

#[test]
fn snapshot_half() {
    insta::assert_snapshot!(render(&half(8)));
}

#[test]
fn snapshot_fp8() {
    insta::assert_snapshot!(render(&fp8(8)));
}

#[test]
fn snapshot_threaded() {
    insta::assert_snapshot!(render(&threaded(4, 8)));
}

#[test]
fn snapshot_vectors() {
    insta::assert_snapshot!(render(&vectors(20)));
}

#[test]
fn snapshot_casts() {
    insta::assert_snapshot!(render(&casts(5)));
}

#[test]
fn rendering_is_deterministic() {
    let p = row_sums(3, 5);
    assert_eq!(render(&p), render(&p));
}

fn malformed_why(e: RenderError) -> String {
    match e {
        RenderError::Malformed { kernel, why } => {
            assert_eq!(kernel, "bad");
            why
        }
        other => panic!("expected Malformed, got {other}"),
    }
}

#[test]
fn end_without_an_open_range_is_malformed() {
    let r = UOp::range(4, 0);
    let mut p = program("bad", &[r.clone(), end(&r)]);
    p.uops.push(end(&UOp::range(3, 1)));
    let why = malformed_why(render_err(&p));
    assert!(why.contains("END"), "{why}");

    let r2 = UOp::range(2, 1);
    let p = program("bad", &[r.clone(), r2.clone(), end(&r), end(&r2)]);
    let why = malformed_why(render_err(&p));
    assert!(why.contains("not the innermost open loop"), "{why}");
}

#[test]
fn an_unclosed_range_is_malformed() {
    let out = param(0, DType::F32);
    let r = UOp::range(4, 0);
    let p = program(
        "bad",
        &[r.clone(), store(&index(&out, &r), &float(DType::F32, 1.0))],
    );
    let why = malformed_why(render_err(&p));
    assert!(why.contains("never closed"), "{why}");
}

#[test]
fn a_value_used_after_its_loop_is_malformed() {
    let out = param(0, DType::I32);
    let r = UOp::range(4, 0);
    let inside = (&r * 2).cast(DType::I32);
    let p = program(
        "bad",
        &[
            r.clone(),
            inside.clone(),
            end(&r),
            store(&index(&out, &UOp::int(0)), &inside),
        ],
    );
    let why = malformed_why(render_err(&p));
    assert!(why.contains("outside the loop"), "{why}");
}

#[test]
fn mismatched_store_dtype_is_malformed() {
    let out = param(0, DType::F16);
    let p = program(
        "bad",
        &[store(&index(&out, &UOp::int(0)), &float(DType::F32, 1.0))],
    );
    let why = malformed_why(render_err(&p));
    assert!(why.contains("stores a f32 into a f16"), "{why}");
}

#[test]
fn unknown_ops_are_unsupported() {
    let out = param(0, DType::Index);
    let p = program(
        "bad",
        &[store(&index(&out, &UOp::int(0)), &UOp::var("n", 0, 9))],
    );
    match render_err(&p) {
        RenderError::Unsupported {
            target,
            kernel,
            op,
            why,
        } => {
            assert_eq!(
                (target, kernel.as_str(), op),
                ("LLVM", "bad", Op::DefineVar)
            );
            assert!(why.contains("DEFINE_VAR index"), "{why}");
        }
        other => panic!("expected Unsupported, got {other}"),
    }
    let x = UOp::new(
        Op::Sqrt,
        DType::I32,
        [UOp::int(4).cast(DType::I32)],
        Arg::None,
    );
    let out = param(0, DType::I32);
    let p = program("bad", &[store(&index(&out, &UOp::int(0)), &x)]);
    assert!(matches!(
        render_err(&p),
        RenderError::Unsupported { op: Op::Sqrt, .. }
    ));
}

#[test]
fn the_cpu_has_no_workgroups() {
    let out = param(0, DType::Index);
    let lidx = UOp::special(uop_ir::Special::Local(0), 4);
    let p = program("bad", &[store(&index(&out, &lidx), &lidx)]);
    match render_err(&p) {
        RenderError::Unsupported { op, why, .. } => {
            assert_eq!(op, Op::Special);
            assert!(why.contains("only core_id, not lidx0"), "{why}");
        }
        other => panic!("expected Unsupported, got {other}"),
    }
    let st = store(&index(&out, &UOp::int(0)), &UOp::int(1));
    let barrier = UOp::new(Op::Barrier, DType::Void, [st.clone()], Arg::None);
    let p = program("bad", &[st, barrier]);
    assert!(matches!(
        render_err(&p),
        RenderError::Unsupported {
            op: Op::Barrier,
            ..
        }
    ));
}

#[test]
fn a_second_core_id_is_malformed() {
    let out = param(0, DType::Index);
    let (a, b) = (core_id(2), core_id(3));
    let p = program("bad", &[store(&index(&out, &a), &b)]);
    let why = malformed_why(render_err(&p));
    assert!(why.contains("a second core_id"), "{why}");
}

#[test]
fn a_bad_kernel_name_is_malformed() {
    let p = program("not a name", &[]);
    assert!(matches!(render_err(&p), RenderError::Malformed { .. }));
}
