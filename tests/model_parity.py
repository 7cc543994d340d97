"""One network against PyTorch in float64, as graph_parity.py and transformer_parity.py run each
of theirs: exported with vkattn.export at batch 2 (no check: this is the check), run by vkattn at
batch 3, every output compared with the module's float64 forward of the same weights. Importing
it exits with 77 (ctest's skip) where torch or torchvision is absent."""
import os
import sys
import time

try:
    import torch
    import torchvision  # noqa: F401 - the networks come from it
except ImportError:
    print("python3-torch or python3-torchvision is not installed; skipping")
    sys.exit(77)

import vkattn
from report import check, relative

BOUND = 1e-4
BATCH = 3


def tensors(value):
    """The tensors of a forward's result (a tensor, or tuples, lists and dicts of them) in order."""
    if torch.is_tensor(value):
        return [value]
    items = value.values() if isinstance(value, dict) else value if isinstance(value, (tuple, list)) else []
    return [t for v in items for t in tensors(v)]


def parity(name, model, shape, tmp, seed=0):
    """model: randomised and in eval mode."""
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
