"""Runs the ONNX backend test cases (the onnx 1.19.1 wheel's `backend/test/data/<group>/`)
through a peer runtime -- onnxruntime or tinygrad's ONNX importer -- with the comparison
ferrograd's conformance test uses, and writes one line per case:
`<group>/<case>\t<pass|fail>\t<reason>`.

The comparison: the same number of outputs; each output has the expected shape and dtype;
floating-point values within |got - want| <= 1e-5 + 1e-3 * |want| (NaN where NaN is
expected); integers, booleans and strings exactly; sequences element by element; an empty
optional where one is expected.

usage: python3 backend_tests.py --peer ort|tinygrad --data DIR [--groups node,simple,...]
       [--out results.tsv] [--timeout 120]
tinygrad's CPU device compiles with clang: run with CC=clang-19 on Debian 12.
"""
import argparse, os, signal, sys, traceback
import numpy as np
import onnx
from onnx import numpy_helper

RTOL, ATOL = 1e-3, 1e-5


def load_value(path, type_proto):
    """The value stored in a test-data .pb file of the given ONNX type."""
    data = open(path, "rb").read()
    kind = type_proto.WhichOneof("value")
    if kind == "sequence_type":
        seq = onnx.SequenceProto(); seq.ParseFromString(data)
        return numpy_helper.to_list(seq)
    if kind == "optional_type":
        opt = onnx.OptionalProto(); opt.ParseFromString(data)
        return numpy_helper.to_optional(opt)
    t = onnx.TensorProto(); t.ParseFromString(data)
    return numpy_helper.to_array(t)


def compare(want, got, where="output"):
    """None when `got` matches `want`, else why not."""
    if want is None:
        return None if got is None else f"{where}: expected an empty optional"
    if isinstance(want, list):
        if not isinstance(got, (list, tuple)):
            return f"{where}: expected a sequence, got {type(got).__name__}"
        if len(want) != len(got):
            return f"{where}: sequence of {len(got)}, expected {len(want)}"
        for i, (w, g) in enumerate(zip(want, got)):
            why = compare(w, g, f"{where}[{i}]")
            if why:
                return why
        return None
    if got is None or isinstance(got, (list, tuple)):
        return f"{where}: expected a tensor, got {type(got).__name__}"
    got = np.asarray(got)
    if got.dtype != want.dtype:
        return f"{where}: dtype {got.dtype}, expected {want.dtype}"
    if got.shape != want.shape:
        return f"{where}: shape {got.shape}, expected {want.shape}"
    if want.dtype == object or want.dtype.kind in "biuUS":
        if not np.array_equal(got, want):
            return f"{where}: values differ (exact comparison)"
        return None
    g, w = got.astype(np.float64), want.astype(np.float64)
    nan = np.isnan(w)
    if not np.array_equal(nan, np.isnan(g)):
        return f"{where}: NaN where none is expected (or none where one is)"
    g, w = g[~nan], w[~nan]
    same_inf = (g == w)
    err = np.abs(g - w)
    bad = ~(same_inf | (err <= ATOL + RTOL * np.abs(w)))
    if bad.any():
        return f"{where}: {int(bad.sum())} values differ, max abs error {float(np.nanmax(np.where(same_inf, 0, err))):.3g}"
    return None


def case_data(case_dir, model):
    """[(inputs by name, expected outputs)] of every test_data_set_* of a case."""
    inputs = [i for i in model.graph.input if i.name not in {t.name for t in model.graph.initializer}]
    sets = []
    for d in sorted(x for x in os.listdir(case_dir) if x.startswith("test_data_set_")):
        d = os.path.join(case_dir, d)
        feeds = {}
        for i, vi in enumerate(inputs):
            p = os.path.join(d, f"input_{i}.pb")
            if os.path.exists(p):
                feeds[vi.name] = load_value(p, vi.type)
        outs = []
        for i, vo in enumerate(model.graph.output):
            p = os.path.join(d, f"output_{i}.pb")
            outs.append(load_value(p, vo.type))
        sets.append((feeds, outs))
    return sets


def run_ort(model_path, model, feeds):
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    sess = ort.InferenceSession(model_path, opts, providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


def run_tinygrad(model_path, model, feeds):
    from tinygrad import Tensor
    from tinygrad.nn.onnx import OnnxRunner
    runner = OnnxRunner(model_path)
    out = runner({k: (Tensor(v) if isinstance(v, np.ndarray) else v) for k, v in feeds.items()})
    def to_np(v):
        if v is None:
            return None
        if isinstance(v, (list, tuple)):
            return [to_np(x) for x in v]
        if isinstance(v, Tensor):
            return v.numpy()
        return np.asarray(v)
    return [to_np(out[o.name]) for o in model.graph.output]


class Timeout(Exception):
    pass


def on_alarm(signum, frame):
    raise Timeout()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--peer", choices=["ort", "tinygrad"], required=True)
    ap.add_argument("--data", required=True, help="the wheel's onnx/backend/test/data directory")
    ap.add_argument("--groups", default="node,simple,pytorch-converted,pytorch-operator")
    ap.add_argument("--out", default="-")
    ap.add_argument("--timeout", type=int, default=120)
    args = ap.parse_args()
    run = run_ort if args.peer == "ort" else run_tinygrad
    signal.signal(signal.SIGALRM, on_alarm)
    out = sys.stdout if args.out == "-" else open(args.out, "w")
    counts = {}
    for group in args.groups.split(","):
        gdir = os.path.join(args.data, group)
        for case in sorted(os.listdir(gdir)):
            cdir = os.path.join(gdir, case)
            if not os.path.isdir(cdir):
                continue
            why = None
            signal.alarm(args.timeout)
            try:
                path = os.path.join(cdir, "model.onnx")
                model = onnx.load(path)
                for feeds, want in case_data(cdir, model):
                    got = run(path, model, feeds)
                    if len(got) != len(want):
                        why = f"{len(got)} outputs, expected {len(want)}"
                        break
                    for i, (w, g) in enumerate(zip(want, got)):
                        why = compare(w, g, f"output {i}")
                        if why:
                            break
                    if why:
                        break
            except Timeout:
                why = f"timed out after {args.timeout} s"
            except BaseException as e:  # a peer may raise anything, even SystemExit
                if isinstance(e, KeyboardInterrupt):
                    raise
                why = f"{type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}"
            finally:
                signal.alarm(0)
            status = "pass" if why is None else "fail"
            counts.setdefault(group, [0, 0])[0 if why is None else 1] += 1
            print(f"{group}/{case}\t{status}\t{why or ''}", file=out, flush=True)
    for group, (p, f) in counts.items():
        print(f"{args.peer} {group}: {p} passed, {f} failed", file=sys.stderr)


if __name__ == "__main__":
    main()
