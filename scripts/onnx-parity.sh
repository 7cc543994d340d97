#!/usr/bin/env bash
# The ONNX issue's networks at full size against PyTorch in float64: every torchvision CNN family,
# the SAGAN generator and discriminator, the SE-ResNet with self-attention, the transformers'
# small configurations and torchvision's ViT-B/16, ConvNeXt-T, Swin-T and Swin-V2-T at 224x224,
# each written by torch.onnx.export at opsets 14 and 17 (batch 2, a dynamic batch axis), loaded
# from the .onnx file and run at batch 3. ctest runs the small set at 64x64 (tests/onnx_parity.py).
# Extra arguments go to the script (--only NAME,..., --opsets 17).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --tests
scripts/build.sh
PYTHONPATH=build/python /usr/bin/python3 tests/onnx_parity.py --size 224 --all --full --cli build/samples/vkattn "$@"
