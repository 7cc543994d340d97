#!/usr/bin/env python3
"""The Python package: vkattn.Model on an exported PyTorch network and on a lone block against
PyTorch in float64 (output and attention maps), any input dtype and layout, devices, version, and
engine errors as vkattn.Error. Needs PYTHONPATH to the built package (ctest sets it); skips
(exit 77) where python3-torch is absent."""
import os
import re
import sys
import tempfile
from collections import OrderedDict

import numpy as np

import vkattn
from report import check, finish, relative  # tests/, the script's own folder

try:
    import torch
    from torch import nn
except ImportError:
    print("python3-torch is not installed; skipping")
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "samples", "classify"))
from train import SelfAttention  # noqa: E402

BOUND = 3e-5


def expect_error(name, words, call):
    try:
        call()
    except vkattn.Error as e:
        check(name, words in str(e), str(e))
        return
    except Exception as e:  # noqa: BLE001 - any other type is the failure being reported
        check(name, False, "raised %s: %s" % (type(e).__name__, e))
        return
    check(name, False, "no error")


def attention_map(block, x):
    q = block.query_conv(x).flatten(2).transpose(1, 2)
    return torch.softmax(torch.bmm(q, block.key_conv(x).flatten(2)), dim=-1)


torch.manual_seed(5)
version = re.search(r"project\(vkattn VERSION ([0-9.]+)", open(os.path.join(HERE, "..", "CMakeLists.txt")).read())
check("version", vkattn.version() == version.group(1) == vkattn.__version__, vkattn.version())
devices = vkattn.devices()
check("devices", len(devices) > 0 and all("name" in d and "type" in d for d in devices), str(devices))

with tempfile.TemporaryDirectory() as d:
    # A network: conv -> ReLU -> attention -> pool -> flatten -> linear, with odd sizes.
    net = nn.Sequential(OrderedDict([
        ("conv", nn.Conv2d(3, 9, 3, padding=1)), ("relu", nn.ReLU()), ("attn", SelfAttention(9)),
        ("pool", nn.MaxPool2d(2)), ("flatten", nn.Flatten()), ("fc", nn.Linear(9 * 5 * 3, 7))])).double().eval()
    with torch.no_grad():
        net.attn.gamma.fill_(0.7)
    path = os.path.join(d, "net.safetensors")
    vkattn.export(net, path, input_shape=(3, 11, 7))
    model = vkattn.Model(path)
    check("model.device", isinstance(model.device, dict) and model.device.get("name"), str(model.device))
    x = np.random.default_rng(1).standard_normal((4, 3, 11, 7))
    with torch.no_grad():
        xt = torch.from_numpy(x)
        want = net(xt).numpy()
        want_map = attention_map(net.attn, net.relu(net.conv(xt))).numpy()
    y = model.run(x)  # float64 in, converted
    check("network output, float64 input", y.dtype == np.float32 and y.shape == want.shape and
          relative(y, want) < BOUND, "relative %.2e" % relative(y, want))
    y2, maps = model.run(x.astype(np.float32), attention=True)
    check("network output with maps", relative(y2, want) < BOUND, "relative %.2e" % relative(y2, want))
    check("network map", len(maps) == 1 and maps[0].shape == (4, 77, 77) and relative(maps[0], want_map) < BOUND,
          "relative %.2e" % relative(maps[0], want_map) if maps else "no map")
    strided = np.asfortranarray(x.astype(np.float32))
    check("any layout", np.array_equal(model.run(strided), model.run(np.ascontiguousarray(strided))))
    check("a second shape", model.run(x[:1]).shape == (1, 7))
    # fp16: weights and tensors between kernels in 16 bits, float32 in and out.
    half = vkattn.Model(path, precision="fp16")
    yh, (mh,) = half.run(x, attention=True)
    check("fp16 precision", half.precision == "fp16" and model.precision == "fp32" and yh.dtype == np.float32 and
          1e-6 < relative(yh, want) < 4e-3 and relative(mh, want_map) < 4e-3,
          "relative %.2e, map %.2e" % (relative(yh, want), relative(mh, want_map)))

    # A lone block (the SAGAN repository's state_dict names) at N = 1 and N = 35.
    block = SelfAttention(8).double().eval()
    with torch.no_grad():
        block.gamma.fill_(1.3)
    vkattn.write_safetensors(os.path.join(d, "block.safetensors"), block.state_dict())
    lone = vkattn.Model(os.path.join(d, "block.safetensors"))
    for shape in ((2, 8, 1, 1), (3, 8, 5, 7)):
        xb = np.random.default_rng(2).standard_normal(shape)
        with torch.no_grad():
            want = block(torch.from_numpy(xb)).numpy()
            want_map = attention_map(block, torch.from_numpy(xb)).numpy()
        yb, (mb,) = lone.run(xb, attention=True)
        check("block %s" % (shape,), relative(yb, want) < BOUND and relative(mb, want_map) < BOUND,
              "relative %.2e, map %.2e" % (relative(yb, want), relative(mb, want_map)))

    # Engine errors are vkattn.Error with the engine's sentence.
    expect_error("missing file", "Cannot open", lambda: vkattn.Model(os.path.join(d, "nope.safetensors")))
    expect_error("no such device", "matches none", lambda: vkattn.Model(path, device="no-such-gpu"))
    expect_error("unknown precision", "Precision must be 'fp32' or 'fp16', not 'fp8'.", lambda: vkattn.Model(path, precision="fp8"))
    expect_error("rank-3 input", "takes input (B, 3, 11, 7)", lambda: model.run(np.zeros((3, 11, 7))))
    expect_error("wrong channels", "takes input", lambda: model.run(np.zeros((1, 4, 11, 7))))
    expect_error("not numbers", "numbers", lambda: model.run(np.array([["a"]])))
    check("vkattn.Error is a RuntimeError", issubclass(vkattn.Error, RuntimeError))

    # python3 -m vkattn: info and run, as the tool's.
    import subprocess  # noqa: E402

    def module(*args):
        return subprocess.run([sys.executable, "-m", "vkattn"] + list(args), capture_output=True, text=True,
                              timeout=300)
    r = module("info")
    check("-m vkattn info", r.returncode == 0 and ("vkattn " + vkattn.version()) in r.stdout, r.stdout + r.stderr)
    np.save(os.path.join(d, "x.npy"), x.astype(np.float32))
    r = module("run", "--model", path, "--input", os.path.join(d, "x.npy"), "--output", os.path.join(d, "y.npy"),
               "--attention", os.path.join(d, "a.npy"))
    ok = r.returncode == 0 and os.path.exists(os.path.join(d, "y.npy"))
    check("-m vkattn run", ok and np.array_equal(np.load(os.path.join(d, "y.npy")), model.run(x.astype(np.float32)))
          and np.load(os.path.join(d, "a.npy")).shape == (4, 77, 77), r.stderr)
    r = module("run", "--model", path)
    check("-m vkattn run without --input: exit 2", r.returncode == 2, r.stderr)
    r = module("run", "--model", path, "--input", os.path.join(d, "none.npy"), "--output", os.path.join(d, "z.npy"))
    check("-m vkattn run on a missing input: one sentence, exit 1",
          r.returncode == 1 and r.stderr.startswith("vkattn: Cannot read") and len(r.stderr.splitlines()) == 1 and
          not os.path.exists(os.path.join(d, "z.npy")), r.stderr)

    # A format-2 network with two inputs and two outputs: a dict in, every output by name out.
    import json
    scale = np.random.default_rng(9).uniform(0.5, 2, (3, 1, 1)).astype(np.float32)
    graph = {"format": 2, "inputs": [{"name": "p", "shape": [3, 4, 5]}, {"name": "q", "shape": [1, 4, 1]}],
             "nodes": [{"type": "sub", "inputs": ["p", "q"], "output": "d"},
                       {"type": "mul", "inputs": ["d"], "constant": "scale", "output": "m"}],
             "outputs": ["m", "d"]}
    vkattn.write_safetensors(os.path.join(d, "graph.safetensors"), {"scale": scale}, {"vkattn.network": json.dumps(graph)})
    two = vkattn.Model(os.path.join(d, "graph.safetensors"))
    P, Q = np.random.default_rng(1).standard_normal((2, 3, 4, 5)), np.random.default_rng(2).standard_normal((2, 1, 4, 1))
    got = two.run({"p": P, "q": Q}, outputs=True)
    check("named inputs and outputs", two.inputs == ["p", "q"] and two.outputs == ["m", "d"] and
          sorted(got) == ["d", "m"] and relative(got["d"], P - Q) < 1e-6 and relative(got["m"], (P - Q) * scale) < 1e-6)
    check("the first output without outputs=True", relative(two.run({"p": P, "q": Q}), (P - Q) * scale) < 1e-6)
    expect_error("a lone array for two inputs", "give them as a dict", lambda: two.run(P))
    expect_error("a missing input", "needs its input 'q'", lambda: two.run({"p": P}))
    expect_error("an unknown input", "no input called 'r'", lambda: two.run({"p": P, "q": Q, "r": Q}))

finish()
