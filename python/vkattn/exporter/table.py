"""The mapping table: each module type, function and tensor method the exporter knows, and the
format-2 nodes it becomes. A handler gets the fx node, its arguments with every activation as a
View (constants as their values) and returns the node's value: a View, or a tuple or dict of them.
"""
import operator

import torch
from torch import nn
from torch.nn import functional as F

from .network import ExportError
from .views import View, slice_step

try:  # torchvision's stochastic depth is nothing at inference; it is optional here
    from torchvision.ops import stochastic_depth as _stochastic_depth
    from torchvision.ops import StochasticDepth as _StochasticDepth
except ImportError:  # pragma: no cover - torchvision absent
    _stochastic_depth, _StochasticDepth = None, None


def pair(v):
    return [int(v), int(v)] if isinstance(v, int) else [int(x) for x in v]


def dim_of(d, rank):
    d = int(d)
    if not -rank <= d < rank:
        raise ExportError("dimension %d of a %d-D tensor" % (d, rank))
    return d % rank


def out_shape(node):
    return tuple(node.meta["value"].shape)


class Unsupported(ExportError):
    pass


class AttentionMap:
    """The (B, N, N) map of an attention node (its second output), and the grid of its input."""

    def __init__(self, node, grid, net, shape):
        self.node, self.grid, self.net, self.shape = node, grid, net, shape

    def view(self):
        """As a value: the node gets its map as a second output."""
        if "outputs" not in self.node:
            out = self.node.pop("output")
            self.node["outputs"] = [out, self.net.value_name(out + ".map")]
            self.net._names.add(self.node["outputs"][1])
        return View(self.node["outputs"][1], tuple(self.shape))


class Context:
    """What handlers use: the network, the module, and how to read an argument as a value name."""

    def __init__(self, net, root):
        self.net, self.root = net, root
        self.maps = {}  # layer name -> AttentionMap

    def value(self, x, what="its input"):
        if isinstance(x, AttentionMap):
            x = x.view()
        if not isinstance(x, View):
            raise ExportError("%s is a constant (it does not depend on the network's input), where vkattn needs a "
                              "value computed from the input" % what)
        return self.net.value(x)

    def emit(self, node, kind, inputs, hint=None, **keys):
        return self.net.emit(kind, [self.value(i) for i in inputs], out_shape(node), hint or node.name, **keys)


# --- convolutions, linear, normalisation ---------------------------------------------------------

def _conv_padding(padding, kernel, dilation):
    if isinstance(padding, str):
        if padding == "valid":
            return [0, 0]
        total = [d * (k - 1) for k, d in zip(kernel, dilation)]
        if any(t % 2 for t in total):
            raise Unsupported("padding='same' with an even window pads one side more, which vkattn's "
                              "convolution does not")
        return [t // 2 for t in total]
    return pair(padding)


def conv2d(ctx, node, x, weight, bias, stride=1, padding=0, dilation=1, groups=1, name=None):
    kernel = list(weight.shape[2:])
    padding = _conv_padding(padding, kernel, pair(dilation))
    bias = bias if bias is not None else torch.zeros(weight.shape[0])
    return ctx.emit(node, "conv2d", [x], name=name or node.name, weights={"weight": weight, "bias": bias},
                    stride=_not_default(pair(stride), [1, 1]), padding=_not_default(padding, [0, 0]),
                    groups=_not_default(int(groups), 1), dilation=_not_default(pair(dilation), [1, 1]))


def _not_default(v, default):
    return None if v == default else v


def module_conv2d(ctx, node, m, x):
    if m.padding_mode != "zeros":
        raise Unsupported("Conv2d with padding_mode='%s' is not supported (zero padding only)" % m.padding_mode)
    return conv2d(ctx, node, x, m.weight, m.bias, m.stride, m.padding, m.dilation, m.groups, name=node.target)


def function_conv2d(ctx, node, x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    _constant(weight, "F.conv2d's weight")
    return conv2d(ctx, node, x, weight, bias, stride, padding, dilation, groups)


def conv_transpose2d(ctx, node, x, weight, bias, stride, padding, dilation, groups, name):
    stride, padding, dilation = pair(stride), pair(padding), pair(dilation)
    shape_in, shape_out = x.shape, out_shape(node)
    output_padding = [shape_out[2 + i] - ((shape_in[2 + i] - 1) * stride[i] - 2 * padding[i] +
                                          dilation[i] * (weight.shape[2 + i] - 1) + 1) for i in range(2)]
    bias = bias if bias is not None else torch.zeros(weight.shape[1] * groups)
    return ctx.emit(node, "conv_transpose2d", [x], name=name, weights={"weight": weight, "bias": bias},
                    stride=_not_default(stride, [1, 1]), padding=_not_default(padding, [0, 0]),
                    output_padding=_not_default(output_padding, [0, 0]), groups=_not_default(int(groups), 1),
                    dilation=_not_default(dilation, [1, 1]))


def module_conv_transpose2d(ctx, node, m, x, output_size=None):
    if m.padding_mode != "zeros":
        raise Unsupported("ConvTranspose2d with padding_mode='%s' is not supported" % m.padding_mode)
    return conv_transpose2d(ctx, node, x, m.weight, m.bias, m.stride, m.padding, m.dilation, m.groups, node.target)


def function_conv_transpose2d(ctx, node, x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                              dilation=1):
    _constant(weight, "F.conv_transpose2d's weight")
    return conv_transpose2d(ctx, node, x, weight, bias, stride, padding, dilation, groups, node.name)


def linear(ctx, node, x, weight, bias, name):
    if len(x.shape) != 2:
        raise Unsupported("Linear on a %d-D input %s; vkattn's linear takes (B, F) today"
                          % (len(x.shape), tuple(x.shape)))
    bias = bias if bias is not None else torch.zeros(weight.shape[0])
    return ctx.emit(node, "linear", [x], name=name, weights={"weight": weight, "bias": bias})


def module_linear(ctx, node, m, x):
    return linear(ctx, node, x, m.weight, m.bias, node.target)


def function_linear(ctx, node, x, weight, bias=None):
    _constant(weight, "F.linear's weight")
    return linear(ctx, node, x, weight, bias, node.name)


def batch_norm(ctx, node, x, mean, var, weight, bias, eps, name):
    if mean is None or var is None:
        raise Unsupported("BatchNorm without running statistics (track_running_stats=False) normalises with "
                          "each batch's own, which vkattn does not")
    weights = {"running_mean": mean, "running_var": var}
    if weight is not None:
        weights["weight"] = weight
    if bias is not None:
        weights["bias"] = bias
    return ctx.emit(node, "batch_norm", [x], name=name, weights=weights, eps=_not_default(float(eps), 1e-5))


def module_batch_norm(ctx, node, m, x):
    return batch_norm(ctx, node, x, m.running_mean, m.running_var, m.weight, m.bias, m.eps, node.target)


def function_batch_norm(ctx, node, x, running_mean, running_var, weight=None, bias=None, training=False,
                        momentum=0.1, eps=1e-5):
    if training:
        raise Unsupported("F.batch_norm with training=True")
    return batch_norm(ctx, node, x, running_mean, running_var, weight, bias, eps, node.name)


def _constant(t, what):
    if isinstance(t, View):
        raise Unsupported("%s is computed from the input; vkattn takes it as a constant" % what)


# --- activations -----------------------------------------------------------------------------------

def unary(kind, **keys):
    def handler(ctx, node, x, *rest, **kw):
        return ctx.emit(node, kind, [x], **keys)
    return handler


def clamp(ctx, node, x, low=None, high=None, min=None, max=None):  # noqa: A002 - torch's names
    low = low if low is not None else min
    high = high if high is not None else max
    if isinstance(low, (View, torch.Tensor)) or isinstance(high, (View, torch.Tensor)):
        raise Unsupported("clamp with tensor bounds")
    if low is None and high is None:
        raise Unsupported("clamp without bounds")
    if low == 0 and high is None:
        return ctx.emit(node, "relu", [x])
    return ctx.emit(node, "clamp", [x], min=None if low is None else float(low),
                    max=None if high is None else float(high))


def hardtanh(ctx, node, x, min_val=-1.0, max_val=1.0, inplace=False):
    return clamp(ctx, node, x, min_val, max_val)


def relu6(ctx, node, x, inplace=False):
    return clamp(ctx, node, x, 0.0, 6.0)


def leaky_relu(ctx, node, x, negative_slope=0.01, inplace=False):
    return ctx.emit(node, "leaky_relu", [x], slope=float(negative_slope))


def gelu(ctx, node, x, approximate="none"):
    return ctx.emit(node, "gelu", [x], approximate=_not_default(approximate, "none"))


def elu(ctx, node, x, alpha=1.0, inplace=False):
    return ctx.emit(node, "elu", [x], alpha=_not_default(float(alpha), 1.0))


def _softmax_dim(dim, rank):
    return dim if dim is not None else (0 if rank in (0, 1, 3) else 1)  # PyTorch's implicit choice


def softmax(kind):
    def handler(ctx, node, x, dim=None, _stacklevel=3, dtype=None):
        rank = len(x.shape)
        dim = dim_of(_softmax_dim(dim, rank), rank)
        if dim == 0:
            raise Unsupported("%s over the batch dimension" % kind)
        return ctx.emit(node, kind, [x], dim=None if dim == rank - 1 else dim)
    return handler


def identity(ctx, node, x, *rest, **kw):
    return x


def module_activation(ctx, node, m, x):
    t = type(m)
    if t is nn.ReLU:
        return ctx.emit(node, "relu", [x])
    if t is nn.ReLU6:
        return relu6(ctx, node, x)
    if t is nn.Hardtanh:
        return hardtanh(ctx, node, x, m.min_val, m.max_val)
    if t is nn.LeakyReLU:
        return leaky_relu(ctx, node, x, m.negative_slope)
    if t is nn.GELU:
        return gelu(ctx, node, x, m.approximate)
    if t is nn.ELU:
        return elu(ctx, node, x, m.alpha)
    if t in (nn.Softmax, nn.LogSoftmax):
        return softmax("softmax" if t is nn.Softmax else "log_softmax")(ctx, node, x, m.dim)
    return ctx.emit(node, _PLAIN_MODULES[t], [x])


_PLAIN_MODULES = {nn.Sigmoid: "sigmoid", nn.Tanh: "tanh", nn.Hardswish: "hardswish", nn.Hardsigmoid: "hardsigmoid",
                  nn.SiLU: "silu"}


# --- pools and resampling ---------------------------------------------------------------------------

def max_pool2d(ctx, node, x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    if return_indices:
        raise Unsupported("max pooling with return_indices")
    kernel = pair(kernel_size)
    return ctx.emit(node, "max_pool2d", [x], kernel=kernel, stride=_not_default(pair(stride) if stride else kernel,
                                                                                kernel),
                    padding=_not_default(pair(padding), [0, 0]), dilation=_not_default(pair(dilation), [1, 1]),
                    ceil_mode=ceil_mode or None)


def avg_pool2d(ctx, node, x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    kernel = pair(kernel_size)
    return ctx.emit(node, "avg_pool2d", [x], kernel=kernel, stride=_not_default(pair(stride) if stride else kernel,
                                                                                kernel),
                    padding=_not_default(pair(padding), [0, 0]), ceil_mode=ceil_mode or None,
                    count_include_pad=None if count_include_pad else False,
                    divisor_override=int(divisor_override) if divisor_override else None)


def adaptive_pool(kind):
    def handler(ctx, node, x, output_size=None, return_indices=False):
        if return_indices:
            raise Unsupported("adaptive max pooling with return_indices")
        size = list(out_shape(node)[2:])
        if kind == "adaptive_avg_pool2d" and size == [1, 1]:
            return ctx.emit(node, "global_avg_pool2d", [x])
        return ctx.emit(node, kind, [x], size=size)
    return handler


def module_pool(ctx, node, m, x):
    if isinstance(m, nn.MaxPool2d):
        return max_pool2d(ctx, node, x, m.kernel_size, m.stride, m.padding, m.dilation, m.ceil_mode, m.return_indices)
    if isinstance(m, nn.AvgPool2d):
        return avg_pool2d(ctx, node, x, m.kernel_size, m.stride, m.padding, m.ceil_mode, m.count_include_pad,
                          m.divisor_override)
    if isinstance(m, nn.AdaptiveAvgPool2d):
        return adaptive_pool("adaptive_avg_pool2d")(ctx, node, x)
    return adaptive_pool("adaptive_max_pool2d")(ctx, node, x, return_indices=m.return_indices)


def interpolate(ctx, node, x, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    if mode not in ("nearest", "bilinear") or antialias:
        raise Unsupported("interpolate with mode='%s'%s (vkattn has nearest and bilinear)"
                          % (mode, " and antialias" if antialias else ""))
    if len(x.shape) != 4:
        raise Unsupported("interpolate on a %d-D input; vkattn's takes (B, C, H, W)" % len(x.shape))
    scale = None
    if scale_factor is not None and not recompute_scale_factor:
        scale = [float(s) for s in (scale_factor if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * 2)]
        scale = scale[0] if scale[0] == scale[1] else scale
    return ctx.emit(node, "interpolate", [x], mode=mode, size=list(out_shape(node)[2:]), scale=scale,
                    align_corners=True if align_corners else None)


def module_upsample(ctx, node, m, x):
    return interpolate(ctx, node, x, m.size, m.scale_factor, m.mode, m.align_corners,
                       getattr(m, "recompute_scale_factor", None))


# --- arithmetic ---------------------------------------------------------------------------------------

_BINARY = {operator.add: "add", operator.iadd: "add", torch.add: "add", "add": "add", "add_": "add",
           operator.sub: "sub", operator.isub: "sub", torch.sub: "sub", "sub": "sub", "sub_": "sub",
           torch.subtract: "sub",
           operator.mul: "mul", operator.imul: "mul", torch.mul: "mul", "mul": "mul", "mul_": "mul",
           torch.multiply: "mul",
           operator.truediv: "div", operator.itruediv: "div", torch.div: "div", "div": "div", "div_": "div",
           torch.true_divide: "div", torch.divide: "div"}


def binary(ctx, node, a, b, alpha=None, rounding_mode=None, out=None):
    return _binary(ctx, node, _BINARY[node.target], a, b, alpha, rounding_mode)


def _binary(ctx, node, kind, a, b, alpha=None, rounding_mode=None):
    if rounding_mode is not None:
        raise Unsupported("division with rounding_mode='%s'" % rounding_mode)
    if alpha not in (None, 1):
        raise Unsupported("%s with alpha=%s" % (kind, alpha))
    if isinstance(a, View) and isinstance(b, View):
        return ctx.emit(node, kind, [a, b])
    first = not isinstance(a, View)
    x, c = (b, a) if first else (a, b)
    if not isinstance(x, View):
        raise ExportError("neither operand is computed from the input")
    if isinstance(c, (int, float, bool)):
        return ctx.emit(node, kind, [x], scalar=float(c), constant_first=True if first else None)
    if torch.is_tensor(c):
        if c.dim() == 0:
            return ctx.emit(node, kind, [x], scalar=float(c), constant_first=True if first else None)
        name = ctx.net.weight("%s.constant" % node.name, c)
        return ctx.emit(node, kind, [x], constant=name, constant_first=True if first else None)
    raise Unsupported("%s with a %s operand" % (kind, type(c).__name__))


def reverse_sub(ctx, node, x, other, alpha=None):  # torch.rsub(x, other) = other - x
    return _binary(ctx, node, "sub", other, x, alpha)


# --- reductions -------------------------------------------------------------------------------------------

def reduction(kind):
    def handler(ctx, node, x, dim=None, keepdim=False, dtype=None, **kw):
        rank = len(x.shape)
        if dim is None or dim == []:
            raise Unsupported("%s over every dimension, the batch's too" % kind)
        dims = sorted({dim_of(d, rank) for d in (dim if isinstance(dim, (tuple, list)) else [dim])})
        if 0 in dims:
            raise Unsupported("%s over the batch dimension" % kind)
        if kind == "mean" and rank == 4 and dims == [2, 3]:  # the global average pool's faster kernel
            pooled = ctx.net.emit("global_avg_pool2d", [ctx.value(x)], x.shape[:2] + (1, 1), node.name)
            return pooled if keepdim else pooled.then(("reshape", x.shape[:2]))
        return ctx.emit(node, kind, [x], dims=dims, keepdim=True if keepdim else None)
    return handler


# --- layout -----------------------------------------------------------------------------------------------

def reshape_to(ctx, node, x, *rest, **kw):
    return x.then(("reshape", out_shape(node)))


def permute(ctx, node, x, *dims):
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = dims[0]
    rank = len(x.shape)
    return x.then(("permute", tuple(dim_of(d, rank) for d in dims)))


def transpose(ctx, node, x, a=None, b=None, dim0=None, dim1=None):
    rank = len(x.shape)
    a, b = dim_of(a if a is not None else dim0, rank), dim_of(b if b is not None else dim1, rank)
    dims = list(range(rank))
    dims[a], dims[b] = dims[b], dims[a]
    return x.then(("permute", tuple(dims)))


def contiguous(ctx, node, x, *rest, **kw):
    return x


def _piece(x, dim, start, end):
    step = slice_step(x.shape, dim, start, end, 1)
    return x if (step[2], step[3]) == (0, x.shape[dim]) else x.then(step)


def chunk(ctx, node, x, chunks=None, dim=0, split_size_or_sections=None, split_size=None, sections=None):
    rank = len(x.shape)
    dim = dim_of(dim, rank)
    pieces, start = [], 0
    for t in node.meta["value"]:
        pieces.append(_piece(x, dim, start, start + t.shape[dim]))
        start += t.shape[dim]
    return tuple(pieces)


def split(ctx, node, x, split_size_or_sections=None, dim=0, split_size=None):
    return chunk(ctx, node, x, dim=dim)


def unbind(ctx, node, x, dim=0):
    rank = len(x.shape)
    dim = dim_of(dim, rank)
    return tuple(_piece(x, dim, i, i + 1).then(("reshape", tuple(t.shape))) for i, t in enumerate(node.meta["value"]))


def narrow(ctx, node, x, dim, start, length):
    dim = dim_of(dim, len(x.shape))
    return _piece(x, dim, start % x.shape[dim] if start < 0 else start, (start % x.shape[dim]) + length)


def select(ctx, node, x, dim, index):
    dim = dim_of(dim, len(x.shape))
    index = index % x.shape[dim]
    return _piece(x, dim, index, index + 1).then(("reshape", out_shape(node)))


def getitem(ctx, node, x, index):
    if isinstance(x, (tuple, list)):
        return x[index]
    if isinstance(x, dict):
        return x[index]
    if not isinstance(x, View):
        raise ExportError("indexing a %s" % type(x).__name__)
    index = index if isinstance(index, tuple) else (index,)
    if any(torch.is_tensor(i) or isinstance(i, (list, View)) for i in index):
        raise Unsupported("indexing with a tensor or list (advanced indexing)")
    explicit = sum(1 for i in index if i is not None and i is not Ellipsis)
    expanded = []
    for i in index:
        if i is Ellipsis:
            expanded += [slice(None)] * (len(x.shape) - explicit)
        else:
            expanded.append(i)
    view, dim = x, 0
    for i in expanded:
        if i is None:
            continue
        if isinstance(i, int):
            i = i % view.shape[dim]
            view = _piece(view, dim, i, i + 1)
        elif isinstance(i, slice):
            step = slice_step(view.shape, dim, i.start, i.stop, i.step or 1)
            if (step[2], step[3], step[4]) != (0, view.shape[dim], 1):
                view = view.then(step)
        dim += 1
    return view.then(("reshape", out_shape(node)))


def cat(ctx, node, tensors, dim=0):
    tensors = [t for t in tensors]
    shape = out_shape(node)
    dim = dim_of(dim, len(shape))
    if dim == 0:
        raise Unsupported("cat along the batch dimension")
    if len(tensors) == 1:
        return tensors[0]
    return ctx.emit(node, "cat", tensors, dim=dim)


def stack(ctx, node, tensors, dim=0):
    shape = out_shape(node)
    dim = dim_of(dim, len(shape))
    if dim == 0:
        raise Unsupported("stack along the batch dimension")
    pieces = []
    for t in tensors:
        s = list(t.shape)
        s.insert(dim, 1)
        pieces.append(t.then(("reshape", tuple(s))))
    return ctx.emit(node, "cat", pieces, dim=dim)


def flatten(ctx, node, x, start_dim=0, end_dim=-1):
    return x.then(("reshape", out_shape(node)))


def expand_as_same(ctx, node, x, *rest, **kw):
    if out_shape(node) != x.shape:
        raise Unsupported("expand to another shape")
    return x


FUNCTIONS = {
    F.conv2d: function_conv2d, F.conv_transpose2d: function_conv_transpose2d, F.linear: function_linear,
    F.batch_norm: function_batch_norm,
    F.relu: unary("relu"), torch.relu: unary("relu"), torch.relu_: unary("relu"), F.relu_: unary("relu"),
    torch.sigmoid: unary("sigmoid"), F.sigmoid: unary("sigmoid"), torch.tanh: unary("tanh"), F.tanh: unary("tanh"),
    F.hardswish: unary("hardswish"), F.hardsigmoid: unary("hardsigmoid"), F.silu: unary("silu"),
    F.relu6: relu6, F.hardtanh: hardtanh, torch.clamp: clamp, torch.clip: clamp, F.leaky_relu: leaky_relu,
    F.gelu: gelu, F.elu: elu,
    F.softmax: softmax("softmax"), torch.softmax: softmax("softmax"), F.log_softmax: softmax("log_softmax"),
    torch.log_softmax: softmax("log_softmax"),
    F.dropout: identity, F.dropout2d: identity, F.alpha_dropout: identity, F.feature_alpha_dropout: identity,
    F.max_pool2d: max_pool2d, torch.max_pool2d: max_pool2d, F.avg_pool2d: avg_pool2d,
    torch._C._nn.avg_pool2d: avg_pool2d,
    F.adaptive_avg_pool2d: adaptive_pool("adaptive_avg_pool2d"),
    F.adaptive_max_pool2d: adaptive_pool("adaptive_max_pool2d"), F.interpolate: interpolate,
    torch.flatten: flatten, torch.reshape: reshape_to, torch.squeeze: reshape_to, torch.unsqueeze: reshape_to,
    torch.permute: permute, torch.transpose: transpose, torch.cat: cat, torch.concat: cat, torch.stack: stack,
    torch.chunk: chunk, torch.split: split, torch.unbind: unbind, torch.narrow: narrow, torch.select: select,
    torch.mean: reduction("mean"), torch.sum: reduction("sum"), torch.amax: reduction("amax"),
    torch.rsub: reverse_sub, operator.getitem: getitem,
}
FUNCTIONS.update({f: binary for f in _BINARY if not isinstance(f, str)})
if _stochastic_depth is not None:
    FUNCTIONS[_stochastic_depth] = identity

METHODS = {
    "relu": unary("relu"), "relu_": unary("relu"), "sigmoid": unary("sigmoid"), "sigmoid_": unary("sigmoid"),
    "tanh": unary("tanh"), "tanh_": unary("tanh"), "clamp": clamp, "clamp_": clamp, "clip": clamp,
    "softmax": softmax("softmax"), "log_softmax": softmax("log_softmax"),
    "view": reshape_to, "reshape": reshape_to, "flatten": flatten, "squeeze": reshape_to, "unsqueeze": reshape_to,
    "view_as": reshape_to, "reshape_as": reshape_to, "permute": permute, "transpose": transpose,
    "contiguous": contiguous, "chunk": chunk, "split": split, "unbind": unbind, "narrow": narrow, "select": select,
    "mean": reduction("mean"), "sum": reduction("sum"), "amax": reduction("amax"), "expand_as": expand_as_same,
    "float": contiguous, "clone": contiguous, "detach": contiguous,
}
METHODS.update({m: binary for m in _BINARY if isinstance(m, str)})

MODULES = [
    (nn.Conv2d, module_conv2d), (nn.ConvTranspose2d, module_conv_transpose2d), (nn.Linear, module_linear),
    ((nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d), module_batch_norm),
    ((nn.ReLU, nn.ReLU6, nn.Hardtanh, nn.LeakyReLU, nn.GELU, nn.ELU, nn.Softmax, nn.LogSoftmax)
     + tuple(_PLAIN_MODULES), module_activation),
    ((nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d), module_pool),
    (nn.Upsample, module_upsample),
    ((nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout, nn.FeatureAlphaDropout, nn.Identity),
     lambda ctx, node, m, x, *rest, **kw: x),
    (nn.Flatten, lambda ctx, node, m, x: x.then(("reshape", out_shape(node)))),
    (nn.Unflatten, lambda ctx, node, m, x: x.then(("reshape", out_shape(node)))),
]
if _StochasticDepth is not None:
    MODULES.append((_StochasticDepth, lambda ctx, node, m, x: x))


def module_handler(m):
    """The handler of m's class, or of the torch.nn class it derives from without another forward
    (nn.utils.parametrize's ParametrizedConv2d, UpsamplingBilinear2d)."""
    for types, handler in MODULES:
        for t in types if isinstance(types, tuple) else (types,):
            if isinstance(m, t) and type(m).forward is t.forward:
                return handler
    return None
