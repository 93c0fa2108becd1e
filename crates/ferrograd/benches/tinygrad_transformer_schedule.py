"""Peer figure for `cargo run --release -p ferrograd --example schedule_transformer`: the
same 48-layer transformer-like forward pass (layernorm, attention from broadcast matmuls +
causal mask + softmax, ReLU MLP; batch 4, 128 tokens, width 256) built in tinygrad and
scheduled without running. Prints kernels and microseconds per scheduled kernel (best of
RUNS, default 3; each run builds the graph anew, since tinygrad caches schedules of a
graph it has seen). Usage: DEV=CPU python tinygrad_transformer_schedule.py"""
import os, time
os.environ.setdefault("DEV", "CPU")
from tinygrad import Tensor

B, T, D, LAYERS = 4, 128, 256, 48

def linear(x, w):
    return (x.reshape(B * T, w.shape[0]) @ w).reshape(B, T, w.shape[1])

def block(x, w, mask):
    h = x.layernorm(-1, 1e-5)
    q, k, v = linear(h, w[0]), linear(h, w[1]), linear(h, w[2])
    scores = (q.reshape(B, T, 1, D).expand(B, T, T, D) * k.reshape(B, 1, T, D).expand(B, T, T, D)).sum(-1)
    scores = scores * (1.0 / D ** 0.5) + mask
    p = scores.softmax(-1)
    att = (p.reshape(B, T, T, 1).expand(B, T, T, D) * v.reshape(B, 1, T, D).expand(B, T, T, D)).sum(2)
    x = x + linear(att, w[3])
    h = x.layernorm(-1, 1e-5)
    return x + linear(linear(h, w[4]).relu(), w[5])

def build():
    mask = Tensor([[-1e9 if j > i else 0.0 for j in range(T)] for i in range(T)])
    x = Tensor.rand(B, T, D)
    for _ in range(LAYERS):
        w = [Tensor.rand(D, D) for _ in range(4)] + [Tensor.rand(D, 4 * D), Tensor.rand(4 * D, D)]
        x = block(x, w, mask)
    return x

best, n = None, 0
for _ in range(int(os.environ.get("RUNS", "3"))):
    x = build()
    t0 = time.perf_counter()
    lin = x.schedule_linear()  # tinygrad 0.14: a LINEAR UOp, one source per kernel call
    took = time.perf_counter() - t0
    n = len(lin.src)
    best = took if best is None else min(best, took)
print(f"tinygrad: {LAYERS} layers, batch {B}, {T} tokens, width {D}: {n} schedule items in {best*1e3:.1f} ms, {best/n*1e6:.1f} us per kernel")
