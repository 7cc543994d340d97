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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model_parity import parity  # noqa: E402 - first: it skips (exit 77) without torch or torchvision
import graph_models as gm  # noqa: E402
import torch  # noqa: E402
from report import finish  # noqa: E402
from files import temp_folder  # noqa: E402


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
               ("ag_cnn", lambda: gm.AGCNN(), (3, size, size)),
               ("math_functions", lambda: gm.MathFunctions(), (4, 9, 7)),
               ("eca_net", lambda: gm.ECANet(), (3, size // 2, size // 2))]
    tmp = temp_folder()
    torch.manual_seed(0)
    for name, make, shape in models:
        if (only and name not in only) or name in skip:
            continue
        parity(name, gm.randomise(make(), 0, shape), shape, tmp)
    finish()


main()
