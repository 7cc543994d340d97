#!/usr/bin/env bash
# The graphs issue's networks at full size (224x224) against PyTorch in float64:
# torchvision's CNN families, the SAGAN generator and discriminator, an SE-ResNet with
# self-attention and the AG-CNN, each exported with vkattn.export and run at batch 3. ctest runs
# the same at 64x64 (tests/graph_parity.py). Extra arguments go to the script (--only NAME,...).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --tests
scripts/build.sh
PYTHONPATH=build/python /usr/bin/python3 tests/graph_parity.py --size 224 "$@"
