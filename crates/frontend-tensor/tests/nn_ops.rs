//! The ops a CNN and a transformer need, against plain-loop references on random data:
//! batched matmul, conv2d (stride, padding, dilation, groups), pools, log_softmax, cross
//! entropy (ignore_index, label smoothing), argmax, embedding, cat/stack, activations.

mod common;

use common::Rng;
use frontend_tensor::{Conv2dOpts, CrossEntropyOpts, DType, Pool2dOpts, Reduction, Result, Tensor};

fn t(data: &[f32], shape: &[i64]) -> Tensor {
    Tensor::from_slice(data, shape).expect("tensor")
}

fn close(got: &[f32], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let g = f64::from(*g);
        assert!(
            (g - w).abs() <= tol * (1.0 + w.abs()) || (g.is_nan() && w.is_nan()),
            "{what}: element {i} is {g}, want {w}"
        );
    }
}

fn values(x: Result<Tensor>) -> Vec<f32> {
    x.and_then(|t| t.to_vec::<f32>()).expect("realize")
}

fn strides(shape: &[i64]) -> Vec<usize> {
    let mut s = vec![1usize; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1] as usize;
    }
    s
}

#[test]
fn batched_matmul_broadcasts_leading_dims_and_vectors() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(3);
    for (a, b) in [
        (vec![2i64, 3, 4], vec![4i64, 5]),
        (vec![2, 1, 3, 4], vec![3, 4, 2]),
        (vec![4], vec![4]),
        (vec![4], vec![2, 4, 3]),
        (vec![2, 3, 4], vec![4]),
    ] {
        let (na, nb) = (a.iter().product::<i64>(), b.iter().product::<i64>());
        let (da, db) = (rng.nonzero(na as usize), rng.nonzero(nb as usize));
        let got = t(&da, &a).matmul(&t(&db, &b)).expect("matmul");
        // reference: lift vectors, broadcast batch dims, then loop
        let a2 = if a.len() == 1 {
            vec![1, a[0]]
        } else {
            a.clone()
        };
        let b2 = if b.len() == 1 {
            vec![b[0], 1]
        } else {
            b.clone()
        };
        let (m, k, n) = (a2[a2.len() - 2], a2[a2.len() - 1], b2[b2.len() - 1]);
        let ba = &a2[..a2.len() - 2];
        let bb = &b2[..b2.len() - 2];
        let rank = ba.len().max(bb.len());
        let pad = |s: &[i64]| -> Vec<i64> {
            let mut v = vec![1; rank - s.len()];
            v.extend_from_slice(s);
            v
        };
        let (pa, pb) = (pad(ba), pad(bb));
        let batch: Vec<i64> = pa.iter().zip(&pb).map(|(x, y)| *x.max(y)).collect();
        let nbatch: i64 = batch.iter().product();
        let mut want = Vec::new();
        for bi in 0..nbatch {
            let mut rem = bi;
            let (mut oa, mut ob) = (0i64, 0i64);
            let (sa, sb) = (strides(&pa), strides(&pb));
            for d in (0..rank).rev() {
                let idx = rem % batch[d];
                rem /= batch[d];
                if pa[d] > 1 {
                    oa += idx * sa[d] as i64;
                }
                if pb[d] > 1 {
                    ob += idx * sb[d] as i64;
                }
            }
            for i in 0..m {
                for j in 0..n {
                    let s: f64 = (0..k)
                        .map(|l| {
                            f64::from(da[((oa * m + i) * k + l) as usize])
                                * f64::from(db[((ob * k + l) * n + j) as usize])
                        })
                        .sum();
                    want.push(s);
                }
            }
        }
        let mut shape = batch.clone();
        if a.len() > 1 {
            shape.push(m);
        }
        if b.len() > 1 {
            shape.push(n);
        }
        assert_eq!(got.shape(), shape.as_slice(), "{a:?} @ {b:?}");
        close(&values(Ok(got)), &want, 1e-5, &format!("{a:?} @ {b:?}"));
    }
}

/// Direct convolution (NCHW, zero padding).
fn conv_ref(
    x: &[f32],
    xs: [i64; 4],
    w: &[f32],
    ws: [i64; 4],
    bias: &[f32],
    o: &Conv2dOpts,
) -> (Vec<f64>, [i64; 4]) {
    let [n, c, h, wd] = xs;
    let [oc, cg, kh, kw] = ws;
    let g = o.groups;
    let oh = (h + 2 * o.padding.0 - o.dilation.0 * (kh - 1) - 1) / o.stride.0 + 1;
    let ow = (wd + 2 * o.padding.1 - o.dilation.1 * (kw - 1) - 1) / o.stride.1 + 1;
    let mut out = Vec::new();
    for b in 0..n {
        for f in 0..oc {
            let grp = f / (oc / g);
            for y in 0..oh {
                for xq in 0..ow {
                    let mut s = f64::from(bias.get(f as usize).copied().unwrap_or(0.0));
                    for ci in 0..cg {
                        let ch = grp * cg + ci;
                        for i in 0..kh {
                            for j in 0..kw {
                                let iy = y * o.stride.0 + i * o.dilation.0 - o.padding.0;
                                let ix = xq * o.stride.1 + j * o.dilation.1 - o.padding.1;
                                if iy < 0 || ix < 0 || iy >= h || ix >= wd {
                                    continue;
                                }
                                let xv = x[(((b * c + ch) * h + iy) * wd + ix) as usize];
                                let wv = w[(((f * cg + ci) * kh + i) * kw + j) as usize];
                                s += f64::from(xv) * f64::from(wv);
                            }
                        }
                    }
                    out.push(s);
                }
            }
        }
    }
    (out, [n, oc, oh, ow])
}

#[test]
fn conv2d_matches_direct_convolution() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(5);
    let cases = [
        (
            [2i64, 3, 7, 6],
            [4i64, 3, 3, 3],
            Conv2dOpts::default(),
            true,
        ),
        ([1, 2, 8, 8], [3, 2, 3, 3], Conv2dOpts::padded(1), false),
        (
            [2, 4, 9, 7],
            [6, 2, 3, 2],
            Conv2dOpts {
                stride: (2, 1),
                padding: (1, 2),
                dilation: (1, 2),
                groups: 2,
            },
            true,
        ),
        (
            [1, 3, 10, 10],
            [2, 3, 2, 2],
            Conv2dOpts {
                stride: (3, 3),
                padding: (0, 0),
                dilation: (1, 1),
                groups: 1,
            },
            true,
        ),
        (
            [1, 4, 6, 6],
            [4, 1, 3, 3],
            Conv2dOpts {
                stride: (1, 1),
                padding: (1, 1),
                dilation: (2, 2),
                groups: 4,
            },
            false,
        ),
    ];
    for (xs, ws, opts, with_bias) in cases {
        let x = rng.nonzero(xs.iter().product::<i64>() as usize);
        let w = rng.nonzero(ws.iter().product::<i64>() as usize);
        let b = rng.nonzero(ws[0] as usize);
        let bias = with_bias.then(|| t(&b, &[ws[0]]));
        let got = t(&x, &xs)
            .conv2d(&t(&w, &ws), bias.as_ref(), &opts)
            .expect("conv2d");
        let (want, shape) = conv_ref(&x, xs, &w, ws, if with_bias { &b } else { &[] }, &opts);
        assert_eq!(got.shape(), shape, "{xs:?} * {ws:?} {opts:?}");
        close(
            &values(Ok(got)),
            &want,
            1e-5,
            &format!("conv {xs:?} * {ws:?} {opts:?}"),
        );
    }
    // errors name both shapes
    let e = t(&[1.0; 12], &[1, 3, 2, 2])
        .conv2d(&t(&[1.0; 8], &[2, 2, 1, 2]), None, &Conv2dOpts::default())
        .expect_err("channels");
    assert!(e.to_string().contains("[1, 3, 2, 2]"), "{e}");
}

#[test]
fn pools_match_windowed_loops() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(9);
    for (shape, opts) in [
        ([2i64, 3, 8, 8], Pool2dOpts::square(2)),
        ([1, 2, 7, 9], Pool2dOpts::square(3)),
        (
            [1, 1, 6, 7],
            Pool2dOpts {
                kernel: (3, 2),
                stride: Some((1, 2)),
                padding: (1, 1),
                dilation: (1, 1),
            },
        ),
        (
            [2, 1, 9, 9],
            Pool2dOpts {
                kernel: (2, 2),
                stride: Some((2, 3)),
                padding: (0, 1),
                dilation: (2, 1),
            },
        ),
    ] {
        let data = rng.nonzero(shape.iter().product::<i64>() as usize);
        let x = t(&data, &shape);
        let [n, c, h, w] = shape;
        let (kh, kw) = opts.kernel;
        let (sh, sw) = opts.stride.unwrap_or(opts.kernel);
        let (ph, pw) = opts.padding;
        let (dh, dw) = opts.dilation;
        let oh = (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1;
        let ow = (w + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
        let (mut mx, mut avg) = (Vec::new(), Vec::new());
        for b in 0..n * c {
            for y in 0..oh {
                for xq in 0..ow {
                    let (mut m, mut s) = (f64::NEG_INFINITY, 0.0);
                    for i in 0..kh {
                        for j in 0..kw {
                            let (iy, ix) = (y * sh + i * dh - ph, xq * sw + j * dw - pw);
                            if iy >= 0 && ix >= 0 && iy < h && ix < w {
                                let v = f64::from(data[((b * h + iy) * w + ix) as usize]);
                                m = m.max(v);
                                s += v;
                            }
                        }
                    }
                    mx.push(m);
                    avg.push(s / (kh * kw) as f64);
                }
            }
        }
        let what = format!("{shape:?} {opts:?}");
        let got = x.max_pool2d(&opts).expect("max_pool2d");
        assert_eq!(got.shape(), [n, c, oh, ow], "{what}");
        close(&values(Ok(got)), &mx, 0.0, &format!("max {what}"));
        close(
            &values(x.avg_pool2d(&opts)),
            &avg,
            1e-6,
            &format!("avg {what}"),
        );
    }
}

#[test]
fn log_softmax_and_cross_entropy_match_pytorch_formulas() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(13);
    let (n, c) = (6usize, 5usize);
    let logits = rng
        .nonzero(n * c)
        .iter()
        .map(|v| v * 3.0)
        .collect::<Vec<f32>>();
    let target: Vec<i64> = vec![0, 4, 2, 1, 2, 3];
    let x = t(&logits, &[n as i64, c as i64]);
    let y = Tensor::from_slice(&target, &[n as i64]).expect("target");
    let logp: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            let row: Vec<f64> = (0..c).map(|j| f64::from(logits[i * c + j])).collect();
            let m = row.iter().cloned().fold(f64::MIN, f64::max);
            let lse = m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
            row.iter().map(|v| v - lse).collect()
        })
        .collect();
    close(
        &values(x.log_softmax(1)),
        &logp.concat(),
        1e-6,
        "log_softmax",
    );
    for (ignore, eps) in [(None, 0.0), (Some(2i64), 0.0), (None, 0.1), (Some(4), 0.25)] {
        let mut total = 0.0;
        let mut count = 0.0;
        let mut each = Vec::new();
        for i in 0..n {
            if Some(target[i]) == ignore {
                each.push(0.0);
                continue;
            }
            let nll = -logp[i][target[i] as usize];
            let smooth = -logp[i].iter().sum::<f64>() / c as f64;
            let l = (1.0 - eps) * nll + eps * smooth;
            each.push(l);
            total += l;
            count += 1.0;
        }
        let opts = |reduction| CrossEntropyOpts {
            ignore_index: ignore,
            label_smoothing: eps,
            reduction,
        };
        let what = format!("cross_entropy ignore {ignore:?} eps {eps}");
        close(
            &values(x.cross_entropy(&y, &opts(Reduction::Mean))),
            &[total / count],
            1e-6,
            &what,
        );
        close(
            &values(x.cross_entropy(&y, &opts(Reduction::Sum))),
            &[total],
            1e-6,
            &what,
        );
        close(
            &values(x.cross_entropy(&y, &opts(Reduction::None))),
            &each,
            1e-6,
            &what,
        );
    }
    // a target of the wrong shape or dtype is an error naming both
    let e = x.cross_entropy(&t(&[0.0; 6], &[6]), &CrossEntropyOpts::default());
    assert!(e.is_err());
}

#[test]
fn argmax_embedding_cat_stack_and_activations() {
    if !common::cpu() {
        return;
    }
    let x = t(&[1.0, 5.0, 5.0, -2.0, 0.0, 3.0, 9.0, 9.0], &[2, 4]);
    let am = x.argmax(1, false).expect("argmax");
    assert_eq!(am.dtype(), DType::I64);
    assert_eq!(am.to_vec::<i64>().expect("argmax"), [1, 2], "first maximum");
    assert_eq!(
        x.argmax(0, true).and_then(|t| t.to_vec::<i64>()).ok(),
        Some(vec![0, 0, 1, 1])
    );
    assert_eq!(
        x.argmin(1, false).and_then(|t| t.to_vec::<i64>()).ok(),
        Some(vec![3, 0])
    );
    // embedding: rows of the weight
    let weight = t(&[0.0, 1.0, 10.0, 11.0, 20.0, 21.0], &[3, 2]);
    let idx = Tensor::from_slice(&[2i32, 0, 2, 1], &[2, 2]).expect("idx");
    let e = idx.embedding(&weight).expect("embedding");
    assert_eq!(e.shape(), [2, 2, 2]);
    assert_eq!(
        e.to_vec::<f32>().expect("rows"),
        [20.0, 21.0, 0.0, 1.0, 20.0, 21.0, 10.0, 11.0]
    );
    // cat and stack
    let a = t(&[1.0, 2.0, 3.0, 4.0], &[2, 2]);
    let b = t(&[5.0, 6.0], &[2, 1]);
    let c = Tensor::cat(&[&a, &b], 1).expect("cat");
    assert_eq!(
        c.to_vec::<f32>().expect("cat"),
        [1.0, 2.0, 5.0, 3.0, 4.0, 6.0]
    );
    let s = Tensor::stack(&[&a, &a], 0).expect("stack");
    assert_eq!(s.shape(), [2, 2, 2]);
    assert!(Tensor::cat(&[&a, &t(&[1.0; 3], &[3, 1])], 1).is_err());
    // activations against f64 formulas
    let v: Vec<f32> = (-12..=12).map(|i| i as f32 * 0.37).collect();
    let xv = t(&v, &[v.len() as i64]);
    let erf = |z: f64| {
        // Abramowitz-Stegun 7.1.28-grade accuracy is not enough: integrate the series
        let mut sum = 0.0;
        let mut term = z;
        for k in 0..200 {
            sum += term / (2 * k + 1) as f64;
            term *= -z * z / (k + 1) as f64;
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    };
    let f = |g: &dyn Fn(f64) -> f64| v.iter().map(|&z| g(f64::from(z))).collect::<Vec<_>>();
    close(&values(xv.erf()), &f(&erf), 2e-6, "erf");
    close(
        &values(xv.gelu()),
        &f(&|z| 0.5 * z * (1.0 + erf(z / 2f64.sqrt()))),
        2e-6,
        "gelu",
    );
    let gt = |z: f64| {
        0.5 * z * (1.0 + ((2.0 / std::f64::consts::PI).sqrt() * (z + 0.044715 * z.powi(3))).tanh())
    };
    close(&values(xv.gelu_tanh()), &f(&gt), 2e-6, "gelu_tanh");
    close(
        &values(xv.silu()),
        &f(&|z| z / (1.0 + (-z).exp())),
        2e-6,
        "silu",
    );
    // dropout: zero or scaled, about p of them zero, the identity when not training
    let ones = Tensor::ones(&[10_000], DType::F32).expect("ones");
    let d = ones
        .dropout(0.3, true)
        .and_then(|t| t.to_vec::<f32>())
        .expect("dropout");
    let zeros = d.iter().filter(|&&z| z == 0.0).count();
    assert!(d.iter().all(|&z| z == 0.0 || (z - 1.0 / 0.7).abs() < 1e-6));
    assert!(
        (2_700..3_300).contains(&zeros),
        "{zeros} zeros of 10000 at p = 0.3"
    );
    assert_eq!(
        ones.dropout(0.3, false)
            .and_then(|t| t.to_vec::<f32>())
            .ok(),
        Some(vec![1.0; 10_000])
    );
    assert!(ones.dropout(1.5, true).is_err());
}

#[test]
fn reshape_infers_one_dim_and_flatten_squeeze_repeat() {
    if !common::cpu() {
        return;
    }
    let x = t(&[0.0; 24], &[2, 3, 4]);
    assert_eq!(x.reshape(&[-1, 4]).expect("reshape").shape(), [6, 4]);
    assert_eq!(x.reshape(&[2, -1]).expect("reshape").shape(), [2, 12]);
    assert!(x.reshape(&[-1, 5]).is_err());
    assert!(x.reshape(&[-1, -1]).is_err());
    assert_eq!(x.flatten(1, -1).expect("flatten").shape(), [2, 12]);
    assert_eq!(x.flatten(0, 1).expect("flatten").shape(), [6, 4]);
    let y = t(&[1.0, 2.0], &[1, 2, 1]);
    assert_eq!(y.squeeze().expect("squeeze").shape(), [2]);
    assert_eq!(y.squeeze_axes(&[-1]).expect("squeeze").shape(), [1, 2]);
    assert!(y.squeeze_axes(&[1]).is_err());
    let r = t(&[1.0, 2.0], &[2]).repeat(&[2, 3]).expect("repeat");
    assert_eq!(r.shape(), [2, 6]);
    assert_eq!(
        r.to_vec::<f32>().expect("repeat"),
        [1.0, 2.0, 1.0, 2.0, 1.0, 2.0, 1.0, 2.0, 1.0, 2.0, 1.0, 2.0]
    );
}
