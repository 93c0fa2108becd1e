"""PyTorch as the oracle of ferrograd's op tests.

Writes tests/oracle/cases.json.gz: for every case (an op, its input shapes and dtypes,
its arguments) the inputs (seeded random data in the op's domain), what PyTorch (CPU)
returns for them (values, shape, dtype) and, for differentiable float cases, the
gradient of sum(out * w) with respect to every float input (w random too). The Rust
harness (tests/ops_vs_torch.rs) runs the same op names through ferrograd and compares.
CI needs no PyTorch: the file is committed; rerun this script (with torch installed)
after changing the table:

    python3 crates/frontend-tensor/tests/oracle/gen_cases.py

An op name here must have an entry in the Rust harness's table, and the other way round.
"""
import gzip
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

SEED = 20261206
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases.json.gz")

FLOATS = ["f32", "f64", "f16", "bf16"]
TORCH_DTYPE = {
    "f16": torch.float16, "bf16": torch.bfloat16, "f32": torch.float32, "f64": torch.float64,
    "i8": torch.int8, "i16": torch.int16, "i32": torch.int32, "i64": torch.int64,
    "u8": torch.uint8, "bool": torch.bool,
}
NAME_OF = {v: k for k, v in TORCH_DTYPE.items()}

# shapes every elementwise op runs on: odd sizes, a size-1 dim, a scalar-like [1], a
# zero-size dim
SHAPES = [[3, 5], [2, 1, 4], [7], [0, 3]]
BCAST = [([3, 4], [4]), ([2, 1, 3], [1, 5, 1]), ([5], [1])]

rng = np.random.default_rng(SEED)


def data(shape, dtype, domain):
    n = int(np.prod(shape)) if shape else 1
    if dtype == "bool":
        v = rng.integers(0, 2, n).astype(bool)
    elif dtype in ("i8", "i16", "i32", "i64", "u8"):
        lo, hi = {"small": (-9, 10), "positive": (1, 10), "shift": (0, 12), "index": (0, 4), "index3": (0, 3), "index2": (0, 2), "index1": (0, 1), "negindex": (-4, 0), "few": (-2, 3)}.get(domain, (-50, 51))
        if dtype == "u8":
            lo = max(lo, 0)
        v = rng.integers(lo, hi, n)
    else:
        if domain == "positive":
            v = rng.uniform(0.25, 3.0, n)
        elif domain == "positive01":
            v = rng.uniform(0.05, 0.95, n)
        elif domain == "unit":
            v = rng.uniform(-0.95, 0.95, n)
        elif domain == "gt-1":
            v = rng.uniform(-0.9, 3.0, n)
        elif domain == "wide":
            v = rng.uniform(-6.0, 6.0, n)
        elif domain == "halves":
            v = rng.integers(-8, 9, n) * 0.5 + rng.choice([0.0, 0.25], n)
        elif domain == "few":
            v = rng.integers(-2, 3, n) * 0.5
        elif domain == "specials":
            v = rng.choice([0.0, -1.5, 2.0, np.inf, -np.inf, np.nan, 7.25], n)
        else:
            mag = rng.uniform(0.25, 2.0, n)
            v = mag * rng.choice([-1.0, 1.0], n)
    t = torch.tensor(np.array(v).reshape(shape) if shape else np.array(v).reshape(()))
    t = t.to(TORCH_DTYPE[dtype])
    return t


def encode(t):
    """A tensor as JSON: shape, dtype name, values (floats as f64; nan/inf as strings)."""
    t = t.detach()
    dtype = NAME_OF[t.dtype]
    if dtype == "bool":
        vals = [int(x) for x in t.flatten().tolist()]
    elif dtype in FLOATS:
        vals = [x if math.isfinite(x) else str(x) for x in t.to(torch.float64).flatten().tolist()]
    else:
        vals = [int(x) for x in t.flatten().tolist()]
    return {"shape": list(t.shape), "dtype": dtype, "values": vals}


CASES = []


def case(op, inputs, fn, args=None, grad=True, domain=None):
    """inputs: list of (shape, dtype[, domain]); fn(*torch tensors) -> tensor or tuple."""
    ts = [data(i[0], i[1], i[2] if len(i) > 2 else domain) for i in inputs]
    float_ins = [k for k, t in enumerate(ts) if t.dtype.is_floating_point]
    want_grad = grad and bool(float_ins) and all(t.dtype == torch.float64 for t in ts if t.dtype.is_floating_point)
    if want_grad:
        for k in float_ins:
            ts[k].requires_grad_(True)
    try:
        out = fn(*ts)
    except Exception as e:  # noqa: BLE001 - an op PyTorch rejects is an expected error
        CASES.append({"op": op, "args": args or {}, "inputs": [encode(t) for t in ts], "error": str(e)[:200]})
        return
    outs = list(out) if isinstance(out, tuple) else [out]
    entry = {"op": op, "args": args or {}, "inputs": [encode(t) for t in ts], "outputs": [encode(o) for o in outs]}
    if want_grad and outs[0].dtype.is_floating_point and outs[0].numel() > 0:
        w = data(list(outs[0].shape), "f64", None)
        loss = (outs[0] * w).sum()
        grads = torch.autograd.grad(loss, [ts[k] for k in float_ins], allow_unused=True)
        entry["weight"] = encode(w)
        entry["grads"] = {str(k): encode(g if g is not None else torch.zeros_like(ts[k])) for k, g in zip(float_ins, grads)}
    CASES.append(entry)


UNARY = {
    "neg": (torch.neg, None), "abs": (torch.abs, None), "relu": (torch.relu, None),
    "sigmoid": (torch.sigmoid, None), "tanh": (torch.tanh, None), "exp": (torch.exp, None),
    "exp2": (torch.exp2, None), "log": (torch.log, "positive"), "log2": (torch.log2, "positive"),
    "log1p": (torch.log1p, "gt-1"), "expm1": (torch.expm1, None), "sqrt": (torch.sqrt, "positive"),
    "rsqrt": (torch.rsqrt, "positive"), "sin": (torch.sin, "wide"), "cos": (torch.cos, "wide"),
    "tan": (torch.tan, "unit"), "asin": (torch.asin, "unit"), "acos": (torch.acos, "unit"),
    "atan": (torch.atan, "wide"), "sinh": (torch.sinh, None), "cosh": (torch.cosh, None),
    "erf": (torch.erf, "wide"), "reciprocal": (torch.reciprocal, None), "square": (torch.square, None),
    "floor": (torch.floor, "halves"), "ceil": (torch.ceil, "halves"), "round": (torch.round, "halves"),
    "trunc": (torch.trunc, "halves"), "sign": (torch.sign, "halves"),
    "gelu": (F.gelu, "wide"), "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), "wide"),
    "silu": (F.silu, "wide"), "relu6": (F.relu6, "wide"), "leaky_relu": (lambda x: F.leaky_relu(x, 0.01), None),
    "elu": (F.elu, "wide"), "selu": (F.selu, "wide"), "celu": (F.celu, "wide"),
    "quick_gelu": (lambda x: x * torch.sigmoid(1.702 * x), "wide"), "mish": (F.mish, "wide"),
    "hardsigmoid": (F.hardsigmoid, "wide"), "hardswish": (F.hardswish, "wide"),
    "hardtanh": (F.hardtanh, "wide"), "softplus": (F.softplus, "wide"), "softsign": (F.softsign, "wide"),
    "logsigmoid": (F.logsigmoid, "wide"),
}
NONDIFF = {"floor", "ceil", "round", "trunc", "sign"}
for name, (fn, dom) in UNARY.items():
    for shape in SHAPES:
        for dt in FLOATS:
            case(name, [(shape, dt, dom)], fn, grad=name not in NONDIFF)

for name, fn in {"isnan": torch.isnan, "isinf": torch.isinf, "isfinite": torch.isfinite,
                 "nan_to_num": torch.nan_to_num}.items():
    for dt in ["f32", "f64", "f16"]:
        case(name, [([9], dt, "specials")], fn, grad=False)

BINARY = {
    "add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div,
    "maximum": torch.maximum, "minimum": torch.minimum,
}
for name, fn in BINARY.items():
    for a, b in BCAST:
        for dt in FLOATS:
            case(name, [(a, dt), (b, dt)], fn)
    for dt in ["i32", "i64", "u8", "i8"]:
        if name != "div":
            case(name, [([3, 4], dt, "small"), ([4], dt, "small")], fn, grad=False)
case("pow", [([3, 4], "f64", "positive"), ([4], "f64")], torch.pow)
case("pow", [([3, 4], "f32", "positive"), ([3, 4], "f32")], torch.pow)
for name, fn in {"lt": torch.lt, "gt": torch.gt, "le": torch.le, "ge": torch.ge, "eq": torch.eq, "ne": torch.ne}.items():
    for dt in ["f32", "i32", "f16"]:
        case(name, [([3, 4], dt, "halves" if dt != "i32" else "small"), ([4], dt, "halves" if dt != "i32" else "small")], fn, grad=False)
for dt in ["i32", "i64", "i8"]:
    for name, fn in {"div_floor": lambda a, b: torch.div(a, b, rounding_mode="floor"),
                     "div_trunc": lambda a, b: torch.div(a, b, rounding_mode="trunc"),
                     "remainder": torch.remainder, "fmod": torch.fmod}.items():
        case(name, [([3, 4], dt, "small"), ([4], dt, "positive")], fn, grad=False)
for dt in ["f32", "f64"]:
    for name, fn in {"div_floor": lambda a, b: torch.div(a, b, rounding_mode="floor"),
                     "div_trunc": lambda a, b: torch.div(a, b, rounding_mode="trunc"),
                     "remainder": torch.remainder, "fmod": torch.fmod}.items():
        case(name, [([3, 4], dt, "wide"), ([4], dt, "positive")], fn, grad=False)
for dt in ["i32", "i64", "u8", "bool"]:
    for name, fn in {"bitwise_and": torch.bitwise_and, "bitwise_or": torch.bitwise_or, "bitwise_xor": torch.bitwise_xor}.items():
        case(name, [([3, 4], dt, "small"), ([4], dt, "small")], fn, grad=False)
    case("bitwise_not", [([3, 4], dt, "small")], torch.bitwise_not, grad=False)
for dt in ["i32", "i64"]:
    case("shl", [([3, 4], dt, "small"), ([4], dt, "shift")], torch.bitwise_left_shift, grad=False)
    case("shr", [([3, 4], dt, "small"), ([4], dt, "shift")], torch.bitwise_right_shift, grad=False)
for dt in FLOATS:
    case("where", [([3, 4], "bool"), ([3, 4], dt), ([4], dt)], torch.where)
    case("lerp", [([3, 4], dt), ([4], dt), ([3, 1], dt)], torch.lerp)
    case("clip", [([3, 5], dt, "wide")], lambda x: torch.clamp(x, -1.0, 2.0), args={"lo": -1.0, "hi": 2.0})

# reductions
RED_SHAPES = [[4, 5], [2, 3, 4], [6], [3, 0]]
for shape in RED_SHAPES:
    axes = [list(range(len(shape))), [len(shape) - 1], [0]]
    for ax in axes:
        for dt in FLOATS:
            case("sum", [(shape, dt)], lambda x: x.sum(ax), args={"axes": ax})
            case("mean", [(shape, dt)], lambda x: x.mean(ax), args={"axes": ax})
            if 0 not in shape:
                case("max", [(shape, dt)], lambda x: x.amax(ax), args={"axes": ax})
                case("min", [(shape, dt)], lambda x: x.amin(ax), args={"axes": ax})
                case("prod", [(shape, dt)], lambda x: x.prod(ax[0]) if len(ax) == 1 else x.prod(), args={"axes": ax})
        for dt in ["i32", "u8", "bool"]:
            case("sum", [(shape, dt, "small")], lambda x: x.sum(ax), args={"axes": ax}, grad=False)
            case("any", [(shape, dt, "small")], lambda x: x.any(ax[0]) if len(ax) == 1 else x.any(), args={"axes": ax}, grad=False)
            case("all", [(shape, dt, "small")], lambda x: x.all(ax[0]) if len(ax) == 1 else x.all(), args={"axes": ax}, grad=False)
for shape in [[4, 5], [2, 3, 4], [7]]:
    for dt in ["f32", "f64"]:
        for corr in [0, 1]:
            case("var", [(shape, dt)], lambda x: torch.var(x, -1, correction=corr), args={"axis": -1, "correction": corr})
            case("std", [(shape, dt)], lambda x: torch.std(x, -1, correction=corr), args={"axis": -1, "correction": corr})
        case("logsumexp", [(shape, dt, "wide")], lambda x: torch.logsumexp(x, -1), args={"axis": -1})
        case("softmax", [(shape, dt, "wide")], lambda x: torch.softmax(x, -1), args={"axis": -1})
        case("log_softmax", [(shape, dt, "wide")], lambda x: torch.log_softmax(x, -1), args={"axis": -1})
        case("layernorm", [(shape, dt)], lambda x: F.layer_norm(x, [x.shape[-1]], eps=1e-5), args={"axis": -1})
        for name, fn in {"argmax": torch.argmax, "argmin": torch.argmin}.items():
            case(name, [(shape, dt, "halves")], lambda x: fn(x, -1), args={"axis": -1}, grad=False)
        for name, fn in {"cumsum": torch.cumsum, "cumprod": torch.cumprod}.items():
            case(name, [(shape, dt)], lambda x: fn(x, -1), args={"axis": -1})
        case("cummax", [(shape, dt)], lambda x: torch.cummax(x, -1).values, args={"axis": -1})
        case("cummin", [(shape, dt)], lambda x: torch.cummin(x, -1).values, args={"axis": -1})
        for desc in [False, True]:
            case("sort", [(shape, dt, "halves")], lambda x: tuple(torch.sort(x, dim=-1, descending=desc, stable=True)), args={"axis": -1, "descending": desc}, grad=False)
        case("topk", [(shape, dt, "wide")], lambda x: tuple(torch.topk(x, 2, -1)), args={"k": 2, "axis": -1})
        case("median", [(shape, dt, "wide")], lambda x: torch.median(x, -1).values, args={"axis": -1}, grad=False)
    case("cumsum", [(shape, "i32", "small")], lambda x: torch.cumsum(x, -1), args={"axis": -1}, grad=False)

# movement and indexing
for dt in ["f32", "f64", "i32"]:
    case("reshape", [([3, 4], dt)], lambda x: x.reshape(2, -1), args={"shape": [2, -1]})
    case("permute", [([2, 3, 4], dt)], lambda x: x.permute(2, 0, 1), args={"axes": [2, 0, 1]})
    case("transpose", [([2, 3, 4], dt)], lambda x: x.transpose(0, 2), args={"a": 0, "b": 2})
    case("expand", [([3, 1], dt)], lambda x: x.expand(3, 4), args={"shape": [3, 4]})
    case("flip", [([3, 4], dt)], lambda x: x.flip(0, 1), args={"axes": [0, 1]})
    case("roll", [([3, 5], dt)], lambda x: torch.roll(x, 2, 1), args={"shift": 2, "axis": 1})
    case("roll", [([3, 5], dt)], lambda x: torch.roll(x, -4, 0), args={"shift": -4, "axis": 0})
    case("repeat", [([2, 3], dt)], lambda x: x.repeat(2, 1, 3), args={"counts": [2, 1, 3]})
    case("tile", [([2, 3], dt)], lambda x: x.tile(2), args={"counts": [2]})
    case("repeat_interleave", [([2, 3], dt)], lambda x: x.repeat_interleave(2, 1), args={"repeats": 2, "axis": 1})
    case("tril", [([4, 5], dt)], lambda x: torch.tril(x, 1), args={"diagonal": 1})
    case("triu", [([2, 4, 5], dt)], lambda x: torch.triu(x, -1), args={"diagonal": -1})
    case("squeeze", [([3, 1, 4, 1], dt)], lambda x: x.squeeze(), args={})
    case("unsqueeze", [([3, 4], dt)], lambda x: x.unsqueeze(1), args={"axis": 1})
    case("flatten", [([2, 3, 4], dt)], lambda x: x.flatten(1), args={"start": 1, "end": -1})
    case("unflatten", [([2, 12], dt)], lambda x: x.unflatten(1, (3, -1)), args={"axis": 1, "sizes": [3, -1]})
    case("slice", [([5, 6], dt)], lambda x: x[1:4, -3:], args={"ranges": [[1, 4], [-3, 6]]})
    case("cat", [([2, 3], dt), ([4, 3], dt)], lambda a, b: torch.cat([a, b, a], 0), args={"axis": 0})
    case("stack", [([2, 3], dt), ([2, 3], dt)], lambda a, b: torch.stack([a, b], 1), args={"axis": 1})
    for mode in ["reflect", "replicate", "circular", "constant"]:
        case("pad_" + mode, [([2, 4, 5], dt)], lambda x: F.pad(x, (2, 1, 1, 2), mode=mode, value=0.0) if mode == "constant" else F.pad(x, (2, 1, 1, 2), mode=mode), args={})
    case("split", [([7, 3], dt)], lambda x: tuple(torch.split(x, 3, 0)), args={"size": 3, "axis": 0})
    case("chunk", [([3, 7], dt)], lambda x: tuple(torch.chunk(x, 3, 1)), args={"chunks": 3, "axis": 1})
    case("gather", [([3, 5], dt), ([3, 4], "i64", "index")], lambda x, i: torch.gather(x, 1, i), args={"axis": 1})
    case("gather", [([4, 3], dt), ([2, 3], "i64", "index")], lambda x, i: torch.gather(x, 0, i), args={"axis": 0})
    case("index_select", [([5, 4], dt), ([3], "i64", "index")], lambda x, i: torch.index_select(x, 0, i), args={"axis": 0})
    case("masked_fill", [([3, 4], dt), ([4], "bool")], lambda x, m: x.masked_fill(m, 7.0), args={"value": 7.0})
    case("scatter_add", [([4, 5], dt), ([2, 5], "i64", "index"), ([2, 5], dt)], lambda x, i, s: x.scatter_add(0, i, s), args={"axis": 0})

# linear algebra and nn
for dt in FLOATS:
    case("matmul", [([3, 4], dt), ([4, 5], dt)], torch.matmul)
    case("matmul", [([2, 3, 4], dt), ([4, 2], dt)], torch.matmul)
    case("matmul", [([4], dt), ([2, 4, 3], dt)], torch.matmul)
for dt in ["f32", "f64", "f16"]:
    case("conv2d", [([2, 3, 7, 6], dt), ([4, 3, 3, 3], dt), ([4], dt)], lambda x, w, b: F.conv2d(x, w, b, padding=1), args={"stride": [1, 1], "padding": [1, 1], "dilation": [1, 1], "groups": 1})
    case("conv2d", [([1, 4, 9, 8], dt), ([6, 2, 3, 2], dt), ([6], dt)], lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2), args={"stride": [2, 1], "padding": [1, 0], "dilation": [1, 2], "groups": 2})
    case("max_pool2d", [([2, 3, 8, 7], dt)], lambda x: F.max_pool2d(x, 2), args={"kernel": [2, 2], "padding": [0, 0]})
    case("max_pool2d", [([1, 2, 7, 7], dt)], lambda x: F.max_pool2d(x, 3, 2, 1), args={"kernel": [3, 3], "stride": [2, 2], "padding": [1, 1]})
    case("avg_pool2d", [([2, 3, 8, 6], dt)], lambda x: F.avg_pool2d(x, 2), args={"kernel": [2, 2], "padding": [0, 0]})
    case("cross_entropy", [([5, 4], dt), ([5], "i64", "index")], lambda x, y: F.cross_entropy(x, y), args={})
    case("cross_entropy", [([5, 4], dt), ([5], "i64", "index")], lambda x, y: F.cross_entropy(x, y, ignore_index=1, label_smoothing=0.1), args={"ignore_index": 1, "label_smoothing": 0.1})
    case("embedding", [([6], "i64", "index"), ([4, 3], dt)], lambda i, w: F.embedding(i, w), args={})
    case("mse_loss", [([3, 4], dt), ([3, 4], dt)], F.mse_loss)

# more of nn.functional
for dt in ["f32", "f64"]:
    case("conv1d", [([2, 3, 9], dt), ([4, 3, 3], dt), ([4], dt)], lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1), args={"stride": [2], "padding": [1], "dilation": [1], "groups": 1})
    case("conv3d", [([1, 2, 5, 4, 4], dt), ([3, 2, 2, 3, 2], dt), ([3], dt)], lambda x, w, b: F.conv3d(x, w, b, padding=1), args={"stride": [1, 1, 1], "padding": [1, 1, 1], "dilation": [1, 1, 1], "groups": 1})
    case("conv_transpose2d", [([2, 4, 5, 4], dt), ([4, 3, 3, 3], dt), ([6], dt)], lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1, groups=2), args={"stride": [2, 2], "padding": [1, 1], "dilation": [1, 1], "groups": 2, "output_padding": [1, 1]})
    case("conv_transpose1d", [([1, 3, 6], dt), ([3, 2, 4], dt), ([2], dt)], lambda x, w, b: F.conv_transpose1d(x, w, b, stride=3), args={"stride": [3], "padding": [0], "dilation": [1], "groups": 1, "output_padding": [0]})
    case("avg_pool2d_exclude_pad", [([1, 2, 7, 6], dt)], lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False), args={"kernel": [3, 3], "stride": [2, 2], "padding": [1, 1]})
    case("adaptive_avg_pool2d", [([2, 3, 7, 5], dt)], lambda x: F.adaptive_avg_pool2d(x, (3, 2)), args={"size": [3, 2]})
    case("adaptive_max_pool2d", [([1, 2, 7, 5], dt)], lambda x: F.adaptive_max_pool2d(x, (3, 4)), args={"size": [3, 4]})
    case("interpolate_nearest", [([1, 2, 3, 4], dt)], lambda x: F.interpolate(x, size=(5, 7), mode="nearest"), args={"size": [5, 7]})
    case("interpolate_bilinear", [([1, 2, 3, 4], dt)], lambda x: F.interpolate(x, size=(5, 7), mode="bilinear", align_corners=False), args={"size": [5, 7], "align_corners": False})
    case("interpolate_bilinear", [([1, 1, 4, 3], dt)], lambda x: F.interpolate(x, size=(2, 6), mode="bilinear", align_corners=True), args={"size": [2, 6], "align_corners": True})
    case("interpolate_linear", [([2, 3, 5], dt)], lambda x: F.interpolate(x, size=8, mode="linear", align_corners=False), args={"size": [8], "align_corners": False})
    case("sdpa", [([2, 3, 4, 8], dt), ([2, 3, 5, 8], dt), ([2, 3, 5, 6], dt)], lambda q, k, v: F.scaled_dot_product_attention(q, k, v), args={})
    case("sdpa_causal", [([1, 2, 5, 4], dt), ([1, 2, 5, 4], dt), ([1, 2, 5, 4], dt)], lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True), args={})
    case("sdpa_mask", [([1, 2, 3, 4], dt), ([1, 2, 5, 4], dt), ([1, 2, 5, 4], dt), ([3, 5], dt)], lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m), args={})
    case("batch_norm", [([4, 3, 2, 2], dt), ([3], dt), ([3], dt)], lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True, eps=1e-5), args={})
    case("batch_norm_running", [([4, 3, 2], dt), ([3], dt), ([3], dt, "positive")], lambda x, m, v: F.batch_norm(x, m, v, training=False, eps=1e-5), args={}, grad=False)
    case("group_norm", [([2, 6, 3, 2], dt), ([6], dt), ([6], dt)], lambda x, w, b: F.group_norm(x, 3, w, b, eps=1e-5), args={"groups": 3})
    case("instance_norm", [([2, 3, 4, 2], dt)], lambda x: F.instance_norm(x, eps=1e-5), args={})
    case("dot", [([5], dt), ([5], dt)], torch.dot)
    case("outer", [([3], dt), ([4], dt)], torch.outer)
    case("einsum_matmul", [([3, 4], dt), ([4, 5], dt)], lambda a, b: torch.einsum("ij,jk->ik", a, b), args={"spec": "ij,jk->ik"})
    case("einsum_batch", [([2, 3, 4], dt), ([2, 4, 5], dt)], lambda a, b: torch.einsum("bij,bjk->bik", a, b), args={"spec": "bij,bjk->bik"})
    case("einsum_trace", [([4, 4], dt)], lambda a: torch.einsum("ii", a), args={"spec": "ii"})
    case("einsum_implicit", [([3, 4], dt), ([4], dt)], lambda a, b: torch.einsum("ij,j", a, b), args={"spec": "ij,j"})
    case("cosine_similarity", [([3, 5], dt), ([3, 5], dt)], lambda a, b: F.cosine_similarity(a, b, dim=1), args={"axis": 1})
    case("bce", [([3, 4], dt, "positive01"), ([3, 4], dt, "positive01")], lambda p, y: F.binary_cross_entropy(p, y), args={})
    case("bce_with_logits", [([3, 4], dt, "wide"), ([3, 4], dt, "positive01")], lambda x, y: F.binary_cross_entropy_with_logits(x, y), args={})
    case("l1_loss", [([3, 4], dt), ([3, 4], dt)], F.l1_loss)
    case("smooth_l1_loss", [([3, 4], dt, "wide"), ([3, 4], dt)], lambda a, b: F.smooth_l1_loss(a, b, beta=0.5), args={"beta": 0.5})
    case("huber_loss", [([3, 4], dt, "wide"), ([3, 4], dt)], lambda a, b: F.huber_loss(a, b, delta=1.5), args={"delta": 1.5})
    case("kl_div", [([3, 4], dt), ([3, 4], dt, "positive01")], lambda a, b: F.kl_div(a, b, reduction="sum"), args={})
    case("nll_loss", [([5, 4], dt), ([5], "i64", "index")], lambda x, y: F.nll_loss(x, y), args={})

# casts between dtypes
CAST_FROM = {"f32": "specials", "f64": "wide", "i32": "small", "u8": "small", "bool": None, "f16": "wide", "bf16": "wide"}
for src, dom in CAST_FROM.items():
    for dst in ["f32", "f64", "f16", "bf16", "i32", "i64", "u8", "i8", "bool"]:
        if src == dst or (dom == "specials" and dst not in FLOATS + ["bool"]):
            continue
        case("cast", [([9], src, dom)], lambda x: x.to(TORCH_DTYPE[dst]), args={"dtype": dst}, grad=False)

# indexing: args["index"] lists entries: {"at": i}, {"range": [start, end, step]} (None as
# null), {"all": 1}, {"new": 1}, {"ellipsis": 1}, {"tensor": k} (input k)
def index_case(shape, index, tensors=(), dt="f32"):
    def torch_index(x, *ts):
        key = []
        for e in index:
            if "at" in e:
                key.append(e["at"])
            elif "range" in e:
                key.append(slice(*e["range"]))
            elif "all" in e:
                key.append(slice(None))
            elif "new" in e:
                key.append(None)
            elif "ellipsis" in e:
                key.append(Ellipsis)
            else:
                key.append(ts[e["tensor"] - 1])
        return x[tuple(key)]
    case("index", [(shape, dt)] + [(s, "i64", d) for s, d in tensors], torch_index, args={"index": index})

for dt in ["f32", "f64", "i32"]:
    index_case([4, 5], [{"at": 1}], dt=dt)
    index_case([4, 5], [{"at": -1}, {"range": [1, None, 2]}], dt=dt)
    index_case([3, 4, 5], [{"new": 1}, {"ellipsis": 1}, {"at": 0}], dt=dt)
    index_case([4, 6], [{"all": 1}, {"range": [-4, -1, 1]}], dt=dt)
    index_case([5, 3], [{"tensor": 1}], tensors=[([2, 3], "index")], dt=dt)
    index_case([3, 5], [{"all": 1}, {"tensor": 1}], tensors=[([4], "index")], dt=dt)
    index_case([4, 5, 3], [{"tensor": 1}, {"tensor": 2}], tensors=[([2, 1], "index"), ([3], "index")], dt=dt)
    index_case([4, 5, 3], [{"tensor": 1}, {"all": 1}, {"tensor": 2}], tensors=[([2], "index"), ([2], "index3")], dt=dt)
    index_case([2, 4, 5], [{"at": 1}, {"tensor": 1}, {"range": [0, 4, 3]}], tensors=[([3], "index")], dt=dt)
    index_case([4, 5], [{"tensor": 1}], tensors=[([3], "negindex")], dt=dt)

# scatter_reduce: every reduce with and without the input's values; the "index" domain
# (0..4) sends several values to one place and leaves places unsent. Each entry: the
# input, index and src shapes, the axis, the index domain.
# (PyTorch's gradient fails for a src larger than the index: those run in f32 alone)
SCATTER_SHAPES = [
    ([4, 5], [6, 5], [6, 5], 0, "index"),
    ([3, 5], [3, 4], [3, 4], 1, "index"),
    ([3, 5], [3, 4], [4, 6], 1, "index"),
    ([2, 3, 4], [2, 2, 5], [2, 2, 5], -1, "index3"),
    ([2, 3, 4], [2, 2, 5], [2, 3, 5], -1, "index3"),
    ([5], [8], [8], 0, "index"),
    ([1, 4], [3, 4], [3, 4], 0, "index1"),
    ([3, 4], [0, 4], [0, 4], 0, "index"),
    ([0, 3], [0, 3], [0, 3], 0, "index"),
]
for red in ["sum", "prod", "mean", "amax", "amin"]:
    # ties for amax/amin (their gradient is spread over equal values); no zeros for prod.
    # Without include_self the input's values never tie with src's: PyTorch still counts
    # such a tie when it spreads the gradient (ferrograd does not; docs/pytorch.md)
    dom = "halves" if red in ("amax", "amin") else None
    for inc in [True, False]:
        args = {"reduce": red, "include_self": inc}
        sdom = dom if inc else None
        for shape, ishape, sshape, ax, idom in SCATTER_SHAPES:
            for dt in ["f64", "f32"] if ishape == sshape else ["f32"]:
                case("scatter_reduce", [(shape, dt, sdom), (ishape, "i64", idom), (sshape, dt, dom)],
                     lambda x, i, s: x.scatter_reduce(ax, i, s, red, include_self=inc), args=dict(args, axis=ax))
        for dt in ["f16", "bf16", "i32", "i64", "u8", "i8", "bool"]:
            shape, ishape, sshape, ax, idom = SCATTER_SHAPES[0]
            case("scatter_reduce", [(shape, dt, dom if dt in FLOATS else "small"), (ishape, "i64", idom), (sshape, dt, dom if dt in FLOATS else "small")],
                 lambda x, i, s: x.scatter_reduce(ax, i, s, red, include_self=inc), args=dict(args, axis=ax), grad=False)
    case("scatter_reduce", [([5], "f32"), ([1, 3], "i64", "index"), ([1, 3], "f32")],
         lambda x, i, s: x.scatter_reduce(0, i, s, red), args={"reduce": red, "include_self": True, "axis": 0})
    case("scatter_reduce", [([4, 2], "f32"), ([3, 3], "i64", "index"), ([3, 3], "f32")],
         lambda x, i, s: x.scatter_reduce(0, i, s, red), args={"reduce": red, "include_self": True, "axis": 0})
    case("scatter_reduce", [([4, 5], "f32"), ([2, 5], "i64", "index"), ([2, 5], "f64")],
         lambda x, i, s: x.scatter_reduce(0, i, s, red), args={"reduce": red, "include_self": True, "axis": 0})
    case("scatter_reduce", [([4, 5], "f32"), ([2, 5], "f32", "index"), ([2, 5], "f32")],
         lambda x, i, s: x.scatter_reduce(0, i, s, red), args={"reduce": red, "include_self": True, "axis": 0})
case("scatter_reduce", [([], "f64"), ([], "i64", "index1"), ([], "f64")],
     lambda x, i, s: x.scatter_reduce(0, i, s, "sum"), args={"reduce": "sum", "include_self": True, "axis": 0})

# masked_select: the mask and the input broadcast together; the output is 1-D
MASKED_SHAPES = [([3, 4], [3, 4]), ([3, 4], [4]), ([4], [3, 4]), ([2, 1, 3], [1, 4, 1]), ([], []), ([0, 3], [3]), ([5], [1])]
for xs, ms in MASKED_SHAPES:
    for dt in ["f64", "f32"]:
        case("masked_select", [(xs, dt), (ms, "bool")], torch.masked_select)
for dt in ["f16", "bf16", "i32", "i64", "u8", "bool"]:
    case("masked_select", [([3, 4], dt, "small"), ([4], "bool")], torch.masked_select, grad=False)
case("masked_select", [([3, 4], "f32"), ([4], "u8", "small")], torch.masked_select)
case("masked_select", [([3, 4], "f32"), ([3], "bool")], torch.masked_select)

# bitcast (PyTorch's view(dtype)): the same size, and other sizes along the last dim
BITCASTS = [
    ("f32", "i32", [3, 4], "specials"), ("i32", "f32", [3, 4], "small"), ("f64", "i64", [5], None),
    ("i64", "f64", [2, 3], "small"), ("f16", "i16", [3, 4], None), ("bf16", "i16", [3, 4], None),
    ("i16", "f16", [6], "small"), ("i16", "bf16", [6], "small"), ("f16", "bf16", [4], None),
    ("u8", "i8", [2, 5], None), ("i8", "u8", [2, 5], None), ("u8", "bool", [7], "small"),
    ("bool", "u8", [7], None), ("bool", "i8", [2, 3], None), ("f32", "i32", [], None),
    ("f32", "u8", [3, 4], None), ("f32", "i16", [2, 3], None), ("f64", "i32", [2, 2], None),
    ("f64", "u8", [3], None), ("f16", "u8", [2, 3], None), ("u8", "f32", [2, 8], None),
    ("u8", "f64", [8], None), ("i16", "f64", [2, 4], None), ("i32", "i64", [3, 4], None),
    ("u8", "i16", [3, 4], None), ("i8", "f16", [4], None), ("bool", "i16", [2, 4], None),
    ("f32", "u8", [0, 4], None), ("u8", "f32", [0, 8], None), ("i64", "i8", [1, 2], None),
    ("f32", "f64", [3], None), ("f32", "f64", [2, 3], None), ("f32", "i16", [], None),
]
for src, dst, shape, dom in BITCASTS:
    case("bitcast", [(shape, src, dom)], lambda x: x.view(TORCH_DTYPE[dst]), args={"dtype": dst}, grad=False)

# std with PyTorch's default correction (1); n <= 1 gives NaN
for shape, axes, keepdim in [([4, 5], [1], False), ([4, 5], [0], True), ([4, 5], [], False),
                             ([2, 3, 4], [0, 2], False), ([2, 3, 4], [-1], True), ([7], [0], False)]:
    for dt in FLOATS:
        case("std", [(shape, dt)], lambda x: torch.std(x, axes if axes else None, keepdim=keepdim), args={"axes": axes, "keepdim": keepdim})
for shape, axes in [([1, 5], [0]), ([3, 0], [1]), ([0, 3], [0])]:
    case("std", [(shape, "f32")], lambda x: torch.std(x, axes), args={"axes": axes, "keepdim": False}, grad=False)
case("std", [([4, 5], "i32", "small")], lambda x: torch.std(x, [1]), args={"axes": [1], "keepdim": False})

# mode: the smallest most frequent value and the last index holding it ("few" and the
# index domains repeat values)
for shape, axis, keepdim in [([4, 6], 1, False), ([4, 6], 0, False), ([2, 3, 5], -1, True), ([7], 0, False),
                             ([1, 5], 0, False), ([3, 0], 0, False), ([], 0, False)]:
    for dt in ["f64", "f32", "f16", "bf16"]:
        case("mode", [(shape, dt, "few")], lambda x: tuple(torch.mode(x, axis, keepdim)), args={"axis": axis, "keepdim": keepdim})
    for dt in ["i32", "i64", "u8", "bool"]:
        case("mode", [(shape, dt, "index")], lambda x: tuple(torch.mode(x, axis, keepdim)), args={"axis": axis, "keepdim": keepdim}, grad=False)
case("mode", [([0, 3], "f32")], lambda x: tuple(torch.mode(x, 0)), args={"axis": 0, "keepdim": False})
case("mode", [([3, 4], "f32")], lambda x: tuple(torch.mode(x, 2)), args={"axis": 2, "keepdim": False})

# min and max of integers (an unsigned 0 and a signed minimum are where negation wraps)
for dt in ["i32", "u8", "i8", "i64"]:
    for ax in [[1], [0, 1]]:
        case("min", [([4, 5], dt, "small")], lambda x: x.amin(ax), args={"axes": ax}, grad=False)
        case("max", [([4, 5], dt, "small")], lambda x: x.amax(ax), args={"axes": ax}, grad=False)

# type promotion: tensor with tensor, and tensor with a Python scalar (a weak literal)
PROMO_DTYPES = ["bool", "u8", "i8", "i16", "i32", "i64", "f16", "bf16", "f32", "f64"]
PROMOTION = []
for a in PROMO_DTYPES:
    ta = torch.zeros(2, dtype=TORCH_DTYPE[a])
    for b in PROMO_DTYPES:
        tb = torch.zeros(2, dtype=TORCH_DTYPE[b])
        PROMOTION.append({"a": a, "b": b, "result": NAME_OF[torch.result_type(ta, tb)]})
    for kind, value in [("int", 3), ("float", 2.5), ("bool", True)]:
        PROMOTION.append({"a": a, "scalar": kind, "result": NAME_OF[torch.result_type(ta, value)]})

with gzip.open(OUT, "wt") as f:
    json.dump({"torch": torch.__version__, "seed": SEED, "cases": CASES, "promotion": PROMOTION}, f, separators=(",", ":"))
print(f"{len(CASES)} cases -> {OUT} ({os.path.getsize(OUT)} bytes)")
