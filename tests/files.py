"""Writers for the two file formats vkattn reads, with no third-party modules, for the script tests."""
import json
import struct


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


def write_safetensors(path, tensors, metadata=None):
    """tensors: name -> (shape, list of floats), stored as F32."""
    header, blobs, offset = {}, [], 0
    for name, (shape, values) in sorted(tensors.items()):
        blob = struct.pack("<%df" % len(values), *values)
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


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
