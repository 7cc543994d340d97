#!/usr/bin/env python3
"""`vkattn run` and `vkattn info --model` on a format-2 network with two inputs and two outputs:
--input NAME=PATH and --output NAME=PATH, a plain path for the first, each value checked against
numpy; a missing input, an input given twice and an unknown output name are one sentence.
Usage: cli_named_io.py path/to/vkattn"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

from files import read_npy, write_npy, write_safetensors
from report import check, finish

vkattn = sys.argv[1]
rng = np.random.default_rng(3)
scale = rng.uniform(0.5, 2, (3, 1, 1)).astype(np.float32)
network = {"format": 2,
           "inputs": [{"name": "p", "shape": [3, 4, 5]}, {"name": "q", "shape": [1, 4, 1]}],
           "nodes": [{"type": "sub", "inputs": ["p", "q"], "output": "d"},
                     {"type": "div", "inputs": ["d"], "constant": "scale", "output": "r"},
                     {"type": "relu", "inputs": ["r"], "output": "top"}],
           "outputs": ["top", "d"]}


def run(*args):
    return subprocess.run([vkattn] + list(args), capture_output=True, text=True, timeout=300)


with tempfile.TemporaryDirectory() as d:
    p = lambda name: os.path.join(d, name)
    write_safetensors(p("net.safetensors"), {"scale": scale}, {"vkattn.network": json.dumps(network)})
    P = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    Q = rng.standard_normal((2, 1, 4, 1)).astype(np.float32)
    write_npy(p("p.npy"), P.shape, P.ravel().tolist())
    write_npy(p("q.npy"), Q.shape, Q.ravel().tolist())
    want_d = P - Q
    want_top = np.maximum(want_d / scale, 0)

    r = run("run", "--model", p("net.safetensors"), "--input", p("p.npy"), "--input", "q=" + p("q.npy"),
            "--output", p("top.npy"), "--output", "d=" + p("d.npy"))
    check("two inputs, two outputs", r.returncode == 0, r.stderr)
    if r.returncode == 0:
        shape, top = read_npy(p("top.npy"))
        check("the first output by a plain path", shape == want_top.shape and
              np.allclose(top, want_top.ravel(), rtol=1e-6, atol=1e-7))
        shape, dd = read_npy(p("d.npy"))
        check("a named output", shape == want_d.shape and np.allclose(dd, want_d.ravel(), rtol=1e-6, atol=1e-7))
        check("status names each output on stderr", "output 'top'" in r.stderr and "output 'd'" in r.stderr, r.stderr)

    r = run("run", "--model", p("net.safetensors"), "--input", p("p.npy"), "--output", p("x.npy"))
    check("a missing input: one sentence", r.returncode == 1 and "needs its input 'q'" in r.stderr, r.stderr)
    r = run("run", "--model", p("net.safetensors"), "--input", p("p.npy"), "--input", "p=" + p("p.npy"),
            "--input", "q=" + p("q.npy"), "--output", p("x.npy"))
    check("an input given twice: one sentence", r.returncode == 1 and "gives 'p' twice" in r.stderr, r.stderr)
    r = run("run", "--model", p("net.safetensors"), "--input", p("p.npy"), "--input", "q=" + p("q.npy"),
            "--output", p("a.npy"), "--output", "nope=" + p("b.npy"))
    check("an unknown output name is a path for the first output, given twice: one sentence",
          r.returncode == 1 and "gives 'top' twice" in r.stderr and not os.path.exists(p("a.npy")), r.stderr)

    r = run("info", "--model", p("net.safetensors"))
    check("info --model lists inputs, outputs and nodes", r.returncode == 0 and "input  p" in r.stdout and
          "(B, 1, 4, 1)" in r.stdout and "output top" in r.stdout and "output d" in r.stdout and
          "3 nodes" in r.stdout, r.stdout + r.stderr)

finish()
