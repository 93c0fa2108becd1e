"""tinygrad 0.14 peer of the train_digits example: the same network, data, split, batches
and hyperparameters as train_digits_torch.py (see its header), on tinygrad's CPU device.

Data: crates/ferrograd/data/digits.csv.gz, pixels / 16, split by the shuffle
epoch_order(1797, 2024, 0): its last 360 images test, the other 1,437 train.
Network: Conv2d(1, 16, 3, padding=1) -> ReLU -> max_pool2d(2) -> Conv2d(16, 32, 3,
padding=1) -> ReLU -> max_pool2d(2) -> flatten -> Linear(32*2*2, 10); cross-entropy.
Hyperparameters: Adam, lr 1e-2, batch 64 (the last partial batch dropped: 22 steps per
epoch), 15 epochs, Tensor.manual_seed(0); epoch e's batches follow epoch_order(1437, 0, e).
The training step runs under TinyJit (tinygrad's usual fast path: the step's kernels are
captured on the second call and replayed).

Running it: `pip install tinygrad==0.14.0`; its CPU device compiles kernels with clang and
needs one that knows `__bf16`: `apt-get install clang-19` and run with CC=clang-19
(Debian 12's default clang 14 and gcc do not work), or DEV=CPU:LLVM with llvm-19.
Prints: the time to the first step (from the model's creation to the end of the first
step, kernel compilation included), the mean time per epoch after the first, and the final
test accuracy.
Usage: DEV=CPU CC=clang-19 python3 train_digits_tinygrad.py [epochs]
"""
import gzip, os, sys, time

os.environ.setdefault("DEV", "CPU")
import numpy as np
from tinygrad import Tensor, TinyJit, nn
from tinygrad.helpers import Context
from tinygrad.nn.state import get_parameters

EPOCHS = int(sys.argv[1]) if len(sys.argv) > 1 else 15
BATCH, LR, SEED, TEST_LEN, SPLIT_SEED = 64, 1e-2, 0, 360, 2024
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "digits.csv.gz")
MASK = (1 << 64) - 1


def epoch_order(n, seed, epoch):
    """Fisher-Yates by splitmix64 seeded with seed + epoch (ferrograd's epoch_order)."""
    state, order = (seed + epoch) & MASK, list(range(n))
    for i in range(n - 1, 0, -1):
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        j = (z ^ (z >> 31)) % (i + 1)
        order[i], order[j] = order[j], order[i]
    return order


def load_digits():
    rows = np.loadtxt(gzip.open(DATA, "rt"), delimiter=",", dtype=np.int64)
    rows = rows[epoch_order(len(rows), SPLIT_SEED, 0)]
    images = (rows[:, :64] / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    labels = rows[:, 64].astype(np.int32)
    cut = len(rows) - TEST_LEN
    return (images[:cut], labels[:cut]), (images[cut:], labels[cut:])


class Net:
    def __init__(self):
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc = nn.Linear(32 * 2 * 2, 10)

    def __call__(self, x):
        x = self.conv1(x).relu().max_pool2d(2)
        x = self.conv2(x).relu().max_pool2d(2)
        return self.fc(x.flatten(1))


def main():
    (train_x, train_y), (test_x, test_y) = load_digits()
    start = time.perf_counter()
    Tensor.manual_seed(SEED)
    model = Net()
    opt = nn.optim.Adam(get_parameters(model), lr=LR)

    @TinyJit
    def train_step(x, y):
        with Context(TRAINING=1):
            opt.zero_grad()
            loss = model(x).sparse_categorical_crossentropy(y).backward()
            opt.step()
            return loss

    first_step, epoch_times = None, []
    for epoch in range(EPOCHS):
        t0 = time.perf_counter()
        order = epoch_order(len(train_y), SEED, epoch)
        for b in range(len(order) // BATCH):
            idx = order[b * BATCH:(b + 1) * BATCH]
            loss_value = train_step(Tensor(train_x[idx]), Tensor(train_y[idx])).item()
            if first_step is None:
                first_step = time.perf_counter() - start
        epoch_times.append(time.perf_counter() - t0)
        print(f"epoch {epoch + 1:2d}: last loss {loss_value:.4f}, {epoch_times[-1] * 1e3:.1f} ms")
    predictions = model(Tensor(test_x)).argmax(1).numpy()
    accuracy = float((predictions == test_y).mean())
    later = epoch_times[1:] or epoch_times
    print(f"tinygrad 0.14, DEV={os.environ['DEV']}")
    print(f"time to first step: {first_step * 1e3:.1f} ms")
    print(f"time per epoch after the first: {sum(later) / len(later) * 1e3:.1f} ms")
    print(f"test accuracy: {accuracy * 100:.2f}% ({round(accuracy * len(test_y))}/{len(test_y)})")


if __name__ == "__main__":
    main()
