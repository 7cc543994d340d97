#!/usr/bin/env python3
"""ONNX models against PyTorch in float64: each network is written with torch.onnx.export at
opset 14 and 17 (traced at batch 2, the batch a dynamic axis), loaded by vkattn from the .onnx
file, run at batch 3, and every output compared with the module's float64 forward of the same
weights within 1e-4 relative. ctest runs the small set on 64x64 pictures; --size 224 --all --full
(torchvision's transformers at 224x224 too) is scripts/onnx-parity.sh's full run. Needs PYTHONPATH to the built package; skips (exit 77) where
torch, torchvision or onnx is absent, or vkattn was built without ONNX support.

    onnx_parity.py [--size N] [--only NAME,NAME] [--opsets 14,17] [--all] [--full] [--cli path/to/vkattn]

With --cli, `vkattn info` also shows that the chains torch writes became one layer each: a
vision transformer's attention one scaled_dot_product_attention, its LayerNorms and GELUs
layer_norm and gelu nodes (no softmax, pow or erf pieces left).
"""
import argparse
import os
import subprocess
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model_parity import BATCH, BOUND, tensors  # noqa: E402 - first: skips (77) without torch
import graph_models as gm  # noqa: E402
import transformer_models as tm  # noqa: E402
import torch  # noqa: E402
from report import check, finish, relative  # noqa: E402
from files import temp_folder  # noqa: E402

try:
    import onnx  # noqa: F401 - torch.onnx.export needs it to check what it writes
except ImportError:
    print("python3-onnx is not installed; skipping")
    sys.exit(77)
import vkattn  # noqa: E402

# The families ctest runs (a residual network, depthwise and squeeze-and-excitation blocks, SiLU,
# concatenations, channel shuffles, transposed convolutions, SAGAN's attention, a vision
# transformer with nn.MultiheadAttention, ConvNeXt, Swin with shifted and padded windows, attention
# written by hand with tokens sequence-first); --all adds the rest.
SMALL = ["resnet18", "mobilenet_v3_small", "efficientnet_b0", "squeezenet1_1", "shufflenet_v2_x0_5",
         "sagan_generator", "sagan_discriminator", "se_resnet_attention", "vit", "vit_odd", "convnext", "swin", "swin_padded",
         "masked_tokens", "relative_attention", "sequence_first_attention", "math_functions", "eca_net", "computed_bias_attention",
         "maxvit", "einsum_forms"]


class ComputedBiasAttention(torch.nn.Module):
    """Attention written by hand whose additive bias is computed from the input (a soft key mask
    from the tokens' means): from ONNX it runs as one fused node that reads the bias."""

    def __init__(self, channels=16, heads=2):
        super().__init__()
        self.stem, self.heads = torch.nn.Conv2d(3, channels, 4, stride=4), heads
        self.qkv, self.head = torch.nn.Linear(channels, 3 * channels), torch.nn.Linear(channels, 10)

    def forward(self, x):
        t = self.stem(x).flatten(2).transpose(1, 2)  # (B, N, C)
        b, n, c = t.shape
        q, k, v = self.qkv(t).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        bias = -4 * torch.relu(t.mean(-1)).reshape(b, 1, 1, n)
        weights = torch.softmax(q @ k.transpose(-2, -1) * (c // self.heads) ** -0.5 + bias, dim=-1)
        return self.head((weights @ v).transpose(1, 2).reshape(b, n, c).mean(1))


# What torch 1.13's exporter itself cannot write: Swin V2's attention zeroes part of a bias in place
# (aten::zero_).
TORCH_CANNOT_EXPORT = {"swin_v2", "swin_v2_t"}


def models(size, full=False):
    shape = (3, size, size)
    out = [(n, lambda n=n, kw=kw: gm.torchvision_model(n, kw), (3, max(size, 80), max(size, 80)) if n == "inception_v3"
            else shape) for n, kw in gm.TORCHVISION]
    out += [("sagan_generator", lambda: gm.SaganGenerator(), (32,)),
            ("sagan_discriminator", lambda: gm.SaganDiscriminator(), (3, 64, 64)),
            ("se_resnet_attention", lambda: gm.SEResNetAttention(), (3, size // 2, size // 2)),
            ("math_functions", lambda: gm.MathFunctions(), (4, 9, 7)),
            ("eca_net", lambda: gm.ECANet(), (3, size // 2, size // 2)),
            ("computed_bias_attention", ComputedBiasAttention, (3, 16, 16))]
    out += [(n, lambda n=n: tm.small(n)[0], tm.small(n)[1]) for n in tm.SMALL]
    if full:
        out += [(n, lambda n=n: tm.full(n), s) for n, s in tm.FULL]
    return out


def export(model, shape, opset, path):
    x = torch.randn((2,) + tuple(shape))
    # With gradients on, as a script would export: under torch.no_grad() nn.MultiheadAttention
    # takes torch 1.13's fast path (_native_multi_head_attention), which its exporter cannot write.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's notes on tracing and constant folding
        torch.onnx.export(model, x, path, opset_version=opset, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, do_constant_folding=True)


# The network node counts `vkattn info` must show for a model: (type, count) pairs, and types
# that must be absent.
FUSED = {"vit_odd": ([("scaled_dot_product_attention", 1), ("layer_norm", 3), ("gelu", 1)], ["softmax", "pow", "div"]),
         "computed_bias_attention": ([("scaled_dot_product_attention", 1)], ["softmax", "matmul"]),
         # attention written with torch.einsum (Einsum nodes): block and grid attention in each of two stages
         "maxvit": ([("scaled_dot_product_attention", 4)], ["softmax"]),
         "einsum_forms": ([("scaled_dot_product_attention", 1)], ["softmax"])}


def fused(cli, name, path, label):
    want, absent = FUSED[name]
    info = subprocess.run([cli, "info", "--model", path], capture_output=True, text=True, timeout=300)
    counts = dict((k, int(n)) for k, n in (item.rsplit(" ", 1) for line in info.stdout.splitlines()
                                         if line.strip().startswith("nodes") for item in line.split("nodes", 1)[1].split(",")))
    counts = {k.strip(): n for k, n in counts.items()}
    ok = all(counts.get(t) == n for t, n in want) and not any(t in counts for t in absent)
    check(label + " fuses its chains", ok, "nodes %s" % counts)


def parity(name, model, shape, opset, tmp, cli=None):
    path = os.path.join(tmp, "%s_%d.onnx" % (name, opset))
    label = "%s opset %d %s" % (name, opset, (BATCH,) + tuple(shape))
    try:
        export(model.float(), shape, opset, path)
    except Exception as e:  # noqa: BLE001 - torch's own failure, not vkattn's
        check(label, False, "torch.onnx.export: %s: %s" % (type(e).__name__, str(e).splitlines()[0]))
        return
    x = torch.randn((BATCH,) + tuple(shape), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        want = tensors(model.double()(x.double()))
    model.float()
    start = time.time()
    try:
        got = vkattn.Model(path).run({"x": x.numpy()}, outputs=True)
    except Exception as e:  # noqa: BLE001 - the failure being reported
        check(label, False, "%s: %s" % (type(e).__name__, e))
        return
    ran = time.time() - start
    g = got["y"]
    worst = relative(g, want[0].numpy()) if g.size == want[0].numel() else float("inf")
    check(label, worst < BOUND, "worst relative %.2g, load and run %.1f s" % (worst, ran))
    if cli and name in FUSED:
        fused(cli, name, path, label)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--only", default="")
    parser.add_argument("--opsets", default="14,17")
    parser.add_argument("--all", action="store_true")
    parser.add_argument("--full", action="store_true", help="also torchvision's transformers at 224x224")
    parser.add_argument("--cli", default=None)
    args = parser.parse_args()
    if not vkattn.onnx_ops():
        print("this vkattn was built without ONNX support; skipping")
        sys.exit(77)
    only = set(filter(None, args.only.split(","))) or (None if args.all else set(SMALL))
    tmp = temp_folder()
    torch.manual_seed(0)
    full = {n for n, _ in tm.FULL}
    for name, make, shape in models(args.size, args.full):
        if (only is not None and name not in only) or name in TORCH_CANNOT_EXPORT:
            continue
        # torchvision's transformers start with zero heads: transformer_models' own randomisation
        model = tm.randomise(make()) if name in tm.SMALL or name in full else gm.randomise(make(), 0, shape)
        for opset in [int(o) for o in args.opsets.split(",")]:
            parity(name, model, shape, opset, tmp, args.cli)
    finish()


main()
