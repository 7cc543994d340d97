#!/usr/bin/env python3
"""The sample generator through its real binary, under validation: its pictures for the 16 noise
vectors train.py saved against PyTorch's float64 forward of the trained module (relative error
at most 1e-4), the grids it writes (size, and not blank), the same seed giving the same pictures,
and one sentence with exit status 1 or 2 for noise it cannot use.

    generate_sample.py GENERATE"""
import os
import struct
import subprocess
import sys
import tempfile
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLE = os.path.join(HERE, "..", "samples", "generate")
BOUND = 1e-4
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def run(args):
    env = dict(os.environ, VKATTN_VALIDATION="1")
    return subprocess.run([GENERATE] + args, capture_output=True, text=True, env=env, timeout=600)


def png_size_and_pixels(path):
    """Width, height and the decoded RGB bytes of an 8-bit RGB PNG without interlacing (what stb writes)."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    pos, chunks, width, height = 8, b"", 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            chunks += body
        pos += 12 + length
    raw = zlib.decompressobj().decompress(chunks)  # stb ends its stream without a final empty block
    return width, height, raw


def main():
    with tempfile.TemporaryDirectory() as tmp:
        noise = os.path.join(SAMPLE, "fashion_gan.noise.npy")
        reference = np.load(os.path.join(SAMPLE, "fashion_gan.reference.npy"))
        out = os.path.join(tmp, "parity")
        r = run(["--noise", noise, "--out", out, "--tensors", "--columns", "4"])
        check(r.returncode == 0, "generate --noise runs under validation (%s)" % r.stderr.strip())
        if r.returncode == 0:
            pictures = np.load(os.path.join(out, "pictures.npy")).astype(np.float64)
            error = np.abs(pictures - reference).max() / np.abs(reference).max()
            check(pictures.shape == reference.shape and error <= BOUND,
                  "pictures match PyTorch's float64 forward: relative error %.2e (bound %.0e)" % (error, BOUND))
            for name in ("grid.png", "attention.png"):
                width, height, raw = png_size_and_pixels(os.path.join(out, name))
                check((width, height) == (4 * 56, 4 * 56), "%s is 4 x 4 pictures of 56 pixels: %d x %d" % (name, width, height))
                check(len(set(raw)) > 16, "%s is not blank" % name)

        a, b = os.path.join(tmp, "a"), os.path.join(tmp, "b")
        ra = run(["--count", "5", "--seed", "7", "--out", a, "--tensors", "--zoom", "1"])
        rb = run(["--count", "5", "--seed", "7", "--out", b, "--tensors", "--zoom", "1", "--batch", "2"])
        check(ra.returncode == 0 and rb.returncode == 0, "generate --seed runs in one batch and in three")
        if ra.returncode == 0 and rb.returncode == 0:
            za, zb = np.load(os.path.join(a, "noise.npy")), np.load(os.path.join(b, "noise.npy"))
            check(za.shape == (5, 64) and abs(za.mean()) < 0.5 and 0.5 < za.std() < 1.5,
                  "the seed gives standard normal noise (mean %.2f, std %.2f)" % (za.mean(), za.std()))
            pa, pb = np.load(os.path.join(a, "pictures.npy")), np.load(os.path.join(b, "pictures.npy"))
            check(np.array_equal(za, zb) and np.abs(pa - pb).max() <= 1e-6,
                  "the same seed gives the same noise and pictures whatever the batch")

        bad = os.path.join(tmp, "bad.npy")
        np.save(bad, np.zeros((3, 10), np.float32))
        r = run(["--noise", bad, "--out", os.path.join(tmp, "x")])
        check(r.returncode == 1 and "must have shape (N, 64)" in r.stderr and r.stderr.count("\n") == 1,
              "noise of the wrong shape is one sentence, exit 1 (%s)" % r.stderr.strip())
        r = run(["--noise", bad, "--count", "3"])
        check(r.returncode == 2, "--noise with --count is a mistake on the command line, exit 2")
        r = run(["--count", "0"])
        check(r.returncode == 2, "--count 0 is refused, exit 2")
    if failures:
        print("%d check(s) failed" % len(failures))
        sys.exit(1)


if __name__ == "__main__":
    GENERATE = sys.argv[1]
    main()
