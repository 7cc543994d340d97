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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model_parity import parity  # noqa: E402 - first: it skips (exit 77) without torch or torchvision
import transformer_models as tm  # noqa: E402
import torch  # noqa: E402
from report import finish  # noqa: E402
from files import temp_folder  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    only = set(filter(None, args.only.split(",")))
    tmp = temp_folder()
    torch.manual_seed(0)
    if args.full:
        models = [(name, lambda name=name: tm.full(name), shape) for name, shape in tm.FULL]
    else:
        models = [(name, lambda name=name: tm.small(name)[0], tm.small(name)[1]) for name in tm.SMALL]
    for name, make, shape in models:
        if only and name not in only:
            continue
        parity(name, tm.randomise(make()), shape, tmp)
    finish()


main()
