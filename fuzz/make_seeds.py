#!/usr/bin/env python3
"""Writes the seed inputs of each fuzz target into fuzz/corpus/<target>/ (findings live beside them)."""
import json, struct, zlib
from pathlib import Path

here = Path(__file__).resolve().parent
corpus = here / "corpus"
root = here.parent


def put(target, name, data):
    (corpus / target).mkdir(parents=True, exist_ok=True)
    (corpus / target / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def safetensors(tensors, metadata=None):
    header, blobs, at = {}, b"", 0
    if metadata:
        header["__metadata__"] = metadata
    for name, (dtype, shape, data) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [at, at + len(data)]}
        blobs += data
        at += len(data)
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + blobs


put("safetensors", "sagan_block.safetensors", (root / "samples/block/sagan_block.safetensors").read_bytes())
put("safetensors", "dtypes.safetensors", safetensors({
    "a": ("F32", [2, 2], struct.pack("<4f", 1, -2, 3.5, 0)),
    "b": ("F16", [3], struct.pack("<3e", 1, -0.5, 65504)),
    "c": ("BF16", [1, 2], bytes([0x80, 0x3f, 0x00, 0xc0])),
    "d": ("F64", [], struct.pack("<d", 2.25))}, {"vkattn.labels": "[\"x\"]"}))
put("safetensors", "empty.safetensors", safetensors({}))

def npy(shape, values, version=1):
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }" % (repr(tuple(shape)),)
    lead = 10 if version == 1 else 12
    header += " " * ((-(lead + len(header) + 1)) % 64) + "\n"
    size = struct.pack("<H", len(header)) if version == 1 else struct.pack("<I", len(header))
    return b"\x93NUMPY" + bytes([version, 0]) + size + header.encode() + struct.pack("<%df" % len(values), *values)

put("npy", "feature_map.npy", (root / "samples/block/feature_map.npy").read_bytes())
put("npy", "v1_2x3.npy", npy([2, 3], [0, 1, 2, 3, 4, 5]))
put("npy", "v2_vector.npy", npy([4], [1, 2, 3, 4], version=2))
put("npy", "v3_scalar.npy", npy([], [7], version=3))
put("npy", "v1_empty.npy", npy([0, 5], []))

networks = {
    "conv_attention_linear.json": {"format": 1, "input": [1, 8, 8], "layers": [
        {"type": "conv2d", "name": "conv", "stride": [1, 1], "padding": [1, 1]}, {"type": "relu"},
        {"type": "self_attention", "name": "attn"}, {"type": "max_pool2d", "kernel": [2, 2]},
        {"type": "flatten"}, {"type": "linear", "name": "fc"}]},
    "cosine_se_pool.json": {"format": 1, "input": [1, 8, 8], "layers": [
        {"type": "conv2d", "name": "conv", "padding": 1}, {"type": "leaky_relu", "slope": 0.1},
        {"type": "self_attention", "name": "attn", "similarity": "cosine", "scale": 2},
        {"type": "squeeze_excitation", "name": "se"}, {"type": "global_avg_pool2d"},
        {"type": "flatten"}, {"type": "linear", "name": "head"}]},
    "multihead_log_softmax.json": {"format": 1, "input": [1, 8, 8], "layers": [
        {"type": "conv2d", "name": "conv", "padding": 1}, {"type": "relu"},
        {"type": "multihead_attention", "name": "mha", "heads": 2, "residual": True},
        {"type": "global_avg_pool2d"}, {"type": "flatten"}, {"type": "linear", "name": "head"},
        {"type": "log_softmax"}]},
    "additive_avg_pool.json": {"format": 1, "input": [1, 8, 8], "layers": [
        {"type": "conv2d", "name": "conv", "padding": [1, 1]}, {"type": "tanh"},
        {"type": "conv2d", "name": "conv2", "stride": 1, "padding": 1}, {"type": "sigmoid"},
        {"type": "self_attention", "name": "attn", "similarity": "additive"},
        {"type": "self_attention", "name": "attn", "similarity": "scaled_dot"},
        {"type": "avg_pool2d", "kernel": 2, "stride": 2, "padding": 0},
        {"type": "flatten"}, {"type": "linear", "name": "fc"}]},
    "glimpse.json": {"format": 1, "input": [1, 8, 8], "layers": [
        {"type": "conv2d", "name": "conv", "padding": 1}, {"type": "relu"},
        {"type": "self_attention", "name": "attn", "similarity": "scaled_dot"},
        {"type": "attention_crop", "attention": "attn", "threshold": 0.5, "size": [6, 6], "name": "glimpse"},
        {"type": "flatten"}]},
    "graph_residual_two_inputs.json": {"format": 2,
        "inputs": [{"name": "x", "shape": [1, 8, 8]}, {"name": "g", "shape": [4, 1, 1]}],
        "nodes": [{"type": "conv2d", "name": "conv", "inputs": ["x"], "output": "a", "padding": 1},
                  {"type": "relu", "inputs": ["a"], "output": "r"},
                  {"type": "conv2d", "name": "conv2", "inputs": ["r"], "output": "c", "padding": 1},
                  {"type": "add", "inputs": ["c", "a"], "output": "s"},
                  {"type": "mul", "inputs": ["s", "g"], "output": "m"},
                  {"type": "sub", "inputs": ["m"], "scalar": 1.5, "constant_first": True, "output": "d"},
                  {"type": "div", "inputs": ["d"], "constant": "attn.gamma", "output": "q"},
                  {"type": "self_attention", "name": "attn", "inputs": ["q"], "output": "t"},
                  {"type": "global_avg_pool2d", "inputs": ["t"], "output": "p"},
                  {"type": "flatten", "inputs": ["p"], "output": "f"},
                  {"type": "linear", "name": "head", "inputs": ["f"], "output": "logits"}],
        "outputs": ["logits", "s"]},
    "graph_cnn_ops.json": {"format": 2, "inputs": [{"name": "x", "shape": [1, 9, 10]}],
        "nodes": [{"type": "conv2d", "name": "conv", "inputs": ["x"], "output": "a", "padding": 1},
                  {"type": "batch_norm", "name": "bn", "inputs": ["a"], "output": "b"},
                  {"type": "conv2d", "name": "dw", "inputs": ["b"], "output": "g", "padding": 2, "dilation": 2,
                   "groups": 2},
                  {"type": "clamp", "inputs": ["g"], "min": 0, "max": 6, "output": "c"},
                  {"type": "max_pool2d", "inputs": ["c"], "kernel": 3, "stride": 2, "padding": 1, "ceil_mode": True,
                   "output": "p"},
                  {"type": "interpolate", "inputs": ["p"], "mode": "bilinear", "size": [9, 10], "output": "u"},
                  {"type": "cat", "inputs": ["u", "a", "c"], "dim": 1, "output": "k"},
                  {"type": "reshape", "inputs": ["k"], "shape": [2, 6, 90], "output": "r"},
                  {"type": "permute", "inputs": ["r"], "dims": [0, 2, 1, 3], "output": "t"},
                  {"type": "slice", "inputs": ["t"], "dim": 3, "start": 1, "end": -1, "step": 2, "output": "s"},
                  {"type": "hardswish", "inputs": ["s"], "output": "h"},
                  {"type": "softmax", "inputs": ["h"], "dim": 1, "output": "m"},
                  {"type": "mean", "inputs": ["m"], "dims": [2, 3], "output": "f"},
                  {"type": "gelu", "inputs": ["f"], "approximate": "tanh", "output": "e"},
                  {"type": "adaptive_avg_pool2d", "inputs": ["u"], "size": [3, 4], "output": "q"}],
        "outputs": ["e", "q"]},
    "graph_glimpse_map_value.json": {"format": 2, "inputs": [{"name": "x", "shape": [1, 8, 8]}],
        "nodes": [{"type": "conv2d", "name": "conv", "inputs": ["x"], "output": "a", "padding": 1},
                  {"type": "self_attention", "name": "attn", "inputs": ["a"], "outputs": ["y", "map"]},
                  {"type": "attention_crop", "inputs": ["x", "map"], "grid": [8, 8], "threshold": 0.5, "size": 6,
                   "outputs": ["crop", "boxes"]},
                  {"type": "conv_transpose2d", "name": "conv", "inputs": ["y"], "stride": 2, "padding": 1,
                   "output": "up"}],
        "outputs": ["crop", "boxes", "map", "up"]},
    "graph_tokens.json": {"format": 2, "inputs": [{"name": "x", "shape": [4, 2, 2]}],
        "nodes": [{"type": "as_strided", "inputs": ["x"], "shape": [4, 4], "strides": [1, 4], "output": "t"},
                  {"type": "expand", "inputs": ["t"], "constant": "cls", "output": "c"},
                  {"type": "cat", "inputs": ["c", "t"], "dim": 1, "output": "s"},
                  {"type": "layer_norm", "name": "ln", "inputs": ["s"], "output": "n"},
                  {"type": "linear", "name": "tok", "inputs": ["n"], "output": "qkv"},
                  {"type": "as_strided", "inputs": ["qkv"], "shape": [2, 5, 2], "strides": [2, 12, 1], "output": "q"},
                  {"type": "as_strided", "inputs": ["qkv"], "shape": [2, 5, 2], "strides": [2, 12, 1], "offset": 4,
                   "output": "k"},
                  {"type": "as_strided", "inputs": ["qkv"], "shape": [5, 2, 2], "strides": [12, 2, 1], "offset": 8,
                   "result": [2, 5, 2], "output": "v"},
                  {"type": "scaled_dot_product_attention", "name": "attn", "inputs": ["q", "k", "v"],
                   "bias": "relbias", "mask": "mask", "scale": 0.5, "outputs": ["o", "map"]},
                  {"type": "roll", "inputs": ["o"], "shifts": [1, -1], "dims": [2, -1], "output": "r"},
                  {"type": "matmul", "inputs": ["map", "r"], "output": "m"},
                  {"type": "l2_normalize", "inputs": ["m"], "dim": -1, "output": "l"},
                  {"type": "local_self_attention", "name": "sasa", "inputs": ["x"], "kernel_size": 3, "heads": 2,
                   "outputs": ["la", "lmap"]}],
        "outputs": ["l", "la", "lmap"]},
}
for name, net in networks.items():
    put("network", name, json.dumps(net))

# A cache file for the fuzz target's key (vendor 0x10005, device 0, driver 1, UUID 0..15).
payload = bytes(range(40))
fnv = 0xcbf29ce484222325
for b in payload:
    fnv = ((fnv ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
put("pipeline_cache", "valid.bin", b"VKATTNPC" + struct.pack("<IIII", 1, 0x10005, 0, 1) + bytes(range(16)) +
    struct.pack("<QQ", len(payload), fnv) + payload)
put("pipeline_cache", "other_device.bin", b"VKATTNPC" + struct.pack("<IIII", 1, 0x10de, 7, 1) + bytes(16) +
    struct.pack("<QQ", 0, 0xcbf29ce484222325))

def png(w, h, rows, colour=0):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\0" + r for r in rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, colour, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))

put("image", "garment.png", png(12, 10, [bytes((x * 20 + y * 7) % 256 for x in range(12)) for y in range(10)]))
put("image", "light_background.png", png(9, 9, [bytes(255 if x in (0, 8) or y in (0, 8) else 40 for x in range(9))
                                                    for y in range(9)]))
put("image", "rgb.png", png(4, 3, [bytes((x * 60 + c * 30) % 256 for x in range(4) for c in range(3)) for _ in range(3)], 2))
bmp_pixels = b"".join(bytes([x * 40, 128, 255 - x * 40]) * 1 for x in range(4)) * 4
put("image", "tiny.bmp", b"BM" + struct.pack("<IHHI", 54 + len(bmp_pixels), 0, 0, 54) +
    struct.pack("<IiiHHIIiiII", 40, 4, 4, 1, 24, 0, len(bmp_pixels), 2835, 2835, 0, 0) + bmp_pixels)
put("image", "grey.pgm", b"P5\n5 4\n255\n" + bytes(range(0, 200, 10)))


def onnx_seeds():
    """Small ONNX models built with python3-onnx (skipped where it is missing): the ops and the
    shape arithmetic exporters write, a fixed-shape model, and short or inconsistent tensors."""
    try:
        import numpy as np
        from onnx import TensorProto, helper, numpy_helper
    except ImportError:
        print("python3-onnx is not installed: no ONNX seeds")
        return

    def model(nodes, inputs, outputs, inits=(), opset=13):
        graph = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8).SerializeToString()

    f = lambda name, shape: helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)
    w = numpy_helper.from_array(np.full((4, 3, 3, 3), 0.1, np.float32), "w")
    b = numpy_helper.from_array(np.zeros(4, np.float32), "b")
    put("onnx", "conv_relu_pool.onnx", model(
        [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]), helper.make_node("Relu", ["c"], ["r"]),
         helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
         helper.make_node("GlobalAveragePool", ["p"], ["g"]), helper.make_node("Flatten", ["g"], ["y"])],
        [f("x", ["batch", 3, 8, 8])], [f("y", ["batch", 4])], [w, b]))
    shape = numpy_helper.from_array(np.array([0, -1], np.int64), "shape")
    put("onnx", "shape_arithmetic.onnx", model(
        [helper.make_node("Shape", ["x"], ["s"]), helper.make_node("Gather", ["s", "zero"], ["n"], axis=0),
         helper.make_node("Unsqueeze", ["n", "axes"], ["n1"]), helper.make_node("Concat", ["n1", "minus"], ["t"], axis=0),
         helper.make_node("Reshape", ["x", "t"], ["r"]), helper.make_node("Reshape", ["r", "shape"], ["m"]),
         helper.make_node("Softmax", ["m"], ["y"], axis=-1)],
        [f("x", ["batch", 3, 4])], [f("y", ["batch", 12])],
        [numpy_helper.from_array(np.array(0, np.int64), "zero"), numpy_helper.from_array(np.array([0], np.int64), "axes"),
         numpy_helper.from_array(np.array([-1], np.int64), "minus"), shape]))
    put("onnx", "fixed_shapes.onnx", model(
        [helper.make_node("ReduceMean", ["x"], ["m"], axes=[0], keepdims=1), helper.make_node("Sub", ["x", "m"], ["y"])],
        [f("x", [3, 4])], [f("y", [3, 4])]))
    short = numpy_helper.from_array(np.zeros((2,), np.int64), "shape")
    short.raw_data = short.raw_data[:3]
    put("onnx", "short_int64.onnx", model([helper.make_node("Reshape", ["x", "shape"], ["y"])],
                                          [f("x", ["batch", 4])], [f("y", ["batch", 4])], [short]))


onnx_seeds()
