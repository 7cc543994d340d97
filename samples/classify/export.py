"""Export a PyTorch network made of layers vkattn supports to one safetensors file.

The weights keep their state_dict() names; the layer list goes into the file's __metadata__
under "vkattn.network" as JSON, and the engine builds its graph from that list. Supported, in an
nn.Sequential (named children are fine): Conv2d (any kernel, stride, padding; groups=1,
dilation=1), BatchNorm2d right after a Conv2d (folded into it), ReLU, MaxPool2d, AvgPool2d
(count_include_pad=True), AdaptiveAvgPool2d(1), Flatten, Linear, LeakyReLU, Sigmoid, Tanh, Dropout
(dropped) and
any module with the SAGAN block's parts (query_conv, key_conv, value_conv, gamma), with optional
attributes `similarity` ("dot", "scaled_dot", "cosine", "additive" with an nn.Linear(Cq, 1,
bias=False) called `additive`) and `scale`; squeeze-and-excitation
modules with 1x1 convolutions fc1 and fc2 (torchvision's SqueezeExcitation).

    from export import export_network
    export_network(model, "model.safetensors", input_shape=(1, 28, 28), labels=[...])
"""
import json
import struct

import numpy as np
import torch
from torch import nn


def pair(v):
    return [int(v), int(v)] if isinstance(v, int) else [int(x) for x in v]


def write_safetensors(path, tensors, metadata):
    """tensors: name -> numpy array (stored as F32); metadata: str -> str."""
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name in sorted(tensors):
        blob = np.ascontiguousarray(tensors[name], dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape),
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def fold_batch_norm(weight, bias, bn):
    """Conv then BatchNorm (eval mode) as one conv: w' = w s, b' = (b - mean) s + beta."""
    s = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    return weight * s.reshape(-1, 1, 1, 1), (bias - bn.running_mean) * s + bn.bias


def export_network(model, path, input_shape, labels=None, extra_metadata=None):
    layers, tensors = [], {}
    children = list(model.named_children())
    with torch.no_grad():
        i = 0
        while i < len(children):
            name, m = children[i]
            kind = type(m).__name__
            if isinstance(m, nn.Conv2d):
                if m.groups != 1 or pair(m.dilation) != [1, 1] or m.padding_mode != "zeros" or isinstance(m.padding, str):
                    raise ValueError(f"{name}: only groups=1, dilation=1 and numeric zero padding are supported")
                w = m.weight.detach().clone()
                b = m.bias.detach().clone() if m.bias is not None else torch.zeros(m.out_channels)
                if i + 1 < len(children) and isinstance(children[i + 1][1], nn.BatchNorm2d):
                    w, b = fold_batch_norm(w, b, children[i + 1][1])
                    i += 1
                tensors[name + ".weight"], tensors[name + ".bias"] = w.numpy(), b.numpy()
                layers.append({"type": "conv2d", "name": name, "stride": pair(m.stride), "padding": pair(m.padding)})
            elif isinstance(m, nn.ReLU):
                layers.append({"type": "relu"})
            elif isinstance(m, nn.LeakyReLU):
                layers.append({"type": "leaky_relu", "slope": float(m.negative_slope)})
            elif isinstance(m, (nn.Sigmoid, nn.Tanh)):
                layers.append({"type": "sigmoid" if isinstance(m, nn.Sigmoid) else "tanh"})
            elif isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
                if m.ceil_mode or getattr(m, "dilation", 1) != 1:
                    raise ValueError(f"{name}: ceil_mode and dilation are not supported")
                if isinstance(m, nn.AvgPool2d) and (not m.count_include_pad or m.divisor_override):
                    raise ValueError(f"{name}: only count_include_pad=True is supported")
                layers.append({"type": "max_pool2d" if isinstance(m, nn.MaxPool2d) else "avg_pool2d",
                               "kernel": pair(m.kernel_size),
                               "stride": pair(m.stride if m.stride is not None else m.kernel_size),
                               "padding": pair(m.padding)})
            elif isinstance(m, nn.AdaptiveAvgPool2d):
                if pair(m.output_size) != [1, 1]:
                    raise ValueError(f"{name}: only AdaptiveAvgPool2d(1) is supported")
                layers.append({"type": "global_avg_pool2d"})
            elif isinstance(m, nn.Flatten):
                if m.start_dim != 1 or m.end_dim != -1:
                    raise ValueError(f"{name}: only Flatten(1, -1) is supported")
                layers.append({"type": "flatten"})
            elif isinstance(m, nn.Linear):
                tensors[name + ".weight"] = m.weight.detach().numpy()
                tensors[name + ".bias"] = (m.bias if m.bias is not None else torch.zeros(m.out_features)).detach().numpy()
                layers.append({"type": "linear", "name": name})
            elif all(hasattr(m, part) for part in ("query_conv", "key_conv", "value_conv", "gamma")):
                # A SAGAN block by its parts, whatever its class is called. Its similarity and scale
                # come from attributes of those names when it has them (else dot, and the default).
                for part in ("query_conv", "key_conv", "value_conv"):
                    conv = getattr(m, part)
                    tensors[f"{name}.{part}.weight"] = conv.weight.detach().numpy()
                    tensors[f"{name}.{part}.bias"] = conv.bias.detach().numpy()
                tensors[name + ".gamma"] = m.gamma.detach().numpy()
                layer = {"type": "self_attention", "name": name}
                if hasattr(m, "similarity"):
                    layer["similarity"] = str(m.similarity)
                    if m.similarity == "additive":  # u: an nn.Linear(Cq, 1, bias=False) called "additive"
                        if not isinstance(getattr(m, "additive", None), nn.Linear) or m.additive.bias is not None:
                            raise ValueError(f"{name}: the additive similarity needs an nn.Linear(Cq, 1, bias=False) "
                                             "called 'additive'")
                        tensors[f"{name}.additive.weight"] = m.additive.weight.detach().numpy()
                if hasattr(m, "scale"):
                    layer["scale"] = float(m.scale)
                layers.append(layer)
            elif isinstance(getattr(m, "fc1", None), nn.Conv2d) and isinstance(getattr(m, "fc2", None), nn.Conv2d):
                # Squeeze-and-excitation, as torchvision's SqueezeExcitation: mean, fc1, ReLU, fc2, sigmoid.
                act, gate = getattr(m, "activation", nn.ReLU()), getattr(m, "scale_activation", nn.Sigmoid())
                if type(act) is not nn.ReLU or type(gate) is not nn.Sigmoid:
                    raise ValueError(f"{name}: squeeze-excitation must use ReLU and Sigmoid")
                for part in (m.fc1, m.fc2):
                    if part.kernel_size != (1, 1) or part.groups != 1 or part.bias is None:
                        raise ValueError(f"{name}: fc1 and fc2 must be 1x1 convolutions with a bias")
                for part in ("fc1", "fc2"):
                    tensors[f"{name}.{part}.weight"] = getattr(m, part).weight.detach().numpy()
                    tensors[f"{name}.{part}.bias"] = getattr(m, part).bias.detach().numpy()
                layers.append({"type": "squeeze_excitation", "name": name})
            elif isinstance(m, nn.Dropout):
                pass  # identity at inference
            else:
                raise ValueError(f"{name}: layer type {kind} is not supported by vkattn")
            i += 1
    network = {"format": 1, "input": list(input_shape), "layers": layers}
    metadata = {"vkattn.network": json.dumps(network)}
    if labels:
        metadata["vkattn.labels"] = json.dumps(list(labels))
    metadata.update(extra_metadata or {})
    write_safetensors(path, tensors, metadata)
    return network
