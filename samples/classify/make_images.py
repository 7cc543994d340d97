#!/usr/bin/env python3
"""Writes the sample pictures in images/: the first test image of a few classes as 28x28 grey PNGs
(as the dataset stores them), and two pictures in the style of a product photo (dark garment
on a light background, colour, larger and not square) to show classify's preprocessing.
Standard library and numpy only; the PNG and BMP writers are the minimal valid forms."""
import gzip
import os
import struct
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = "/usr/share/datasets/fashion-mnist"
NAMES = ["tshirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle_boot"]


def read_idx(name):
    data = gzip.open(os.path.join(DATA, name), "rb").read()
    dims = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def write_png(path, pixels):
    """pixels: (h, w) grey or (h, w, 3) RGB uint8."""
    h, w = pixels.shape[:2]
    colour = 2 if pixels.ndim == 3 else 0
    raw = b"".join(b"\x00" + pixels[y].tobytes() for y in range(h))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, colour, 0, 0, 0)) +
                chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def write_bmp(path, rgb):
    """24-bit bottom-up BMP."""
    h, w, _ = rgb.shape
    row = (w * 3 + 3) & ~3
    body = b"".join(rgb[y, :, ::-1].tobytes().ljust(row, b"\x00") for y in range(h - 1, -1, -1))
    header = struct.pack("<2sIHHI", b"BM", 54 + len(body), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, len(body), 2835, 2835, 0, 0)
    with open(path, "wb") as f:
        f.write(header + info + body)


def photo(image, tint, width, height):
    """A dark, tinted garment on a light background, enlarged (nearest) onto a width x height canvas."""
    scale = min(width, height) // 28
    big = np.kron(image, np.ones((scale, scale), dtype=np.uint8)).astype(np.float32) / 255
    canvas = np.full((height, width, 3), 235.0, dtype=np.float32)
    y0, x0 = (height - big.shape[0]) // 2, (width - big.shape[1]) // 2
    region = canvas[y0:y0 + big.shape[0], x0:x0 + big.shape[1]]
    region[:] = region * (1 - big[..., None]) + np.array(tint, dtype=np.float32) * big[..., None]
    return canvas.clip(0, 255).astype(np.uint8)


def main():
    images = read_idx("t10k-images-idx3-ubyte.gz")
    labels = read_idx("t10k-labels-idx1-ubyte.gz")
    out = os.path.join(HERE, "images")
    os.makedirs(out, exist_ok=True)
    first = {int(c): int(np.argmax(labels == c)) for c in range(10)}
    for c in (0, 1, 3, 5, 7, 8, 9):
        write_png(os.path.join(out, f"{NAMES[c]}.png"), images[first[c]])
    # Test images 79 (a coat) and 22 (a sneaker): the model stays confident on them when shifted by
    # half a pixel, which the photo-style enlarging and classify's crop-and-resize can do.
    assert labels[79] == 4 and labels[22] == 7
    write_png(os.path.join(out, "coat_photo.png"), photo(images[79], (120, 40, 30), 200, 150))
    write_bmp(os.path.join(out, "sneaker_photo.bmp"), photo(images[22], (20, 60, 140), 120, 168))
    print("wrote", sorted(os.listdir(out)))


if __name__ == "__main__":
    main()
