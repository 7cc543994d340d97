"""Times one PyTorch eager forward pass for bench-vs-pytorch.py, with whatever BLAS the dynamic
linker finds (the caller picks it through LD_LIBRARY_PATH). Prints one JSON object:
{"blas": <the libblas the process loaded>, "threads": n, "ms": {"min", "median", "max"}}.

    torch_timing.py block B C H W ITERATIONS
    torch_timing.py classifier BATCH ITERATIONS
    torch_timing.py torchvision NAME BATCH SIZE ITERATIONS   (random weights, as the bench exports them)
"""
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


def main():
    kind = sys.argv[1]
    torch.manual_seed(0)
    # PyTorch's own thread count, as a user gets it (the report states it; OpenBLAS runs its own threads).
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
    print(json.dumps({"blas": loaded_blas(), "threads": torch.get_num_threads(),
                      "ms": {"min": min(times), "median": statistics.median(times), "max": max(times)}}))


if __name__ == "__main__":
    main()
