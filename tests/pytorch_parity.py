"""vkattn run against PyTorch in float64 on odd shapes: the SAGAN SelfAttention module with random
weights and a nonzero gamma is exported as safetensors + .npy, run through the `vkattn` CLI with
validation on, and y and the attention map are compared (and y alone from runs without the map,
which take the fused route). Exit 77 (skip) without python3-torch.
Usage: pytorch_parity.py path/to/vkattn"""
import os
import subprocess
import sys
import tempfile

from files import read_npy, write_npy, write_safetensors

try:
    import torch
    import torch.nn as nn
except ImportError:
    print("SKIPPED: python3-torch is not installed, so PyTorch parity was not checked "
          "(apt-get install python3-torch).")
    sys.exit(77)

BOUND = 2e-5


class SelfAttention(nn.Module):
    """The block as PyTorch users write it (state_dict names are what vkattn reads)."""

    def __init__(self, channels, query_channels):
        super().__init__()
        self.query_conv = nn.Conv2d(channels, query_channels, 1)
        self.key_conv = nn.Conv2d(channels, query_channels, 1)
        self.value_conv = nn.Conv2d(channels, channels, 1)
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        b, c, h, w = x.shape
        q = self.query_conv(x).view(b, -1, h * w).permute(0, 2, 1)
        k = self.key_conv(x).view(b, -1, h * w)
        attention = torch.softmax(torch.bmm(q, k), dim=-1)
        v = self.value_conv(x).view(b, -1, h * w)
        out = torch.bmm(v, attention.permute(0, 2, 1)).view(b, c, h, w)
        return self.gamma * out + x, attention


def relative_error(got, want):
    want = want.flatten()
    got = torch.tensor(got, dtype=torch.float64)
    return float(torch.linalg.norm(got - want) / torch.linalg.norm(want))


torch.manual_seed(int.from_bytes(os.urandom(4), "little"))
vkattn = sys.argv[1]
failures = passed = 0
with tempfile.TemporaryDirectory() as d:
    # With the map (the map kernels) and without it (the fused route); the last shapes run without
    # it only: prime N past 4096 (more than one key block), and B = 3 with N = 196.
    shapes = [(2, 24, 3, 7, 13, True), (1, 40, 5, 5, 9, True), (3, 16, 2, 1, 1, True), (1, 8, 1, 11, 1, True),
              (2, 72, 9, 17, 19, True), (2, 24, 3, 7, 13, False), (2, 72, 9, 17, 19, False), (1, 12, 3, 1, 4099, False),
              (3, 64, 8, 14, 14, False), (3, 5, 2, 31, 37, False)]
    for (B, C, Cq, H, W, with_map) in shapes:
        module = SelfAttention(C, Cq)
        with torch.no_grad():
            module.gamma.fill_(float(torch.empty(1).uniform_(0.3, 1.5)))
        x = torch.randn(B, C, H, W)
        state = {name: (tuple(t.shape), t.detach().flatten().tolist()) for name, t in module.state_dict().items()}
        write_safetensors(os.path.join(d, "block.safetensors"), state)
        write_npy(os.path.join(d, "x.npy"), tuple(x.shape), x.flatten().tolist())
        map_args = ["--attention", os.path.join(d, "a.npy")] if with_map else []
        run = subprocess.run([vkattn, "run", "--model", os.path.join(d, "block.safetensors"),
                              "--input", os.path.join(d, "x.npy"), "--output", os.path.join(d, "y.npy")] + map_args,
                             capture_output=True, text=True, env=dict(os.environ, VKATTN_VALIDATION="1"))
        shape = "(B=%d, C=%d, Cq=%d, H=%d, W=%d)%s" % (B, C, Cq, H, W, "" if with_map else " without the map")
        if run.returncode != 0:
            failures += 1
            print("FAIL %s: vkattn exited %d: %s" % (shape, run.returncode, run.stderr.strip()))
            continue
        with torch.no_grad():
            y64, a64 = module.double()(x.double())
        y_shape, y = read_npy(os.path.join(d, "y.npy"))
        ey = relative_error(y, y64)
        ok = y_shape == (B, C, H, W) and ey <= BOUND
        message = "y relative error %.2e" % ey
        if with_map:
            a_shape, a = read_npy(os.path.join(d, "a.npy"))
            ea = relative_error(a, a64)
            ok = ok and a_shape == (B, H * W, H * W) and ea <= BOUND
            message += ", attention relative error %.2e" % ea
        passed += ok
        failures += not ok
        print("%s %s: %s (bound %.0e)" % ("ok  " if ok else "FAIL", shape, message, BOUND))
print("%d passed, %d failed" % (passed, failures))
sys.exit(1 if failures else 0)
