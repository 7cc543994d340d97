"""The .npy files of the script tests, written by hand (some are meant to be malformed), and their
safetensors writer: the package's own (vkattn.write_safetensors), from the built package when it is
on the path and else from its sources, which need neither the engine nor torch."""
import atexit
import os
import shutil
import struct
import sys
import tempfile

try:
    from vkattn.safetensors import write_safetensors  # noqa: F401 - for the tests that import it from here
except ImportError:
    sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
    from vkattn.safetensors import write_safetensors  # noqa: F401


def temp_folder():
    """A new folder for a test's files, removed with all it holds when the process exits (a full-size
    parity run leaves gigabytes of exported models and inputs)."""
    folder = tempfile.mkdtemp(prefix="vkattn-test-")
    atexit.register(shutil.rmtree, folder, True)
    return folder


def npy_bytes(shape, values, descr="<f4", fortran=False):
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': (%s), }" % (
        descr, "True" if fortran else "False", "".join("%d, " % d for d in shape))
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    fmt = {"<f4": "<%df", "<f8": "<%dd", "<i4": "<%di"}[descr]
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + struct.pack(fmt % len(values), *values)


def write_npy(path, shape, values, **kw):
    with open(path, "wb") as f:
        f.write(npy_bytes(shape, values, **kw))


def read_npy(path):
    """(shape, list of floats) of a float32 .npy file."""
    data = open(path, "rb").read()
    header_len = struct.unpack("<H", data[8:10])[0]
    header = data[10:10 + header_len].decode()
    shape = tuple(int(d) for d in header.split("(")[1].split(")")[0].split(",") if d.strip())
    count = 1
    for d in shape:
        count *= d
    return shape, list(struct.unpack("<%df" % count, data[10 + header_len:10 + header_len + 4 * count]))


def block_tensors(C, Cq, prefix="", fill=0.1):
    """A SelfAttention state_dict with constant weights."""
    def t(*shape):
        n = 1
        for d in shape:
            n *= d
        return (shape, [fill] * n)
    return {prefix + "query_conv.weight": t(Cq, C, 1, 1), prefix + "query_conv.bias": t(Cq),
            prefix + "key_conv.weight": t(Cq, C, 1, 1), prefix + "key_conv.bias": t(Cq),
            prefix + "value_conv.weight": t(C, C, 1, 1), prefix + "value_conv.bias": t(C),
            prefix + "gamma": t(1)}
