"""Peer figures for the CPU benchmark rows (crates/ferrograd/examples/cpu_bench.rs):
PyTorch (all cores), numpy and tinygrad 0.14's CPU device on the same programs, median of
9 runs after a warm-up. tinygrad's CPU device compiles with clang: run with CC=clang-19
(gcc does not take its flags). Usage: python cpu_peers.py [torch|numpy|tinygrad|all]"""
import os, sys, time

def median_ms(f, n=9):
    f()
    r = []
    for _ in range(n):
        s = time.perf_counter(); f(); r.append(time.perf_counter() - s)
    return sorted(r)[n // 2] * 1e3

def numpy_rows():
    import numpy as np
    a = np.random.rand(1 << 22).astype(np.float32); b = np.random.rand(1 << 22).astype(np.float32)
    s = np.random.rand(2048, 2048).astype(np.float32)
    mats = {m: (np.random.rand(m, m).astype(np.float32), np.random.rand(m, m).astype(np.float32))
            for m in (512, 1024, 2048)}
    def softmax():
        e = np.exp(s - s.max(-1, keepdims=True)); return e / e.sum(-1, keepdims=True)
    rows = {"a*b+1": median_ms(lambda: a * b + 1), "sum": median_ms(lambda: a.sum()),
            "softmax": median_ms(softmax)}
    for m, (x, y) in mats.items():
        rows[f"matmul {m}"] = median_ms(lambda: x @ y)
    return rows

def torch_rows():
    import torch
    torch.set_num_threads(os.cpu_count())
    a = torch.rand(1 << 22); b = torch.rand(1 << 22); s = torch.rand(2048, 2048)
    rows = {"a*b+1": median_ms(lambda: a * b + 1), "sum": median_ms(lambda: a.sum()),
            "softmax": median_ms(lambda: torch.softmax(s, -1))}
    for m in (512, 1024, 2048):
        x = torch.rand(m, m); y = torch.rand(m, m)
        rows[f"matmul {m}"] = median_ms(lambda: x @ y)
    return rows

def tinygrad_rows():
    os.environ.setdefault("DEV", "CPU")
    from tinygrad import Tensor
    a = Tensor.rand(1 << 22).realize(); b = Tensor.rand(1 << 22).realize()
    s = Tensor.rand(2048, 2048).realize()
    rows = {"a*b+1": median_ms(lambda: (a * b + 1).realize()), "sum": median_ms(lambda: a.sum().realize()),
            "softmax": median_ms(lambda: s.softmax(-1).realize())}
    for m in (512, 1024, 2048):
        x = Tensor.rand(m, m).realize(); y = Tensor.rand(m, m).realize()
        rows[f"matmul {m}"] = median_ms(lambda: (x @ y).realize(), n=9 if m < 2048 else 3)
    return rows

if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "all"
    for name, fn in [("torch", torch_rows), ("numpy", numpy_rows), ("tinygrad", tinygrad_rows)]:
        if which in (name, "all"):
            print(name, {k: round(v, 3) for k, v in fn().items()}, "ms")
