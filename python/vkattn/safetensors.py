"""The safetensors writer: every file the package, the samples and the tests write goes through it;
and the package's one way to write a file whole or not at all."""
import errno
import itertools
import json
import os
import stat
import struct
import sys

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


_writes = itertools.count()


def _follow_links(path):
    """path with its symbolic links followed to what they name (which need not exist yet)."""
    for _ in range(40):
        if not os.path.islink(path):
            return path
        target = os.readlink(path)
        path = target if os.path.isabs(target) else os.path.join(os.path.dirname(path), target)
    raise OSError(errno.ELOOP, "a chain of more than 40 symbolic links")


def write_atomically(path, write):
    """Calls write(f) so that path is written whole or not at all, as the engine's OutputFile does:
    a regular file (or a new path) through a temporary file beside it (a short name unique to the
    process and the write), fsynced and renamed over it; a symlink's target rather than the link;
    a FIFO, a character device or "-" (standard output) directly. On any failure the temporary file
    is removed and the path is left as it was."""
    path = os.fspath(path)
    if path == "-":
        write(sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return
    target = _follow_links(path)
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and (stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)):
        with open(target, "wb") as f:
            write(f)
        return
    if mode is not None and not stat.S_ISREG(mode):
        raise OSError(errno.EISDIR if stat.S_ISDIR(mode) else errno.EINVAL,
                      "not a regular file, FIFO or character device")
    partial = os.path.join(os.path.dirname(target) or ".", ".vkattn-%d-py%d.tmp" % (os.getpid(), next(_writes)))
    try:
        with open(partial, "xb") as f:
            if mode is not None:
                os.chmod(partial, stat.S_IMODE(mode))  # a replaced file keeps its permissions
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(partial, target)
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
