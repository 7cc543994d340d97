#!/usr/bin/env python3
"""Attention maps of a vision transformer and `vkattn rollout`: a small torchvision ViT exported
with attention_maps=True gives each layer's head-averaged map as an output, equal to PyTorch's
(float64, batch 3); the rollout of those maps matches one computed from PyTorch's; the command
writes the picture beside its heatmap and refuses a network without maps, a file that is no
picture and a bad --std with one sentence each. Needs PYTHONPATH to the built package; skips
(exit 77) where torch or torchvision is absent.

    rollout_cli.py VKATTN_CLI
"""
import os
import struct
import subprocess
import sys

import numpy as np

try:
    import torch
    import torchvision  # noqa: F401
except ImportError:
    print("python3-torch or python3-torchvision is not installed; skipping")
    sys.exit(77)

import vkattn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import transformer_models as tm  # noqa: E402
from report import check, finish, relative  # noqa: E402
from files import temp_folder  # noqa: E402

cli = sys.argv[1]
picture = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "samples", "classify", "images",
                       "coat_photo.png")
tmp = temp_folder()


def torch_maps(model, x):
    """Each encoder layer's head-averaged attention weights, float64, from PyTorch's own module."""
    maps = []

    def hook(layer):  # the block's attention reads its first LayerNorm's output
        return lambda module, args, tokens: maps.append(layer.self_attention(tokens, tokens, tokens)[1])
    handles = [layer.ln_1.register_forward_hook(hook(layer)) for layer in model.encoder.layers]
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    return [m.numpy() for m in maps]


def rollout(maps):
    """Abnar & Zuidema's rollout per item: the class token's row of the product of 0.5 A + 0.5 I
    (rows renormalised), last layer first."""
    rows = []
    for b in range(maps[0].shape[0]):
        n = maps[0].shape[1]
        r = np.eye(n)
        for m in maps:
            a = 0.5 * m[b].astype(np.float64) + 0.5 * np.eye(n)
            r = (a / a.sum(1, keepdims=True)) @ r
        rows.append(r[0, 1:])
    return np.stack(rows)


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    return struct.unpack(">II", head[16:24]) if head[:8] == b"\x89PNG\r\n\x1a\n" else None


model, shape = tm.small("vit")
model = tm.randomise(model)
path = os.path.join(tmp, "vit.safetensors")
document = vkattn.export(model, path, shape, attention_maps=True)
names = [n for n in document["outputs"] if n.endswith(".map")]
check("each encoder layer's map is an output, in order", names == ["encoder.layers.encoder_layer_%d.self_attention.map" % i
                                                                   for i in range(2)], str(document["outputs"]))
x = torch.randn((3,) + shape, generator=torch.Generator().manual_seed(2))
got = vkattn.Model(path).run(x.numpy(), outputs=True)
want = torch_maps(model.double(), x.double())
model.float()
errors = [relative(got[n], w) for n, w in zip(names, want)]
check("the maps equal PyTorch's head-averaged weights (float64, batch 3)", max(errors) < 1e-4, "worst %.2g" % max(errors))
error = relative(rollout([got[n] for n in names]), rollout(want))
check("the rollout of vkattn's maps is PyTorch's", error < 1e-4, "relative %.2g" % error)

out = os.path.join(tmp, "coat_rollout.png")
run = subprocess.run([cli, "rollout", "--model", path, "--image", picture, "--out", out, "--mean", "0.5",
                      "--std", "0.25"], capture_output=True, text=True)
check("vkattn rollout writes the picture beside its heatmap", run.returncode == 0 and png_size(out) == (64, 32)
      and "rollout of 2 attention maps over a 4x4 patch grid" in run.stdout, run.stdout + run.stderr)

plain = os.path.join(tmp, "plain.safetensors")
vkattn.export(model, plain, shape)
text = os.path.join(tmp, "notes.png")
with open(text, "w") as f:
    f.write("not a picture\n")
for name, args, code, words in [
        ("a network without maps", ["--model", plain, "--image", picture], 1, "has no attention maps"),
        ("a file that is no picture", ["--model", path, "--image", text], 1, "could not be read as a picture"),
        ("--std 0", ["--model", path, "--image", picture, "--std", "0"], 2, "--std")]:
    run = subprocess.run([cli, "rollout", "--out", os.path.join(tmp, "refused.png")] + args, capture_output=True,
                         text=True)
    lines = run.stderr.strip().splitlines()
    check("rollout refuses %s with one sentence" % name, run.returncode == code and len(lines) == 1 and words in
          lines[0] and not os.path.exists(os.path.join(tmp, "refused.png")), "%d: %s" % (run.returncode, run.stderr))
finish()
