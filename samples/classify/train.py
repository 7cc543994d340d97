#!/usr/bin/env python3
"""Train the sample classifier on Fashion-MNIST and export it for vkattn.

    /usr/bin/python3 samples/classify/train.py [--epochs 12] [--similarity scaled_dot] [--no-se]
                                               [--glimpse THRESHOLD] [--out samples/classify/fashion_sagan.safetensors]

The network (93,171 parameters): conv 3x3 (32) + BN + ReLU, max-pool to 14x14; conv 3x3 (64) +
BN + ReLU; a self-attention block over the 196 positions, each covering a 2x2 patch of the
garment (scaled dot product; --similarity picks another); max-pool to 7x7; conv 3x3 (96) + BN +
ReLU; squeeze-and-excitation (--no-se leaves it out); max-pool to 3x3; dropout; linear to the 10
classes. --glimpse T puts hard attention in front (AG-CNN): a small first stage (conv 16, pool,
self-attention) picks the box of cells receiving at least T of its most attention, and the network
above classifies that box of the picture resized to 28x28; the first stage learns from a head of
its own that only training uses.
Seeded and single-process, so a rerun on the same torch build gives the same file. Writes the model
(weights under state_dict() names, layer list in __metadata__) and PyTorch's predicted class for
each of the 10,000 test images (<out stem>.predictions.npy), which `classify --eval` compares with.
"""
import argparse
import ctypes
import gzip
import math
import os
import sys
import time
from collections import OrderedDict

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
# An installed vkattn package, else the built one, else its sources (export needs no engine without check).
sys.path += [os.path.join(ROOT, "build", "python"), os.path.join(ROOT, "python")]
import vkattn  # noqa: E402
import vkattn.nn  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist"
LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
          "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def read_idx(name):
    """An IDX file of uint8 (images: magic 2051, labels: 2049)."""
    with gzip.open(os.path.join(DATA, name), "rb") as f:
        data = f.read()
    dims = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


class SelfAttention(nn.Module):
    """The SAGAN block: y = gamma * (V softmax(S)^T) + x, with Q, K of C/8 channels and the scores
    S[i, j] = q_i . k_j (dot), that over sqrt(C/8) (scaled_dot), or of unit vectors (cosine); an
    attribute `scale`, when set, replaces the default factor (vkattn.export writes it too).
    With return_map the forward gives (y, the (B, N, N) map), as SAGAN's own block does."""

    def __init__(self, channels, similarity="dot", return_map=False):
        super().__init__()
        self.query_conv = nn.Conv2d(channels, max(1, channels // 8), 1)
        self.key_conv = nn.Conv2d(channels, max(1, channels // 8), 1)
        self.value_conv = nn.Conv2d(channels, channels, 1)
        self.gamma = nn.Parameter(torch.zeros(1))
        self.similarity = similarity  # vkattn.export writes it into the layer
        self.return_map = return_map

    def scores(self, x):
        """S (B, N, N), before the softmax."""
        q = self.query_conv(x).flatten(2).transpose(1, 2)            # (B, N, Cq)
        k = self.key_conv(x).flatten(2)                              # (B, Cq, N)
        if self.similarity == "cosine":
            q, k = F.normalize(q, dim=2), F.normalize(k, dim=1)
        scale = getattr(self, "scale", 1 / math.sqrt(q.shape[2]) if self.similarity == "scaled_dot" else 1.0)
        s = torch.bmm(q, k)
        return s if scale == 1.0 else scale * s  # no extra pass over (N, N) for plain dot products

    def forward(self, x):
        b, c, h, w = x.shape
        attention = torch.softmax(self.scores(x), dim=-1)            # (B, N, N), rows sum to 1
        v = self.value_conv(x).flatten(2).transpose(1, 2)            # (B, N, C)
        # out[c, i] = sum_j V[c, j] A[i, j]; A (V^T) is the same product, and faster here.
        y = self.gamma * torch.bmm(attention, v).transpose(1, 2).reshape(b, c, h, w) + x
        return (y, attention) if self.return_map else y


class SqueezeExcitation(nn.Module):
    """Channel attention (Hu et al.), torchvision's layout: x * sigmoid(fc2(relu(fc1(mean of x))))."""

    def __init__(self, channels, squeeze):
        super().__init__()
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, channels, 1)
        self.activation = nn.ReLU()
        self.scale_activation = nn.Sigmoid()

    def forward(self, x):
        return x * self.scale_activation(self.fc2(self.activation(self.fc1(x.mean((2, 3), keepdim=True)))))


def conv_bn_relu(index, cin, cout):
    return [("conv%d" % index, nn.Conv2d(cin, cout, 3, padding=1)), ("bn%d" % index, nn.BatchNorm2d(cout)),
            ("relu%d" % index, nn.ReLU())]


def make_model(similarity="scaled_dot", squeeze_excitation=True):
    return nn.Sequential(OrderedDict(
        conv_bn_relu(1, 1, 32) + [("pool1", nn.MaxPool2d(2))]                       # 28x28 -> 14x14
        + conv_bn_relu(2, 32, 64) + [("attn", SelfAttention(64, similarity))]       # N = 196 positions
        + [("pool2", nn.MaxPool2d(2))] + conv_bn_relu(3, 64, 96)                    # 14x14 -> 7x7
        + ([("se", SqueezeExcitation(96, 24))] if squeeze_excitation else [])
        + [("pool3", nn.MaxPool2d(2)), ("flatten", nn.Flatten()), ("drop", nn.Dropout(0.3)),  # 7x7 -> 3x3
           ("fc", nn.Linear(96 * 3 * 3, 10))]))


class Glimpse(nn.Module):
    """Hard attention in front of the classifier: a first stage's attention picks the box of the
    picture that the classifier sees, resized to 28x28. In training the forward also gives the
    first stage's own class scores, its only source of gradient (the box is not differentiable)."""

    def __init__(self, threshold, similarity, squeeze_excitation):
        super().__init__()
        self.finder = nn.Sequential(OrderedDict(conv_bn_relu(0, 1, 16) + [("pool0", nn.MaxPool2d(2))]))
        self.look = SelfAttention(16, similarity, return_map=True)
        self.finder_head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10))
        self.crop = vkattn.nn.AttentionCrop(threshold, (28, 28))
        self.classifier = make_model(similarity, squeeze_excitation)

    def forward(self, x):
        h, attention = self.look(self.finder(x))
        logits = self.classifier(self.crop(x, attention, h.shape[2:]))
        return (logits, self.finder_head(h)) if self.training else logits


def predict(model, images, batch=500):
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(images), batch):
            out.append(model(images[i:i + batch]).argmax(1))
    return torch.cat(out)


def keep_freed_memory():
    """Keeps freed memory in the process: glibc hands every large freed tensor back to the kernel,
    and touching fresh pages again costs more than the arithmetic here (training runs ~2x faster)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-1, 1 << 30)   # M_TRIM_THRESHOLD
        libc.mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD, its largest value
    except (OSError, AttributeError):
        pass  # not glibc: only slower


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--similarity", choices=["dot", "scaled_dot", "cosine"], default="scaled_dot")
    parser.add_argument("--no-se", action="store_true", help="leave out the squeeze-and-excitation block")
    parser.add_argument("--glimpse", type=float, metavar="THRESHOLD", help="hard attention in front (0 to 1)")
    parser.add_argument("--out", default=os.path.join(here, "fashion_sagan.safetensors"))
    # One thread: as fast as two for these small layers, and the same sums in the same order on any machine.
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    keep_freed_memory()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)

    # Input is pixel/255 in [0, 1], as the engine's graph takes it.
    train_x = torch.from_numpy(read_idx("train-images-idx3-ubyte.gz").astype(np.float32) / 255).unsqueeze(1)
    train_y = torch.from_numpy(read_idx("train-labels-idx1-ubyte.gz").astype(np.int64))
    test_x = torch.from_numpy(read_idx("t10k-images-idx3-ubyte.gz").astype(np.float32) / 255).unsqueeze(1)
    test_y = torch.from_numpy(read_idx("t10k-labels-idx1-ubyte.gz").astype(np.int64))

    if args.glimpse is not None:
        model = Glimpse(args.glimpse, args.similarity, not args.no_se)
    else:
        model = make_model(args.similarity, not args.no_se)
    print("%d parameters" % sum(p.numel() for p in model.parameters()), flush=True)
    batch = 128
    steps = args.epochs * ((len(train_x) + batch - 1) // batch)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=steps)
    start = time.time()
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(train_x))
        total = 0.0
        for i in range(0, len(train_x), batch):
            idx = order[i:i + batch]
            optimizer.zero_grad()
            out = model(train_x[idx])
            outputs = out if isinstance(out, tuple) else (out,)
            loss = sum(F.cross_entropy(o, train_y[idx]) for o in outputs)
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item() * len(idx)
        accuracy = (predict(model, test_x) == test_y).float().mean().item()
        print(f"epoch {epoch + 1}/{args.epochs}: loss {total / len(train_x):.4f}, "
              f"test accuracy {accuracy:.2%}, {time.time() - start:.0f} s", flush=True)

    predictions = predict(model, test_x)
    accuracy = (predictions == test_y).float().mean().item()
    # No check against the engine here: classify --eval compares all 10,000 predictions with it.
    vkattn.export(model, args.out, input_shape=(1, 28, 28), labels=LABELS,
                  metadata={"vkattn.test_accuracy": f"{accuracy:.4f}"}, check=False)
    stem = os.path.splitext(args.out)[0]
    # float32 so the engine's .npy reader takes it; values are class indices 0..9.
    np.save(stem + ".predictions.npy", predictions.numpy().astype(np.float32))
    print(f"test accuracy {accuracy:.2%}; wrote {args.out} and {stem}.predictions.npy "
          f"in {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
