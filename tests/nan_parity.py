#!/usr/bin/env python3
"""NaN and infinities through whole models, as PyTorch gives them (issue 26): a SAGAN block run by
`vkattn run` on inputs holding one NaN, one +inf, one -inf or an all-NaN item, with both kernel
profiles: NaN where PyTorch's float64 forward has NaN (output and map), the same infinities, the
finite values within 1e-4; and the sample classifier, whose logits for a picture with one NaN or
infinite pixel are NaN as PyTorch's are. Skips (77) where python3-torch is absent.
Usage: nan_parity.py path/to/vkattn"""
import os
import subprocess
import sys
import tempfile

import numpy as np

from files import write_safetensors
from report import check, finish

try:
    import torch
except ImportError:
    print("python3-torch is not installed; skipping")
    sys.exit(77)

vkattn = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(4)
torch.set_default_dtype(torch.float64)


def same(got, want):
    """NaN where want has NaN, the same infinities, finite values close; and a sentence saying so."""
    nan_ok = np.array_equal(np.isnan(got), np.isnan(want))
    inf = np.isinf(want)
    inf_ok = np.array_equal(np.isinf(got), inf) and np.array_equal(got[inf], want[inf])
    finite = np.isfinite(want) & np.isfinite(got)
    err = float(np.abs(got[finite] - want[finite]).max() / max(np.abs(want[finite]).max(), 1e-30)) if finite.any() else 0.0
    return nan_ok and inf_ok and err < 1e-4, "PyTorch NaN %d of %d, inf %d; NaN match %s, inf match %s, error %.1e" % (
        np.isnan(want).sum(), want.size, inf.sum(), nan_ok, inf_ok, err)


def run(args, profile):
    r = subprocess.run([vkattn, "run"] + args, capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, VKATTN_PROFILE=profile))
    return r


with tempfile.TemporaryDirectory() as d:
    p = lambda name: os.path.join(d, name)
    B, C, Cq, H, W = 2, 8, 3, 5, 7
    w = {"query_conv.weight": torch.randn(Cq, C, 1, 1) * .3, "query_conv.bias": torch.randn(Cq),
         "key_conv.weight": torch.randn(Cq, C, 1, 1) * .3, "key_conv.bias": torch.randn(Cq),
         "value_conv.weight": torch.randn(C, C, 1, 1) * .3, "value_conv.bias": torch.randn(C),
         "gamma": torch.tensor([0.7])}
    write_safetensors(p("block.safetensors"), {k: v.float() for k, v in w.items()})

    def block(x):  # SAGAN's forward in float64, on the float32-rounded weights
        f = {k: v.float().double() for k, v in w.items()}
        conv = lambda name: torch.nn.functional.conv2d(x, f[name + ".weight"], f[name + ".bias"]).flatten(2)
        a = torch.softmax(torch.bmm(conv("query_conv").transpose(1, 2), conv("key_conv")), -1)
        o = torch.bmm(conv("value_conv"), a.transpose(1, 2)).view(B, C, H, W)
        return f["gamma"] * o + x, a

    for label, where, value in [("one NaN", (1, 3, 2, 4), float("nan")), ("one +inf", (1, 3, 2, 4), float("inf")),
                                ("one -inf", (0, 0, 0, 0), -float("inf")), ("an all-NaN item", 1, float("nan"))]:
        x = torch.randn(B, C, H, W).float().double()
        x[where] = value
        y, a = block(x)
        np.save(p("x.npy"), x.float().numpy())
        for profile in ("cpu", "gpu"):
            r = run(["--model", p("block.safetensors"), "--input", p("x.npy"), "--output", p("y.npy"),
                     "--attention", p("a.npy")], profile)
            if r.returncode:
                check("block, %s (%s)" % (label, profile), False, r.stderr)
                continue
            ok, why = same(np.load(p("y.npy")).astype(np.float64), y.numpy())
            check("block, %s (%s profile): output" % (label, profile), ok, why)
            ok, why = same(np.load(p("a.npy")).astype(np.float64), a.numpy())
            check("block, %s (%s profile): map" % (label, profile), ok, why)

    # The classifier: a picture with one NaN or infinite pixel has NaN logits, as in PyTorch.
    model = os.path.join(HERE, "..", "samples", "classify", "fashion_sagan.safetensors")
    for value in (float("nan"), float("inf"), -float("inf")):
        x = np.random.default_rng(0).uniform(0, 1, (2, 1, 28, 28)).astype(np.float32)
        x[1, 0, 14, 14] = value
        np.save(p("pic.npy"), x)
        r = run(["--model", model, "--input", p("pic.npy"), "--output", p("logits.npy")], "cpu")
        logits = np.load(p("logits.npy")) if r.returncode == 0 else None
        check("classifier, a %s pixel: NaN logits for that picture, finite for the other" % value,
              logits is not None and np.isnan(logits[1]).all() and np.isfinite(logits[0]).all(),
              r.stderr if logits is None else str(logits[1]))

finish()
