"""Peer figures for the dispatch benchmark (crates/ferrograd/examples/dispatch_bench.rs):
numpy and PyTorch (CPU) on the same programs, in microseconds per call, the median of
rounds after a warm-up:

- `a*b+1` on 1,024 float32 (numpy, torch), on the same inputs each call and over 512
  pairs of inputs in turn;
- a training step of the same small MLP (64 -> 128 -> 10, ReLU, batch 32, MSE loss,
  SGD lr 1e-3): zero_grad, forward, backward, step (torch; a step's time only: torch
  launches no kernels of its own on the CPU to count).

Usage: python dispatch_peers.py [rounds]. torch runs with its default thread count and
with one thread."""
import sys, time


def per_call(f, rounds, calls):
    for _ in range(calls):
        f()
    times = []
    for _ in range(rounds):
        s = time.perf_counter()
        for _ in range(calls):
            f()
        times.append((time.perf_counter() - s) * 1e6 / calls)
    return sorted(times)[len(times) // 2]


def rotating(pairs):
    """a*b+1 on the next pair of inputs at each call."""
    state = {"next": 0}

    def f():
        a, b = pairs[state["next"] % len(pairs)]
        state["next"] += 1
        return a * b + 1

    return f


def numpy_rows(rounds):
    import numpy as np
    a = np.random.rand(1024).astype(np.float32)
    b = np.random.rand(1024).astype(np.float32)
    print(f"numpy {np.__version__}: a*b+1, 1024 f32        {per_call(lambda: a * b + 1, rounds, 2000):9.2f} us/call")
    pairs = [(np.random.rand(1024).astype(np.float32), np.random.rand(1024).astype(np.float32)) for _ in range(512)]
    print(f"numpy {np.__version__}: a*b+1 over 512 pairs   {per_call(rotating(pairs), rounds, 2048):9.2f} us/call")


def torch_rows(rounds, threads):
    import torch
    if threads:
        torch.set_num_threads(threads)
    label = f"torch {torch.__version__} ({torch.get_num_threads()} threads)"
    a = torch.rand(1024)
    b = torch.rand(1024)
    print(f"{label}: a*b+1, 1024 f32   {per_call(lambda: a * b + 1, rounds, 2000):9.2f} us/call")
    pairs = [(torch.rand(1024), torch.rand(1024)) for _ in range(512)]
    print(f"{label}: a*b+1 over 512 pairs {per_call(rotating(pairs), rounds, 2048):9.2f} us/call")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    x = torch.rand(32, 64)
    y = torch.rand(32, 10)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()

    print(f"{label}: MLP SGD step      {per_call(step, rounds, 50):9.2f} us/step")


if __name__ == "__main__":
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    numpy_rows(rounds)
    torch_rows(rounds, None)
    torch_rows(rounds, 1)
