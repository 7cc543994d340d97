#!/usr/bin/env python3
"""Train the sample generator, a SAGAN for Fashion-MNIST, and export it for vkattn.

    /usr/bin/python3 samples/generate/train.py [--steps 2000] [--out samples/generate/fashion_gan.safetensors]

The generator maps 64 normal noise values to a 28x28 picture in [-1, 1]: a 7x7 transposed
convolution from the noise (128 channels), upsampling to 14x14 (64 channels), a self-attention
block over those 196 positions (its attention map is the generator's second output: where each
position looked), upsampling to 28x28 (32 channels) and a 3x3 convolution to one channel with tanh.
Every layer but the last has spectral norm and batch norm, as in SAGAN. The discriminator has
spectral-norm convolutions, LeakyReLU and its own self-attention at 14x14. Hinge loss, Adam with
the two learning rates SAGAN uses (1e-4 for the generator, 4e-4 for the discriminator, betas 0 and
0.9), batches of 64, for --steps steps.

At the end the batch-norm statistics are re-estimated over 100 batches of noise (the running
averages trail a generator that moved while they were kept), spectral norm is folded into plain
weights, and the generator is written with vkattn.export (graph format: noise in, picture and
attention map out), with PyTorch's float64 pictures for 16 noise vectors beside it
(<out stem>.noise.npy, <out stem>.reference.npy), which the parity test compares vkattn with. Seeded and single-process, so a rerun on the same torch build and thread count
gives the same file.
"""
import argparse
import copy
import ctypes
import gzip
import os
import sys
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path += [os.path.join(ROOT, "build", "python"), os.path.join(ROOT, "python")]
import vkattn  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist"
Z_DIM = 64
SN = nn.utils.spectral_norm


def read_images(name):
    """An IDX file of uint8 images (magic 2051) as floats in [-1, 1], shape (N, 1, 28, 28)."""
    with gzip.open(os.path.join(DATA, name), "rb") as f:
        data = f.read()
    n, h, w = (int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(3))
    pixels = np.frombuffer(data, dtype=np.uint8, offset=16).reshape(n, 1, h, w)
    return torch.from_numpy(pixels.astype(np.float32) / 127.5 - 1)


class SelfAttention(nn.Module):
    """SAGAN's block: y = gamma * (V A^T) + x with A = softmax(Q^T K) over the H*W positions;
    forward returns (y, A) as the SAGAN repository's does."""

    def __init__(self, channels):
        super().__init__()
        self.query_conv = SN(nn.Conv2d(channels, channels // 8, 1))
        self.key_conv = SN(nn.Conv2d(channels, channels // 8, 1))
        self.value_conv = SN(nn.Conv2d(channels, channels, 1))
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        b, c, h, w = x.shape
        q = self.query_conv(x).flatten(2).transpose(1, 2)                 # (B, N, C/8)
        k = self.key_conv(x).flatten(2)                                   # (B, C/8, N)
        attention = torch.softmax(torch.bmm(q, k), dim=-1)                # (B, N, N)
        v = self.value_conv(x).flatten(2)                                 # (B, C, N)
        out = torch.bmm(v, attention.transpose(1, 2)).view(b, c, h, w)
        return self.gamma * out + x, attention


def up(cin, cout, kernel, stride=1, padding=0):
    return nn.Sequential(SN(nn.ConvTranspose2d(cin, cout, kernel, stride, padding)), nn.BatchNorm2d(cout), nn.ReLU())


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = up(Z_DIM, 128, 7)          # 1x1 -> 7x7
        self.l2 = up(128, 64, 4, 2, 1)       # -> 14x14
        self.attn = SelfAttention(64)
        self.l3 = up(64, 32, 4, 2, 1)        # -> 28x28
        self.last = nn.Sequential(nn.Conv2d(32, 1, 3, padding=1), nn.Tanh())

    def forward(self, z):
        out = self.l2(self.l1(z.view(z.size(0), z.size(1), 1, 1)))
        out, attention = self.attn(out)
        return self.last(self.l3(out)), attention


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = nn.Sequential(SN(nn.Conv2d(1, 32, 4, 2, 1)), nn.LeakyReLU(0.1))      # -> 14x14
        self.l2 = nn.Sequential(SN(nn.Conv2d(32, 64, 3, 1, 1)), nn.LeakyReLU(0.1))
        self.attn = SelfAttention(64)
        self.l3 = nn.Sequential(SN(nn.Conv2d(64, 128, 4, 2, 1)), nn.LeakyReLU(0.1))    # -> 7x7
        self.last = SN(nn.Conv2d(128, 1, 7))

    def forward(self, x):
        out, _ = self.attn(self.l2(self.l1(x)))
        return self.last(self.l3(out)).flatten()


def fold_spectral_norm(model):
    """Plain weights from spectral norm's current estimate, so the exported layers are ordinary ones."""
    for m in model.modules():
        if hasattr(m, "weight_orig"):
            nn.utils.remove_spectral_norm(m)


def recalibrate_batch_norm(generator, batches=100, batch=256):
    """Batch-norm statistics averaged over fresh noise with the final weights (cumulative, not running)."""
    for m in generator.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    generator.train()
    with torch.no_grad():
        for _ in range(batches):
            generator(torch.randn(batch, Z_DIM))
    generator.eval()


def keep_freed_memory():
    """Keeps freed memory in the process: glibc hands every large freed tensor back to the kernel,
    and faulting the pages in again costs more than these small layers' arithmetic."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-1, 1 << 30)   # M_TRIM_THRESHOLD
        libc.mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD, its largest value
    except (OSError, AttributeError):
        pass  # not glibc: only slower


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=2000, help="training steps (about 30 minutes on 2 idle cores)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=os.path.join(here, "fashion_gan.safetensors"))
    parser.add_argument("--checkpoint", help="also save the trained generator's PyTorch state_dict here")
    args = parser.parse_args()
    keep_freed_memory()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)

    real = read_images("train-images-idx3-ubyte.gz")
    generator, discriminator = Generator(), Discriminator()
    print("generator %d parameters, discriminator %d" % (sum(p.numel() for p in generator.parameters()),
                                                         sum(p.numel() for p in discriminator.parameters())), flush=True)
    opt_g = torch.optim.Adam(generator.parameters(), lr=1e-4, betas=(0.0, 0.9))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=4e-4, betas=(0.0, 0.9))
    batch, step, start = 64, 0, time.time()
    order, position = torch.randperm(len(real)), 0
    while step < args.steps:
        if position + batch > len(real):
            order, position = torch.randperm(len(real)), 0
        x = real[order[position:position + batch]]
        position += batch
        # Discriminator: hinge loss on real and generated pictures.
        with torch.no_grad():
            fake, _ = generator(torch.randn(batch, Z_DIM))
        loss_d = F.relu(1 - discriminator(x)).mean() + F.relu(1 + discriminator(fake)).mean()
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        # Generator: raise the discriminator's score of its pictures.
        fake, _ = generator(torch.randn(batch, Z_DIM))
        loss_g = -discriminator(fake).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        step += 1
        if step % 200 == 0:
            print(f"step {step}: loss D {loss_d.item():.3f}, G {loss_g.item():.3f}, "
                  f"gamma {generator.attn.gamma.item():.3f}, {time.time() - start:.0f} s", flush=True)

    recalibrate_batch_norm(generator)
    fold_spectral_norm(generator)
    # check: vkattn runs the file and it is kept only if its outputs match the module's.
    vkattn.export(generator, args.out, input_shape=(Z_DIM,),
                  metadata={"vkattn.training_steps": str(step), "vkattn.noise": "standard normal, 64 values"})
    # What the parity test compares vkattn with: PyTorch's float64 forward of the trained module
    # on 16 noise vectors (float32 values, so that both sides read the same numbers).
    stem = os.path.splitext(args.out)[0]
    noise = torch.randn(16, Z_DIM, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        pictures, _ = copy.deepcopy(generator).double()(noise.double())
    np.save(stem + ".noise.npy", noise.numpy())
    np.save(stem + ".reference.npy", pictures.numpy())
    if args.checkpoint:
        torch.save(generator.state_dict(), args.checkpoint)
    print(f"{step} steps in {time.time() - start:.0f} s; wrote {args.out}, {stem}.noise.npy and {stem}.reference.npy")


if __name__ == "__main__":
    main()
