#!/usr/bin/env python3
"""Whole networks through the layer list: export random PyTorch networks with every supported
layer type (vkattn.export), run them with `vkattn run`, and compare the output and
the attention map with PyTorch in float64. Skips (exit 77) where python3-torch is absent."""
import os
import subprocess
import sys
import tempfile
from collections import OrderedDict

try:
    import numpy as np
    import torch
    from torch import nn
except ImportError:
    print("python3-torch or python3-numpy is not installed; skipping")
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "samples", "classify"))
from train import SelfAttention, vkattn  # noqa: E402  (train.py puts the package on the path)
from report import relative  # noqa: E402  (tests/, the script's own folder)

BOUND = 2e-5  # relative error of float32 against float64


class SimilarityAttention(SelfAttention):
    """The sample's block (dot, scaled_dot, cosine) with a given scale, and the additive
    (Bahdanau) similarity: u . tanh(q + k), u an nn.Linear(Cq, 1, bias=False) called `additive`.
    The exporter reads `similarity`, `scale` and `additive`."""

    def __init__(self, channels, similarity, scale=None, return_map=False):
        super().__init__(channels, similarity, return_map)
        if scale is not None:
            self.scale = scale
        if similarity == "additive":
            self.additive = nn.Linear(self.query_conv.out_channels, 1, bias=False)

    def scores(self, x):
        if self.similarity != "additive":
            return super().scores(x)
        q = self.query_conv(x).flatten(2).transpose(1, 2)  # (B, N, Cq)
        k = self.key_conv(x).flatten(2).transpose(1, 2)    # (B, N, Cq)
        pairs = torch.tanh(q[:, :, None, :] + k[:, None, :, :])  # (B, N, N, Cq)
        return getattr(self, "scale", 1.0) * self.additive(pairs).squeeze(-1)


class SqueezeExcitation(nn.Module):
    """torchvision.ops.SqueezeExcitation's layout (that package is not a dependency here)."""

    def __init__(self, channels, squeeze):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, channels, 1)
        self.activation = nn.ReLU()
        self.scale_activation = nn.Sigmoid()

    def forward(self, x):
        return x * self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(x)))))


class PositionsMultihead(nn.Module):
    """nn.MultiheadAttention over a map's positions, the input added back."""

    def __init__(self, channels, heads):
        super().__init__()
        self.mha = nn.MultiheadAttention(channels, heads, batch_first=True)

    def attend(self, x):
        t = x.flatten(2).transpose(1, 2)
        y, weights = self.mha(t, t, t)
        return y.transpose(1, 2).reshape(x.shape), weights

    def forward(self, x):
        return self.attend(x)[0] + x


class Glimpse(nn.Module):
    """Hard attention: features and an attention layer choose a box of the input, and a small
    network classifies the crop (vkattn.nn.AttentionCrop)."""

    def __init__(self, channels, similarity, threshold, size, classes):
        super().__init__()
        self.conv = nn.Conv2d(channels, 6, 3, stride=2, padding=1)
        self.act = nn.ReLU()
        self.attn = SimilarityAttention(6, similarity, scale=3.0, return_map=True)
        self.crop = vkattn.nn.AttentionCrop(threshold, size)
        self.conv2 = nn.Conv2d(channels, 5, 3, padding=1)
        self.head = nn.Sequential(nn.ReLU(), nn.Flatten(), nn.Linear(5 * size[0] * size[1], classes))

    def features(self, x):
        return self.act(self.conv(x))

    def attention_map(self, x):
        return self.attn(self.features(x))[1]

    def forward(self, x):
        h, attention = self.attn(self.features(x))
        return self.head(self.conv2(self.crop(x, attention, h.shape[2:])))


def randomise(model):
    """Random weights, BN statistics and gamma, so no layer is an identity."""
    with torch.no_grad():
        for p in model.parameters():
            p.uniform_(-0.5, 0.5)
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.3, 0.3)
                m.running_var.uniform_(0.5, 2.0)
            if isinstance(m, SelfAttention):
                m.gamma.fill_(0.8)
    return model.eval()


def networks():
    yield "conv-bn-attention-maxpool-flatten-linear", (3, 13, 11), nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(3, 8, 3, padding=1)), ("bn1", nn.BatchNorm2d(8)), ("relu1", nn.ReLU()),
        ("pool1", nn.MaxPool2d(3, stride=2, padding=1)),
        ("attn", SelfAttention(8)),
        ("conv2", nn.Conv2d(8, 12, (3, 2), stride=(2, 1), padding=(1, 0))), ("relu2", nn.ReLU()),
        ("flatten", nn.Flatten()), ("drop", nn.Dropout(0.5)),
        ("fc1", nn.Linear(12 * 4 * 5, 17)), ("relu3", nn.ReLU()), ("fc2", nn.Linear(17, 5))]))
    yield "avgpool-attention-global-pool", (1, 20, 20), nn.Sequential(OrderedDict([
        ("conv", nn.Conv2d(1, 16, 5, stride=2, padding=2, bias=False)), ("bn", nn.BatchNorm2d(16)), ("act", nn.ReLU()),
        ("avg", nn.AvgPool2d(3, stride=1, padding=1)),
        ("block", SelfAttention(16)),
        ("gap", nn.AdaptiveAvgPool2d(1)), ("flat", nn.Flatten()), ("head", nn.Linear(16, 3))]))
    # SAGAN's own activation (LeakyReLU(0.1)) and the bounded ones, around an attention layer.
    yield "leaky-attention-tanh-sigmoid", (3, 9, 7), nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(3, 10, 3, padding=1)), ("lrelu", nn.LeakyReLU(0.1)),
        ("attn", SelfAttention(10)), ("tanh", nn.Tanh()),
        ("conv2", nn.Conv2d(10, 6, 3, stride=2)), ("sig", nn.Sigmoid()),
        ("flat", nn.Flatten()), ("fc", nn.Linear(6 * 4 * 3, 4)), ("out", nn.LeakyReLU())]))
    # Cosine similarity (with a scale, so the softmax over unit-vector scores is not flat), then
    # scaled dot-product, N = 1 for the second (a 1x1 grid), odd channel counts.
    yield "cosine-attention-scaled-dot-at-one-position", (3, 7, 5), nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(3, 9, 3, padding=1)), ("act", nn.LeakyReLU(0.1)),
        ("cos", SimilarityAttention(9, "cosine", scale=4.0)), ("pool", nn.AdaptiveAvgPool2d(1)),
        ("sdp", SimilarityAttention(9, "scaled_dot")), ("flat", nn.Flatten()), ("fc", nn.Linear(9, 3))]))
    # The mix: conv -> cosine attention -> squeeze-excitation -> pool -> linear.
    yield "conv-cosine-attention-se-pool-linear", (3, 11, 9), nn.Sequential(OrderedDict([
        ("conv", nn.Conv2d(3, 12, 3, padding=1)), ("act", nn.ReLU()),
        ("attn", SimilarityAttention(12, "cosine", scale=3.0)), ("se", SqueezeExcitation(12, 5)),
        ("pool", nn.MaxPool2d(2)), ("flat", nn.Flatten()), ("fc", nn.Linear(12 * 5 * 4, 6))]))
    # Additive (Bahdanau) similarity, with the map, and again with a scale at an odd grid.
    yield "additive-attention", (5, 7, 6), nn.Sequential(OrderedDict([
        ("conv", nn.Conv2d(5, 16, 3, padding=1)), ("act", nn.Tanh()),
        ("add", SimilarityAttention(16, "additive")), ("add2", SimilarityAttention(16, "additive", scale=2.5)),
        ("gap", nn.AdaptiveAvgPool2d(1)), ("flat", nn.Flatten()), ("fc", nn.Linear(16, 3))]))
    # Multi-head attention over the positions (4 heads of 3 channels, the map the heads' mean),
    # squeeze-excitation after it, log_softmax at the end.
    yield "conv-multihead-se-pool-linear-log-softmax", (3, 9, 7), nn.Sequential(OrderedDict([
        ("conv", nn.Conv2d(3, 12, 3, padding=1)), ("act", nn.ReLU()), ("mha", PositionsMultihead(12, 4)),
        ("se", SqueezeExcitation(12, 5)), ("gap", nn.AdaptiveAvgPool2d(1)), ("flat", nn.Flatten()),
        ("fc", nn.Linear(12, 5)), ("out", nn.LogSoftmax(dim=1))]))
    # Hard attention: the crop chosen by a scaled-dot map, enlarged and shrunk, odd sizes.
    yield "glimpse-scaled-dot-crop", (2, 23, 17), Glimpse(2, "scaled_dot", 0.5, (15, 13), 4)
    yield "glimpse-cosine-crop-down", (3, 28, 28), Glimpse(3, "cosine", 0.8, (7, 9), 3)
    yield "scaled-dot-given-scale", (17, 6, 6), nn.Sequential(OrderedDict([
        ("sdp", SimilarityAttention(17, "scaled_dot", scale=0.7)), ("gap", nn.AdaptiveAvgPool2d(1)),
        ("flat", nn.Flatten()), ("fc", nn.Linear(17, 2))]))


def attention_map(model, x):
    """The first SelfAttention layer's (B, N, N) map, recomputed from its input."""
    if hasattr(model, "attention_map"):
        return model.attention_map(x)
    for m in model.children():
        if isinstance(m, PositionsMultihead):
            return m.attend(x)[1]
        if isinstance(m, SelfAttention):
            return torch.softmax(m.scores(x), dim=-1)
        x = m(x)
    raise AssertionError("no attention layer")


def main():
    cli = sys.argv[1]
    torch.manual_seed(int.from_bytes(os.urandom(4), "little"))
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, shape, model in networks():
            model = randomise(model)
            # Checked here through the command-line tool, in float64; no engine loaded into Python (the
            # sanitizer build runs this script with an uninstrumented python3).
            vkattn.export(model, os.path.join(tmp, "m.safetensors"), shape, check=False)
            x = torch.rand(3, *shape)
            np.save(os.path.join(tmp, "x.npy"), x.numpy())
            subprocess.run([cli, "run", "--model", os.path.join(tmp, "m.safetensors"), "--input",
                            os.path.join(tmp, "x.npy"), "--output", os.path.join(tmp, "y.npy"),
                            "--attention", os.path.join(tmp, "a.npy")], check=True)
            with torch.no_grad():
                model64 = model.double()
                want_y = model64(x.double()).numpy()
                want_a = attention_map(model64, x.double()).numpy()
            got_y, got_a = np.load(os.path.join(tmp, "y.npy")), np.load(os.path.join(tmp, "a.npy"))
            ok = got_y.shape == want_y.shape and got_a.shape == want_a.shape
            ey = relative(got_y, want_y) if ok else float("inf")
            ea = relative(got_a, want_a) if ok else float("inf")
            ok = ok and ey < BOUND and ea < BOUND
            print(f"{name}: output {got_y.shape} rel err {ey:.2e}, attention {got_a.shape} rel err {ea:.2e} "
                  f"(bound {BOUND:g}): {'ok' if ok else 'FAIL'}")
            failures += not ok
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
