"""Peer column of tests/kernel_counts.rs: the same programs, at the same shapes, scheduled
by tinygrad (kernels per program; inputs are realized buffers, so no random-number or
copy kernels are counted). Usage: CC=clang-19 DEV=CPU python tinygrad_kernel_counts.py
(or DEV=CPU:LLVM). Prints one line per program: its name and tinygrad's kernel count."""
import os
os.environ.setdefault("DEV", "CPU")
import numpy as np
from tinygrad import Tensor, dtypes

def inp(*shape):
    return Tensor(np.random.default_rng(0).standard_normal(shape).astype(np.float32)).realize()

def idx(data):
    return Tensor(np.array(data, dtype=np.int32)).realize()

def attention(causal):
    q, k, v = inp(1, 2, 64, 16), inp(1, 2, 64, 16), inp(1, 2, 64, 16)
    return [q.scaled_dot_product_attention(k, v, is_causal=causal)]

def conv():
    return inp(1, 3, 16, 16), inp(8, 3, 3, 3)

PROGRAMS = [
    ("elementwise chain", lambda: (lambda a, b: [(-(((a * b + 1).exp() - a).abs().sqrt()))])(inp(13, 5), inp(13, 5))),
    ("a + bias (broadcast)", lambda: [inp(13, 5) + inp(5)]),
    ("permute+pad+shrink then add", lambda: [inp(4, 6).permute(1, 0).pad(((1, 1), (2, 0))).shrink(((1, 7), (0, 5))) + inp(6, 5)]),
    ("sum over an axis", lambda: [inp(13, 7).sum(1)]),
    ("sum of 2^16 (split in two)", lambda: [inp(1 << 16).sum(0)]),
    ("max over 40000 of 3 rows (split)", lambda: [inp(3, 40000).max(1, keepdim=True)]),
    ("a - a.sum(1, keepdim)", lambda: (lambda a: [a - a.sum(1, keepdim=True)])(inp(13, 7))),
    ("layernorm (no affine)", lambda: [inp(9, 16).layernorm(-1, 1e-5)]),
    ("softmax", lambda: [inp(9, 16).softmax(-1)]),
    ("log_softmax", lambda: [inp(9, 16).log_softmax(-1)]),
    ("(a @ b + bias).relu()", lambda: [(inp(7, 12) @ inp(12, 5) + inp(5)).relu()]),
    ("a @ b @ a", lambda: (lambda a, b: [a @ b @ a])(inp(16, 16), inp(16, 16))),
    ("conv2d", lambda: (lambda x, w: [x.conv2d(w)])(*conv())),
    ("conv2d + relu + maxpool", lambda: (lambda x, w: [x.conv2d(w).relu().max_pool2d(2)])(*conv())),
    ("attention", lambda: attention(False)),
    ("causal attention", lambda: attention(True)),
    ("a.exp() and a.sum() together", lambda: (lambda a: [a.exp(), a.sum()])(inp(16, 8))),
    ("cumsum", lambda: [inp(8, 33).cumsum(1)]),
    ("gather by an index tensor", lambda: [inp(8, 10).gather(1, idx(np.random.default_rng(1).integers(0, 10, (8, 4))))]),
    ("cat", lambda: [Tensor.cat(inp(4, 5), inp(4, 3), inp(4, 2), dim=1)]),
    ("argmax", lambda: [inp(9, 16).argmax(1)]),
    ("sum of 2^20", lambda: [inp(1 << 20).sum()]),
    ("layernorm then matmul", lambda: [inp(9, 16).layernorm(-1, 1e-5) @ inp(16, 8)]),
]

for name, build in PROGRAMS:
    outs = build()
    lin = outs[0].schedule_linear(*outs[1:])
    print(f"{name:<34} {len(lin.src)}")
