#!/usr/bin/env bash
# Everything CI runs: install what is missing, build, and run every test under ctest (Vulkan
# validation with synchronization validation is on inside the tests).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --tests
scripts/build.sh
cd build
ctest --output-on-failure -j 2
