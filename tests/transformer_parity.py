#!/usr/bin/env python3
"""Vision transformers against PyTorch in float64: each network of transformer_models.py is
exported with vkattn.export at batch 2 (random weights that make every block count), run by
vkattn at batch 3, and every output compared with the float64 forward within 1e-4 relative.
ctest runs the small configurations; --full runs torchvision's vit_b_16, convnext_tiny and swin_t
at 224x224 (scripts/transformer-parity.sh). Needs PYTHONPATH to the built package; skips (exit 77)
where torch or torchvision is absent.

    transformer_parity.py [--full] [--only NAME,NAME]
"""
import argparse
import os
import sys
import tempfile
import time

try:
    import torch
    import torchvision  # noqa: F401 - the families come from it
except ImportError:
    print("python3-torch or python3-torchvision is not installed; skipping")
    sys.exit(77)

import vkattn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import transformer_models as tm  # noqa: E402
from report import check, finish, relative  # noqa: E402

BOUND = 1e-4
BATCH = 3


def tensors(value):
    if torch.is_tensor(value):
        return [value]
    items = value.values() if isinstance(value, dict) else value if isinstance(value, (tuple, list)) else []
    return [t for v in items for t in tensors(v)]


def parity(name, model, shape, tmp, seed=0):
    model = tm.randomise(model, seed)
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
    start = time.time()
    try:
        got = vkattn.Model(path).run(x.numpy(), outputs=True)
    except Exception as e:  # noqa: BLE001
        check(name, False, "run: %s: %s" % (type(e).__name__, e))
        return
    ran = time.time() - start
    errors = []
    for output, w in zip(document["outputs"], want):
        g = got[output]
        errors.append(relative(g, w.numpy()) if g.size == w.numel() else float("inf"))
    worst = max(errors) if errors else float("inf")
    kinds = sorted({n["type"] for n in document["nodes"]})
    check("%s %s" % (name, (BATCH,) + tuple(shape)), len(errors) == len(want) and worst < BOUND,
          "%d outputs, worst relative %.2g, %d nodes (%s), export %.1f s, run %.1f s"
          % (len(errors), worst, len(document["nodes"]), ", ".join(kinds), exported, ran))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    only = set(filter(None, args.only.split(",")))
    tmp = tempfile.mkdtemp()
    torch.manual_seed(0)
    if args.full:
        models = [(name, lambda name=name: tm.full(name), shape) for name, shape in tm.FULL]
    else:
        models = [(name, lambda name=name: tm.small(name)[0], tm.small(name)[1]) for name in tm.SMALL]
    for name, make, shape in models:
        if only and name not in only:
            continue
        parity(name, make(), shape, tmp)
    finish()


main()
