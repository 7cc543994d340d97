#!/usr/bin/env bash
# Installs, from Debian's archive, whatever vkattn needs that this machine lacks. Safe to rerun.
set -euo pipefail

packages=(cmake g++ make python3
          libvulkan-dev glslang-tools mesa-vulkan-drivers vulkan-validationlayers vulkan-tools
          doctest-dev nlohmann-json3-dev libcli11-dev libstb-dev
          python3-dev pybind11-dev python3-pybind11 python3-numpy zlib1g-dev dataset-fashion-mnist
          libonnx-dev libprotobuf-dev)
# PyTorch, torchvision and numpy: the parity tests (torchvision's families) and samples/classify/train.py;
# python3-onnx: ONNX's operator test cases and the ONNX export of the parity models.
[ "${1:-}" = "--tests" ] && packages+=(python3-torch python3-torchvision python3-numpy python3-onnx)
# Fuzzing and sanitizer builds: clang with libFuzzer and the sanitizer runtimes.
[ "${1:-}" = "--fuzz" ] && packages+=(clang-14 libclang-rt-14-dev)
# The side-by-side benchmark: PyTorch with the reference BLAS and with OpenBLAS, and a chart.
[ "${1:-}" = "--bench" ] && packages+=(python3-torch python3-torchvision python3-numpy libblas3 libopenblas0-pthread
                                       python3-matplotlib)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
