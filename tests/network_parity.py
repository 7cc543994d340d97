#!/usr/bin/env python3
"""Whole networks through the layer list: export random PyTorch networks with every supported
layer type (samples/classify/export.py), run them with `vkattn run`, and compare the output and
the attention map with PyTorch in float64. Skips (exit 77) where python3-torch is absent."""
import os
import subprocess
import sys
import tempfile
from collections import OrderedDict

try:
    import numpy as np
    import torch
    from torch import nn
except ImportError:
    print("python3-torch or python3-numpy is not installed; skipping")
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "samples", "classify"))
from export import export_network  # noqa: E402
from train import SelfAttention  # noqa: E402

BOUND = 2e-5  # relative error of float32 against float64


def randomise(model):
    """Random weights, BN statistics and gamma, so no layer is an identity."""
    with torch.no_grad():
        for p in model.parameters():
            p.uniform_(-0.5, 0.5)
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.3, 0.3)
                m.running_var.uniform_(0.5, 2.0)
            if isinstance(m, SelfAttention):
                m.gamma.fill_(0.8)
    return model.eval()


def networks():
    yield "conv-bn-attention-maxpool-flatten-linear", (3, 13, 11), nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(3, 8, 3, padding=1)), ("bn1", nn.BatchNorm2d(8)), ("relu1", nn.ReLU()),
        ("pool1", nn.MaxPool2d(3, stride=2, padding=1)),
        ("attn", SelfAttention(8)),
        ("conv2", nn.Conv2d(8, 12, (3, 2), stride=(2, 1), padding=(1, 0))), ("relu2", nn.ReLU()),
        ("flatten", nn.Flatten()), ("drop", nn.Dropout(0.5)),
        ("fc1", nn.Linear(12 * 4 * 5, 17)), ("relu3", nn.ReLU()), ("fc2", nn.Linear(17, 5))]))
    yield "avgpool-attention-global-pool", (1, 20, 20), nn.Sequential(OrderedDict([
        ("conv", nn.Conv2d(1, 16, 5, stride=2, padding=2, bias=False)), ("bn", nn.BatchNorm2d(16)), ("act", nn.ReLU()),
        ("avg", nn.AvgPool2d(3, stride=1, padding=1)),
        ("block", SelfAttention(16)),
        ("gap", nn.AdaptiveAvgPool2d(1)), ("flat", nn.Flatten()), ("head", nn.Linear(16, 3))]))


def attention_map(model, x):
    """The first SelfAttention layer's (B, N, N) map, recomputed from its input."""
    for m in model.children():
        if isinstance(m, SelfAttention):
            b, c, h, w = x.shape
            q = m.query_conv(x).flatten(2).transpose(1, 2)
            k = m.key_conv(x).flatten(2)
            return torch.softmax(torch.bmm(q, k), dim=-1)
        x = m(x)
    raise AssertionError("no attention layer")


def relative(a, b):
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))


def main():
    cli = sys.argv[1]
    torch.manual_seed(int.from_bytes(os.urandom(4), "little"))
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, shape, model in networks():
            model = randomise(model)
            export_network(model, os.path.join(tmp, "m.safetensors"), shape)
            x = torch.rand(3, *shape)
            np.save(os.path.join(tmp, "x.npy"), x.numpy())
            subprocess.run([cli, "run", "--model", os.path.join(tmp, "m.safetensors"), "--input",
                            os.path.join(tmp, "x.npy"), "--output", os.path.join(tmp, "y.npy"),
                            "--attention", os.path.join(tmp, "a.npy")], check=True)
            with torch.no_grad():
                model64 = model.double()
                want_y = model64(x.double()).numpy()
                want_a = attention_map(model64, x.double()).numpy()
            got_y, got_a = np.load(os.path.join(tmp, "y.npy")), np.load(os.path.join(tmp, "a.npy"))
            ok = got_y.shape == want_y.shape and got_a.shape == want_a.shape
            ey = relative(got_y, want_y) if ok else float("inf")
            ea = relative(got_a, want_a) if ok else float("inf")
            ok = ok and ey < BOUND and ea < BOUND
            print(f"{name}: output {got_y.shape} rel err {ey:.2e}, attention {got_a.shape} rel err {ea:.2e} "
                  f"(bound {BOUND:g}): {'ok' if ok else 'FAIL'}")
            failures += not ok
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
