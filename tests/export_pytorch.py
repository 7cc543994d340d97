#!/usr/bin/env python3
"""vkattn.export on PyTorch models as people write them, checked with vkattn.Model against PyTorch:
the SAGAN repository's discriminator (spectral-normed convs, LeakyReLU(0.1), Self_Attn returning
(out, attention), layers registered in another order than the forward runs them), the weight
reparametrisations (spectral_norm and weight_norm, hooks and parametrizations, a wrapper class
that sets `weight` in its forward), nested containers, BatchNorm folded or alone, view-as-flatten,
residual sums, arithmetic and functional calls between modules, named outputs, `python3 -m vkattn
export`, and the errors for what cannot be exported (each naming the module, the op and the line).
Needs PYTHONPATH to the built package (ctest sets it); skips (exit 77) where python3-torch is absent."""
import json
import os
import subprocess
import sys

import numpy as np

import vkattn
from report import check, finish, relative  # tests/, the script's own folder
from files import temp_folder  # noqa: E402

try:
    import torch
    from torch import nn
    from torch.nn import functional as F
except ImportError:
    print("python3-torch is not installed; skipping")
    sys.exit(77)

from graph_models import SaganDiscriminator, Self_Attn  # noqa: E402  (the SAGAN repository's modules, as written)

BOUND = 1e-4  # relative, float32 on the device against float32 PyTorch


class WrappedSpectralNorm(nn.Module):
    """The SAGAN repository's own SpectralNorm: a wrapper that sets the wrapped conv's weight in its
    forward, after one power iteration, in every mode."""

    def __init__(self, module):
        super().__init__()
        self.module = module
        w = module.weight.data
        height = w.shape[0]
        self.module.register_parameter("weight_u", nn.Parameter(F.normalize(w.new_empty(height).normal_(), dim=0),
                                                                requires_grad=False))
        self.module.register_parameter("weight_v", nn.Parameter(F.normalize(w.new_empty(w.view(height, -1).shape[1])
                                                                            .normal_(), dim=0), requires_grad=False))
        self.module.register_parameter("weight_bar", nn.Parameter(w.clone()))
        del self.module._parameters["weight"]

    def forward(self, *args):
        u, v, w = self.module.weight_u, self.module.weight_v, self.module.weight_bar
        height = w.shape[0]
        v.data = F.normalize(torch.mv(w.view(height, -1).data.t(), u.data), dim=0)
        u.data = F.normalize(torch.mv(w.view(height, -1).data, v.data), dim=0)
        setattr(self.module, "weight", w / u.dot(w.view(height, -1).mv(v)))
        return self.module.forward(*args)


def randomise(model):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("gamma"):
                p.fill_(0.7)  # the repository starts gamma at 0, which would hide the block
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
    return model


def exported(model, shape, **kw):
    path = os.path.join(tmp, "m.safetensors")
    vkattn.export(model, path, shape, **kw)
    return vkattn.Model(path)


def sagan(name, sn, batch=3):
    torch.manual_seed(11)
    d = randomise(SaganDiscriminator(16, sn))
    d.train()
    for _ in range(3):  # the power iterations a trained model has behind it
        d(torch.randn(2, 3, 64, 64))
    d.eval()
    x = torch.randn(batch, 3, 64, 64)
    u_before = [b.clone() for b in d.buffers()] + [p.clone() for p in d.parameters()]
    model = exported(d, (3, 64, 64))
    u_after = [b for b in d.buffers()] + [p for p in d.parameters()]
    check(name + ": export leaves the module as it was",
          d.training is False and all(torch.equal(a, b) for a, b in zip(u_before, u_after)))
    with torch.no_grad():
        want, p1, p2 = d(x)
    y, maps = model.run(x.numpy(), attention=True)
    # squeeze() drops the batch too at batch 1 in PyTorch; the file keeps it, as it runs at any batch.
    check(name + ": output", y.shape == (batch,) and want.numel() == batch and relative(y, want) < BOUND,
          "shape %s, relative %.2g" % (y.shape, relative(y.reshape(-1), want)))
    check(name + ": both attention maps", len(maps) == 2 and maps[0].shape == p1.shape and maps[1].shape == p2.shape
          and relative(maps[0], p1) < BOUND and relative(maps[1], p2) < BOUND,
          "%d maps, relative %.2g, %.2g" % (len(maps), relative(maps[0], p1), relative(maps[1], p2)))


def parity(name, model, shape, batch=2, **kw):
    torch.manual_seed(3)
    model = randomise(model).eval()
    x = torch.randn((batch,) + shape)
    try:
        vk = exported(model, shape, **kw)
    except Exception as e:  # noqa: BLE001 - the failure being reported
        check(name, False, "%s: %s" % (type(e).__name__, e))
        return
    with torch.no_grad():
        want = model(x)
        want = want[0] if isinstance(want, tuple) else next(iter(want.values())) if isinstance(want, dict) else want
    y = vk.run(x.numpy())
    check(name, y.size == want.numel() and relative(y, want) < BOUND, "relative %.2g" % relative(y, want))


def refused(name, model, shape, words):
    if os.path.exists(os.path.join(tmp, "refused.safetensors")):
        os.remove(os.path.join(tmp, "refused.safetensors"))
    try:
        vkattn.export(randomise(model), os.path.join(tmp, "refused.safetensors"), shape)
    except ValueError as e:
        check(name, words in str(e) and not os.path.exists(os.path.join(tmp, "refused.safetensors")), str(e))
        return
    except Exception as e:  # noqa: BLE001
        check(name, False, "raised %s: %s" % (type(e).__name__, e))
        return
    check(name, False, "no error")


class Block(nn.Module):
    """Children run in registration order, by a custom class; BatchNorm right after a conv."""

    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding="same", bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class ViewHead(nn.Module):
    """x.view(B, -1) between the features and the classifier, as many tutorials write it."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(Block(1, 8), nn.MaxPool2d(2), Block(8, 8))
        self.attn = Self_Attn(8, "relu")
        self.pool = nn.AdaptiveAvgPool2d((2, 2))
        self.fc = nn.Linear(32, 5)

    def forward(self, x):
        x, _ = self.attn(self.features(x))
        return self.fc(self.pool(x).view(x.size(0), -1))


class MnistExample(nn.Module):
    """The network of PyTorch's own MNIST example (pytorch/examples, mnist/main.py): functional
    relu, max_pool2d, torch.flatten and log_softmax between its modules."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(self.dropout1(x), 1)
        x = self.dropout2(F.relu(self.fc1(x)))
        return F.log_softmax(self.fc2(x), dim=1)


class SharedActivation(nn.Module):
    """One ReLU module called after every layer, a pooled mean as the global pool, a Softmax module."""

    def __init__(self):
        super().__init__()
        self.a, self.b, self.fc = nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(8, 8, 3, stride=2), nn.Linear(8, 4)
        self.act, self.pool, self.out = nn.ReLU(), nn.MaxPool2d(3, 2, 1), nn.Softmax(dim=-1)

    def forward(self, x):
        x = self.pool(self.act(self.a(x)))
        x = self.act(self.b(x)).mean((2, 3))
        return self.out(self.act(self.fc(x)))


class TokenAttention(nn.Module):
    """nn.MultiheadAttention over a feature map's positions, as vision code writes it."""

    def __init__(self, channels, heads, batch_first=True, residual=True, **kw):
        super().__init__()
        self.residual, self.batch_first = residual, batch_first
        self.mha = nn.MultiheadAttention(channels, heads, batch_first=batch_first, **kw)

    def forward(self, x):
        b, c, h, w = x.shape
        t = x.flatten(2).transpose(1, 2) if self.batch_first else x.flatten(2).permute(2, 0, 1)
        y, weights = self.mha(t, t, t)
        y = (y.transpose(1, 2) if self.batch_first else y.permute(1, 2, 0)).reshape(b, c, h, w)
        return (y + x if self.residual else y), weights


class ChannelTokens(nn.Module):
    def __init__(self):
        super().__init__()
        self.mha = nn.MultiheadAttention(4, 2, batch_first=True)

    def forward(self, x):
        t = x.flatten(2)
        return self.mha(t, t, t)[0]


class MultiheadNet(nn.Module):
    def __init__(self, heads, batch_first, residual):
        super().__init__()
        self.conv = nn.Conv2d(3, 12, 3, padding=1)
        self.attn = TokenAttention(12, heads, batch_first, residual)
        self.fc = nn.Linear(12, 5)

    def forward(self, x):
        x, weights = self.attn(F.relu(self.conv(x)))
        return self.fc(x.mean((2, 3))), weights


def multihead(name, heads, batch_first, residual, shape=(3, 7, 5)):
    torch.manual_seed(heads)
    net = MultiheadNet(heads, batch_first, residual).eval()
    x = torch.randn((3,) + shape)
    model = exported(net, shape)
    with torch.no_grad():
        want, weights = net(x)
    y, maps = model.run(x.numpy(), attention=True)
    check(name, relative(y, want) < BOUND and len(maps) == 1 and maps[0].shape == weights.shape
          and relative(maps[0], weights) < BOUND,
          "output relative %.2g, map relative %.2g" % (relative(y, want), relative(maps[0], weights)))


class DictOutput(nn.Module):
    """A dict out, a module never called, torch.flatten after a pool to 1x1 of positive values."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d((1, 1)))
        self.unused = nn.GroupNorm(2, 4)
        self.head = nn.Linear(4, 3)

    def forward(self, x):
        return {"logits": self.head(torch.flatten(self.body(x), 1)), "steps": 1}


class Normalising(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(1, 2, 1)

    def forward(self, x):
        return self.c((x - 0.5) / 0.5)


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1)

    def forward(self, x):
        return x + self.conv(x)


class Functional(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Conv2d(4, 4, 1), nn.Conv2d(4, 4, 1)

    def forward(self, x):
        return self.b(F.gelu(self.a(x)))


class SpatialAttention(nn.Module):
    """CBAM's spatial attention (Woo et al. 2018): the channels' mean and max, a 7x7 convolution, a
    sigmoid gate; torch.max and torch.min over a dimension keep their values, not their indices."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 1, 7, padding=3)

    def forward(self, x):
        low, _ = torch.min(x, dim=1, keepdim=True)
        pooled = torch.cat([x.mean(1, keepdim=True), x.max(1, keepdim=True)[0], low], dim=1)
        return x * torch.sigmoid(self.conv(pooled)) + torch.max(x, 2)[0].unsqueeze(2)


class MaxIndices(nn.Module):
    def forward(self, x):
        return x.max(1)[1]


class Einsum(nn.Module):
    """torch.einsum(equation, conv(x), conv(x)): forms the exporter refuses."""

    def __init__(self, equation):
        super().__init__()
        self.equation, self.conv = equation, nn.Conv2d(2, 2, 1)

    def forward(self, x):
        y = self.conv(x).flatten(2)  # (B, 2, HW)
        return torch.einsum(self.equation, y, y)


class DataDependent(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 2, 1)

    def forward(self, x):
        y = self.conv(x)
        return y if y.sum() > 0 else -y


class NotSagan(Self_Attn):
    """SAGAN's parts, another computation: the map normalised over the other axis."""

    def forward(self, x):
        b, c, h, w = x.size()
        q = self.query_conv(x).view(b, -1, h * w).permute(0, 2, 1)
        a = torch.softmax(torch.bmm(q, self.key_conv(x).view(b, -1, h * w)), dim=1)
        return self.gamma * torch.bmm(self.value_conv(x).view(b, -1, h * w), a.permute(0, 2, 1)).view(b, c, h, w) + x


class MultiheadGlimpse(nn.Module):
    """Hard attention from nn.MultiheadAttention's averaged weights; `mode` breaks one rule of
    AttentionCrop's call for the refusals: "features" crops a feature map instead of the input,
    "made" passes a map no attention layer returned, "transposed" the grid the other way round,
    "keywords" its arguments by name."""

    def __init__(self, mode="", threshold=0.5):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.mha = nn.MultiheadAttention(8, 2, batch_first=True)
        self.crop = vkattn.nn.AttentionCrop(threshold, (9, 11))
        self.fc = nn.Linear(3 * 9 * 11, 4)
        self.mode = mode

    def forward(self, x):
        h = F.relu(self.conv(x))
        t = h.flatten(2).transpose(1, 2)
        _, weights = self.mha(t, t, t)
        grid = h.shape[2:]
        if self.mode == "features":
            return self.fc(self.crop(h[:, :3], weights, grid).flatten(1))
        if self.mode == "made":
            weights = torch.softmax(torch.bmm(t, t.transpose(1, 2)), -1)
        if self.mode == "transposed":
            grid = grid[::-1]
        if self.mode == "keywords":
            return self.fc(self.crop(x, attention=weights, grid=grid).flatten(1))
        return self.fc(self.crop(x, weights, grid).flatten(1))


def glimpse(name):
    torch.manual_seed(5)
    net = MultiheadGlimpse(threshold=0.9).eval()
    with torch.no_grad():
        net.mha.in_proj_weight.mul_(4)  # sharper attention, so the boxes differ from the whole picture
    x = torch.randn(3, 3, 14, 10)
    layers = [layer["type"] for layer in vkattn.export(net, os.path.join(tmp, "g.safetensors"), (3, 14, 10))["nodes"]]
    y, maps, boxes = vkattn.Model(os.path.join(tmp, "g.safetensors")).run(x.numpy(), attention=True, boxes=True)
    with torch.no_grad():
        want = net(x)
        h = F.relu(net.conv(x))
        t = h.flatten(2).transpose(1, 2)
        want_boxes = vkattn.nn.attention_boxes(net.mha(t, t, t)[1], h.shape[2:], x.shape[2:], 0.9).numpy()
    check(name, "scaled_dot_product_attention" in layers and "attention_crop" in layers
          and relative(y, want) < BOUND, "%s, relative %.2g" % (layers, relative(y, want)))
    check(name + ": the boxes", len(maps) == 1 and len(boxes) == 1 and boxes[0].dtype == np.int64
          and np.array_equal(boxes[0], want_boxes) and (want_boxes != [0, 0, 14, 10]).any(), "%s against %s" % (boxes[0].tolist(), want_boxes.tolist()))


# Graphs: skips, branches, in-place updates, layouts, several inputs and outputs.
class UNetish(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 8, 3, padding=1); self.down = nn.Conv2d(8, 16, 3, 2, 1)
        self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
        self.up2 = nn.ConvTranspose2d(16, 8, 3, 2, 1)
        self.out = nn.Conv2d(24, 4, 1)
    def forward(self, x):
        a = F.relu(self.a(x)); d = F.silu(self.down(a))
        u = self.up(d)
        t = self.up2(d, output_size=a.shape[2:])
        return torch.softmax(self.out(torch.cat([a, u[:, :8], t], 1)), dim=1)

class Glu(nn.Module):
    def __init__(self):
        super().__init__(); self.c = nn.Conv2d(4, 8, 3, padding=1); self.register_buffer("scale", torch.rand(1, 4, 1, 1))
    def forward(self, x):
        a, b = self.c(x).chunk(2, dim=1)
        y = a * torch.sigmoid(b)
        y += x
        y.mul_(2)
        y = y * self.scale + torch.ones(1, 4, 1, 1)
        z = y[:, :, 1:-1, ::2]
        return z.mean(dim=[2, 3], keepdim=True).flatten(1), torch.stack([y, x], 2).amax(2)

class PaddedTokens(nn.Module):
    """Tokens and a float key padding mask as two inputs (the mask is added to the scores, as
    nn.MultiheadAttention adds a float mask: 0 or -1e9 here, which its fast path, reading any
    non-zero as masked, computes alike); `mode` "mask_from_input" builds attn_mask from the first
    item's tokens instead, which vkattn refuses: the mask would drop the batch."""

    def __init__(self, mode=""):
        super().__init__()
        self.mha = nn.MultiheadAttention(8, 2, batch_first=True)
        self.weight = nn.Parameter(torch.randn(8, 5))
        self.mode = mode

    def forward(self, tokens, padding):
        if self.mode == "mask_from_input":
            y = self.mha(tokens, tokens, tokens, attn_mask=tokens[0, :, :1] @ tokens[0, :, :1].T)[0]
        else:
            y = self.mha(tokens, tokens, tokens, key_padding_mask=padding)[0]
        return y @ self.weight  # a matmul with a constant


class Two(nn.Module):
    def __init__(self):
        super().__init__(); self.c = nn.Conv2d(3, 3, 1); self.l = nn.Linear(12, 5)
    def forward(self, image, extra):
        h = F.adaptive_max_pool2d(self.c(image) - extra.view(extra.size(0), 3, 1, 1), (2, 2))
        return {"logits": self.l(h.reshape(h.shape[0], -1)), "pooled": h}

class Tokens(nn.Module):
    def __init__(self):
        super().__init__(); self.c = nn.Conv2d(3, 6, 1)
    def forward(self, x):
        b, c, h, w = x.shape
        t = self.c(x).permute(0, 2, 3, 1).reshape(b, h * w, 6)
        t = F.gelu(t, approximate="tanh") / 3 - 1
        return t.transpose(1, 2).reshape(b, 6, h, w)[:, 2]

class Acts(nn.Module):
    def __init__(self):
        super().__init__(); self.c = nn.Conv2d(3, 6, 3)
    def forward(self, x):
        y = self.c(x)
        return torch.cat([F.hardswish(y), F.hardsigmoid(y), F.elu(y, 0.5), torch.clamp(y, min=-0.2), y.clamp(max=0.3),
                          F.relu6(y), F.hardtanh(y, -0.5, 0.5), F.leaky_relu(y, 0.2), torch.tanh(y), F.log_softmax(y, 1)], 1)

class Pools(nn.Module):
    def forward(self, x):
        return torch.cat([F.max_pool2d(x, 3, 2, 1, ceil_mode=True)[:, :, :5], F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False)[:, :, :5],
                          F.interpolate(F.avg_pool2d(x, 2), size=(7, 7), mode="nearest")[:, :, :5, 1:7]], 1)


tmp = temp_folder()
wn = nn.utils.weight_norm
psn = nn.utils.parametrizations.spectral_norm
sagan("SAGAN discriminator, nn.utils.spectral_norm", nn.utils.spectral_norm)
sagan("SAGAN discriminator, parametrizations.spectral_norm", psn)
sagan("SAGAN discriminator, the repository's SpectralNorm wrapper", WrappedSpectralNorm, batch=1)

parity("weight_norm convs, a lone BatchNorm2d, AvgPool2d, Tanh",
       nn.Sequential(wn(nn.Conv2d(3, 6, 3, stride=2)), nn.BatchNorm2d(6), nn.AvgPool2d(2), nn.Tanh(),
                     nn.Sequential(nn.Flatten(), wn(nn.Linear(6 * 3 * 3, 4)), nn.Sigmoid())), (3, 13, 14))
parity("custom blocks with BatchNorm folded, Self_Attn, view as flatten, AdaptiveAvgPool2d((2, 2))",
       ViewHead(), (1, 16, 16))
parity("PyTorch's MNIST example (functional relu, max_pool2d, flatten, log_softmax)", MnistExample(), (1, 28, 28))
parity("a shared ReLU, x.mean((2, 3)), MaxPool2d(3, 2, 1), Softmax", SharedActivation(), (3, 15, 13))
parity("BatchNorm1d folded into a Linear, and alone after a ReLU",
       nn.Sequential(nn.Conv2d(2, 4, 3), nn.Flatten(), nn.Linear(36, 8), nn.BatchNorm1d(8), nn.ReLU(),
                     nn.BatchNorm1d(8), nn.Linear(8, 3)), (2, 5, 5))
parity("a dict output and a module the forward never calls", DictOutput(), (1, 6, 6))
layers = [layer["type"] for layer in vkattn.export(DictOutput(), os.path.join(tmp, "d.safetensors"), (1, 6, 6))["nodes"]]
check("no layer added that changes nothing on the traced values (ReLU before a flatten of positives)",
      layers == ["conv2d", "relu", "global_avg_pool2d", "flatten", "linear"], str(layers))
parity("a lone Self_Attn block", Self_Attn(16, "relu"), (16, 5, 7), batch=3)
parity("Dropout and Identity vanish, LeakyReLU default slope",
       nn.Sequential(nn.Conv2d(2, 4, 1), nn.Dropout(0.5), nn.Identity(), nn.LeakyReLU(), nn.Dropout2d()), (2, 4, 4))

parity("a U-Net-like graph: skips, Upsample(bilinear, align_corners), ConvTranspose2d(output_size), softmax over "
       "channels", UNetish(), (3, 12, 10))
parity("chunk, in-place += and mul_, a buffer, constants made in forward, x[:, :, 1:-1, ::2], stack, amax", Glu(),
       (4, 7, 9))
parity("channels-last tokens and back, tanh GELU, x[:, 2]", Tokens(), (3, 4, 5))
parity("hardswish, hardsigmoid, elu, one-sided clamps, relu6, hardtanh, log_softmax over channels", Acts(), (3, 6, 7))
parity("ceil_mode pools, count_include_pad=False, nearest interpolation", Pools(), (3, 9, 10))
torch.manual_seed(4)
two = Two().eval()
two_path = os.path.join(tmp, "two.safetensors")
vkattn.export(two, two_path, [(3, 5, 6), (3,)])
image, extra = torch.randn(3, 3, 5, 6), torch.randn(3, 3)
got = vkattn.Model(two_path).run({"image": image.numpy(), "extra": extra.numpy()}, outputs=True)
with torch.no_grad():
    want = two(image, extra)
check("two inputs by name, a dict of two outputs by name", sorted(got) == ["logits", "pooled"]
      and all(relative(got[k], want[k]) < BOUND for k in got), str({k: v.shape for k, v in got.items()}))

torch.manual_seed(6)
padded = PaddedTokens().eval()
padded_path = os.path.join(tmp, "padded.safetensors")
vkattn.export(padded, padded_path, [(6, 8), (6,)], check=False)  # its random check masks would not be 0 or -1e9
tokens, padding = torch.randn(3, 6, 8), torch.tensor([[0.0] * 6, [0.0] * 4 + [-1e9] * 2, [-1e9] + [0.0] * 5])
got = vkattn.Model(padded_path).run({"tokens": tokens.numpy(), "padding": padding.numpy()})
with torch.no_grad():
    want = padded(tokens, padding)
check("MultiheadAttention with a float key padding mask from an input, then @ a constant",
      relative(got, want) < BOUND, "relative %.2g" % relative(got, want))
refused("an attn_mask computed from one batch item's tokens (x.T, @)", PaddedTokens("mask_from_input"),
        [(6, 8), (6,)], "operator.matmul: its result (6, 6) at batch 2 does not have the batch first")

glimpse("hard attention (vkattn.nn.AttentionCrop) on nn.MultiheadAttention's averaged weights")
parity("AttentionCrop on a feature map (any value can be the image)", MultiheadGlimpse("features"), (3, 14, 10))
refused("AttentionCrop on a map no attention layer returned", MultiheadGlimpse("made"), (3, 14, 10),
        "is not one that an attention layer before it returned")
refused("AttentionCrop with the grid transposed", MultiheadGlimpse("transposed"), (3, 14, 10),
        "is not the 7x5 grid of mha's input")
refused("AttentionCrop called with keywords", MultiheadGlimpse("keywords"), (3, 14, 10), "by position")
multihead("MultiheadAttention, 4 heads, batch_first, residual, head-averaged map", 4, True, True)
multihead("MultiheadAttention, 3 heads, (N, B, C) tokens, no residual", 3, False, False)
multihead("MultiheadAttention, 12 heads of one channel, N = 1", 12, True, True, shape=(3, 1, 1))

refused("GroupNorm names its path and type", nn.Sequential(nn.Conv2d(3, 4, 1), nn.Sequential(nn.GroupNorm(2, 4))),
        (3, 4, 4), "1.0 (GroupNorm): GroupNorm is not supported")
parity("a residual sum ending a forward", nn.Sequential(Residual()), (4, 4, 4))
parity("a residual sum inside", nn.Sequential(Residual(), nn.ReLU()), (4, 4, 4))
parity("a functional call between layers (F.gelu)", Functional(), (4, 4, 4))
parity("arithmetic on the input ((x - 0.5) / 0.5)", Normalising(), (1, 3, 3))
parity("a block with SAGAN's parts that computes something else is traced through (its bmm and softmax over "
       "dim 1 written out), not taken for the block", nn.Sequential(NotSagan(16, "relu")), (16, 4, 4))
refused("MultiheadAttention with add_bias_kv", TokenAttention(8, 2, add_bias_kv=True), (8, 3, 3), "add_bias_kv")
parity("MultiheadAttention over channels as tokens", ChannelTokens(), (8, 2, 2))
refused("an input shape with a zero size", nn.Conv2d(1, 1, 1), (1, 0, 4), "positive sizes")
refused("a forward that fails on the input shape", nn.Conv2d(3, 1, 1), (2, 4, 4), "forward failed")
refused("data-dependent control flow", DataDependent(), (2, 4, 4), "branches on a tensor's values at ")
refused("einsum with '...'", Einsum("...ij,...kj->...ik"), (2, 4, 4), "einsum '...ij,...kj->...ik' with '...'")
refused("einsum taking a diagonal", Einsum("bii,bij->bj"), (2, 2, 1), "repeats an index within one term")
refused("einsum summing an index of one operand alone", Einsum("bij,bkl->bik"), (2, 4, 4), "sums index j of one operand alone")
parity("CBAM's spatial attention: the mean, max and min over channels (torch.max's values)", SpatialAttention(),
       (5, 6, 7))
refused("torch.max's indices", MaxIndices(), (2, 4, 4), "the indices of torch.max over a dimension")
parity("grouped and dilated convolutions", nn.Sequential(nn.Conv2d(4, 6, 3, groups=2, dilation=2, padding=2),
                                                         nn.Conv2d(6, 6, 3, groups=6, stride=2)), (4, 9, 8))

# A multihead_attention layer that does not fit its weights is refused naming the layer.
C = 12
mha_weights = {"m.in_proj_weight": np.zeros((3 * C, C)), "m.in_proj_bias": np.zeros(3 * C),
               "m.out_proj.weight": np.zeros((C, C)), "m.out_proj.bias": np.zeros(C)}
for layer, words in [({"heads": 5}, "5 heads do not divide the 12 channels"), ({"heads": 0}, "at least one head"),
                     ({"heads": 2, "residual": "yes"}, '"residual" must be true or false'),
                     ({"heads": 2.5}, '"heads" must be a whole number')]:
    layer.update({"type": "multihead_attention", "name": "m"})
    vkattn.write_safetensors(os.path.join(tmp, "bad.safetensors"), mha_weights, {"vkattn.network": json.dumps(
        {"format": 1, "input": [C, 3, 3], "layers": [layer]})})
    try:
        vkattn.Model(os.path.join(tmp, "bad.safetensors")).run(np.zeros((1, C, 3, 3)))
        check("multihead_attention %s refused" % layer, False, "no error")
    except vkattn.Error as e:
        check("multihead_attention %s refused" % layer, words in str(e) and "multihead_attention 'm'" in str(e), str(e))

# python3 -m vkattn export, from a factory in a file and from a whole saved module.
script = os.path.join(tmp, "net.py")
with open(script, "w") as f:
    f.write("from torch import nn\n\ndef make():\n    return nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(), "
            "nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(3, 2))\n")
torch.manual_seed(2)
net = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(3, 2))
torch.save(net.state_dict(), os.path.join(tmp, "state.pt"))
torch.save(net, os.path.join(tmp, "whole.pt"))
x = torch.randn(2, 2, 6, 6)
with torch.no_grad():
    want = net(x).numpy()


def cli(*args):
    return subprocess.run([sys.executable, "-m", "vkattn", "export"] + list(args), capture_output=True, text=True)


out = os.path.join(tmp, "cli.safetensors")
for source, extra in [(script + ":make", ["--weights", os.path.join(tmp, "state.pt")]),
                      (os.path.join(tmp, "whole.pt"), [])]:
    if os.path.exists(out):
        os.remove(out)
    r = cli(source, "--input-shape", "2,6,6", "--output", out, "--labels", "yes,no", *extra)
    ok = r.returncode == 0 and os.path.exists(out)
    y = vkattn.Model(out).run(x.numpy()) if ok else None
    check("python3 -m vkattn export " + os.path.basename(source), ok and relative(y, want) < BOUND,
          (r.stdout + r.stderr).strip())
for name, args, words in [
        ("a state_dict given as the module", [os.path.join(tmp, "state.pt")], "holds a state_dict"),
        ("a factory that is not there", [script + ":nothing"], "no function or class called 'nothing'"),
        ("a bad --input-shape", [script + ":make", "--input-shape", "2,6"], "--input-shape must be C,H,W"),
        ("an output folder that is not there", [script + ":make", "--output", os.path.join(tmp, "no", "m.st")],
         "Cannot write")]:
    r = cli(*(args + (["--input-shape", "2,6,6"] if "--input-shape" not in args else [])
              + (["--output", out] if "--output" not in args else [])))
    check("python3 -m vkattn export: " + name, r.returncode == 1 and words in r.stderr
          and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr.strip())

finish()
