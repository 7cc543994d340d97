#!/usr/bin/env bash
# The main job on a fresh machine: install what is missing, build, and run the sample classifier
# (a self-attention CNN trained on Fashion-MNIST) on the bundled pictures. It prints the top-3
# classes of each and writes the attention heatmaps and the crops hard attention picks; then the
# sample generator (a self-attention GAN) writes 16 pictures and their attention heatmaps.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
out="${TMPDIR:-/tmp}/vkattn-demo"
build/samples/classify/classify samples/classify/images/* --crop --out "$out"
# The sample generator: 16 pictures from seed 0 and where its attention looked for each.
build/samples/generate/generate --count 16 --seed 0 --out "$out/generated"
