"""vkattn.export (this module: vkattn.exporter): a PyTorch module as one vkattn network file (docs/network-format.md).

The layer list comes from running the module: in eval mode, once, on a seeded random input, while
hooks note which layers it calls, in what order, on what, and with which weights (its modes,
parameters and buffers are put back afterwards).
So the order is the forward's (not the registration order), and a weight is the one an eval-mode
forward uses (spectral_norm, weight_norm, parametrizations, wrappers that set `weight`). What
happens between two layers is found by comparing each layer's input with the previous layer's
output: functional calls vkattn has a layer for (F.relu, F.leaky_relu with slope 0.01, 0.1 or 0.2,
torch.sigmoid, torch.tanh, softmax and log_softmax over the last dimension, F.max_pool2d and
F.avg_pool2d with common windows, torch.flatten, x.view(B, -1), x.mean((2, 3))) become layers,
found by trying them on the traced values; anything else (a residual sum, another reshape or
function) is an error naming both layers. A module called several times (one shared ReLU) is a
layer each time. Layers:

- Conv2d (groups=1, dilation=1, zero padding), BatchNorm2d (folded into the Conv2d before it, or
  a 1x1 convolution of its own), Linear, BatchNorm1d on (B, F) (folded into the Linear before it,
  or a linear layer of its own), ReLU, LeakyReLU, Sigmoid, Tanh, Softmax and LogSoftmax
  (over the last dimension), MaxPool2d, AvgPool2d,
  AdaptiveAvgPool2d / AdaptiveMaxPool2d (to sizes that divide the input), Flatten, and Dropout
  and Identity (nothing at inference);
- self-attention blocks, by their parts whatever their class: query_conv, key_conv, value_conv,
  gamma, with optional attributes `similarity` and `scale` (and `additive`, an nn.Linear(Cq, 1,
  bias=False), for the additive similarity); forward may return a tensor, a tuple or a dict;
- squeeze-and-excitation blocks with 1x1 convolutions fc1 and fc2 (torchvision's);
- nn.MultiheadAttention as self-attention over a feature map's positions: its input is the
  previous output as tokens (x.flatten(2).transpose(1, 2) with batch_first, else
  x.flatten(2).permute(2, 0, 1)), the same tensor as query, key and value; its output is taken
  back to (B, C, H, W), and an input added back to it is the layer's residual;
- vkattn.nn.AttentionCrop (hard attention) called as crop(x, attention, grid) with the model's
  input x and a map that an attention block above returned (for nn.MultiheadAttention, its
  averaged weights): the layers after it run on the crop.

Any other module the forward calls is looked into; one with weights of its own, or a leaf that is
none of the above, is an error: "l3.0: GroupNorm is not supported".
"""
import json
import os

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .nn import AttentionCrop
from .safetensors import write_safetensors

_ACTIVATIONS = {nn.ReLU: "relu", nn.Sigmoid: "sigmoid", nn.Tanh: "tanh"}
_SOFTMAXES = {nn.Softmax: "softmax", nn.LogSoftmax: "log_softmax"}
_NOTHING = (nn.Dropout, nn.Dropout2d, nn.Dropout1d, nn.AlphaDropout, nn.Identity)
# Layers that take any rank; the rest take (B, C, H, W).
_ANY_RANK = (nn.Linear, nn.BatchNorm1d, nn.LeakyReLU) + tuple(_ACTIVATIONS) + tuple(_SOFTMAXES) + _NOTHING
_LEAVES = (AttentionCrop, nn.Conv2d, nn.BatchNorm2d, nn.BatchNorm1d, nn.Linear, nn.LeakyReLU, nn.MaxPool2d, nn.AvgPool2d,
           nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d, nn.Flatten) + tuple(_ACTIVATIONS) + tuple(_SOFTMAXES) + _NOTHING


def _pair(v):
    return [int(v), int(v)] if isinstance(v, int) else [int(x) for x in v]


def _is_attention(m):
    return all(hasattr(m, part) for part in ("query_conv", "key_conv", "value_conv", "gamma"))


def _is_squeeze_excitation(m):
    return isinstance(getattr(m, "fc1", None), nn.Conv2d) and isinstance(getattr(m, "fc2", None), nn.Conv2d)


def _units(module):
    """(path, module) of the units, which a hook watches: known layers and blocks, and unknown modules
    that cannot be looked into (an error if the forward calls one); and of the containers looked into."""
    units, containers = [], []

    def walk(prefix, m):
        for name, child in m.named_children():
            path = prefix + name
            if _is_attention(child) or _is_squeeze_excitation(child) or \
                    isinstance(child, _LEAVES + (nn.MultiheadAttention,)):
                units.append((path, child))
            elif not any(True for _ in child.children()):
                units.append((path, child))  # refused if the forward calls it
            else:
                if any(True for _ in child.parameters(recurse=False)):
                    units.append((path, child))  # weights of its own that no known layer explains
                else:
                    containers.append((path, child))
                walk(path + ".", child)

    walk("", module)
    return units, containers


def _first_tensor(value, like=None):
    """The tensor a layer passes on: itself, or the first one in a tuple, list or dict (of like's shape
    when given, as an attention block's output beside its map)."""
    if torch.is_tensor(value):
        return value
    items = value.values() if isinstance(value, dict) else value if isinstance(value, (tuple, list)) else []
    tensors = [v for v in items if torch.is_tensor(v)]
    if like is not None:
        tensors = [t for t in tensors if t.shape == like.shape] or tensors
    return tensors[0] if tensors else None


class _Trace:
    """Calls in forward order: (path, module, input, output), inputs and outputs as copies taken at the time;
    by call index, the other tensors an attention block returned (its map) and an AttentionCrop's arguments."""

    def __init__(self, model, units, containers, x):
        self.calls, self.weights, self.counts, self.open, self.self_attention = [], {}, {}, [], {}
        self.returned, self.crop_args = {}, {}
        handles = []
        for path, m in units:
            handles.append(m.register_forward_pre_hook(self._before(path, m)))
            handles.append(m.register_forward_hook(self._after(path)))
        for path, m in containers:
            handles.append(m.register_forward_pre_hook(self._enter(m)))
            handles.append(m.register_forward_hook(self._leave(path, m)))
        for path, m in model.named_modules():  # the weights each part runs with, blocks' parts included
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                handles.append(m.register_forward_pre_hook(self._weights(path)))
        try:
            with torch.no_grad():
                self.output = model(x)
        finally:
            for h in handles:
                h.remove()

    def _call(self, path, m, inp, out=None):
        """Notes a call of m: its input and output, as copies taken now."""
        self.counts[path] = self.counts.get(path, 0) + 1
        self.calls.append([path, m, None if inp is None else inp.detach().clone(),
                           None if out is None else out.detach().clone()])

    def _before(self, path, m):
        def hook(module, args):
            first = args[0] if args and torch.is_tensor(args[0]) else None
            self._call(path, m, first)
            if isinstance(m, AttentionCrop) and len(args) == 3 and torch.is_tensor(args[1]):
                self.crop_args[len(self.calls) - 1] = (args[1].detach().clone(), tuple(int(v) for v in args[2]))
            if isinstance(m, nn.MultiheadAttention):  # self-attention: the same tensor as query, key and value
                self.self_attention[path] = len(args) >= 3 and all(
                    torch.is_tensor(a) and _same(a, first) for a in args[1:3])
        return hook

    def _after(self, path):
        def hook(module, args, output):
            index = next(i for i in reversed(range(len(self.calls))) if self.calls[i][0] == path)
            call = self.calls[index]
            inp = call[2]
            out = _first_tensor(output, like=inp)
            call[3] = None if out is None else out.detach().clone()
            items = output.values() if isinstance(output, dict) else output if isinstance(output, (tuple, list)) else []
            self.returned[index] = [t.detach().clone() for t in items if torch.is_tensor(t) and t is not out]
        return hook

    def _enter(self, m):
        def hook(module, args):
            first = args[0] if args and torch.is_tensor(args[0]) else None
            self.open.append((len(self.calls), None if first is None else first.detach().clone()))
        return hook

    def _leave(self, path, m):
        """A container whose forward called no unit through its __call__ is a wrapper that calls its one
        layer's forward directly (SAGAN's SpectralNorm): that layer, with the weight it was given."""
        def hook(module, args, output):
            start, inp = self.open.pop()
            if start != len(self.calls):
                return
            children = list(m.named_children())
            out = _first_tensor(output, like=inp)
            if len(children) == 1 and isinstance(children[0][1], (nn.Conv2d, nn.Linear)):
                name, layer = children[0]
                bias = layer.bias.detach().clone() if layer.bias is not None else None
                self.weights[path + "." + name] = (layer.weight.detach().clone(), bias)
                self._call(path + "." + name, layer, inp, out)
            else:
                self._call(path, m, inp, out)
        return hook

    def _weights(self, path):
        def hook(module, args):
            if path not in self.weights:
                bias = module.bias.detach().clone() if module.bias is not None else None
                self.weights[path] = (module.weight.detach().clone(), bias)
        return hook


def _weight_and_bias(trace, path, m, rows):
    """The weight and bias (zeros when absent) an eval-mode forward used."""
    if path in trace.weights:
        w, b = trace.weights[path]
    else:
        w, b = m.weight.detach().clone(), m.bias.detach().clone() if m.bias is not None else None
    return w, b if b is not None else torch.zeros(rows)


def _same(a, b):
    return a is not None and b is not None and a.shape == b.shape and torch.equal(a, b)


def _close(a, b):
    return a.shape == b.shape and a.dtype == b.dtype and torch.allclose(a, b, rtol=1e-5, atol=1e-6)


def _functional_steps(x):
    """(layer, F(x)) for each functional call a forward commonly makes between modules that vkattn
    has as a layer: activations, softmaxes over the last dimension, pools, flattens."""
    steps = [({"type": "relu"}, torch.relu(x)), ({"type": "sigmoid"}, torch.sigmoid(x)),
             ({"type": "tanh"}, torch.tanh(x)), ({"type": "softmax"}, torch.softmax(x, -1)),
             ({"type": "log_softmax"}, torch.log_softmax(x, -1))]
    steps += [({"type": "leaky_relu", "slope": s}, F.leaky_relu(x, s)) for s in (0.01, 0.1, 0.2)]
    if x.dim() == 4:
        steps.append(({"type": "flatten"}, x.flatten(1)))
        steps.append(({"type": "global_avg_pool2d"}, x.mean((2, 3), keepdim=True)))
        for k, s, p in ((2, 2, 0), (3, 2, 1), (3, 2, 0), (3, 1, 1), (3, 3, 0), (4, 4, 0)):
            if x.shape[2] + 2 * p >= k and x.shape[3] + 2 * p >= k and 2 * p <= k:
                pool = {"kernel": [k, k], "stride": [s, s], "padding": [p, p]}
                steps.append((dict(pool, type="max_pool2d"), F.max_pool2d(x, k, s, p)))
                steps.append((dict(pool, type="avg_pool2d"), F.avg_pool2d(x, k, s, p)))
    return steps


def _bridge(src, dst, most=3):
    """The fewest layers that turn src into dst, when a forward made up to `most` functional calls
    between two modules (F.relu, F.max_pool2d, torch.flatten, x.mean((2, 3)), F.log_softmax, ...);
    else None. Found by trying them on the traced values, so what is found is what the forward did
    (the fewest: a ReLU that changes nothing on these values is not added)."""
    def search(x, depth):
        if _close(x, dst):
            return []
        if depth == 0 or x.dim() not in (2, 4):
            return None
        for layer, out in _functional_steps(x):
            if layer["type"] == "global_avg_pool2d" and dst.dim() == 2 and _close(out.flatten(1), dst):
                return [layer, {"type": "flatten"}]  # x.mean((2, 3)): one call, two layers
            rest = search(out, depth - 1) if out.numel() >= dst.numel() else None
            if rest is not None:
                return [layer] + rest
        return None
    for depth in range(most + 1):
        found = search(src, depth)
        if found is not None:
            return found
    return None


def _batch_norm_scale(bn, path):
    if bn.running_mean is None or bn.running_var is None:
        raise ValueError("%s: %s without running statistics (track_running_stats=False) is not supported"
                         % (path, type(bn).__name__))
    scale = torch.rsqrt(bn.running_var + bn.eps)
    if bn.weight is not None:
        scale = scale * bn.weight.detach()
    shift = -bn.running_mean * scale + (bn.bias.detach() if bn.bias is not None else 0)
    return scale, shift


class _Builder:
    def __init__(self, trace):
        self.trace, self.layers, self.tensors = trace, [], {}
        self.last_affine = None  # the conv2d or linear layer just emitted, into which a BatchNorm folds

    def extend(self, layers):
        """Layers for the functional calls found between two modules."""
        self.layers += layers
        if layers:
            self.last_affine = None

    def add(self, path, m, x, y):
        kind = type(m).__name__
        fold = self.last_affine
        self.last_affine = None
        if _is_attention(m):
            return self.attention(path, m, x)
        if _is_squeeze_excitation(m):
            return self.squeeze_excitation(path, m)
        if isinstance(m, nn.MultiheadAttention):
            return self.multihead_attention(path, m)
        if not isinstance(m, _LEAVES):
            if any(True for _ in m.children()):  # a container whose forward called none of its layers
                raise ValueError("%s: %s calls none of its layers through their __call__, and is not a wrapper of "
                                 "one Conv2d or Linear" % (path, kind))
            raise ValueError("%s: %s is not supported" % (path, kind))
        if x is None or (x.dim() != 4 and not isinstance(m, _ANY_RANK)):
            raise ValueError("%s: %s on a %s input; vkattn's %s takes (B, C, H, W)"
                             % (path, kind, "non-tensor" if x is None else "%d-D" % x.dim(), kind))
        if isinstance(m, _NOTHING) or (isinstance(m, nn.Flatten) and x.dim() == 2):
            return
        if isinstance(m, tuple(_ACTIVATIONS)):
            self.layers.append({"type": _ACTIVATIONS[type(m)]})
        elif isinstance(m, tuple(_SOFTMAXES)):
            dim = m.dim if m.dim is not None else (0 if x.dim() in (0, 1, 3) else 1)  # PyTorch's implicit choice
            if dim % x.dim() != x.dim() - 1:
                raise ValueError("%s: %s over dimension %d of a %d-D input; vkattn's takes the last dimension"
                                 % (path, kind, dim, x.dim()))
            self.layers.append({"type": _SOFTMAXES[type(m)]})
        elif isinstance(m, nn.LeakyReLU):
            self.layers.append({"type": "leaky_relu", "slope": float(m.negative_slope)})
        elif isinstance(m, nn.Conv2d):
            self.conv(path, m)
        elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
            if isinstance(m, nn.BatchNorm1d) and x.dim() != 2:
                raise ValueError("%s: BatchNorm1d on a %d-D input; vkattn folds it after a Linear, on (B, F)"
                                 % (path, x.dim()))
            self.batch_norm(path, m, fold)
        elif isinstance(m, nn.Linear):
            if x.dim() != 2:
                raise ValueError("%s: Linear on a %d-D input (it acts on the last dimension); vkattn's linear takes "
                                 "(B, F): flatten first" % (path, x.dim()))
            w, b = _weight_and_bias(self.trace, path, m, m.out_features)
            self.tensors[path + ".weight"], self.tensors[path + ".bias"] = w, b
            self.layers.append({"type": "linear", "name": path})
            self.last_affine = path if self.trace.counts[path] == 1 else None
        elif isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
            self.pool(path, m)
        elif isinstance(m, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
            self.adaptive_pool(path, m, x, y)
        elif isinstance(m, nn.Flatten):
            if m.start_dim != 1 or m.end_dim != -1:
                raise ValueError("%s: only Flatten(1, -1) is supported" % path)
            self.layers.append({"type": "flatten"})

    def conv(self, path, m):
        padding = m.padding
        if isinstance(padding, str):  # "valid", or "same" (for stride 1), as numbers
            if padding == "same" and any(k % 2 == 0 for k in m.kernel_size):
                raise ValueError("%s: padding='same' with an even kernel pads unevenly, which vkattn does not" % path)
            padding = [k // 2 for k in m.kernel_size] if padding == "same" else [0, 0]
        unsupported = [what for what, bad in [("groups=%d" % m.groups, m.groups != 1),
                                              ("dilation=%s" % (tuple(_pair(m.dilation)),), _pair(m.dilation) != [1, 1]),
                                              ("padding_mode='%s'" % m.padding_mode, m.padding_mode != "zeros")] if bad]
        if unsupported:
            raise ValueError("%s: Conv2d with %s is not supported (vkattn's conv2d: groups=1, dilation=1, zero "
                             "padding)" % (path, " and ".join(unsupported)))
        w, b = _weight_and_bias(self.trace, path, m, m.out_channels)
        self.tensors[path + ".weight"], self.tensors[path + ".bias"] = w, b
        self.layers.append({"type": "conv2d", "name": path, "stride": _pair(m.stride), "padding": _pair(padding)})
        self.last_affine = path if self.trace.counts[path] == 1 else None  # a shared conv keeps its own weights

    def batch_norm(self, path, bn, fold):
        scale, shift = _batch_norm_scale(bn, path)
        rank = 4 if isinstance(bn, nn.BatchNorm2d) else 2  # of the weight it folds into: conv2d or linear
        if fold is not None and self.tensors[fold + ".weight"].dim() == rank:  # w' = w s, b' = b s + shift
            w = self.tensors[fold + ".weight"]
            self.tensors[fold + ".weight"] = w * scale.reshape((-1,) + (1,) * (rank - 1))
            self.tensors[fold + ".bias"] = self.tensors[fold + ".bias"] * scale + shift
            return
        # Alone: a 1x1 convolution or a linear layer with the scales on its diagonal.
        self.tensors[path + ".weight"] = torch.diag(scale).reshape((len(scale), len(scale)) + (1,) * (rank - 2))
        self.tensors[path + ".bias"] = shift
        self.layers.append({"type": "conv2d", "name": path, "stride": [1, 1], "padding": [0, 0]} if rank == 4
                           else {"type": "linear", "name": path})

    def pool(self, path, m):
        if m.ceil_mode or _pair(getattr(m, "dilation", 1)) != [1, 1] or getattr(m, "return_indices", False):
            raise ValueError("%s: %s with ceil_mode, dilation or return_indices is not supported"
                             % (path, type(m).__name__))
        if isinstance(m, nn.AvgPool2d) and (not m.count_include_pad or m.divisor_override):
            raise ValueError("%s: AvgPool2d needs count_include_pad=True and no divisor_override" % path)
        self.layers.append({"type": "max_pool2d" if isinstance(m, nn.MaxPool2d) else "avg_pool2d",
                            "kernel": _pair(m.kernel_size),
                            "stride": _pair(m.stride if m.stride else m.kernel_size), "padding": _pair(m.padding)})

    def adaptive_pool(self, path, m, x, y):
        (h, w), (oh, ow) = x.shape[2:], y.shape[2:]
        average = isinstance(m, nn.AdaptiveAvgPool2d)
        if (oh, ow) == (1, 1) and average:
            self.layers.append({"type": "global_avg_pool2d"})
        elif h % oh == 0 and w % ow == 0:  # then it is a plain pool with windows of the quotient
            self.layers.append({"type": "avg_pool2d" if average else "max_pool2d", "kernel": [h // oh, w // ow],
                                "stride": [h // oh, w // ow], "padding": [0, 0]})
        else:
            raise ValueError("%s: %s from %dx%d to %dx%d (sizes that do not divide) is not supported"
                             % (path, type(m).__name__, h, w, oh, ow))

    def attention(self, path, m, x):
        for part in ("query_conv", "key_conv", "value_conv"):
            conv = getattr(m, part)
            if not isinstance(conv, nn.Conv2d) or conv.kernel_size != (1, 1) or conv.groups != 1:
                raise ValueError("%s.%s: a self-attention block's projections must be 1x1 Conv2d" % (path, part))
            w, b = _weight_and_bias(self.trace, "%s.%s" % (path, part), conv, conv.out_channels)
            self.tensors["%s.%s.weight" % (path, part)], self.tensors["%s.%s.bias" % (path, part)] = w, b
        gamma = torch.as_tensor(m.gamma).detach().reshape(-1)
        if gamma.numel() != 1:
            raise ValueError("%s.gamma: %d values; vkattn's block takes one" % (path, gamma.numel()))
        self.tensors[path + ".gamma"] = gamma
        layer = {"type": "self_attention", "name": path}
        if hasattr(m, "similarity"):
            layer["similarity"] = str(m.similarity)
            if m.similarity == "additive":
                if not isinstance(getattr(m, "additive", None), nn.Linear) or m.additive.bias is not None:
                    raise ValueError("%s: the additive similarity needs an nn.Linear(Cq, 1, bias=False) called "
                                     "'additive'" % path)
                self.tensors[path + ".additive.weight"] = _weight_and_bias(self.trace, path + ".additive",
                                                                           m.additive, 1)[0]
        if hasattr(m, "scale"):
            layer["scale"] = float(m.scale)
        self.layers.append(layer)

    def multihead_attention(self, path, m):
        if not self.trace.self_attention.get(path):
            raise ValueError("%s: MultiheadAttention must get one tensor as query, key and value (self-attention), "
                             "passed by position" % path)
        if not m._qkv_same_embed_dim or m.bias_k is not None or m.add_zero_attn:
            raise ValueError("%s: MultiheadAttention with kdim or vdim, add_bias_kv or add_zero_attn is not supported"
                             % path)
        C = m.embed_dim
        self.tensors[path + ".in_proj_weight"] = m.in_proj_weight.detach()
        self.tensors[path + ".in_proj_bias"] = m.in_proj_bias.detach() if m.in_proj_bias is not None \
            else torch.zeros(3 * C)
        w, b = _weight_and_bias(self.trace, path + ".out_proj", m.out_proj, C)
        self.tensors[path + ".out_proj.weight"], self.tensors[path + ".out_proj.bias"] = w, b
        layer = {"type": "multihead_attention", "name": path, "heads": int(m.num_heads), "residual": False}
        self.layers.append(layer)
        return layer

    def squeeze_excitation(self, path, m):
        act, gate = getattr(m, "activation", nn.ReLU()), getattr(m, "scale_activation", nn.Sigmoid())
        if type(act) is not nn.ReLU or type(gate) is not nn.Sigmoid:
            raise ValueError("%s: squeeze-excitation must use ReLU and Sigmoid" % path)
        for part in ("fc1", "fc2"):
            conv = getattr(m, part)
            if conv.kernel_size != (1, 1) or conv.groups != 1:
                raise ValueError("%s.%s: squeeze-excitation's fc1 and fc2 must be 1x1 Conv2d" % (path, part))
            w, b = _weight_and_bias(self.trace, "%s.%s" % (path, part), conv, conv.out_channels)
            self.tensors["%s.%s.weight" % (path, part)], self.tensors["%s.%s.bias" % (path, part)] = w, b
        self.layers.append({"type": "squeeze_excitation", "name": path})


def _from_tokens(path, m, inp, out, previous, previous_path):
    """A MultiheadAttention's input and output as (B, C, H, W): its tokens, (B, N, C) with
    batch_first, else (N, B, C), must be the H*W positions of a map of the previous output's size."""
    if previous is None or previous.dim() != 4 or inp is None or out is None or inp.dim() != 3:
        raise ValueError("%s: MultiheadAttention must run on the positions of a (B, C, H, W) feature map" % path)
    B, _, H, W = previous.shape
    tokens = inp if m.batch_first else inp.transpose(0, 1)  # (B, N, C)
    if tokens.shape[0] != B or tokens.shape[1] != H * W:
        raise ValueError("%s: its input is not %s's output as tokens, x.flatten(2).%s: vkattn's multihead_attention "
                         "takes a feature map's H*W positions as its tokens"
                         % (path, previous_path or "the model input",
                            "transpose(1, 2) (batch_first)" if m.batch_first else "permute(2, 0, 1)"))
    C = tokens.shape[2]

    def spatial(t):
        return (t if m.batch_first else t.transpose(0, 1)).transpose(1, 2).reshape(B, C, H, W)
    return spatial(inp), spatial(out)


def _follow(previous, target, pending):
    """_bridge, and after a multihead layer also from its output plus its input (the residual)."""
    steps = _bridge(previous, target)
    if steps is None and pending is not None:
        layer, x_in = pending
        steps = _bridge(previous + x_in, target)
        if steps is not None:
            layer["residual"] = True
    return steps


def _crop(path, m, image, args, attention_calls, x):
    """An AttentionCrop's layer: it must cut from the model input and read a map that an earlier
    attention layer returned, on that layer's grid."""
    if not _same(image, x):
        raise ValueError("%s: AttentionCrop must crop the model's input (vkattn's attention_crop cuts from the "
                         "network input)" % path)
    attention, grid = args
    source = next(((p, g) for p, g, maps in reversed(attention_calls) if any(_same(a, attention) for a in maps)), None)
    if source is None:
        raise ValueError("%s: its attention map is not one that an attention layer before it returned" % path)
    if tuple(source[1]) != grid:
        raise ValueError("%s: its grid %s is not the %dx%d grid of %s's input" % (path, grid, *source[1], source[0]))
    return {"type": "attention_crop", "attention": source[0], "threshold": m.threshold, "size": list(m.size)}


def _describe(path):
    return path or "the module"


def export(module, path, input_shape, labels=None, metadata=None, check=True):
    """Writes module as a vkattn network file and returns its layer list (a dict).

    input_shape: (C, H, W) of one input. labels: class names, stored for the classifier.
    metadata: more str -> str pairs for the file. check: run the file with vkattn on the traced
    input and refuse to keep it if the output differs from the module's."""
    shape = tuple(int(d) for d in input_shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError("input_shape must be (C, H, W) with positive sizes, not %s" % (tuple(input_shape),))
    if not isinstance(module, nn.Module):
        raise ValueError("vkattn.export takes a torch.nn.Module, not %s" % type(module).__name__)
    model = module
    if _is_attention(model) or _is_squeeze_excitation(model) or isinstance(model, _LEAVES):
        model = nn.Sequential(model)  # a lone layer or block is layer "0", its weights "0.<name>"
    units, containers = _units(model)
    dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)
    x = torch.randn((2,) + shape, generator=torch.Generator().manual_seed(0), dtype=dtype)
    # The trace runs the caller's module itself (a deep copy fails on spectral_norm's computed weight),
    # so its modes and every parameter and buffer (power-iteration vectors included) are put back.
    modes = [(m, m.training) for m in model.modules()]
    saved = {k: v.detach().clone() for k, v in model.state_dict(keep_vars=True).items()}
    try:
        model.eval()
        trace = _Trace(model, units, containers, x)
    except Exception as e:  # noqa: BLE001 - the module's own error, passed on with what was tried
        raise ValueError("the module's forward failed on an input of shape %s: %s" % ((2,) + shape, e)) from e
    finally:
        with torch.no_grad():
            for k, v in model.state_dict(keep_vars=True).items():
                v.data.copy_(saved[k])
        for m, training in modes:
            m.training = training

    builder, previous, previous_path = _Builder(trace), x, None
    pending = None  # (multihead layer, its input): whether the input is added back shows in what follows
    attention_calls = []  # (path, grid, what it returned besides its output)
    for index, (unit_path, m, inp, out) in enumerate(trace.calls):  # a layer called twice is two layers
        if isinstance(m, AttentionCrop):
            if index not in trace.crop_args:
                raise ValueError("%s: AttentionCrop must be called as crop(x, attention, grid), by position" % unit_path)
            builder.extend([_crop(unit_path, m, inp, trace.crop_args[index], attention_calls, x)])
            pending, previous, previous_path = None, out, unit_path
            continue
        if isinstance(m, nn.MultiheadAttention):
            inp, out = _from_tokens(unit_path, m, inp, out, previous, previous_path)
        if (_is_attention(m) or isinstance(m, nn.MultiheadAttention)) and inp is not None:
            attention_calls.append((unit_path, tuple(inp.shape[2:]), trace.returned.get(index, [])))
        if inp is not None and previous is not None and not _same(inp, previous):
            steps = _follow(previous, inp, pending)
            if steps is None:
                raise ValueError("%s: its input is not %s: the forward does something before it outside any module "
                                 "that vkattn has no layer for (a residual sum, a reshape, arithmetic, a functional "
                                 "call other than an activation, softmax, pool or flatten)"
                                 % (_describe(unit_path),
                                    "%s's output" % previous_path if previous_path else "the model input"))
            builder.extend(steps)
        layer = builder.add(unit_path, m, inp, out)
        pending = (layer, inp) if isinstance(m, nn.MultiheadAttention) else None
        previous, previous_path = out, unit_path
    result = _first_tensor(trace.output)
    steps = None
    if result is not None and previous is not None:
        steps = _follow(previous, result, pending)
        if steps is None and result.numel() == previous.numel():  # a squeeze or view of the last output
            steps = _follow(previous, result.reshape(previous.shape), pending)
    if steps is None:
        raise ValueError("the module's output is not %s's output: the forward does something after it outside any "
                         "module that vkattn has no layer for" % (previous_path if previous_path else "any layer's"))
    builder.extend(steps)

    network = {"format": 1, "input": list(shape), "layers": builder.layers}
    meta = {"vkattn.network": json.dumps(network)}
    if labels is not None:
        meta["vkattn.labels"] = json.dumps([str(label) for label in labels])
    meta.update(metadata or {})
    write_safetensors(path, builder.tensors, meta)
    if check:
        blocks = [u for u, m, _, _ in trace.calls
                  if _is_attention(m) or _is_squeeze_excitation(m) or isinstance(m, nn.MultiheadAttention)]
        _check(path, x, result, blocks)
    return network


def _check(path, x, expected, blocks):
    from . import Model  # the engine, loaded only when a check is asked for
    got = Model(path).run(x.numpy())
    want = expected.reshape(got.shape).numpy() if expected.numel() == got.size else None
    scale = max(1.0, float(np.abs(want).max())) if want is not None and want.size else 1.0
    if want is None or not np.allclose(got, want, rtol=0, atol=1e-3 * scale):
        os.remove(path)
        worst = float(np.abs(got - want).max()) if want is not None else float("nan")
        suspects = ("a block recognised by its parts (%s) may compute something else in its forward"
                    % ", ".join(dict.fromkeys(blocks))) if blocks else "a layer computes something vkattn does not"
        raise ValueError("the exported network's output differs from the module's (largest difference %.3g): %s"
                         % (worst, suspects))
