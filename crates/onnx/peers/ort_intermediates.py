"""Runs an ONNX model in onnxruntime with every node output of its main graph exposed,
for `ferrograd onnx-diff`.

usage: python3 ort_intermediates.py MODEL DIR
DIR/inputs.tsv lists `name<TAB>file.npy` for each input (files in DIR). Writes
DIR/out_<k>.npy for every tensor value the run produced and DIR/outputs.tsv listing
`name<TAB>file`. Exit status 3 with a message on stderr when onnx or onnxruntime is
missing.
"""
import os, sys

try:
    import numpy as np
    import onnx
    import onnxruntime as ort
except ImportError as e:
    print(f"onnxruntime is not available to {sys.executable}: {e} (pip install onnxruntime onnx numpy)", file=sys.stderr)
    sys.exit(3)


def main():
    model_path, out_dir = sys.argv[1], sys.argv[2]
    model = onnx.load(model_path)
    have = {o.name for o in model.graph.output}
    for node in model.graph.node:
        for name in node.output:
            if name and name not in have:
                model.graph.output.append(onnx.ValueInfoProto(name=name))
                have.add(name)
    feeds = {}
    with open(os.path.join(out_dir, "inputs.tsv")) as f:
        for line in f:
            name, file = line.rstrip("\n").split("\t")
            feeds[name] = np.load(os.path.join(out_dir, file))
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    # no graph optimizations: every node of the file keeps its output
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    values = sess.run(names, feeds)
    with open(os.path.join(out_dir, "outputs.tsv"), "w") as f:
        for k, (name, v) in enumerate(zip(names, values)):
            if not isinstance(v, np.ndarray) or v.dtype == object:
                continue
            file = f"out_{k}.npy"
            np.save(os.path.join(out_dir, file), v.copy(order="C"))
            f.write(f"{name}\t{file}\n")


if __name__ == "__main__":
    main()
