#!/usr/bin/env bash
# What --precision fp16 gives on this machine: each network's error against PyTorch's float64,
# the sample classifier's top-1 agreement over the 10,000 test images, memory and time in both
# precisions. Installs what is missing, builds, and writes docs/fp16/<device>.md (some minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --bench
scripts/build.sh
/usr/bin/python3 scripts/fp16_report.py "$@"
