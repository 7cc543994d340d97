#!/usr/bin/env python3
"""Malformed and unsupported ONNX files through `vkattn run`: each is one sentence on stderr, exit
status 1, and no output file. Also a good model by external data next to it, and its data
reached through a path outside its folder (refused). Usage: onnx_bad_files.py path/to/vkattn
(skips, exit 77, without python3-onnx or an ONNX-enabled vkattn)."""
import os
import subprocess
import sys
import tempfile

import numpy as np

from files import read_npy, write_npy
from report import check, finish

try:
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError:
    print("python3-onnx is not installed; skipping")
    sys.exit(77)

vkattn = sys.argv[1]


def run(*args):
    return subprocess.run([vkattn] + list(args), capture_output=True, text=True, timeout=300)


def model(nodes, inputs, outputs, initializers=(), opset=13, ir=8):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=ir)


def tensor_input(name, shape, elem=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, elem, shape)


X = tensor_input("x", ["batch", 3, 4])
Y = tensor_input("y", ["batch", 3, 4])
W = numpy_helper.from_array(np.full((3, 4), 0.5, np.float32), "w")
good = model([helper.make_node("Add", ["x", "w"], ["y"])], [X], [Y], [W])

with tempfile.TemporaryDirectory() as d:
    p = lambda name: os.path.join(d, name)
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    write_npy(p("x.npy"), x.shape, x.ravel().tolist())

    def refused(name, data, words):
        path = p(name + ".onnx")
        with open(path, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.SerializeToString())
        out = p(name + ".out.npy")
        r = run("run", "--model", path, "--input", p("x.npy"), "--output", out)
        lines = [line for line in r.stderr.splitlines() if line.strip()]
        check(name, r.returncode == 1 and len(lines) == 1 and all(w in r.stderr for w in words) and not os.path.exists(out),
              "exit %d: %s" % (r.returncode, r.stderr.strip()))

    onnx.save(good, p("good.onnx"))
    r = run("run", "--model", p("good.onnx"), "--input", p("x.npy"), "--output", p("good.npy"))
    check("a good model runs", r.returncode == 0, r.stderr)
    if r.returncode == 0:
        shape, y = read_npy(p("good.npy"))
        check("and adds its initializer", shape == (2, 3, 4) and np.allclose(y, (x + 0.5).ravel()))

    data = good.SerializeToString()
    refused("truncated", data[: len(data) // 2], ["is not an ONNX model", "does not parse"])
    refused("garbage", bytes(range(256)) * 4, ["is not an ONNX model"])
    refused("empty", b"", ["is not an ONNX model"])
    no_opset = onnx.ModelProto()
    no_opset.CopyFrom(good)
    del no_opset.opset_import[:]
    refused("no_opset", no_opset, ["imports no ONNX opset"])
    refused("old_opset", model([helper.make_node("Add", ["x", "w"], ["y"])], [X], [Y], [W], opset=9),
            ["opset 9", "11 to 17"])
    refused("no_shape", model([helper.make_node("Relu", ["x"], ["y"])], [helper.make_tensor_value_info("x", TensorProto.FLOAT, None)], [Y]),
            ["'x'", "no shape"])
    refused("int_input", model([helper.make_node("Relu", ["x"], ["y"])], [tensor_input("x", ["batch", 3, 4], TensorProto.INT64)], [Y]),
            ["'x'", "INT64"])
    refused("undefined_value", model([helper.make_node("Add", ["x", "nothing"], ["y"])], [X], [Y]),
            ["'nothing'", "no input, initializer or node makes"])
    refused("cycle", model([helper.make_node("Add", ["x", "b"], ["a"]), helper.make_node("Relu", ["a"], ["b"]),
                            helper.make_node("Relu", ["a"], ["y"])], [X], [Y]), ["cycle"])
    short = numpy_helper.from_array(np.zeros((3, 4), np.float32), "w")
    short.raw_data = short.raw_data[:20]
    refused("short_initializer", model([helper.make_node("Add", ["x", "w"], ["y"])], [X], [Y], [short]),
            ["initializer 'w'", "20 bytes", "48 bytes"])
    short64 = numpy_helper.from_array(np.zeros((2,), np.int64), "shape")
    short64.raw_data = short64.raw_data[:3]
    refused("short_int64_initializer", model([helper.make_node("Reshape", ["x", "shape"], ["y"])], [X], [Y], [short64]),
            ["initializer 'shape'", "3 bytes"])
    refused("unknown_op", model([helper.make_node("Celu", ["x"], ["y"])], [X], [Y]), ["Celu", "does not run this op"])
    refused("asymmetric_pads",  # not counting the padding: no pad node computes that
            model([helper.make_node("AveragePool", ["x"], ["y"], kernel_shape=[2, 2], pads=[0, 0, 1, 1])],
                  [tensor_input("x", ["batch", 3, 4, 4])], [tensor_input("y", ["batch", 3, 4, 4])]),
            ["AveragePool", "asymmetric"])
    refused("batch_merged", model([helper.make_node("Reshape", ["x", "s"], ["y"])], [X], [tensor_input("y", [-1])],
                                  [numpy_helper.from_array(np.array([-1], np.int64), "s")]),
            ["Reshape", "batch"])
    refused("other_domain", model([helper.make_node("Relu", ["x"], ["y"], domain="com.example")], [X], [Y]),
            ["com.example"])
    Z = tensor_input("z", ["batch", 3, 3])
    for name, equation, words in [("einsum_ellipsis", "...ij,...kj->...ik", ["Einsum", "'...'"]),
                                  ("einsum_implicit", "bij,bkj", ["Einsum", "no '->'"]),
                                  ("einsum_diagonal", "bii,bkj->bk", ["Einsum", "repeats an index"]),
                                  ("einsum_sum_alone", "bij,bkl->bik", ["Einsum", "sums index j of one operand alone"])]:
        refused(name, model([helper.make_node("Einsum", ["x", "x"], ["z"], equation=equation)], [X], [Z], opset=12),
                words)

    # External data: read from the model's folder; a location outside it is refused.
    ext = onnx.ModelProto()
    ext.CopyFrom(good)
    onnx.save_model(ext, p("ext.onnx"), save_as_external_data=True, location="w.bin", size_threshold=0)
    r = run("run", "--model", p("ext.onnx"), "--input", p("x.npy"), "--output", p("ext.npy"))
    check("external data next to the model", r.returncode == 0, r.stderr)
    os.makedirs(p("inner"))
    escaped = onnx.load(p("ext.onnx"), load_external_data=False)
    for t in escaped.graph.initializer:
        for e in t.external_data:
            if e.key == "location":
                e.value = "../w.bin"
    refused("external_outside_folder", escaped, ["'../w.bin'", "not a file name inside the model's folder"])
    os.symlink(p("w.bin"), p("inner/link.bin"))
    linked = onnx.load(p("ext.onnx"), load_external_data=False)
    for t in linked.graph.initializer:
        for e in t.external_data:
            if e.key == "location":
                e.value = "link.bin"
    with open(p("inner/linked.onnx"), "wb") as f:
        f.write(linked.SerializeToString())
    r = run("run", "--model", p("inner/linked.onnx"), "--input", p("x.npy"), "--output", p("linked.npy"))
    check("external data through a link leading outside the folder: one sentence",
          r.returncode == 1 and "outside the model's folder" in r.stderr and not os.path.exists(p("linked.npy")), r.stderr)

finish()
