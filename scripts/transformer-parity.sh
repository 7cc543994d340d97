#!/usr/bin/env bash
# The transformers issue's networks at full size against PyTorch in float64: torchvision's
# vit_b_16, convnext_tiny and swin_t at 224x224, each exported with vkattn.export and run at
# batch 3. ctest runs small configurations of the same families (tests/transformer_parity.py).
# Extra arguments go to the script (--only NAME,...).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --tests
scripts/build.sh
PYTHONPATH=build/python /usr/bin/python3 tests/transformer_parity.py --full "$@"
