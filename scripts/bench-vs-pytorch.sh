#!/usr/bin/env bash
# vkattn against PyTorch eager (reference BLAS and OpenBLAS) on this machine, in one run: installs
# what is missing, builds, and writes docs/benchmarks/<device>.md and .png. Takes a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --bench
scripts/build.sh
/usr/bin/python3 scripts/bench_vs_pytorch.py "$@"
