#!/usr/bin/env bash
# The main job on a fresh machine: install what is missing, build, show the Vulkan device, and run
# the SAGAN self-attention block on the bundled feature map.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
out="${TMPDIR:-/tmp}/vkattn-demo"
mkdir -p "$out"
build/samples/vkattn info
echo
build/samples/vkattn run --model samples/block/sagan_block.safetensors --input samples/block/feature_map.npy \
  --output "$out/y.npy" --attention "$out/attention.npy"
