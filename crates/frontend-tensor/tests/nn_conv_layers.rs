//! The layers over the functional ops: Conv2d (stride, padding, dilation, groups) against
//! a plain convolution loop, Embedding against row lookups, Dropout's mask and modes,
//! the pools; and a small convolutional network (the digits example's layout) whose
//! parameters are named as PyTorch names them and whose loss falls when trained.

mod common;

use common::{Ref, Rng, check_f32};
use frontend_tensor::nn::{
    AvgPool2d, Conv2d, Dropout, Embedding, Flatten, Linear, MaxPool2d, Module, ReLU, Sequential,
};
use frontend_tensor::optim::{Adam, Optimizer};
use frontend_tensor::{Conv2dOpts, CrossEntropyOpts, DType, Tensor, manual_seed};

fn values(t: &Tensor) -> Ref {
    let v = t.to_vec::<f32>().expect("values");
    let shape: Vec<usize> = t.shape().iter().map(|&d| d as usize).collect();
    Ref::new(&shape, v.iter().map(|&x| f64::from(x)).collect())
}

/// PyTorch's conv2d as loops over every output element, kernel tap and input channel.
fn conv_reference(x: &Ref, w: &Ref, b: Option<&Ref>, o: Conv2dOpts) -> Ref {
    let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
    let (oc, icg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3]);
    let g = o.groups as usize;
    let (sh, sw) = (o.stride.0 as usize, o.stride.1 as usize);
    let (ph, pw) = (o.padding.0 as usize, o.padding.1 as usize);
    let (dh, dw) = (o.dilation.0 as usize, o.dilation.1 as usize);
    let oh = (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1;
    let ow = (wd + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
    assert_eq!(icg * g, c);
    Ref::from_fn(&[n, oc, oh, ow], |i| {
        let (b_, oc_, y, x_) = (i[0], i[1], i[2], i[3]);
        let group = oc_ / (oc / g);
        let mut acc = b.map_or(0.0, |b| b.data[oc_]);
        for ci in 0..icg {
            for ky in 0..kh {
                for kx in 0..kw {
                    let (iy, ix) = (
                        (y * sh + ky * dh) as i64 - ph as i64,
                        (x_ * sw + kx * dw) as i64 - pw as i64,
                    );
                    if iy < 0 || ix < 0 || iy >= h as i64 || ix >= wd as i64 {
                        continue;
                    }
                    let xv = x.at(&[b_, group * icg + ci, iy as usize, ix as usize]);
                    acc += xv * w.at(&[oc_, ci, ky, kx]);
                }
            }
        }
        acc
    })
}

#[test]
fn conv2d_matches_a_plain_convolution() {
    if !common::cpu() {
        return;
    }
    manual_seed(2);
    let mut rng = Rng::new(2);
    let cases = [
        (3, 4, (3, 3), Conv2dOpts::padded(1), true, [2, 3, 6, 5]),
        (
            4,
            6,
            (3, 2),
            Conv2dOpts {
                stride: (2, 1),
                padding: (1, 0),
                dilation: (1, 2),
                groups: 2,
            },
            false,
            [1, 4, 7, 6],
        ),
    ];
    for (i, (cin, cout, k, opts, bias, xs)) in cases.into_iter().enumerate() {
        let conv = Conv2d::with_options(cin, cout, k, opts, bias).expect("Conv2d");
        let names: Vec<String> = conv
            .named_parameters()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(names.len(), if bias { 2 } else { 1 });
        assert_eq!(conv.weight.shape(), [cout, cin / opts.groups, k.0, k.1]);
        let bound = 1.0 / ((cin / opts.groups * k.0 * k.1) as f64).sqrt();
        let w = values(&conv.weight);
        assert!(
            w.data.iter().all(|v| v.abs() <= bound),
            "case {i}: init within {bound}"
        );
        let b = conv.bias.as_ref().map(values);
        let (x, rx) = rng.tensor(&xs);
        let y = conv.forward(&x).expect("forward");
        let want = conv_reference(&rx, &w, b.as_ref(), opts);
        check_f32(&y, &want, 1e-5, 1e-5, &format!("conv case {i}"));
    }
    let e = Conv2d::with_options(
        3,
        4,
        (3, 3),
        Conv2dOpts {
            groups: 2,
            ..Conv2dOpts::default()
        },
        true,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("Conv2d") && e.contains("groups 2"), "{e}");
}

#[test]
fn embedding_looks_up_rows_and_trains_them() {
    if !common::cpu() {
        return;
    }
    manual_seed(3);
    let emb = Embedding::new(5, 3).expect("Embedding");
    let w = values(&emb.weight);
    // standard normal: mean near 0 with values of both signs
    assert!(w.data.iter().any(|v| *v > 0.0) && w.data.iter().any(|v| *v < 0.0));
    let idx = Tensor::from_slice(&[4i64, 0, 4, 2], &[2, 2]).expect("indices");
    let y = emb.forward(&idx).expect("forward");
    let rows = [4, 0, 4, 2];
    let want = Ref::from_fn(&[2, 2, 3], |i| w.at(&[rows[i[0] * 2 + i[1]], i[2]]));
    check_f32(&y, &want, 0.0, 0.0, "embedding rows");
    y.sum(&[], false)
        .expect("sum")
        .backward()
        .expect("backward");
    let counts = [1.0, 0.0, 1.0, 0.0, 2.0];
    let grad = emb.weight.grad().expect("grad");
    check_f32(
        &grad,
        &Ref::from_fn(&[5, 3], |i| counts[i[0]]),
        0.0,
        0.0,
        "row use counts",
    );
}

#[test]
fn dropout_masks_in_training_and_passes_through_in_eval() {
    if !common::cpu() {
        return;
    }
    manual_seed(4);
    let drop = Dropout::new(0.25).expect("Dropout");
    let x = Tensor::ones(&[4000], DType::F32).expect("x");
    let y = drop
        .forward(&x)
        .expect("forward")
        .to_vec::<f32>()
        .expect("y");
    let kept = y.iter().filter(|&&v| v != 0.0).count();
    assert!(y.iter().all(|&v| v == 0.0 || (v - 1.0 / 0.75).abs() < 1e-6));
    assert!(
        (2850..=3150).contains(&kept),
        "kept {kept} of 4000 at p = 0.25"
    );
    drop.eval();
    assert_eq!(
        drop.forward(&x).expect("eval").to_vec::<f32>().expect("y"),
        vec![1.0; 4000]
    );
    assert!(
        Dropout::new(1.5)
            .unwrap_err()
            .to_string()
            .contains("Dropout")
    );
}

#[test]
fn pools_take_window_maxima_and_means() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(5);
    let (x, rx) = rng.tensor(&[1, 2, 4, 6]);
    let window = |i: &[usize]| -> Vec<f64> {
        (0..4)
            .map(|k| rx.at(&[i[0], i[1], 2 * i[2] + k / 2, 2 * i[3] + k % 2]))
            .collect()
    };
    let max = Ref::from_fn(&[1, 2, 2, 3], |i| {
        window(i).into_iter().fold(f64::MIN, f64::max)
    });
    let mean = Ref::from_fn(&[1, 2, 2, 3], |i| window(i).iter().sum::<f64>() / 4.0);
    check_f32(
        &MaxPool2d::new(2).forward(&x).expect("max"),
        &max,
        0.0,
        0.0,
        "MaxPool2d(2)",
    );
    check_f32(
        &AvgPool2d::new(2).forward(&x).expect("avg"),
        &mean,
        1e-6,
        1e-6,
        "AvgPool2d(2)",
    );
}

/// Conv(1->4, 3, pad 1) -> ReLU -> MaxPool(2) -> Flatten -> Linear(4*2*2 -> 3).
fn small_convnet() -> Sequential {
    Sequential::new()
        .with(Conv2d::with_options(1, 4, (3, 3), Conv2dOpts::padded(1), true).expect("conv"))
        .with(ReLU)
        .with(MaxPool2d::new(2))
        .with(Flatten::default())
        .with(Linear::new(16, 3).expect("linear"))
}

#[test]
fn a_small_convnet_is_named_as_pytorch_and_learns() {
    if !common::cpu() {
        return;
    }
    manual_seed(6);
    let net = small_convnet();
    let names: Vec<String> = net.state_dict().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["0.weight", "0.bias", "4.weight", "4.bias"]);
    let mut rng = Rng::new(6);
    let x = Tensor::from_slice(&rng.uniform(8 * 16, 0.0, 1.0), &[8, 1, 4, 4]).expect("x");
    let y = Tensor::from_slice(&[0i64, 1, 2, 0, 1, 2, 0, 1], &[8]).expect("y");
    let mut opt = Adam::new(net.parameters(), 0.05).expect("Adam");
    let mut losses = Vec::new();
    for _ in 0..40 {
        opt.zero_grad().expect("zero_grad");
        let loss = net
            .forward(&x)
            .and_then(|logits| logits.cross_entropy(&y, &CrossEntropyOpts::default()))
            .expect("loss");
        loss.backward().expect("backward");
        opt.step_with(&[&loss]).expect("step");
        losses.push(loss.to_vec::<f32>().expect("loss")[0]);
    }
    assert!(
        losses[39] < losses[0] * 0.2,
        "the loss went from {} to {}",
        losses[0],
        losses[39]
    );
}
