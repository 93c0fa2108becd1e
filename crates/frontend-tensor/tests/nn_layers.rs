//! The nn layers against plain loops: Linear, LayerNorm, RMSNorm, BatchNorm1d/2d
//! (training and evaluation, running statistics), Flatten; their default inits; the
//! names of parameters and buffers as PyTorch gives them; training mode reaching nested
//! modules; and bad inputs as errors naming the layer.

mod common;

use common::{Ref, Rng, assert_close, check_f32};
use frontend_tensor::nn::{
    BatchNorm1d, BatchNorm2d, Flatten, LayerNorm, Linear, Module, RMSNorm, ReLU, Sequential,
};
use frontend_tensor::{DType, Tensor, manual_seed};

fn values(t: &Tensor) -> Ref {
    let v = t.to_vec::<f32>().expect("values");
    let shape: Vec<usize> = t.shape().iter().map(|&d| d as usize).collect();
    Ref::new(&shape, v.iter().map(|&x| f64::from(x)).collect())
}

/// Overwrites a parameter with random values (so affine terms are not 1 and 0).
fn randomize(rng: &mut Rng, t: &Tensor) -> Ref {
    let shape: Vec<usize> = t.shape().iter().map(|&d| d as usize).collect();
    let (v, r) = rng.tensor(&shape);
    t.assign(&v).expect("assign");
    r
}

fn names(tensors: &[(String, Tensor)]) -> Vec<&str> {
    tensors.iter().map(|(n, _)| n.as_str()).collect()
}

#[test]
fn linear_matches_loops_and_inits_as_pytorch() {
    if !common::cpu() {
        return;
    }
    manual_seed(1);
    let mut rng = Rng::new(1);
    let layer = Linear::new(4, 5).expect("Linear");
    assert_eq!(names(&layer.named_parameters()), ["weight", "bias"]);
    assert_eq!(layer.weight.shape(), [5, 4]);
    let w = values(&layer.weight);
    let b = values(layer.bias.as_ref().expect("bias"));
    // uniform in [-1/sqrt(4), 1/sqrt(4)), not constant
    for v in w.data.iter().chain(&b.data) {
        assert!((-0.5..0.5).contains(v), "init value {v}");
    }
    assert!(w.data.iter().any(|v| (v - w.data[0]).abs() > 1e-3));
    assert!(layer.weight.requires_grad());
    let (x, rx) = rng.tensor(&[2, 3, 4]);
    let y = layer.forward(&x).expect("forward");
    let want = Ref::from_fn(&[2, 3, 5], |i| {
        b.data[i[2]]
            + (0..4)
                .map(|k| rx.at(&[i[0], i[1], k]) * w.at(&[i[2], k]))
                .sum::<f64>()
    });
    check_f32(&y, &want, 1e-5, 1e-6, "Linear(4, 5) of [2, 3, 4]");
    // d sum(y) / d weight[o, k] = sum of x[.., k] over the rows
    y.sum(&[], false)
        .expect("sum")
        .backward()
        .expect("backward");
    let grad = layer.weight.grad().expect("grad");
    let col = rx.sum(&[0, 1], false);
    let want = Ref::from_fn(&[5, 4], |i| col.data[i[1]]);
    check_f32(&grad, &want, 1e-5, 1e-6, "grad of weight");

    let plain = Linear::with_bias(4, 2, false).expect("no bias");
    assert_eq!(names(&plain.named_parameters()), ["weight"]);
    let e = layer
        .forward(&rng.tensor(&[3, 5]).0)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("Linear") && e.contains("[3, 5]") && e.contains("in_features = 4"),
        "{e}"
    );
}

#[test]
fn layer_norm_over_the_last_two_dims() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(2);
    let ln = LayerNorm::new(&[3, 4]).expect("LayerNorm");
    assert_eq!(names(&ln.named_parameters()), ["weight", "bias"]);
    let w = randomize(&mut rng, ln.weight.as_ref().expect("weight"));
    let b = randomize(&mut rng, ln.bias.as_ref().expect("bias"));
    let (x, rx) = rng.tensor(&[2, 3, 4]);
    let y = ln.forward(&x).expect("forward");
    let want = Ref::from_fn(&[2, 3, 4], |i| {
        let row: Vec<f64> = (0..12).map(|k| rx.at(&[i[0], k / 4, k % 4])).collect();
        let mean = row.iter().sum::<f64>() / 12.0;
        let var = row.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 12.0;
        (rx.at(i) - mean) / (var + 1e-5).sqrt() * w.at(&i[1..]) + b.at(&i[1..])
    });
    check_f32(&y, &want, 1e-4, 1e-5, "LayerNorm([3, 4])");
    let e = ln
        .forward(&rng.tensor(&[2, 4, 3]).0)
        .unwrap_err()
        .to_string();
    assert!(e.contains("LayerNorm") && e.contains("[3, 4]"), "{e}");
    let bare = LayerNorm::with_options(&[4], 1e-5, false, false).expect("no affine");
    assert!(bare.named_parameters().is_empty());
}

#[test]
fn rms_norm_with_the_dtype_epsilon() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(3);
    let norm = RMSNorm::new(&[6]).expect("RMSNorm");
    let w = randomize(&mut rng, norm.weight.as_ref().expect("weight"));
    let (x, rx) = rng.tensor(&[4, 6]);
    let y = norm.forward(&x).expect("forward");
    let eps = f64::from(f32::EPSILON);
    let want = Ref::from_fn(&[4, 6], |i| {
        let ms = (0..6).map(|k| rx.at(&[i[0], k]).powi(2)).sum::<f64>() / 6.0;
        rx.at(i) / (ms + eps).sqrt() * w.data[i[1]]
    });
    check_f32(&y, &want, 1e-5, 1e-6, "RMSNorm([6])");
}

/// Per channel (dim 1) of `x`: the mean and the biased variance.
fn channel_stats(x: &Ref) -> (Vec<f64>, Vec<f64>) {
    let axes: Vec<usize> = (0..x.shape.len()).filter(|&a| a != 1).collect();
    let mean = x.mean(&axes, false).data;
    let var = x.var(&axes, false).data;
    (mean, var)
}

#[test]
fn batch_norm_2d_trains_on_batch_statistics_and_evaluates_on_running_ones() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(4);
    let bn = BatchNorm2d::new(3).expect("BatchNorm2d");
    assert_eq!(
        names(&bn.state_dict()),
        [
            "weight",
            "bias",
            "running_mean",
            "running_var",
            "num_batches_tracked"
        ]
    );
    assert_eq!(
        names(&bn.named_buffers()),
        ["running_mean", "running_var", "num_batches_tracked"]
    );
    let w = randomize(&mut rng, bn.weight().expect("weight"));
    let b = randomize(&mut rng, bn.bias().expect("bias"));
    let (mut rm, mut rv) = (vec![0.0; 3], vec![1.0; 3]);
    let count = (2 * 4 * 5) as f64;
    for batch in 0..2 {
        let (x, rx) = rng.tensor(&[2, 3, 4, 5]);
        let y = bn.forward(&x).expect("forward");
        let (mean, var) = channel_stats(&rx);
        let want = Ref::from_fn(&[2, 3, 4, 5], |i| {
            let c = i[1];
            (rx.at(i) - mean[c]) / (var[c] + 1e-5).sqrt() * w.data[c] + b.data[c]
        });
        check_f32(&y, &want, 1e-4, 1e-5, &format!("training forward {batch}"));
        for c in 0..3 {
            rm[c] = 0.9 * rm[c] + 0.1 * mean[c];
            rv[c] = 0.9 * rv[c] + 0.1 * var[c] * count / (count - 1.0);
        }
    }
    let tracked = bn.num_batches_tracked().to_vec::<i64>().expect("count");
    assert_eq!(tracked, [2]);
    assert_close(
        &bn.running_mean().to_vec::<f32>().expect("rm"),
        &Ref::new(&[3], rm.clone()),
        1e-5,
        1e-6,
        "running_mean",
    );
    assert_close(
        &bn.running_var().to_vec::<f32>().expect("rv"),
        &Ref::new(&[3], rv.clone()),
        1e-5,
        1e-6,
        "running_var",
    );

    bn.eval();
    assert!(!bn.is_training());
    let (x, rx) = rng.tensor(&[1, 3, 2, 2]);
    let y = bn.forward(&x).expect("eval forward");
    let want = Ref::from_fn(&[1, 3, 2, 2], |i| {
        let c = i[1];
        (rx.at(i) - rm[c]) / (rv[c] + 1e-5).sqrt() * w.data[c] + b.data[c]
    });
    check_f32(&y, &want, 1e-4, 1e-5, "eval forward");
    assert_eq!(
        bn.num_batches_tracked().to_vec::<i64>().expect("count"),
        [2]
    );

    bn.train();
    let e = bn
        .forward(&rng.tensor(&[1, 3, 1, 1]).0)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("BatchNorm2d") && e.contains("more than 1 value"),
        "{e}"
    );
    let e = bn
        .forward(&rng.tensor(&[2, 4, 2, 2]).0)
        .unwrap_err()
        .to_string();
    assert!(e.contains("BatchNorm2d") && e.contains("3 channels"), "{e}");
}

#[test]
fn batch_norm_1d_normalizes_features() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(5);
    let bn = BatchNorm1d::with_options(4, 1e-3, 0.3, false).expect("BatchNorm1d");
    assert!(bn.named_parameters().is_empty());
    let (x, rx) = rng.tensor(&[6, 4]);
    let y = bn.forward(&x).expect("forward");
    let (mean, var) = channel_stats(&rx);
    let want = Ref::from_fn(&[6, 4], |i| {
        (rx.at(i) - mean[i[1]]) / (var[i[1]] + 1e-3).sqrt()
    });
    check_f32(&y, &want, 1e-4, 1e-5, "BatchNorm1d(4)");
    let rm: Vec<f64> = mean.iter().map(|m| 0.3 * m).collect();
    assert_close(
        &bn.running_mean().to_vec::<f32>().expect("rm"),
        &Ref::new(&[4], rm),
        1e-5,
        1e-6,
        "running_mean",
    );
}

/// A network with named children, as a user writes one.
struct Net {
    features: Sequential,
    norm: BatchNorm1d,
    head: Linear,
}

impl Module for Net {
    fn forward(&self, x: &Tensor) -> frontend_tensor::Result<Tensor> {
        self.head
            .forward(&self.norm.forward(&self.features.forward(x)?)?)
    }

    fn children(&self) -> Vec<(String, &dyn Module)> {
        vec![
            ("features".into(), &self.features),
            ("norm".into(), &self.norm),
            ("head".into(), &self.head),
        ]
    }
}

fn net() -> Net {
    Net {
        features: Sequential::new()
            .with(Linear::new(3, 4).expect("Linear"))
            .with(ReLU)
            .with(Linear::new(4, 4).expect("Linear")),
        norm: BatchNorm1d::new(4).expect("BatchNorm1d"),
        head: Linear::with_bias(4, 2, false).expect("Linear"),
    }
}

#[test]
fn nested_modules_are_named_as_pytorch_names_them() {
    if !common::cpu() {
        return;
    }
    let n = net();
    assert_eq!(
        names(&n.named_parameters()),
        [
            "features.0.weight",
            "features.0.bias",
            "features.2.weight",
            "features.2.bias",
            "norm.weight",
            "norm.bias",
            "head.weight"
        ]
    );
    assert_eq!(
        names(&n.state_dict()),
        [
            "features.0.weight",
            "features.0.bias",
            "features.2.weight",
            "features.2.bias",
            "norm.weight",
            "norm.bias",
            "norm.running_mean",
            "norm.running_var",
            "norm.num_batches_tracked",
            "head.weight"
        ]
    );
    assert_eq!(n.parameters().len(), 7);
    assert_eq!(n.buffers().len(), 3);
    n.eval();
    assert!(!n.norm.is_training());
    n.train();
    assert!(n.norm.is_training());
    let x = Tensor::ones(&[5, 3], DType::F32).expect("x");
    assert_eq!(n.forward(&x).expect("forward").shape(), [5, 2]);
}

#[test]
fn flatten_merges_dims() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(6);
    let (x, rx) = rng.tensor(&[2, 3, 4, 5]);
    let y = Flatten::default().forward(&x).expect("flatten");
    check_f32(&y, &rx.reshape(&[2, 60]), 0.0, 0.0, "Flatten()");
    let y = Flatten::new(1, 2).forward(&x).expect("flatten 1..=2");
    assert_eq!(y.shape(), [2, 12, 5]);
    let e = Flatten::new(2, 1).forward(&x).unwrap_err().to_string();
    assert!(e.contains("Flatten"), "{e}");
}
