"""Times one PyTorch eager forward pass for bench-vs-pytorch.py, with whatever BLAS the dynamic
linker finds (the caller picks it through LD_LIBRARY_PATH), on as many threads as the machine has
cores (or BENCH_TORCH_THREADS), and checks the float32 result against the same model in float64. Prints one JSON object:
{"blas": <the libblas the process loaded>, "blas_core": <OpenBLAS's kernel, or "">, "threads": n,
 "ms": {"min", "median", "max"}, "rel_error": <max |y32 - y64| / max |y64|>}.

    torch_timing.py block B C H W ITERATIONS
    torch_timing.py classifier BATCH ITERATIONS
    torch_timing.py torchvision NAME BATCH SIZE ITERATIONS   (random weights, as the bench exports them)
"""
import ctypes
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "samples", "classify"))
from train import SelfAttention, make_model  # noqa: E402  (the same modules the sample trains)


def loaded_blas():
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "blas" in line and "/" in line}
    return ", ".join(sorted(paths)) or "none loaded"


def openblas_core():
    """The kernel OpenBLAS picked for this CPU (OPENBLAS_CORETYPE overrides it), or "" for another BLAS."""
    with open("/proc/self/maps") as maps:
        paths = sorted({line.split()[-1] for line in maps if "openblas" in line and line.rstrip().endswith(".so")})
    for path in paths:
        try:
            get = ctypes.CDLL(path).openblas_get_corename
        except (OSError, AttributeError):
            continue
        get.restype = ctypes.c_char_p
        return get().decode()
    return ""


def main():
    kind = sys.argv[1]
    torch.manual_seed(0)
    # Every core (Debian's PyTorch otherwise starts with 1 OpenMP thread here), or BENCH_TORCH_THREADS;
    # OpenBLAS runs its own.
    torch.set_num_threads(int(os.environ.get("BENCH_TORCH_THREADS", os.cpu_count())))
    if kind == "block":
        b, c, h, w, iterations = map(int, sys.argv[2:7])
        model = SelfAttention(c)
        with torch.no_grad():
            model.gamma.fill_(0.5)  # not 0, so the attention path counts
        x = torch.randn(b, c, h, w)
    elif kind == "torchvision":
        import torchvision
        name, (batch, size, iterations) = sys.argv[2], map(int, sys.argv[3:6])
        model = getattr(torchvision.models, name)(weights=None)
        x = torch.randn(batch, 3, size, size)
    else:
        batch, iterations = map(int, sys.argv[2:4])
        model = make_model()
        x = torch.randn(batch, 1, 28, 28)
    model.eval()
    times = []
    with torch.no_grad():
        model(x)  # warm-up
        for _ in range(iterations):
            t0 = time.perf_counter()
            model(x)
            times.append((time.perf_counter() - t0) * 1e3)
        y32 = model(x)
        y64 = model.double()(x.double())
    rel_error = float((y32.double() - y64).abs().max() / y64.abs().max())
    print(json.dumps({"blas": loaded_blas(), "blas_core": openblas_core(), "threads": torch.get_num_threads(),
                      "ms": {"min": min(times), "median": statistics.median(times), "max": max(times)},
                      "rel_error": rel_error}))


if __name__ == "__main__":
    main()
