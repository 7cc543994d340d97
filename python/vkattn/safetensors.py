"""The safetensors writer: every file the package, the samples and the tests write goes through it;
and the package's one way to write a file whole or not at all."""
import json
import os
import struct

import numpy as np


def _as_float32(name, value):
    """A numpy array, a torch tensor or a (shape, values) pair, as a contiguous little-endian F32 array."""
    if hasattr(value, "detach"):  # a torch tensor, without importing torch here
        value = value.detach().cpu().numpy()
    if isinstance(value, tuple) and len(value) == 2 and not isinstance(value[0], np.ndarray):
        shape, values = value
        array = np.asarray(values, dtype="<f4")
        if array.size != int(np.prod(shape, dtype=np.int64)):
            raise ValueError("%s: %d values do not fill the shape %s" % (name, array.size, tuple(shape)))
        return array.reshape(tuple(shape))
    return np.ascontiguousarray(value, dtype="<f4")


def write_atomically(path, write):
    """Calls write(f) on a temporary file beside path, then renames it over path; on any failure the
    temporary file is removed and path is left as it was."""
    partial = "%s.%d.partial" % (path, os.getpid())
    try:
        with open(partial, "wb") as f:
            write(f)
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)


def write_safetensors(path, tensors, metadata=None):
    """Writes tensors (name -> array, tensor or (shape, values)) as F32, with metadata (str -> str),
    whole or not at all: a temporary file beside path, then renamed over it."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        array = _as_float32(name, tensors[name])
        blob = array.tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the data starts 8-byte aligned

    def write(f):
        f.write(struct.pack("<Q", len(text)) + text)
        for blob in blobs:
            f.write(blob)
    write_atomically(path, write)
