"""Writes the bundled example: a SAGAN self-attention block (C=16, Cq=2, gamma=0.8) with seeded
random weights, and a (1, 16, 12, 12) feature map holding two bright blobs, so the attention map
has structure to show. Standard library only. Run from anywhere; writes next to this file."""
import math
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests"))
from files import write_npy, write_safetensors  # noqa: E402

rng = random.Random(2026)
C, Cq, H, W = 16, 2, 12, 12


def uniform(*shape, bound):
    n = math.prod(shape)
    return (shape, [rng.uniform(-bound, bound) for _ in range(n)])


bound = 1 / math.sqrt(C)  # PyTorch's default Conv2d initialisation range
tensors = {
    "query_conv.weight": uniform(Cq, C, 1, 1, bound=bound), "query_conv.bias": uniform(Cq, bound=bound),
    "key_conv.weight": uniform(Cq, C, 1, 1, bound=bound), "key_conv.bias": uniform(Cq, bound=bound),
    "value_conv.weight": uniform(C, C, 1, 1, bound=bound), "value_conv.bias": uniform(C, bound=bound),
    "gamma": ((1,), [0.8]),
}
here = os.path.dirname(os.path.abspath(__file__))
write_safetensors(os.path.join(here, "sagan_block.safetensors"), tensors)

x = []
for c in range(C):
    for h in range(H):
        for w in range(W):
            blob = math.exp(-((h - 3) ** 2 + (w - 8) ** 2) / 4) + math.exp(-((h - 8) ** 2 + (w - 3) ** 2) / 4)
            x.append(blob * (1 + 0.1 * c) + 0.05 * rng.gauss(0, 1))
write_npy(os.path.join(here, "feature_map.npy"), (1, C, H, W), x)
