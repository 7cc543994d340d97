#!/usr/bin/env bash
# Everything CI runs: install what is missing, build, run every test under ctest (Vulkan
# validation with synchronization validation is on inside the tests), then fuzz each parser for
# 30 seconds. With --sanitize: the same suite built with AddressSanitizer and UBSan in
# build-sanitize/ (slower; not part of CI). With --tsan: the tests of what may run on several
# threads at once, built with ThreadSanitizer in build-tsan/ (not part of CI).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --tests
if [ "${1:-}" = "--sanitize" ]; then
  flags="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
  cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS="$flags" >/dev/null
  cmake --build build-sanitize -j "$(nproc)"
  cd build-sanitize
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  # Leaks are checked too; lsan.supp names what the Khronos validation layer leaks (ours: none).
  # Two tests run apart: the install test builds a consumer without the sanitizers, and the
  # Python package is an ASan module inside an uninstrumented python3, which needs the ASan
  # runtime preloaded (and leaks of python3 itself at exit are not ours to check).
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 LSAN_OPTIONS=suppressions="$PWD/../scripts/lsan.supp" \
    ctest --output-on-failure -j 2 -E '^(find_package_consumer|python_package|export_pytorch)$'
  # libstdc++ preloaded too, or ASan cannot find the real __cxa_throw for our exceptions.
  ASAN_OPTIONS=detect_leaks=0 LD_PRELOAD="$(g++ -print-file-name=libasan.so):$(g++ -print-file-name=libstdc++.so)" \
    ctest --output-on-failure -R '^(python_package|export_pytorch)$'
  exit
fi
if [ "${1:-}" = "--tsan" ]; then
  cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS="-fsanitize=thread" >/dev/null
  cmake --build build-tsan -j "$(nproc)" --target vkattn_tests
  # The driver (lavapipe) and the validation layer are not instrumented: what TSan sees is ours,
  # and the validation layer's own thread-safety checks see how we use Vulkan objects.
  TSAN_OPTIONS="halt_on_error=1 suppressions=$PWD/scripts/tsan.supp" build-tsan/tests/vkattn_tests -tc='*several threads*'
  exit
fi
[ $# -eq 0 ] || { echo "usage: scripts/test.sh [--sanitize | --tsan]" >&2; exit 2; }
scripts/build.sh
(cd build && ctest --output-on-failure -j 2)
scripts/fuzz.sh 30
