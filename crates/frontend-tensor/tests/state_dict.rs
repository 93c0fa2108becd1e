//! `load_state_dict`: values are written into the module's existing buffers (an optimizer
//! holding the parameters keeps training them), and a state that does not fit is refused
//! whole, with every missing, unexpected and mismatched name in the error.

mod common;

use frontend_tensor::nn::{BatchNorm1d, Linear, Module, Sequential};
use frontend_tensor::optim::{Optimizer, SGD};
use frontend_tensor::{DType, Tensor, TensorError, manual_seed};

fn model() -> Sequential {
    Sequential::new()
        .with(Linear::new(2, 3).expect("Linear"))
        .with(BatchNorm1d::new(3).expect("BatchNorm1d"))
}

fn f32s(t: &Tensor) -> Vec<f32> {
    t.cast(DType::F32)
        .and_then(|t| t.to_vec::<f32>())
        .expect("values")
}

#[test]
fn loading_writes_into_the_existing_tensors() {
    if !common::cpu() {
        return;
    }
    manual_seed(11);
    let (src, dst) = (model(), model());
    // give the source's buffers values of their own
    src.forward(
        &Tensor::arange(8, DType::F32)
            .and_then(|t| t.reshape(&[4, 2]))
            .expect("x"),
    )
    .expect("forward");
    let before: Vec<Tensor> = dst.state_dict().into_iter().map(|(_, t)| t).collect();
    let nodes: Vec<_> = before.iter().map(Tensor::node).collect();
    let mut opt = SGD::new(dst.parameters(), 0.5).expect("SGD");
    dst.load_state_dict(&src.state_dict()).expect("load");
    for ((name, s), (d, node)) in src.state_dict().iter().zip(before.iter().zip(&nodes)) {
        assert_eq!(f32s(s), f32s(d), "{name}");
        // a rank-0 tensor is realized through a reshape to [1], which gives its assigned
        // value a fresh buffer: only the values are compared there
        if !d.shape().is_empty() {
            assert_eq!(&d.node(), node, "{name} keeps its buffer");
        }
    }
    // the optimizer, made before the load, updates the loaded values
    let w = dst.named_parameters()[0].1.clone();
    let loaded = f32s(&w);
    w.sum(&[], false)
        .expect("loss")
        .backward()
        .expect("backward");
    opt.step().expect("step");
    let stepped: Vec<f32> = loaded.iter().map(|v| v - 0.5).collect();
    assert_eq!(f32s(&w), stepped);
}

#[test]
fn a_state_that_does_not_fit_is_refused_whole() {
    if !common::cpu() {
        return;
    }
    let m = model();
    let mut state = m.state_dict();
    let kept = f32s(&state[0].1);
    state.retain(|(n, _)| n != "1.running_var");
    state[0].1 = Tensor::zeros(&[3, 2], DType::F32).expect("zeros");
    state[1].1 = Tensor::zeros(&[4], DType::F32).expect("wrong shape");
    state[2].1 = Tensor::zeros(&[3], DType::F64).expect("wrong dtype");
    state.push((
        "1.extra".into(),
        Tensor::zeros(&[1], DType::F32).expect("extra"),
    ));
    let e = m.load_state_dict(&state).unwrap_err();
    let TensorError::StateDict {
        missing,
        unexpected,
        mismatched,
    } = &e
    else {
        panic!("want a StateDict error, got {e}");
    };
    assert_eq!(missing, &["1.running_var"]);
    assert_eq!(unexpected, &["1.extra"]);
    assert_eq!(mismatched.len(), 2, "{mismatched:?}");
    assert!(
        mismatched[0].starts_with("0.bias:") && mismatched[0].contains("[4]"),
        "{e}"
    );
    assert!(
        mismatched[1].starts_with("1.weight:") && mismatched[1].contains("f64"),
        "{e}"
    );
    let msg = e.to_string();
    assert!(
        msg.starts_with(
            "load_state_dict: missing: 1.running_var; unexpected: 1.extra; mismatched: 0.bias"
        ),
        "{msg}"
    );
    // nothing was written, not even the entry that fit
    assert_eq!(f32s(&m.state_dict()[0].1), kept);
}
