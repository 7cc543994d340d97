#!/usr/bin/env python3
"""General graphs against PyTorch in float64: each network of graph_models.py is exported with
vkattn.export at batch 2 (random weights, non-trivial BatchNorm statistics), run by vkattn at
batch 3, and every output compared with the float64 forward of the same weights within 1e-4
relative. ctest runs it on small pictures (64x64; --size 224 is scripts/graph-parity.sh's full
size). Needs PYTHONPATH to the built package; skips (exit 77) where torch or torchvision is absent.

    graph_parity.py [--size N] [--only NAME,NAME] [--skip NAME,NAME]
"""
import argparse
import os
import sys
import tempfile
import time

import numpy as np

try:
    import torch
    import torchvision  # noqa: F401 - the families come from it
except ImportError:
    print("python3-torch or python3-torchvision is not installed; skipping")
    sys.exit(77)

import vkattn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import graph_models as gm  # noqa: E402
from report import check, finish, relative  # noqa: E402

BOUND = 1e-4
BATCH = 3


def tensors(value):
    if torch.is_tensor(value):
        return [value]
    items = value.values() if isinstance(value, dict) else value if isinstance(value, (tuple, list)) else []
    return [t for v in items for t in tensors(v)]


def parity(name, model, shape, tmp, seed=0):
    model = gm.randomise(model, seed, shape)
    path = os.path.join(tmp, name + ".safetensors")
    start = time.time()
    try:
        document = vkattn.export(model, path, shape, check=False)
    except Exception as e:  # noqa: BLE001 - the failure being reported
        check(name, False, "export: %s: %s" % (type(e).__name__, e))
        return
    exported = time.time() - start
    x = torch.randn((BATCH,) + tuple(shape), generator=torch.Generator().manual_seed(seed + 1))
    with torch.no_grad():
        want = tensors(model.double()(x.double()))
    model.float()
    try:
        got = vkattn.Model(path).run(x.numpy(), outputs=True)
    except Exception as e:  # noqa: BLE001
        check(name, False, "run: %s: %s" % (type(e).__name__, e))
        return
    errors = []
    for output, w in zip(document["outputs"], want):
        g = got[output]
        errors.append(relative(g, w.numpy()) if g.size == w.numel() else float("inf"))
    worst = max(errors) if errors else float("inf")
    check("%s %s" % (name, (BATCH,) + tuple(shape)), len(errors) == len(want) and worst < BOUND,
          "%d outputs, worst relative %.2g, %d nodes, export %.1f s" % (len(errors), worst, len(document["nodes"]),
                                                                         exported))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--only", default="")
    parser.add_argument("--skip", default="")
    args = parser.parse_args()
    only = set(filter(None, args.only.split(",")))
    skip = set(filter(None, args.skip.split(",")))
    size = args.size
    models = [(n, lambda n=n, kw=kw: gm.torchvision_model(n, kw), (3, max(size, 80) if n == "inception_v3" else size,
                                                                  max(size, 80) if n == "inception_v3" else size))
              for n, kw in gm.TORCHVISION]
    models += [("sagan_generator", lambda: gm.SaganGenerator(), (32,)),
               ("sagan_discriminator", lambda: gm.SaganDiscriminator(), (3, 64, 64)),
               ("se_resnet_attention", lambda: gm.SEResNetAttention(), (3, size // 2, size // 2)),
               ("ag_cnn", lambda: gm.AGCNN(), (3, size, size))]
    tmp = tempfile.mkdtemp()
    torch.manual_seed(0)
    for name, make, shape in models:
        if (only and name not in only) or name in skip:
            continue
        parity(name, make(), shape, tmp)
    finish()


main()
