#!/usr/bin/env bash
# Everything CI runs: install what is missing, build, run every test under ctest (Vulkan
# validation with synchronization validation is on inside the tests), then fuzz each parser for
# 30 seconds. With --sanitize: the same suite built with AddressSanitizer and UBSan in
# build-sanitize/ (slower; not part of CI).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --tests
if [ "${1:-}" = "--sanitize" ]; then
  flags="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
  cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS="$flags" >/dev/null
  cmake --build build-sanitize -j "$(nproc)"
  cd build-sanitize
  # The Vulkan loader and Mesa keep some allocations until exit by design; lsan.supp names them.
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    LSAN_OPTIONS=suppressions="$PWD/../scripts/lsan.supp" ctest --output-on-failure -j 2
  exit
fi
[ $# -eq 0 ] || { echo "usage: scripts/test.sh [--sanitize]" >&2; exit 2; }
scripts/build.sh
(cd build && ctest --output-on-failure -j 2)
scripts/fuzz.sh 30
