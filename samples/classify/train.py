#!/usr/bin/env python3
"""Train the sample classifier on Fashion-MNIST and export it for vkattn.

    /usr/bin/python3 samples/classify/train.py [--epochs 4] [--out samples/classify/fashion_sagan.safetensors]

A small CNN with the SAGAN self-attention block at 14x14, where each of the 196 positions covers
a 2x2 patch of the garment, so its attention map shows which parts the network relates.
Seeded and single-process, so a rerun on the same torch build gives the same file. Writes the model
(weights under state_dict() names, layer list in __metadata__) and PyTorch's predicted class for
each of the 10,000 test images (<out stem>.predictions.npy), which `classify --eval` compares with.
"""
import argparse
import gzip
import os
import sys
import time
from collections import OrderedDict

import numpy as np
import torch
from torch import nn

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
# An installed vkattn package, else the built one, else its sources (export needs no engine without check).
sys.path += [os.path.join(ROOT, "build", "python"), os.path.join(ROOT, "python")]
import vkattn  # noqa: E402

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
    """The SAGAN block: y = gamma * (V softmax(Q^T K)^T) + x, with Q, K of C/8 channels."""

    def __init__(self, channels):
        super().__init__()
        self.query_conv = nn.Conv2d(channels, max(1, channels // 8), 1)
        self.key_conv = nn.Conv2d(channels, max(1, channels // 8), 1)
        self.value_conv = nn.Conv2d(channels, channels, 1)
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        b, c, h, w = x.shape
        q = self.query_conv(x).flatten(2).transpose(1, 2)            # (B, N, Cq)
        k = self.key_conv(x).flatten(2)                              # (B, Cq, N)
        attention = torch.softmax(torch.bmm(q, k), dim=-1)           # (B, N, N), rows sum to 1
        v = self.value_conv(x).flatten(2).transpose(1, 2)            # (B, N, C)
        # out[c, i] = sum_j V[c, j] A[i, j]; A (V^T) is the same product, and faster here.
        out = torch.bmm(attention, v).transpose(1, 2).reshape(b, c, h, w)
        return self.gamma * out + x


def make_model():
    return nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(1, 16, 3, padding=1)), ("bn1", nn.BatchNorm2d(16)), ("relu1", nn.ReLU()),
        ("pool1", nn.MaxPool2d(2)),                                   # 28x28 -> 14x14
        ("attn", SelfAttention(16)),                                  # N = 196 positions, Cq = 2
        ("conv2", nn.Conv2d(16, 64, 3, padding=1)), ("bn2", nn.BatchNorm2d(64)), ("relu2", nn.ReLU()),
        ("pool2", nn.MaxPool2d(2)),                                   # 14x14 -> 7x7
        ("flatten", nn.Flatten()),
        ("fc1", nn.Linear(64 * 7 * 7, 128)), ("relu3", nn.ReLU()), ("drop", nn.Dropout(0.25)),
        ("fc2", nn.Linear(128, 10)),
    ]))


def predict(model, images, batch=500):
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(images), batch):
            out.append(model(images[i:i + batch]).argmax(1))
    return torch.cat(out)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--out", default=os.path.join(here, "fashion_sagan.safetensors"))
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(os.cpu_count() or 1)

    # Input is pixel/255 in [0, 1], as the engine's graph takes it.
    train_x = torch.from_numpy(read_idx("train-images-idx3-ubyte.gz").astype(np.float32) / 255).unsqueeze(1)
    train_y = torch.from_numpy(read_idx("train-labels-idx1-ubyte.gz").astype(np.int64))
    test_x = torch.from_numpy(read_idx("t10k-images-idx3-ubyte.gz").astype(np.float32) / 255).unsqueeze(1)
    test_y = torch.from_numpy(read_idx("t10k-labels-idx1-ubyte.gz").astype(np.int64))

    model = make_model()
    batch = 128
    steps = args.epochs * ((len(train_x) + batch - 1) // batch)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=2e-3, total_steps=steps)
    loss_fn = nn.CrossEntropyLoss()
    start = time.time()
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(train_x))
        total = 0.0
        for i in range(0, len(train_x), batch):
            idx = order[i:i + batch]
            x = train_x[idx]
            optimizer.zero_grad()
            loss = loss_fn(model(x), train_y[idx])
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
