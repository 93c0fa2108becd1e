//! Every op against PyTorch: `tests/oracle/cases.json.gz` holds, per case, the inputs and
//! what PyTorch 2 (CPU) returned for them (values, shapes, dtypes, and for f64 cases the
//! gradient of `sum(out * w)`), written by `tests/oracle/gen_cases.py`. Each case runs the
//! same op through ferrograd; the test prints `N passed, M failed` and fails on any
//! mismatch. Integers and bools compare exactly; floats within a tolerance of their dtype
//! (and of the op: transcendental functions are approximations good to about 1e-7).

mod common;

use std::io::Read;

use frontend_tensor::{
    AttentionOpts, Conv2dOpts, ConvOpts, CrossEntropyOpts, DType, Idx, Interpolation, PadMode,
    Pool2dOpts, Reduction, Result, Rounding, ScatterReduce, Tensor,
};
use serde_json::Value;

fn load() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oracle/cases.json.gz");
    let file = std::fs::File::open(path).expect("the oracle file");
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .expect("gzip");
    serde_json::from_str(&text).expect("json")
}

fn dtype(name: &str) -> DType {
    DType::from_name(name).unwrap_or_else(|| panic!("dtype {name}"))
}

fn number(v: &Value) -> f64 {
    match v {
        Value::String(s) => match s.as_str() {
            "nan" => f64::NAN,
            "inf" => f64::INFINITY,
            "-inf" => f64::NEG_INFINITY,
            other => panic!("value {other}"),
        },
        v => v.as_f64().unwrap_or_else(|| panic!("value {v}")),
    }
}

fn shape_of(t: &Value) -> Vec<i64> {
    t["shape"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default()
}

/// A tensor from its JSON (values are exact in their dtype).
fn tensor(t: &Value) -> Tensor {
    let shape = shape_of(t);
    let d = dtype(t["dtype"].as_str().unwrap_or(""));
    let vals: Vec<&Value> = t["values"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let built = if d.is_float() {
        let v: Vec<f64> = vals.iter().map(|v| number(v)).collect();
        Tensor::from_slice(&v, &shape).and_then(|t| t.cast(d))
    } else if d == DType::Bool {
        let v: Vec<bool> = vals.iter().map(|v| v.as_i64() == Some(1)).collect();
        Tensor::from_slice(&v, &shape)
    } else {
        let v: Vec<i64> = vals.iter().map(|v| v.as_i64().unwrap_or(0)).collect();
        Tensor::from_slice(&v, &shape).and_then(|t| t.cast(d))
    };
    built.expect("input tensor")
}

fn f(args: &Value, key: &str) -> f64 {
    args[key].as_f64().unwrap_or_else(|| panic!("arg {key}"))
}

fn i(args: &Value, key: &str) -> i64 {
    args[key].as_i64().unwrap_or_else(|| panic!("arg {key}"))
}

fn ints(args: &Value, key: &str) -> Vec<i64> {
    args[key]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default()
}

fn pair(args: &Value, key: &str) -> (i64, i64) {
    let v = ints(args, key);
    (v[0], v[1])
}

fn conv_opts(args: &Value) -> ConvOpts {
    ConvOpts {
        stride: ints(args, "stride"),
        padding: ints(args, "padding"),
        dilation: ints(args, "dilation"),
        groups: i(args, "groups"),
    }
}

fn keepdim(args: &Value) -> bool {
    args["keepdim"].as_bool().unwrap_or(false)
}

fn axes(args: &Value) -> Vec<isize> {
    ints(args, "axes").iter().map(|&a| a as isize).collect()
}

/// The op `name` applied to `x` with `args`, as ferrograd spells it.
fn run(name: &str, x: &[Tensor], args: &Value) -> Result<Vec<Tensor>> {
    let one = |t: Result<Tensor>| t.map(|t| vec![t]);
    let a = || args.get("axis").and_then(Value::as_i64).unwrap_or(-1) as isize;
    match name {
        "neg" => Ok(vec![x[0].neg()]),
        "abs" => one(x[0].abs()),
        "relu" => one(x[0].relu()),
        "sigmoid" => one(x[0].sigmoid()),
        "tanh" => one(x[0].tanh()),
        "exp" => one(x[0].exp()),
        "exp2" => one(x[0].exp2()),
        "log" => one(x[0].log()),
        "log2" => one(x[0].log2()),
        "log1p" => one(x[0].log1p()),
        "expm1" => one(x[0].expm1()),
        "sqrt" => one(x[0].sqrt()),
        "rsqrt" => one(x[0].rsqrt()),
        "sin" => one(x[0].sin()),
        "cos" => one(x[0].cos()),
        "tan" => one(x[0].tan()),
        "asin" => one(x[0].asin()),
        "acos" => one(x[0].acos()),
        "atan" => one(x[0].atan()),
        "sinh" => one(x[0].sinh()),
        "cosh" => one(x[0].cosh()),
        "erf" => one(x[0].erf()),
        "reciprocal" => one(x[0].reciprocal()),
        "square" => one(x[0].square()),
        "floor" => one(x[0].floor()),
        "ceil" => one(x[0].ceil()),
        "round" => one(x[0].round()),
        "trunc" => one(x[0].trunc()),
        "sign" => one(x[0].sign()),
        "gelu" => one(x[0].gelu()),
        "gelu_tanh" => one(x[0].gelu_tanh()),
        "silu" => one(x[0].silu()),
        "relu6" => one(x[0].relu6()),
        "leaky_relu" => one(x[0].leaky_relu(0.01)),
        "elu" => one(x[0].elu(1.0)),
        "selu" => one(x[0].selu()),
        "celu" => one(x[0].celu(1.0)),
        "quick_gelu" => one(x[0].quick_gelu()),
        "mish" => one(x[0].mish()),
        "hardsigmoid" => one(x[0].hardsigmoid()),
        "hardswish" => one(x[0].hardswish()),
        "hardtanh" => one(x[0].hardtanh(-1.0, 1.0)),
        "softplus" => one(x[0].softplus(1.0, 20.0)),
        "softsign" => one(x[0].softsign()),
        "logsigmoid" => one(x[0].logsigmoid()),
        "isnan" => one(x[0].isnan()),
        "isinf" => one(x[0].isinf()),
        "isfinite" => one(x[0].isfinite()),
        "nan_to_num" => one(x[0].nan_to_num(0.0, None, None)),
        "add" => one(&x[0] + &x[1]),
        "sub" => one(&x[0] - &x[1]),
        "mul" => one(&x[0] * &x[1]),
        "div" => one(&x[0] / &x[1]),
        "maximum" => one(x[0].maximum(&x[1])),
        "minimum" => one(x[0].minimum(&x[1])),
        "pow" => one(x[0].pow(&x[1])),
        "lt" => one(x[0].lt(&x[1])),
        "gt" => one(x[0].gt(&x[1])),
        "le" => one(x[0].le(&x[1])),
        "ge" => one(x[0].ge(&x[1])),
        "eq" => one(x[0].eq(&x[1])),
        "ne" => one(x[0].ne(&x[1])),
        "div_floor" => one(x[0].div_mode(&x[1], Rounding::Floor)),
        "div_trunc" => one(x[0].div_mode(&x[1], Rounding::Trunc)),
        "remainder" => one(x[0].remainder(&x[1])),
        "fmod" => one(x[0].fmod(&x[1])),
        "bitwise_and" => one(x[0].bitwise_and(&x[1])),
        "bitwise_or" => one(x[0].bitwise_or(&x[1])),
        "bitwise_xor" => one(x[0].bitwise_xor(&x[1])),
        "bitwise_not" => one(x[0].bitwise_not()),
        "shl" => one(x[0].shl(&x[1])),
        "shr" => one(x[0].shr(&x[1])),
        "where" => one(x[0].where_(&x[1], &x[2])),
        "lerp" => one(x[0].lerp(&x[1], &x[2])),
        "clip" => one(x[0].clip(Some(f(args, "lo")), Some(f(args, "hi")))),
        "sum" => one(x[0].sum(&axes(args), false)),
        "mean" => one(x[0].mean(&axes(args), false)),
        "max" => one(x[0].max(&axes(args), false)),
        "min" => one(x[0].min(&axes(args), false)),
        "prod" => one(x[0].prod(&axes(args), false)),
        "any" => one(x[0].any(&axes(args), false)),
        "all" => one(x[0].all(&axes(args), false)),
        "var" => one(x[0].var_correction(&[a()], f(args, "correction"), false)),
        "std" if args.get("correction").is_some() => {
            one(x[0].std_correction(&[a()], f(args, "correction"), false))
        }
        "std" => one(x[0].std(&axes(args), keepdim(args))),
        "logsumexp" => one(x[0].logsumexp(&[a()], false)),
        "softmax" => one(x[0].softmax(a())),
        "log_softmax" => one(x[0].log_softmax(a())),
        "layernorm" => one(x[0].layernorm(a(), 1e-5)),
        "argmax" => one(x[0].argmax(a(), false)),
        "argmin" => one(x[0].argmin(a(), false)),
        "cumsum" => one(x[0].cumsum(a())),
        "cumprod" => one(x[0].cumprod(a())),
        "cummax" => one(x[0].cummax(a())),
        "cummin" => one(x[0].cummin(a())),
        "sort" => {
            let (v, ix) = x[0].sort(a(), args["descending"].as_bool().unwrap_or(false))?;
            Ok(vec![v, ix])
        }
        "topk" => {
            let (v, ix) = x[0].topk(i(args, "k"), a(), true)?;
            Ok(vec![v, ix])
        }
        "median" => one(x[0].median(a(), false)),
        "mode" => {
            let (v, ix) = x[0].mode(a(), keepdim(args))?;
            Ok(vec![v, ix])
        }
        "reshape" => one(x[0].reshape(&ints(args, "shape"))),
        "permute" => one(x[0].permute(
            &ints(args, "axes")
                .iter()
                .map(|&v| v as usize)
                .collect::<Vec<_>>(),
        )),
        "transpose" => one(x[0].transpose(i(args, "a") as usize, i(args, "b") as usize)),
        "expand" => one(x[0].expand(&ints(args, "shape"))),
        "flip" => one(x[0].flip(
            &ints(args, "axes")
                .iter()
                .map(|&v| v as usize)
                .collect::<Vec<_>>(),
        )),
        "roll" => one(x[0].roll(i(args, "shift"), a())),
        "repeat" => one(x[0].repeat(&ints(args, "counts"))),
        "tile" => one(x[0].tile(&ints(args, "counts"))),
        "repeat_interleave" => one(x[0].repeat_interleave(i(args, "repeats"), a())),
        "tril" => one(x[0].tril(i(args, "diagonal"))),
        "triu" => one(x[0].triu(i(args, "diagonal"))),
        "squeeze" => one(x[0].squeeze()),
        "unsqueeze" => one(x[0].unsqueeze(i(args, "axis") as usize)),
        "flatten" => one(x[0].flatten(i(args, "start") as isize, i(args, "end") as isize)),
        "unflatten" => one(x[0].unflatten(a(), &ints(args, "sizes"))),
        "slice" => {
            let r: Vec<(i64, i64)> = args["ranges"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|p| (p[0].as_i64().unwrap_or(0), p[1].as_i64().unwrap_or(0)))
                        .collect()
                })
                .unwrap_or_default();
            one(x[0].slice(&r))
        }
        "cat" => one(Tensor::cat(&[&x[0], &x[1], &x[0]], a())),
        "stack" => one(Tensor::stack(&[&x[0], &x[1]], a())),
        "pad_reflect" | "pad_replicate" | "pad_circular" | "pad_constant" => {
            let mode = match name {
                "pad_reflect" => PadMode::Reflect,
                "pad_replicate" => PadMode::Replicate,
                "pad_circular" => PadMode::Circular,
                _ => PadMode::Constant(0.0),
            };
            // torch's (2, 1, 1, 2) pads the last dim by (2, 1) and the one before by (1, 2)
            one(x[0].pad_mode(&[(0, 0), (1, 2), (2, 1)], mode))
        }
        "split" => x[0].split(i(args, "size"), a()),
        "chunk" => x[0].chunk(i(args, "chunks"), a()),
        "gather" => one(x[0].gather(a(), &x[1])),
        "index_select" => one(x[0].index_select(a(), &x[1])),
        "masked_fill" => one(x[0].masked_fill(&x[1], f(args, "value"))),
        "scatter_add" => one(x[0].scatter_add(a(), &x[1], &x[2])),
        "scatter_reduce" => {
            let reduce = match args["reduce"].as_str().unwrap_or("") {
                "sum" => ScatterReduce::Sum,
                "prod" => ScatterReduce::Prod,
                "mean" => ScatterReduce::Mean,
                "amax" => ScatterReduce::Amax,
                "amin" => ScatterReduce::Amin,
                other => panic!("scatter_reduce {other:?}"),
            };
            let include_self = args["include_self"].as_bool().unwrap_or(true);
            one(x[0].scatter_reduce(a(), &x[1], &x[2], reduce, include_self))
        }
        "masked_select" => one(x[0].masked_select(&x[1])),
        "bitcast" => one(x[0].bitcast(dtype(args["dtype"].as_str().unwrap_or("")))),
        "matmul" => one(x[0].matmul(&x[1])),
        "conv2d" => {
            let opts = Conv2dOpts {
                stride: pair(args, "stride"),
                padding: pair(args, "padding"),
                dilation: pair(args, "dilation"),
                groups: i(args, "groups"),
            };
            one(x[0].conv2d(&x[1], Some(&x[2]), &opts))
        }
        "max_pool2d" | "avg_pool2d" => {
            let stride = args.get("stride").map(|_| pair(args, "stride"));
            let opts = Pool2dOpts {
                kernel: pair(args, "kernel"),
                stride,
                padding: pair(args, "padding"),
                dilation: (1, 1),
            };
            if name == "max_pool2d" {
                one(x[0].max_pool2d(&opts))
            } else {
                one(x[0].avg_pool2d(&opts))
            }
        }
        "cross_entropy" => {
            let opts = CrossEntropyOpts {
                ignore_index: args.get("ignore_index").and_then(Value::as_i64),
                label_smoothing: args
                    .get("label_smoothing")
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0),
                reduction: Reduction::Mean,
            };
            one(x[0].cross_entropy(&x[1], &opts))
        }
        "embedding" => one(x[0].embedding(&x[1])),
        "mse_loss" => one(x[0].mse_loss(&x[1], Reduction::Mean)),
        "cast" => one(x[0].cast(dtype(args["dtype"].as_str().unwrap_or("")))),
        "conv1d" | "conv3d" => {
            let opts = conv_opts(args);
            if name == "conv1d" {
                one(x[0].conv1d(&x[1], Some(&x[2]), &opts))
            } else {
                one(x[0].conv3d(&x[1], Some(&x[2]), &opts))
            }
        }
        "conv_transpose2d" => {
            let o = conv_opts(args);
            let opts = Conv2dOpts {
                stride: (o.stride[0], o.stride[1]),
                padding: (o.padding[0], o.padding[1]),
                dilation: (o.dilation[0], o.dilation[1]),
                groups: o.groups,
            };
            one(x[0].conv_transpose2d(&x[1], Some(&x[2]), &opts, pair(args, "output_padding")))
        }
        "conv_transpose1d" => {
            let op = ints(args, "output_padding")[0];
            one(x[0].conv_transpose1d(&x[1], Some(&x[2]), &conv_opts(args), op))
        }
        "avg_pool2d_exclude_pad" => {
            let opts = Pool2dOpts {
                kernel: pair(args, "kernel"),
                stride: Some(pair(args, "stride")),
                padding: pair(args, "padding"),
                dilation: (1, 1),
            };
            one(x[0].avg_pool2d_count(&opts, false))
        }
        "adaptive_avg_pool2d" => one(x[0].adaptive_avg_pool2d(pair(args, "size"))),
        "adaptive_max_pool2d" => one(x[0].adaptive_max_pool2d(pair(args, "size"))),
        "interpolate_nearest" => one(x[0].interpolate(&ints(args, "size"), Interpolation::Nearest)),
        "interpolate_bilinear" | "interpolate_linear" => {
            let align_corners = args["align_corners"].as_bool().unwrap_or(false);
            one(x[0].interpolate(&ints(args, "size"), Interpolation::Linear { align_corners }))
        }
        "sdpa" => one(x[0].scaled_dot_product_attention(&x[1], &x[2], &AttentionOpts::default())),
        "sdpa_causal" => {
            let opts = AttentionOpts {
                causal: true,
                ..Default::default()
            };
            one(x[0].scaled_dot_product_attention(&x[1], &x[2], &opts))
        }
        "sdpa_mask" => {
            let opts = AttentionOpts {
                mask: Some(&x[3]),
                ..Default::default()
            };
            one(x[0].scaled_dot_product_attention(&x[1], &x[2], &opts))
        }
        "batch_norm" => one(x[0].batch_norm(None, Some(&x[1]), Some(&x[2]), 1e-5)),
        "batch_norm_running" => one(x[0].batch_norm(Some((&x[1], &x[2])), None, None, 1e-5)),
        "group_norm" => one(x[0].group_norm(i(args, "groups"), Some(&x[1]), Some(&x[2]), 1e-5)),
        "instance_norm" => one(x[0].instance_norm(None, None, 1e-5)),
        "dot" => one(x[0].dot(&x[1])),
        "outer" => one(x[0].outer(&x[1])),
        "einsum_matmul" | "einsum_batch" | "einsum_trace" | "einsum_implicit" => {
            let refs: Vec<&Tensor> = x.iter().collect();
            one(Tensor::einsum(args["spec"].as_str().unwrap_or(""), &refs))
        }
        "cosine_similarity" => one(x[0].cosine_similarity(&x[1], a(), 1e-8)),
        "bce" => one(x[0].binary_cross_entropy(&x[1], Reduction::Mean)),
        "bce_with_logits" => one(x[0].binary_cross_entropy_with_logits(&x[1], Reduction::Mean)),
        "l1_loss" => one(x[0].l1_loss(&x[1], Reduction::Mean)),
        "smooth_l1_loss" => one(x[0].smooth_l1_loss(&x[1], f(args, "beta"), Reduction::Mean)),
        "huber_loss" => one(x[0].huber_loss(&x[1], f(args, "delta"), Reduction::Mean)),
        "kl_div" => one(x[0].kl_div(&x[1], false, Reduction::Sum)),
        "nll_loss" => one(x[0].nll_loss(&x[1], None, Reduction::Mean)),
        "index" => {
            let entries: Vec<Idx> = args["index"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|e| {
                            if let Some(p) = e.get("at").and_then(Value::as_i64) {
                                Idx::At(p)
                            } else if let Some(r) = e.get("range").and_then(Value::as_array) {
                                Idx::Range {
                                    start: r[0].as_i64(),
                                    end: r[1].as_i64(),
                                    step: r[2].as_i64().unwrap_or(1),
                                }
                            } else if e.get("new").is_some() {
                                Idx::NewAxis
                            } else if e.get("ellipsis").is_some() {
                                Idx::Ellipsis
                            } else if let Some(k) = e.get("tensor").and_then(Value::as_u64) {
                                Idx::Tensor(x[k as usize].clone())
                            } else {
                                Idx::All
                            }
                        })
                        .collect()
                })
                .unwrap_or_default();
            one(x[0].index(&entries))
        }
        other => panic!("no ferrograd op for the oracle's case {other:?}"),
    }
}

/// Ops whose results are approximations (about 1e-7 relative in f32 terms); hardsigmoid's
/// gradient too, as PyTorch's uses 1/6 rounded to f32 for f64 inputs.
const APPROXIMATE: &[&str] = &[
    "hardsigmoid",
    "hardswish",
    "erf",
    "gelu",
    "atan",
    "asin",
    "acos",
    "tan",
    "expm1",
    "log1p",
    "sinh",
    "cosh",
    "selu",
    "elu",
    "celu",
    "mish",
    "softplus",
    "logsigmoid",
    "gelu_tanh",
    "quick_gelu",
    "silu",
    "sigmoid",
    "tanh",
    "exp",
    "exp2",
    "log",
    "log2",
    "sin",
    "cos",
    "pow",
    "logsumexp",
    "softmax",
    "log_softmax",
    "cross_entropy",
    "layernorm",
    "var",
    "std",
    "rsqrt",
    "cumprod",
    "sdpa",
    "sdpa_causal",
    "sdpa_mask",
    "batch_norm",
    "batch_norm_running",
    "group_norm",
    "instance_norm",
    "bce",
    "bce_with_logits",
    "kl_div",
    "cosine_similarity",
    "nll_loss",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "matmul",
    "einsum_batch",
    "einsum_matmul",
];

/// (relative, absolute) tolerance of `op` on `dtype`.
fn tolerance(op: &str, d: DType) -> (f64, f64) {
    let approx = APPROXIMATE.contains(&op) || op == "div" || op == "lerp";
    match d {
        DType::F64 if approx => (2e-6, 1e-7),
        DType::F64 => (1e-12, 1e-12),
        DType::F32 if approx => (4e-6, 2e-6),
        DType::F32 => (2e-6, 1e-6),
        DType::F16 => (4e-3, 2e-3),
        DType::BF16 => (2e-2, 1e-2),
        _ => (0.0, 0.0),
    }
}

fn compare(got: &Tensor, want: &Value, op: &str) -> std::result::Result<(), String> {
    let wd = dtype(want["dtype"].as_str().unwrap_or(""));
    if got.shape() != shape_of(want) {
        return Err(format!(
            "shape {:?}, want {:?}",
            got.shape(),
            shape_of(want)
        ));
    }
    if got.dtype() != wd {
        return Err(format!("dtype {}, want {wd}", got.dtype()));
    }
    let values = got
        .cast(DType::F64)
        .and_then(|t| t.to_vec::<f64>())
        .map_err(|e| e.to_string())?;
    let expected: Vec<f64> = want["values"]
        .as_array()
        .map(|a| a.iter().map(number).collect())
        .unwrap_or_default();
    let (rtol, atol) = tolerance(op, wd);
    for (k, (g, w)) in values.iter().zip(&expected).enumerate() {
        let same = (g.is_nan() && w.is_nan())
            || g == w
            || (g.is_finite() && w.is_finite() && (g - w).abs() <= atol + rtol * w.abs());
        if !same {
            return Err(format!("element {k} is {g}, want {w}"));
        }
    }
    Ok(())
}

fn check(case: &Value) -> std::result::Result<(), String> {
    let op = case["op"].as_str().unwrap_or("");
    let inputs: Vec<Tensor> = case["inputs"]
        .as_array()
        .map(|a| a.iter().map(tensor).collect())
        .unwrap_or_default();
    // inputs whose gradients are checked are leaves, so realizing the output keeps its graph
    if let Some(grads) = case.get("grads").and_then(Value::as_object) {
        for k in grads.keys().filter_map(|k| k.parse::<usize>().ok()) {
            inputs[k].requires_grad_(true).map_err(|e| e.to_string())?;
        }
    }
    let got = run(op, &inputs, &case["args"]);
    if case.get("error").is_some() {
        return match got {
            Err(_) => Ok(()),
            Ok(_) => Err(format!(
                "PyTorch rejects it ({}), ferrograd does not",
                case["error"]
            )),
        };
    }
    let got = got.map_err(|e| format!("error: {e}"))?;
    let want = case["outputs"].as_array().cloned().unwrap_or_default();
    if got.len() != want.len() {
        return Err(format!("{} outputs, want {}", got.len(), want.len()));
    }
    for (k, (g, w)) in got.iter().zip(&want).enumerate() {
        compare(g, w, op).map_err(|e| format!("output {k}: {e}"))?;
    }
    if let Some(grads) = case.get("grads").and_then(Value::as_object) {
        let w = tensor(&case["weight"]);
        let loss = got[0]
            .mul(&w)
            .and_then(|t| t.sum(&[], false))
            .map_err(|e| e.to_string())?;
        let keys: Vec<usize> = grads.keys().filter_map(|k| k.parse().ok()).collect();
        let targets: Vec<&Tensor> = keys.iter().map(|&k| &inputs[k]).collect();
        let g = loss
            .gradient(&targets)
            .map_err(|e| format!("gradient: {e}"))?;
        for (k, gk) in keys.iter().zip(&g) {
            compare(gk, &grads[&k.to_string()], op)
                .map_err(|e| format!("gradient of input {k}: {e}"))?;
        }
    }
    Ok(())
}

#[test]
fn every_op_matches_pytorch() {
    if !common::cpu() {
        return;
    }
    let oracle = load();
    let cases = oracle["cases"].as_array().cloned().unwrap_or_default();
    let mut failed = Vec::new();
    let mut grads = 0;
    for case in &cases {
        grads += usize::from(case.get("grads").is_some());
        if let Err(e) = check(case) {
            let shapes: Vec<String> = case["inputs"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|t| format!("{:?} {}", shape_of(t), t["dtype"].as_str().unwrap_or("")))
                        .collect()
                })
                .unwrap_or_default();
            failed.push(format!("{} {:?} {}: {e}", case["op"], shapes, case["args"]));
        }
    }
    let passed = cases.len() - failed.len();
    println!(
        "ops vs PyTorch {}: {passed} passed, {} failed ({} cases with gradient checks)",
        oracle["torch"].as_str().unwrap_or("?"),
        failed.len(),
        grads
    );
    for f in &failed {
        println!("FAILED {f}");
    }
    assert!(
        failed.is_empty(),
        "{} of {} cases failed",
        failed.len(),
        cases.len()
    );
}

/// Type promotion as PyTorch does it: every pair of tensor dtypes, and every dtype with a
/// Python int, float or bool (weak literals), gives PyTorch's result dtype.
#[test]
fn type_promotion_matches_pytorch() {
    if !common::cpu() {
        return;
    }
    let oracle = load();
    let rows = oracle["promotion"].as_array().cloned().unwrap_or_default();
    assert!(rows.len() >= 100, "{} promotion rows", rows.len());
    let mut failed = Vec::new();
    for row in &rows {
        let a = dtype(row["a"].as_str().unwrap_or(""));
        let want = dtype(row["result"].as_str().unwrap_or(""));
        let x = Tensor::zeros(&[2], a).expect("a");
        let (got, what) = match row.get("scalar").and_then(Value::as_str) {
            Some(kind) => {
                let got = match kind {
                    "int" => x.add_scalar(3.0),
                    "float" => x.add_scalar(2.5),
                    _ => x.add(&Tensor::full(&[], 1.0, DType::Bool).expect("true")),
                };
                (got, format!("{a} with a Python {kind}"))
            }
            None => {
                let b = dtype(row["b"].as_str().unwrap_or(""));
                (
                    x.add(&Tensor::zeros(&[2], b).expect("b")),
                    format!("{a} with {b}"),
                )
            }
        };
        match got {
            Ok(t) if t.dtype() == want => {}
            Ok(t) => failed.push(format!("{what}: {}, want {want}", t.dtype())),
            Err(e) => failed.push(format!("{what}: {e}")),
        }
    }
    println!(
        "type promotion vs PyTorch: {} passed, {} failed",
        rows.len() - failed.len(),
        failed.len()
    );
    assert!(failed.is_empty(), "{failed:#?}");
}
