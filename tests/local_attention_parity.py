#!/usr/bin/env python3
"""vkattn.nn.LocalSelfAttention (SASA) against PyTorch in float64: a small network in SASA's
spirit (a convolution stem, then two local self-attention layers late, a pooled classifier head)
and the layer alone with kernels 3 and 7 on an image smaller than the kernel, each exported with
vkattn.export, run by vkattn at batch 3 and compared, its output and a map, within 1e-4 relative.
Needs PYTHONPATH to the built package; skips (exit 77) where torch is absent.
"""
import os
import sys
import tempfile

try:
    import torch
    from torch import nn
except ImportError:
    print("python3-torch is not installed; skipping")
    sys.exit(77)

try:
    import vkattn
    from vkattn.nn import LocalSelfAttention
except ImportError as e:
    print("the vkattn Python package is not built here (%s); skipping" % e)
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import check, finish, relative  # noqa: E402

BOUND = 1e-4
BATCH = 3


class Net(nn.Module):
    """16x16 in; the stem halves it to 8x8, where the attention layers run (kernel 7: most windows
    reach past the border); returns the logits and the last layer's map."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
                                  nn.Conv2d(16, 32, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU())
        self.sa1 = LocalSelfAttention(32, 32, 7, heads=4)
        self.bn = nn.BatchNorm2d(32)
        self.sa2 = LocalSelfAttention(32, 48, 5, heads=8)  # heads of 6 channels
        self.fc = nn.Linear(48, 10)

    def forward(self, x):
        h = torch.relu(self.bn(self.sa1(self.stem(x))))
        h, attention = self.sa2(h, need_weights=True)
        return self.fc(h.mean((2, 3))), attention


class Alone(nn.Module):
    def __init__(self, kernel, heads):
        super().__init__()
        self.sa = LocalSelfAttention(6, 4 * heads, kernel, heads=heads)

    def forward(self, x):
        return self.sa(x, need_weights=True)


def randomise(model, seed):
    """BatchNorm with non-trivial statistics; eval mode."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.rand(m.running_mean.shape, generator=generator) - 0.5)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=generator) * 1.5 + 0.5)
                m.weight.copy_(torch.rand(m.weight.shape, generator=generator) + 0.5)
                m.bias.copy_(torch.rand(m.bias.shape, generator=generator) - 0.5)
    return model.eval()


def parity(name, model, shape, tmp, seed):
    torch.manual_seed(seed)
    model = randomise(model, seed)
    path = os.path.join(tmp, name + ".safetensors")
    try:
        document = vkattn.export(model, path, shape)  # with its own check at another batch
    except Exception as e:  # noqa: BLE001 - the failure being reported
        check(name, False, "export: %s: %s" % (type(e).__name__, e))
        return
    x = torch.randn((BATCH,) + tuple(shape), generator=torch.Generator().manual_seed(seed + 1))
    with torch.no_grad():
        want = model.double()(x.double())
    model.float()
    got = vkattn.Model(path).run(x.numpy(), outputs=True)
    names = document["outputs"]
    errors = [relative(got[n], w.numpy()) if got[n].shape == tuple(w.shape) else float("inf")
              for n, w in zip(names, want)]
    check("%s %s" % (name, (BATCH,) + tuple(shape)), len(names) == 2 and max(errors) < BOUND,
          "outputs %s, relative errors %s" % (names, ", ".join("%.2g" % e for e in errors)))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        parity("sasa_net", Net(), (3, 16, 16), tmp, 0)
        parity("local_self_attention k3", Alone(3, 2), (6, 2, 5), tmp, 1)
        parity("local_self_attention k7", Alone(7, 3), (6, 2, 5), tmp, 2)
    finish()


if __name__ == "__main__":
    main()
