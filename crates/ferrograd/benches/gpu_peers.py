"""The peers of `bench_gpu`: PyTorch and tinygrad 0.14 on the same rows, the same sizes.

Prints one line per figure, `row<TAB>peer<TAB>value`, in the units of the ferrograd table
(GB/s, TFLOP/s, us), for `bench_gpu --peers gpu_peers.py` to merge. PyTorch is timed with
CUDA events (warm-up, median of repetitions); tinygrad with its own synchronize around
each call of a TinyJit-compiled function (median), on fresh random inputs.
"""
import statistics
import sys
import time

QUICK = "--quick" in sys.argv
N = 1 << 24 if QUICK else 1 << 28
MM = 1024 if QUICK else 4096


def emit(row, peer, value):
    print(f"{row}\t{peer}\t{value:.3f}", flush=True)


def torch_rows():
    import torch

    dev = "cuda"

    def timed(fn, warmup=3, reps=20):
        for _ in range(warmup):
            fn()
        times = []
        for _ in range(reps):
            s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            s.record()
            fn()
            e.record()
            e.synchronize()
            times.append(s.elapsed_time(e) / 1e3)
        return statistics.median(times)

    a, b = torch.rand(N, device=dev) * 2 - 1, torch.rand(N, device=dev) * 2 - 1
    out = torch.empty_like(a)
    emit("copy 2^28 f32 (ceiling)", "torch", 2 * 4 * N / timed(lambda: out.copy_(a)) / 1e9)
    emit("a*b+1 2^28 f32", "torch", 12 * N / timed(lambda: torch.add(a * b, 1.0)) / 1e9)
    emit("sum 2^28 f32", "torch", 4 * N / timed(lambda: a.sum()) / 1e9)
    rows = 1024 if QUICK else 8192
    x = torch.rand(rows, 8192, device=dev)
    emit("softmax 8192x8192 f32", "torch", 8 * x.numel() / timed(lambda: torch.softmax(x, -1)) / 1e9)
    del a, b, out, x
    for name, dt, tf32 in [("matmul f32", torch.float32, False), ("matmul tf32", torch.float32, True),
                           ("matmul f16", torch.float16, False), ("matmul bf16", torch.bfloat16, False)]:
        torch.backends.cuda.matmul.allow_tf32 = tf32
        p, q = torch.randn(MM, MM, device=dev, dtype=dt), torch.randn(MM, MM, device=dev, dtype=dt)
        emit(name, "torch", 2 * MM**3 / timed(lambda: p @ q, 2, 10) / 1e12)
    torch.backends.cuda.matmul.allow_tf32 = False
    n, ci, co = (4, 64, 64) if QUICK else (32, 256, 256)
    xi = torch.randn(n, ci, 56, 56, device=dev, dtype=torch.float16)
    w = torch.randn(co, ci, 3, 3, device=dev, dtype=torch.float16)
    conv = lambda: torch.nn.functional.conv2d(xi, w, padding=1)
    emit("conv2d f16 32x256x56x56 3x3", "torch", 2 * n * co * 56 * 56 * ci * 9 / timed(conv, 2, 5) / 1e12)
    B, H, S, D = (1, 4, 512, 64) if QUICK else (8, 16, 2048, 64)
    q, k, v = (torch.randn(B, H, S, D, device=dev, dtype=torch.float16) for _ in range(3))
    sdpa = lambda: torch.nn.functional.scaled_dot_product_attention(q, k, v)
    emit("attention f16 8x16x2048x64", "torch", 4 * B * H * S * S * D / timed(sdpa, 2, 5) / 1e12)
    t = torch.rand(1024, device=dev)
    for _ in range(100):
        t + 1
    torch.cuda.synchronize()
    samples = []
    for _ in range(200):
        t0 = time.perf_counter()
        (t + 1)
        torch.cuda.synchronize()
        samples.append(time.perf_counter() - t0)
    emit("tiny op, eager (per call)", "torch", statistics.median(samples) * 1e6)
    g = torch.cuda.CUDAGraph()
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(3):
            t + 1
    torch.cuda.current_stream().wait_stream(s)
    with torch.cuda.graph(g):
        outs = [t + 1 for _ in range(1000)]
    for _ in range(3):
        g.replay()
    torch.cuda.synchronize()
    samples = []
    for _ in range(10):
        t0 = time.perf_counter()
        g.replay()
        torch.cuda.synchronize()
        samples.append(time.perf_counter() - t0)
    emit("tiny op, graph replay (per op)", "torch", statistics.median(samples) * 1e6 / 1000)
    del outs


def tinygrad_rows():
    import os
    os.environ.setdefault("DEV", "CUDA")
    from tinygrad import Tensor, TinyJit, Device, dtypes

    dev = Device[Device.DEFAULT]

    def timed(fn, warmup=3, reps=20):
        for _ in range(warmup):
            fn()
        dev.synchronize()
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            fn()
            dev.synchronize()
            times.append(time.perf_counter() - t0)
        return statistics.median(times)

    a = (Tensor.rand(N) * 2 - 1).realize()
    b = (Tensor.rand(N) * 2 - 1).realize()
    emit("a*b+1 2^28 f32", "tinygrad", 12 * N / timed(TinyJit(lambda: (a * b + 1).realize())) / 1e9)
    emit("sum 2^28 f32", "tinygrad", 4 * N / timed(TinyJit(lambda: a.sum().realize())) / 1e9)
    emit("copy 2^28 f32 (ceiling)", "tinygrad", 8 * N / timed(TinyJit(lambda: (a + 0).contiguous().realize())) / 1e9)
    del a, b
    rows = 1024 if QUICK else 8192
    x = Tensor.rand(rows, 8192).realize()
    emit("softmax 8192x8192 f32", "tinygrad", 8 * rows * 8192 / timed(TinyJit(lambda: x.softmax(-1).realize())) / 1e9)
    del x
    for name, dt in [("matmul f32", dtypes.float32), ("matmul f16", dtypes.float16), ("matmul bf16", dtypes.bfloat16)]:
        p = Tensor.randn(MM, MM, dtype=dt).realize()
        q = Tensor.randn(MM, MM, dtype=dt).realize()
        emit(name, "tinygrad", 2 * MM**3 / timed(TinyJit(lambda: (p @ q).realize()), 2, 10) / 1e12)
    n, ci, co = (4, 64, 64) if QUICK else (32, 256, 256)
    xi = Tensor.randn(n, ci, 56, 56, dtype=dtypes.float16).realize()
    w = Tensor.randn(co, ci, 3, 3, dtype=dtypes.float16).realize()
    emit("conv2d f16 32x256x56x56 3x3", "tinygrad",
         2 * n * co * 56 * 56 * ci * 9 / timed(TinyJit(lambda: xi.conv2d(w, padding=1).realize()), 2, 5) / 1e12)
    B, H, S, D = (1, 4, 512, 64) if QUICK else (8, 16, 2048, 64)
    q, k, v = (Tensor.randn(B, H, S, D, dtype=dtypes.float16).realize() for _ in range(3))
    emit("attention f16 8x16x2048x64", "tinygrad",
         4 * B * H * S * S * D / timed(TinyJit(lambda: q.scaled_dot_product_attention(k, v).realize()), 2, 5) / 1e12)
    t = Tensor.rand(1024).realize()
    step = TinyJit(lambda: (t + 1).realize())
    emit("tiny op, graph replay (per op)", "tinygrad", timed(step, 5, 200) * 1e6)


if __name__ == "__main__":
    for name, rows in [("torch", torch_rows), ("tinygrad", tinygrad_rows)]:
        try:
            rows()
        except Exception as e:  # a peer that fails leaves its cells empty, and says why
            print(f"{name} rows failed: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
