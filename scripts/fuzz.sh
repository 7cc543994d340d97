#!/usr/bin/env bash
# Fuzzes each parser: builds the fuzz targets (fuzz/) with libFuzzer, ASan and UBSan under clang 14
# in build-fuzz/ and runs each for SECONDS (all targets, or those named). Exits non-zero on any
# crash, leak, timeout or broken invariant and prints the reproducer's path; replay one with
# `build-fuzz/fuzz/fuzz_<target> FILE`. A finding, once fixed, goes into fuzz/corpus/<target>/,
# which ctest replays in every build (fuzz_regressions_<target>).
set -euo pipefail
usage="usage: scripts/fuzz.sh SECONDS [safetensors|npy|network|pipeline_cache|image|onnx ...]"
seconds=${1:?$usage}
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "$usage" >&2; exit 2; }
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(safetensors npy network pipeline_cache image onnx)
cd "$(dirname "$0")/.."
scripts/install-deps.sh --fuzz

flags="-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1"
cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_CXX_FLAGS="$flags" \
      -DVKATTN_FUZZ=ON -DBUILD_TESTING=OFF >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target "${targets[@]/#/fuzz_}" >/dev/null

failed=0
for t in "${targets[@]}"; do
  work=build-fuzz/work/$t findings=build-fuzz/findings/$t log=build-fuzz/$t.log
  rm -rf "$findings" && mkdir -p "$work" "$findings"
  dict=()
  [ -f "fuzz/$t.dict" ] && dict=(-dict="fuzz/$t.dict")
  # New inputs go to the scratch folder (first); the corpus in the tree is only read.
  if build-fuzz/fuzz/fuzz_"$t" -max_total_time="$seconds" -timeout=60 -rss_limit_mb=2048 -print_final_stats=1 \
       "${dict[@]}" -artifact_prefix="$findings/" "$work" "fuzz/corpus/$t" >"$log" 2>&1; then
    runs=$(grep -o 'number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    echo "fuzz_$t: $runs executions in ${seconds} s, nothing found."
  else
    failed=1
    echo "fuzz_$t: FAILED. Reproducer: $(ls "$findings"/* 2>/dev/null | head -1 || echo "none written")"
    grep -E 'ERROR|SUMMARY|invariant|uncaught|timeout' "$log" | head -5
    echo "Whole log: $log"
  fi
done
exit $failed
