#!/usr/bin/env python3
"""Peer figure for `cargo bench -p symbolic --bench simplify`: tinygrad's `UOp.simplify()`
over 10,000 random depth-6 index expressions on four bounded variables.

The generator is a line-for-line port of `crates/symbolic/src/corpus.rs` (`SplitMix`,
`random_vars`, `random_expr`) with the same seed, so both sides draw the same op mix and
the same constants and bounds. Differences are only in how tinygrad spells some ops:
`min(x, y)` is tinygrad's own `x.minimum(y)` (for ints it builds `~max(~x, ~y)` with XOR),
and `!(x < y)` is `(x < y).logical_not()`. The overflow guard uses tinygrad's vmin/vmax
against the i64 range, as ferrograd's `fits_without_wrap` does with its own bounds.

Like the Rust bench, the corpus is built once and every round simplifies all of it. UOps
are interned in both projects; tinygrad also caches vmin/vmax on each node, so round 1
(cold) and later rounds (warm) are reported separately. The warm median is the figure
that compares with criterion's steady state.

  python3 -m venv /tmp/tgvenv && /tmp/tgvenv/bin/pip install tinygrad==0.14.0
  /tmp/tgvenv/bin/python crates/symbolic/benches/tinygrad_symbolic.py [--rounds 5] [--n 10000]
"""
import argparse
import importlib.metadata
import statistics
import sys
import time

from tinygrad.uop.ops import UOp

MASK = (1 << 64) - 1
I64_MIN, I64_MAX = -(1 << 63), (1 << 63) - 1
UPPER_BOUNDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 32, 64, 128, 256]


class SplitMix:
  def __init__(self, seed: int): self.state = seed & MASK

  def next_u64(self) -> int:
    self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
    z = self.state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)

  def below(self, n: int) -> int: return self.next_u64() % max(n, 1)

  def small_nonzero(self) -> int:
    v = self.below(9) + 1
    return v if self.below(2) == 0 else -v


def random_vars(rng: SplitMix) -> list[UOp]:
  return [UOp.variable(n, 0, UPPER_BOUNDS[rng.below(len(UPPER_BOUNDS))]) for n in "abcd"]


def fits_without_wrap(u: UOp) -> bool:
  return I64_MIN < u.vmin and u.vmax < I64_MAX


def random_expr(rng: SplitMix, vs: list[UOp], depth: int) -> UOp:
  if depth == 0 or rng.below(8) == 0: return vs[rng.below(len(vs))]
  x = random_expr(rng, vs, depth - 1)
  c = rng.small_nonzero()
  k = rng.below(11)
  if k == 0: out = x + c
  elif k == 1: out = x * c
  elif k == 2: out = x // c
  elif k == 3: out = x % c
  elif k == 4: out = x.maximum(c)
  elif k == 5: out = x.minimum(c)
  elif k == 6: out = x + random_expr(rng, vs, depth - 1)
  elif k == 7: out = x * random_expr(rng, vs, depth - 1)
  elif k == 8: out = x.maximum(random_expr(rng, vs, depth - 1))
  elif k == 9: out = x.minimum(random_expr(rng, vs, depth - 1))
  else:
    y = random_expr(rng, vs, depth - 1)
    cond = (x < c) if rng.below(2) == 0 else (x < y).logical_not()
    out = cond.where(x, y)
  return out if fits_without_wrap(out) else x


def main() -> None:
  ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  ap.add_argument("--n", type=int, default=10_000)
  ap.add_argument("--depth", type=int, default=6)
  ap.add_argument("--seed", type=lambda s: int(s, 0), default=0x5EED)
  ap.add_argument("--rounds", type=int, default=5)
  args = ap.parse_args()

  sys.setrecursionlimit(10_000)
  rng = SplitMix(args.seed)
  t0 = time.perf_counter()
  corpus = []
  for _ in range(args.n):
    vs = random_vars(rng)
    corpus.append(random_expr(rng, vs, args.depth))
  build_s = time.perf_counter() - t0

  errors, simplified, times = 0, [], []
  for r in range(args.rounds):
    t0 = time.perf_counter()
    out = []
    for e in corpus:
      try: out.append(e.simplify())
      except Exception: errors += 1
    times.append(time.perf_counter() - t0)
    if r == 0: simplified = out

  def avg_nodes(es): return sum(len(e.toposort()) for e in es) / max(len(es), 1)
  print(f"tinygrad {importlib.metadata.version('tinygrad')}, python {sys.version.split()[0]}")
  print(f"corpus: {args.n} expressions (seed {args.seed:#x}, depth {args.depth}) built in {build_s:.2f} s; "
        f"{errors // args.rounds} raised per round")
  print(f"average nodes {avg_nodes(corpus):.2f} before, {avg_nodes(simplified):.2f} after")
  print(f"round 1 (cold): {times[0]:.3f} s = {args.n / times[0]:,.0f} expr/s")
  if len(times) > 1:
    warm = statistics.median(times[1:])
    print(f"rounds 2..{len(times)} (warm) median: {warm:.3f} s = {args.n / warm:,.0f} expr/s "
          f"(best {args.n / min(times[1:]):,.0f}, worst {args.n / max(times[1:]):,.0f})")


if __name__ == "__main__":
  main()
