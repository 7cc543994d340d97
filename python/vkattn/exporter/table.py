"""The mapping table: each module type, function and tensor method the exporter knows, and the
format-2 nodes it becomes. A handler gets the fx node, its arguments with every activation as a
View (constants as their values) and returns the node's value: a View, or a tuple or dict of them.
"""
import operator

import torch
from torch import fx, nn
from torch.nn import functional as F

from .network import ExportError
from .views import View, batch_local, slice_step

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


class AttentionMap:
    """The (B, N, N) map of an attention node (its second output), and the grid of its input (None
    for tokens). `finish`, when given, makes the map from that output (the heads' mean of each
    head's map) the first time it is read."""

    def __init__(self, node, grid, net, shape, finish=None):
        self.node, self.grid, self.net, self.shape, self.finish = node, grid, net, shape, finish
        self._made = None

    def view(self):
        """As a value: the node gets its map as a second output."""
        if self._made is None:
            if "outputs" not in self.node:
                out = self.node.pop("output")
                self.node["outputs"] = [out, self.net.value_name(out + ".map")]
                self.net._names.add(self.node["outputs"][1])
            made = View(self.node["outputs"][1], tuple(self.shape))
            self._made = self.finish(made) if self.finish else made
        return self._made


class Unavailable:
    """A result vkattn does not compute (torch.max's indices): exporting fails only where it is read."""

    def __init__(self, why):
        self.why = why


class Context:
    """What handlers use: the network, the module, and how to read an argument as a value name."""

    def __init__(self, net, root):
        self.net, self.root = net, root
        self.maps = {}  # layer name -> AttentionMap, in the order the layers run
        self.want_maps = False  # every map an output too

    def value(self, x, what="its input"):
        return self.net.value(self.view(x, what))

    def made(self, value):
        """value (arguments, perhaps nested) with each deferred attention in it written out, for
        handlers that read only values."""
        return fx.node.map_aggregate(value, lambda v: self.view(v) if isinstance(v, Deferred) else v)

    def view(self, x, what="its input"):
        """x as a View: an attention map or a deferred attention made, or an Error for a constant."""
        if isinstance(x, AttentionMap):
            x = x.view()
        if isinstance(x, Deferred):
            x = x.make(self)
        if isinstance(x, Unavailable):
            raise ExportError(x.why)
        if not isinstance(x, View):
            raise ExportError("%s is a constant (it does not depend on the network's input), where vkattn needs a "
                              "value computed from the input" % what)
        return x

    def emit(self, node, kind, inputs, hint=None, shape=None, along=None, constant=None, **keys):
        """A node making the fx node's value (or `shape`). Where that value or an operand does not
        have the batch first (Swin's (B * windows, N, C), (N, B, C) tokens), ops that treat each
        item alone (linear, layer_norm, elementwise ops, softmax, reductions) run on it laid out
        with the batch first, (B, k, ...) for a merged batch or the batch's dimension moved to the
        front, and their value is viewed back. along: (key, dims) of the node that name dims of
        the operands as the forward counts them, renamed here for that layout. constant: a tensor
        broadcasting against the operands (a binary op's), stored as the node's "constant"."""
        out = tuple(shape or out_shape(node))
        batch = self.net.batch
        views = [self.view(x) for x in inputs]
        name = "%s.constant" % node.name
        if out[0] == batch and all(v.shape[0] == batch for v in views):
            if along:
                keys[along[0]] = along[1]
            if constant is not None:
                keys["constant"] = self.net.weight(name, constant)
            return self.net.emit(kind, [self.net.value(v) for v in views], out, hint or node.name, **keys)
        layout = self._batch_first(views, out)
        if layout is None:
            raise ExportError("its result %s at batch %d does not have the batch first, and its operands %s cannot be "
                              "laid out with the batch first alike" % (out, batch, [tuple(v.shape) for v in views]))
        to, back, made_shape, place = layout
        if along:
            key, dims = along
            if any(place(d) is None for d in (dims if isinstance(dims, list) else [dims])):
                raise ExportError("it works along the batch dimension (here merged with another or moved), which "
                                  "vkattn does not")
            keys[key] = [place(d) for d in dims] if isinstance(dims, list) else place(dims)
        if constant is not None:  # aligned with the result's dimensions from the right, then laid out alike
            full = constant.reshape((1,) * (len(out) - constant.dim()) + tuple(constant.shape))
            if full.shape[0] != 1:
                raise ExportError("a constant operand of shape %s spans the batch" % (tuple(constant.shape),))
            if back[0][0] == "permute":
                full = full.permute(to[0][0][1])
            keys["constant"] = self.net.weight(name, full)
        names = [self.net.value(v.then(*t)) for v, t in zip(views, to)]
        return self.net.emit(kind, names, made_shape, hint or node.name, **keys).then(*back)

    def _batch_first(self, views, out):
        """(steps to each operand, steps back to the result, the result's shape, where an operand's
        dimension goes (None: into the batch)) that lay the operands (all of out's rank) and the
        result out with the batch first, or None."""
        batch, rank = self.net.batch, len(out)
        if any(len(v.shape) != rank for v in views):
            return None
        if out[0] % batch == 0 and all(v.shape[0] == out[0] for v in views):
            to = [(("reshape", (batch, v.shape[0] // batch) + tuple(v.shape[1:])),) for v in views]
            if all(batch_local(v.then(*t), batch) for v, t in zip(views, to)):
                return to, (("reshape", out),), (batch, out[0] // batch) + out[1:], lambda d: d + 1 if d else None
        for d in range(rank):
            order = (d,) + tuple(i for i in range(rank) if i != d)
            if all(v.shape[d] == batch and batch_local(v.then(("permute", order)), batch) for v in views):
                inverse = tuple(order.index(i) for i in range(rank))
                return [(("permute", order),)] * len(views), (("permute", inverse),), tuple(out[i] for i in order), \
                    lambda k, order=order: order.index(k) or None
        return None


def batchless(t, shape, batch):
    """A constant that broadcasts to `shape` (the batch first, perhaps merged with another
    dimension) as one that broadcasts to the shape vkattn gives that value, (batch, k, ...) where
    merged, without the batch: an Error where it differs between batch items. Dimensions along
    which it repeats are kept at size 1."""
    c = _one_item(t.double(), shape, batch)
    for d in range(1, c.dim()):
        first = c.narrow(d, 0, 1)
        if torch.equal(c, first.expand_as(c)):
            c = first
    return c.contiguous()


def _one_item(t, shape, batch):
    """t broadcast to `shape` (the batch first, perhaps merged with another dimension), laid out
    (batch, k, ...) where merged, as its first batch item: an Error where the items differ."""
    full = torch.broadcast_to(t, tuple(shape)).reshape(_split_shape(shape, batch))
    if not torch.equal(full, full[:1].expand_as(full)):
        raise ExportError("a constant of shape %s differs between batch items, which a network file that runs at any "
                          "batch cannot hold" % (tuple(t.shape),))
    return full[:1]


# --- attention, deferred: softmax(q k^T * scale + bias) v becomes one fused node --------------------

class Deferred:
    """A value not written as nodes yet: q @ k^T and its softmax wait for what reads them, so that
    the attention they start runs fused, with no (N, N) scores stored. Anything else that reads them
    gets them made as they are written (make)."""


class Scores(Deferred):
    """q @ k^T (q (..., Nq, d), k (..., Nk, d) as Views) times `scale` plus a constant `bias` that
    broadcasts to `shape`, the value's shape now (reshapes that keep the last two dimensions)."""

    def __init__(self, node, q, k, shape, scale=1.0, bias=None, raw=None, factor=None):
        self.node, self.q, self.k, self.shape, self.scale, self.bias = node, q, k, tuple(shape), scale, bias
        self.raw = tuple(raw or shape)  # q @ k^T's own shape
        self.factor = factor  # a constant each query row is scaled by (Swin V2's logit scale per head), or None
        self._made = None

    def changed(self, shape=None, scale=None, bias=None, factor=None):
        return Scores(self.node, self.q, self.k, shape or self.shape, self.scale if scale is None else scale,
                      self.bias if bias is None else bias, self.raw, self.factor if factor is None else factor)

    def query(self, net):
        """(name, shape) of q laid out with the batch first, times the row factor if there is one."""
        q, shape = net.value_split(self.q)
        if self.factor is None:
            return q, shape
        factor = batchless(self.factor, tuple(self.q.shape[:-1]) + (1,), net.batch)
        constant = net.weight("%s.factor" % self.node.name, factor)
        return net.emit("mul", [q], shape, self.node.name + ".q", constant=constant).base, shape

    def make(self, ctx):
        if self._made is None:
            net = ctx.net
            q, _ = self.query(net)
            k_t = self.k.then(("permute", _swap_last(len(self.k.shape))))
            kt, _ = net.value_split(k_t)
            split = _split_shape(self.raw, net.batch)
            made = net.emit("matmul", [q, kt], split, self.node.name)
            if self.scale != 1.0:
                made = net.emit("mul", [made.base], split, self.node.name + ".scaled", scalar=float(self.scale))
            view = made.then(("reshape", self.raw), ("reshape", self.shape))
            if self.bias is not None:
                name, shape = net.value_split(view)
                constant = net.weight("%s.bias" % self.node.name, batchless(self.bias, self.shape, net.batch))
                view = net.emit("add", [name], shape, self.node.name + ".biased", constant=constant)
                view = view.then(("reshape", self.shape))
            self._made = view
        return self._made


class Probabilities(Deferred):
    """softmax over the last dimension of deferred Scores."""

    def __init__(self, node, scores):
        self.node, self.scores, self.shape = node, scores, scores.shape
        self._made = None

    def make(self, ctx):
        if self._made is None:
            name, shape = ctx.net.value_split(self.scores.make(ctx))
            self._made = ctx.net.emit("softmax", [name], shape, self.node.name).then(("reshape", self.shape))
        return self._made


def bias_keys(net, prefix, bias):
    """The bias of a scaled_dot_product_attention node as file constants: its finite part and, where
    it holds -inf (a masked key), a mask of 0s and 1s, since a file holds finite numbers only."""
    if torch.isnan(bias).any() or (bias == float("inf")).any():
        raise ExportError("an attention bias holds NaN or +inf")
    masked = bias == float("-inf")
    keys = {}
    if not masked.all():
        keys["bias"] = net.weight(prefix + ".bias", bias.masked_fill(masked, 0.0))
    if masked.any():
        keys["mask"] = net.weight(prefix + ".mask", masked.double())
    return keys


def _swap_last(rank):
    dims = list(range(rank))
    dims[-1], dims[-2] = dims[-2], dims[-1]
    return tuple(dims)


def _split_shape(shape, batch):
    shape = tuple(shape)
    return shape if shape[0] == batch else (batch, shape[0] // batch) + shape[1:]


def matmul(ctx, node, a, b, out=None):
    if isinstance(a, Probabilities) and isinstance(b, View):
        fused = _fused_attention(ctx, node, a.scores, b)
        if fused is not None:
            return fused
    a, b = (ctx.view(x) if isinstance(x, (Deferred, AttentionMap)) else x for x in (a, b))
    if isinstance(a, View) and isinstance(b, View) and len(a.shape) >= 3 and len(b.shape) >= 3 and \
            len(out_shape(node)) >= 3:
        return Scores(node, a, b.then(("permute", _swap_last(len(b.shape)))), out_shape(node))
    if isinstance(a, View) and isinstance(b, View):
        return ctx.emit(node, "matmul", [a, b])
    first = not isinstance(a, View)
    x, c = (b, a) if first else (a, b)
    if not isinstance(x, View):
        raise ExportError("neither operand is computed from the input")
    if not torch.is_tensor(c) or c.dim() < 2:
        raise ExportError("matmul with a one-dimensional or non-tensor operand")
    return ctx.emit(node, "matmul", [x], constant=c, constant_first=True if first else None)


matmul.deferred = True


def einsum(ctx, node, equation, *operands):
    """Two operands as one (batched) matmul: the indices both keep are its batch, those one keeps its
    rows or columns, those both sum its inner dimension; each operand is permuted and reshaped to
    (batch..., rows, inner) and (batch..., inner, columns), and the product back to the output's
    order. One operand: a permutation. So attention written with einsum (MaxViT) still fuses."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    inputs, output = _einsum_terms(equation, len(operands))
    shapes = [tuple(x.shape) for x in operands]
    sizes = {}
    for labels, shape in zip(inputs, shapes):
        if len(labels) != len(shape):
            raise ExportError("einsum '%s': an operand of shape %s has %d indices" % (equation, shape, len(labels)))
        for label, size in zip(labels, shape):
            if sizes.setdefault(label, size) != size:
                raise ExportError("einsum '%s': index %s is %d in one place and %d in another (broadcasting)"
                                  % (equation, label, sizes[label], size))
    if len(operands) == 1:
        return _arranged(ctx, operands[0], inputs[0], output, [sizes[c] for c in output])
    if torch.is_tensor(operands[0]):  # the computed operand first (the output names the order)
        operands, inputs = operands[::-1], inputs[::-1]
    a, b = inputs
    batch = [c for c in output if c in a and c in b]
    rows = [c for c in output if c in a and c not in b]
    cols = [c for c in output if c in b and c not in a]
    inner = [c for c in a if c in b and c not in output]
    alone = [c for c in a + b if c not in output and c not in inner]
    if alone:
        raise ExportError("einsum '%s' sums index %s of one operand alone" % (equation, alone[0]))

    def count(labels):
        n = 1
        for c in labels:
            n *= sizes[c]
        return n

    # A constant second operand broadcasts over the first's leading row indices, as in torch.matmul:
    # they stay dimensions of their own (the network's batch among them) instead of merging.
    keep = rows[:-1] if torch.is_tensor(operands[1]) and not batch else []
    rest = rows[len(keep):]
    lead = [sizes[c] for c in batch + keep]
    left = _arranged(ctx, operands[0], a, batch + keep + rest + inner, lead + [count(rest), count(inner)])
    right = _arranged(ctx, operands[1], b, batch + inner + cols, [sizes[c] for c in batch] + [count(inner), count(cols)])
    product = matmul(ctx, _NodeAs(node, lead + [count(rest), count(cols)]), left, right)
    order = "".join(batch + rows + cols)
    if len(rest) == 1 and len(cols) == 1 and order == output:
        return product  # as matmul made it, so deferred attention stays deferred
    steps = [("reshape", tuple(sizes[c] for c in order))]
    if order != output:
        steps.append(("permute", tuple(order.index(c) for c in output)))
    return ctx.view(product).then(*steps)


einsum.deferred = True


def _einsum_terms(equation, operand_count):
    """'ij,jk->ik' as (['ij', 'jk'], 'ik') (spaces ignored; without '->' the output is every index
    written once, in alphabetical order), or an ExportError for what einsum() above does not do."""
    if not isinstance(equation, str):
        raise ExportError("einsum with operand sublists (only an equation string is supported)")
    text = equation.replace(" ", "")
    if "..." in text:
        raise ExportError("einsum '%s' with '...' (write every index out)" % equation)
    lhs, arrow, output = text.partition("->")
    inputs = lhs.split(",")
    if not arrow:
        output = "".join(sorted(c for c in set(lhs) if c.isalpha() and lhs.count(c) == 1))
    if len(inputs) != operand_count or operand_count not in (1, 2):
        raise ExportError("einsum '%s' with %d operands (one or two are supported)" % (equation, operand_count))
    for term in inputs + [output]:
        if not all(c.isalpha() for c in term):
            raise ExportError("einsum '%s' is not a valid equation" % equation)
        if len(set(term)) != len(term):
            raise ExportError("einsum '%s' repeats an index within one term (a diagonal or trace)" % equation)
    for c in output:
        if not any(c in term for term in inputs):
            raise ExportError("einsum '%s': output index %s is in no operand" % (equation, c))
    if len(inputs) == 1 and set(output) != set(inputs[0]):
        raise ExportError("einsum '%s' sums over an index of its one operand" % equation)
    return inputs, output


def _arranged(ctx, x, labels, order, shape):
    """x (indices `labels`) permuted to `order` and reshaped to `shape`: a View, a constant, or x
    itself (perhaps deferred attention) where nothing changes."""
    dims = tuple(labels.index(c) for c in order)
    shape = tuple(shape)
    if torch.is_tensor(x):
        return x.permute(dims).reshape(shape)
    steps = []
    if dims != tuple(range(len(dims))):
        steps.append(("permute", dims))
    if tuple(shape) != tuple(x.shape[d] for d in dims):
        steps.append(("reshape", shape))
    return ctx.view(x).then(*steps) if steps else x


def _fused_attention(ctx, node, scores, v):
    """softmax(scores) @ v as one scaled_dot_product_attention node, or None where the shapes do
    not line up (then it is written as it is)."""
    raw = scores.raw
    if scores.shape != raw or tuple(v.shape[:-2]) != raw[:-2] or v.shape[-2] != raw[-1]:
        return None
    net = ctx.net
    q, q_shape = scores.query(net)
    k, k_shape = net.value_split(scores.k)
    value, v_shape = net.value_split(v)
    if not (q_shape[:-2] == k_shape[:-2] == v_shape[:-2]):
        return None
    keys = {"scale": float(scores.scale)}
    if scores.bias is not None:
        keys.update(bias_keys(net, node.name, batchless(scores.bias, raw, net.batch)))
    out = tuple(q_shape[:-1]) + (v_shape[-1],)
    made = net.emit("scaled_dot_product_attention", [q, k, value], out, node.name, **keys)
    return made.then(("reshape", out_shape(node))) if out != out_shape(node) else made


# --- convolutions, linear, normalisation ---------------------------------------------------------

def _conv_padding(padding, kernel, dilation):
    if isinstance(padding, str):
        if padding == "valid":
            return [0, 0]
        total = [d * (k - 1) for k, d in zip(kernel, dilation)]
        if any(t % 2 for t in total):
            raise ExportError("padding='same' with an even window pads one side more, which vkattn's "
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
        raise ExportError("Conv2d with padding_mode='%s' is not supported (zero padding only)" % m.padding_mode)
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
        raise ExportError("ConvTranspose2d with padding_mode='%s' is not supported" % m.padding_mode)
    return conv_transpose2d(ctx, node, x, m.weight, m.bias, m.stride, m.padding, m.dilation, m.groups, node.target)


def function_conv_transpose2d(ctx, node, x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                              dilation=1):
    _constant(weight, "F.conv_transpose2d's weight")
    return conv_transpose2d(ctx, node, x, weight, bias, stride, padding, dilation, groups, node.name)


def linear(ctx, node, x, weight, bias, name):
    bias = bias if bias is not None else torch.zeros(weight.shape[0])
    return ctx.emit(node, "linear", [x], name=name, weights={"weight": weight, "bias": bias})


def module_linear(ctx, node, m, x):
    return linear(ctx, node, x, m.weight, m.bias, node.target)


def function_linear(ctx, node, x, weight, bias=None):
    _constant(weight, "F.linear's weight")
    return linear(ctx, node, x, weight, bias, node.name)


def batch_norm(ctx, node, x, mean, var, weight, bias, eps, name):
    if mean is None or var is None:
        raise ExportError("BatchNorm without running statistics (track_running_stats=False) normalises with "
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
        raise ExportError("F.batch_norm with training=True")
    return batch_norm(ctx, node, x, running_mean, running_var, weight, bias, eps, node.name)


def layer_norm(ctx, node, x, normalized_shape, weight, bias, eps, name):
    dims = 1 if isinstance(normalized_shape, int) else len(tuple(normalized_shape))
    if dims >= len(ctx.view(x).shape):
        raise ExportError("layer_norm over every dimension, the batch's too")
    weights = None
    if weight is not None or bias is not None:  # the layer takes both or neither
        _constant(weight, "layer_norm's weight")
        _constant(bias, "layer_norm's bias")
        weights = {"weight": weight if weight is not None else torch.ones_like(bias),
                   "bias": bias if bias is not None else torch.zeros_like(weight)}
    return ctx.emit(node, "layer_norm", [x], name=name, weights=weights, dims=_not_default(dims, 1),
                    eps=_not_default(float(eps), 1e-5))


def module_layer_norm(ctx, node, m, x):
    return layer_norm(ctx, node, x, m.normalized_shape, m.weight, m.bias, m.eps, node.target)


def function_layer_norm(ctx, node, x, normalized_shape, weight=None, bias=None, eps=1e-5, *rest):
    return layer_norm(ctx, node, x, normalized_shape, weight, bias, eps, node.name)


def _constant(t, what):
    if isinstance(t, View):
        raise ExportError("%s is computed from the input; vkattn takes it as a constant" % what)


# --- activations -----------------------------------------------------------------------------------

def unary(kind, **keys):
    def handler(ctx, node, x, *rest, **kw):
        return ctx.emit(node, kind, [x], **keys)
    return handler


def negate(ctx, node, x):
    return _binary(ctx, node, "mul", x, -1.0)


def rounded(ctx, node, x, decimals=0):
    if decimals:
        raise ExportError("round with decimals=%s" % decimals)
    return ctx.emit(node, "round", [x])


def clamp(ctx, node, x, low=None, high=None, min=None, max=None):  # noqa: A002 - torch's names
    low = low if low is not None else min
    high = high if high is not None else max
    if isinstance(low, (View, torch.Tensor)) or isinstance(high, (View, torch.Tensor)):
        raise ExportError("clamp with tensor bounds")
    if low is None and high is None:
        raise ExportError("clamp without bounds")
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


def softplus(ctx, node, x, beta=1, threshold=20):
    if float(beta) == 0:
        raise ExportError("softplus with beta=0")
    return ctx.emit(node, "softplus", [x], beta=_not_default(float(beta), 1.0),
                    threshold=_not_default(float(threshold), 20.0))


def _softmax_dim(dim, rank):
    return dim if dim is not None else (0 if rank in (0, 1, 3) else 1)  # PyTorch's implicit choice


def softmax(kind):
    def handler(ctx, node, x, dim=None, _stacklevel=3, dtype=None):
        rank = len(x.shape)
        dim = dim_of(_softmax_dim(dim, rank), rank)
        if dim == 0 and not isinstance(x, Deferred) and batch_local(ctx.view(x), ctx.net.batch):
            raise ExportError("%s over the batch dimension" % kind)
        if kind == "softmax" and isinstance(x, Scores) and dim == rank - 1:
            return Probabilities(node, x)
        return ctx.emit(node, kind, [x], along=("dim", dim))
    handler.deferred = True
    return handler


def normalize(ctx, node, x, p=2.0, dim=1, eps=1e-12, out=None):
    if float(p) != 2.0 or float(eps) != 1e-12:
        raise ExportError("F.normalize with p=%s, eps=%s (vkattn's is the L2 norm with eps 1e-12)" % (p, eps))
    x = ctx.view(x)
    rank = len(x.shape)
    dim = dim_of(dim, rank)
    if rank == 2 and dim == 1 and x.shape[0] == ctx.net.batch:  # (B, F) embeddings: as (B, 1, F)
        made = ctx.net.emit("l2_normalize", [ctx.net.value(x.then(("reshape", (x.shape[0], 1, x.shape[1]))))],
                            (x.shape[0], 1, x.shape[1]), node.name, dim=-1)
        return made.then(("reshape", x.shape))
    return ctx.emit(node, "l2_normalize", [x], along=("dim", dim))


def identity(ctx, node, x, *rest, **kw):
    return x


identity.deferred = True


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
    if t is nn.Softplus:
        return softplus(ctx, node, x, m.beta, m.threshold)
    if t in (nn.Softmax, nn.LogSoftmax):
        return softmax("softmax" if t is nn.Softmax else "log_softmax")(ctx, node, x, m.dim)
    return ctx.emit(node, _PLAIN_MODULES[t], [x])


_PLAIN_MODULES = {nn.Sigmoid: "sigmoid", nn.Tanh: "tanh", nn.Hardswish: "hardswish", nn.Hardsigmoid: "hardsigmoid",
                  nn.SiLU: "silu", nn.Softsign: "softsign", nn.Mish: "mish"}


# --- pools and resampling ---------------------------------------------------------------------------

def max_pool2d(ctx, node, x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    if return_indices:
        raise ExportError("max pooling with return_indices")
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
            raise ExportError("adaptive max pooling with return_indices")
        size = list(out_shape(node)[2:])
        if kind == "adaptive_avg_pool2d" and size == [1, 1]:
            return ctx.emit(node, "global_avg_pool2d", [x])
        return ctx.emit(node, kind, [x], size=size)
    return handler


class _NodeAs:
    """An fx node seen with another value shape: a 1-D op's node as its 2-D form's."""

    def __init__(self, node, shape):
        self._node, self.meta = node, dict(node.meta, value=torch.empty(shape, device="meta"))

    def __getattr__(self, name):
        return getattr(self._node, name)


def _one(v):
    return int(v[0]) if isinstance(v, (tuple, list)) else int(v)


def one_d(handler, lift):
    """A 1-D op on (B, C, L) run as its 2-D form on (B, C, 1, L): `lift` turns the 1-D call's
    arguments into the 2-D handler's; the result is viewed back as (B, C', L')."""
    def wrapped(ctx, node, x, *args, **kw):
        x = ctx.view(x)
        if len(x.shape) != 3:
            raise ExportError("a 1-D window op on a %d-D input; vkattn takes (B, C, L)" % len(x.shape))
        out = out_shape(node)
        y = handler(ctx, _NodeAs(node, out[:2] + (1,) + out[2:]), x.then(("reshape", x.shape[:2] + (1, x.shape[2]))),
                    *lift(*args, **kw))
        return y.then(("reshape", out))
    return wrapped


def _conv1d_args(weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    _constant(weight, "F.conv1d's weight")
    return (weight.unsqueeze(2), bias, [1, _one(stride)], padding if isinstance(padding, str) else [0, _one(padding)],
            [1, _one(dilation)], groups)


def _max_pool1d_args(kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return ([1, _one(kernel_size)], [1, _one(stride)] if stride else None, [0, _one(padding)], [1, _one(dilation)],
            ceil_mode, return_indices)


def _avg_pool1d_args(kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    return ([1, _one(kernel_size)], [1, _one(stride)] if stride else None, [0, _one(padding)], ceil_mode,
            count_include_pad)


def _adaptive1d_args(output_size=None, return_indices=False):
    return (None, return_indices)


conv1d = one_d(function_conv2d, _conv1d_args)
max_pool1d = one_d(max_pool2d, _max_pool1d_args)
avg_pool1d = one_d(avg_pool2d, _avg_pool1d_args)


def module_conv1d(ctx, node, m, x):
    if m.padding_mode != "zeros":
        raise ExportError("Conv1d with padding_mode='%s' is not supported (zero padding only)" % m.padding_mode)
    return one_d(lambda ctx, node, x, *a: conv2d(ctx, node, x, *a, name=node.target), _conv1d_args)(
        ctx, node, x, m.weight, m.bias, m.stride, m.padding, m.dilation, m.groups)


def module_pool1d(ctx, node, m, x):
    if isinstance(m, nn.MaxPool1d):
        return max_pool1d(ctx, node, x, m.kernel_size, m.stride, m.padding, m.dilation, m.ceil_mode, m.return_indices)
    if isinstance(m, nn.AvgPool1d):
        return avg_pool1d(ctx, node, x, m.kernel_size, m.stride, m.padding, m.ceil_mode, m.count_include_pad)
    kind = "adaptive_avg_pool2d" if isinstance(m, nn.AdaptiveAvgPool1d) else "adaptive_max_pool2d"
    return one_d(adaptive_pool(kind), _adaptive1d_args)(ctx, node, x, m.output_size,
                                                       getattr(m, "return_indices", False))


def expand(ctx, node, x, *sizes, **kw):
    """x.expand(...), x.expand_as(y), torch.broadcast_to: a view reading elements again; a binary
    op broadcasts it away (_unexpanded)."""
    x, target = ctx.view(x), out_shape(node)
    return x if tuple(x.shape) == target else x.then(("expand", target))


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
        raise ExportError("interpolate with mode='%s'%s (vkattn has nearest and bilinear)"
                          % (mode, " and antialias" if antialias else ""))
    if len(x.shape) != 4:
        raise ExportError("interpolate on a %d-D input; vkattn's takes (B, C, H, W)" % len(x.shape))
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
           torch.true_divide: "div", torch.divide: "div",
           operator.pow: "pow", torch.pow: "pow", "pow": "pow", "pow_": "pow",
           torch.minimum: "minimum", "minimum": "minimum", torch.maximum: "maximum", "maximum": "maximum"}


def binary(ctx, node, a, b, alpha=None, rounding_mode=None, out=None):
    return _binary(ctx, node, _BINARY[node.target], a, b, alpha, rounding_mode)


binary.deferred = True


def _binary(ctx, node, kind, a, b, alpha=None, rounding_mode=None):
    if rounding_mode is not None:
        raise ExportError("division with rounding_mode='%s'" % rounding_mode)
    if alpha not in (None, 1):
        raise ExportError("%s with alpha=%s" % (kind, alpha))
    scores = _scores_arithmetic(kind, a, b)
    if scores is not None:
        return scores
    a, b = (ctx.view(x) if isinstance(x, (Deferred, AttentionMap)) else x for x in (a, b))
    if isinstance(a, View) and isinstance(b, View):
        out = out_shape(node)
        a = _unexpanded(a, b.shape, out)
        b = _unexpanded(b, a.shape, out)
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
        return ctx.emit(node, kind, [x], constant=c, constant_first=True if first else None)
    raise ExportError("%s with a %s operand" % (kind, type(c).__name__))


def _unexpanded(v, other, out):
    """v without its last expands where broadcasting against `other` still makes `out` (x *
    y.expand_as(x) reads y as it is)."""
    while v.steps and v.steps[-1][0] == "expand":
        base = View(v.base, v.base_shape, v.steps[:-1])
        if tuple(torch.broadcast_shapes(base.shape, other)) != tuple(out):
            break
        v = base
    return v


def _scores_arithmetic(kind, a, b):
    """Deferred Scores scaled by a number or given a constant bias (Swin's relative position bias
    and shift mask), or None where the operation is something else."""
    first = isinstance(b, Scores)
    s, c = (b, a) if first else (a, b)
    if not isinstance(s, Scores) or isinstance(c, (View, Deferred, AttentionMap)):
        return None
    if torch.is_tensor(c) and c.dim() == 0:
        c = float(c)
    if torch.is_tensor(c) and kind == "mul" and s.shape == s.raw and c.dim() >= 1 and c.shape[-1] == 1 and \
            tuple(torch.broadcast_shapes(c.shape, s.shape)) == s.shape:  # constant along the keys: a row factor
        c = c.double()
        return s.changed(factor=c if s.factor is None else s.factor * c, bias=None if s.bias is None else s.bias * c)
    if isinstance(c, (int, float)) and not isinstance(c, bool):
        if kind == "mul":
            return s.changed(scale=s.scale * c, bias=None if s.bias is None else s.bias * c)
        if kind == "div" and not first and c != 0:
            return s.changed(scale=s.scale / c, bias=None if s.bias is None else s.bias / c)
        return None
    if torch.is_tensor(c) and kind in ("add", "sub") and not (kind == "sub" and first) and \
            tuple(torch.broadcast_shapes(c.shape, s.shape)) == s.shape:
        c = c.double() if kind == "add" else -c.double()
        return s.changed(bias=c if s.bias is None else s.bias + c)
    return None


def two_tensor(kind):
    """torch.max / torch.min: of two tensors elementwise (maximum, minimum); over a dimension the
    values (an amax, a minimum as -amax(-x)) with indices that vkattn does not compute."""
    def handler(ctx, node, a, b=None, keepdim=False, dim=None, out=None):
        if dim is None and isinstance(b, int) and not isinstance(b, bool):
            dim, b = b, None
        if b is not None:
            return _binary(ctx, node, kind, a, b)
        name = "torch.%s" % kind[:3]
        if dim is None:
            raise ExportError("%s over the whole tensor, the batch's too" % name)
        x = ctx.view(a)
        rank = len(x.shape)
        d = dim_of(dim, rank)
        if d == 0 and batch_local(x, ctx.net.batch):
            raise ExportError("%s over the batch dimension" % name)
        kept = tuple(1 if i == d else n for i, n in enumerate(x.shape))
        if kind == "minimum":
            x = ctx.emit(node, "mul", [x], shape=x.shape, hint=node.name + ".negated", scalar=-1.0)
        values = ctx.emit(node, "amax", [x], shape=kept, along=("dims", [d]), keepdim=True)
        if kind == "minimum":
            values = ctx.emit(node, "mul", [values], shape=kept, scalar=-1.0)
        if not keepdim:
            values = values.then(("reshape", x.shape[:d] + x.shape[d + 1:]))
        return values, Unavailable("the indices of %s over a dimension, which vkattn does not compute" % name)
    handler.deferred = True
    return handler


def reverse_sub(ctx, node, x, other, alpha=None):  # torch.rsub(x, other) = other - x
    return _binary(ctx, node, "sub", other, x, alpha)


# --- reductions -------------------------------------------------------------------------------------------

def reduction(kind):
    def handler(ctx, node, x, dim=None, keepdim=False, dtype=None, **kw):
        rank = len(x.shape)
        if dim is None or dim == []:
            raise ExportError("%s over every dimension, the batch's too" % kind)
        dims = sorted({dim_of(d, rank) for d in (dim if isinstance(dim, (tuple, list)) else [dim])})
        batch_first = batch_local(ctx.view(x), ctx.net.batch)
        if 0 in dims and batch_first:
            raise ExportError("%s over the batch dimension" % kind)
        if kind == "mean" and rank == 4 and dims == [2, 3] and batch_first:  # the global average pool's kernel
            pooled = ctx.net.emit("global_avg_pool2d", [ctx.value(x)], x.shape[:2] + (1, 1), node.name)
            return pooled if keepdim else pooled.then(("reshape", x.shape[:2]))
        kept = tuple(1 if d in dims else n for d, n in enumerate(x.shape))
        made = ctx.emit(node, kind, [x], shape=kept, along=("dims", dims), keepdim=True)
        return made if keepdim else made.then(("reshape", out_shape(node)))
    return handler


# --- layout -----------------------------------------------------------------------------------------------

def reshape_to(ctx, node, x, *rest, **kw):
    shape = out_shape(node)
    if isinstance(x, Scores) and shape[-2:] == x.shape[-2:]:
        bias = None if x.bias is None else torch.broadcast_to(x.bias, x.shape).reshape(shape)
        return x.changed(shape=shape, bias=bias)
    return ctx.view(x).then(("reshape", shape))


reshape_to.deferred = True


def permute(ctx, node, x, *dims):
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = dims[0]
    rank = len(x.shape)
    return x.then(("permute", tuple(dim_of(d, rank) for d in dims)))


def transpose(ctx, node, x, a=None, b=None, dim0=None, dim1=None, axis0=None, axis1=None):
    rank = len(x.shape)
    a = next(d for d in (a, dim0, axis0, 0) if d is not None)  # swapaxes names them axis0, axis1
    b = next(d for d in (b, dim1, axis1, 0) if d is not None)
    a, b = dim_of(a, rank), dim_of(b, rank)
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
        raise ExportError("indexing with a tensor or list (advanced indexing)")
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
    shape = out_shape(node)
    dim = dim_of(dim, len(shape))
    if dim == 0:
        raise ExportError("cat along the batch dimension")
    views = [ctx.view(t) for t in tensors if not torch.is_tensor(t)]
    parts = [_repeated(ctx, t, views[0]) if torch.is_tensor(t) else t for t in tensors]
    if len(parts) == 1:
        return parts[0]
    return ctx.emit(node, "cat", parts, along=("dim", dim))


def _repeated(ctx, t, like):
    """A constant operand of an op that reads values (a ViT's class token, expanded over the batch,
    before cat): one item of it repeated over like's batch by an expand node."""
    net = ctx.net
    shape = tuple(t.shape)
    if not shape or shape[0] != like.shape[0]:
        raise ExportError("cat of a constant of shape %s with values of shape %s" % (shape, tuple(like.shape)))
    split = _split_shape(shape, net.batch)
    name = net.weight("constant", _one_item(t, shape, net.batch))
    made = net.emit("expand", [net.value_split(like)[0]], split, "constant", constant=name)
    return made.then(("reshape", shape)) if split != shape else made


def pad(ctx, node, x, pad, mode="constant", value=None):
    """F.pad with a constant: each padded dimension a cat of the input with constant blocks,
    repeated over the batch; negative padding crops."""
    if mode != "constant":
        raise ExportError("F.pad with mode='%s' (vkattn pads with a constant)" % mode)
    x = ctx.view(x)
    if x.shape[0] != ctx.net.batch:
        raise ExportError("F.pad of a value whose batch is merged with another dimension")
    fill = 0.0 if value is None else float(value)
    for i in range(len(pad) // 2):
        d = len(x.shape) - 1 - i
        left, right = int(pad[2 * i]), int(pad[2 * i + 1])
        if (left or right) and d == 0:
            raise ExportError("F.pad of the batch dimension")
        if left < 0 or right < 0:
            x = x.then(slice_step(x.shape, d, max(-left, 0), x.shape[d] - max(-right, 0), 1))
            left, right = max(left, 0), max(right, 0)
        if not (left or right):
            continue
        pieces = []
        for width in (left, None, right):
            if width is None:
                pieces.append(x)
            elif width:
                block = list(x.shape)
                block[d] = width
                pieces.append(_repeated(ctx, torch.full(block, fill), x))
        shape = list(x.shape)
        shape[d] += left + right
        x = ctx.net.emit("cat", [ctx.net.value(p) for p in pieces], tuple(shape), node.name, dim=d)
    return x


def roll(ctx, node, x, shifts, dims=None):
    if dims is None:
        raise ExportError("torch.roll without dims (over the flattened tensor)")
    x = ctx.view(x)
    shifts = [int(shifts)] if isinstance(shifts, int) else [int(v) for v in shifts]
    dims = [dim_of(dims, len(x.shape))] if isinstance(dims, int) else [dim_of(d, len(x.shape)) for d in dims]
    return x.then(("roll", tuple(shifts), tuple(dims)))


def stack(ctx, node, tensors, dim=0):
    shape = out_shape(node)
    dim = dim_of(dim, len(shape))
    if dim == 0:
        raise ExportError("stack along the batch dimension")
    pieces = []
    for t in tensors:
        s = list(t.shape)
        s.insert(dim, 1)
        pieces.append(t.then(("reshape", tuple(s))))
    return ctx.emit(node, "cat", pieces, dim=dim)


def flatten(ctx, node, x, start_dim=0, end_dim=-1):
    return x.then(("reshape", out_shape(node)))


FUNCTIONS = {
    F.conv2d: function_conv2d, F.conv_transpose2d: function_conv_transpose2d, F.linear: function_linear,
    F.batch_norm: function_batch_norm,
    F.relu: unary("relu"), torch.relu: unary("relu"), torch.relu_: unary("relu"), F.relu_: unary("relu"),
    torch.sigmoid: unary("sigmoid"), F.sigmoid: unary("sigmoid"), torch.tanh: unary("tanh"), F.tanh: unary("tanh"),
    F.hardswish: unary("hardswish"), F.hardsigmoid: unary("hardsigmoid"), F.silu: unary("silu"),
    F.relu6: relu6, F.hardtanh: hardtanh, torch.clamp: clamp, torch.clip: clamp, F.leaky_relu: leaky_relu,
    F.gelu: gelu, F.elu: elu, F.softplus: softplus, F.softsign: unary("softsign"), F.mish: unary("mish"),
    torch.exp: unary("exp"), torch.log: unary("log"), torch.abs: unary("abs"), torch.floor: unary("floor"),
    torch.ceil: unary("ceil"), torch.round: rounded, torch.erf: unary("erf"), torch.special.erf: unary("erf"),
    torch.max: two_tensor("maximum"), torch.min: two_tensor("minimum"),
    operator.neg: negate, torch.neg: negate, torch.negative: negate, operator.abs: unary("abs"),
    F.softmax: softmax("softmax"), torch.softmax: softmax("softmax"), F.log_softmax: softmax("log_softmax"),
    torch.log_softmax: softmax("log_softmax"),
    F.dropout: identity, F.dropout2d: identity, F.alpha_dropout: identity, F.feature_alpha_dropout: identity,
    F.conv1d: conv1d, F.max_pool1d: max_pool1d, torch.max_pool1d: max_pool1d, F.avg_pool1d: avg_pool1d,
    torch.avg_pool1d: avg_pool1d, F.adaptive_avg_pool1d: one_d(adaptive_pool("adaptive_avg_pool2d"), _adaptive1d_args),
    F.adaptive_max_pool1d: one_d(adaptive_pool("adaptive_max_pool2d"), _adaptive1d_args),
    torch.broadcast_to: expand,
    F.max_pool2d: max_pool2d, torch.max_pool2d: max_pool2d, F.avg_pool2d: avg_pool2d,
    torch._C._nn.avg_pool2d: avg_pool2d,
    F.adaptive_avg_pool2d: adaptive_pool("adaptive_avg_pool2d"),
    F.adaptive_max_pool2d: adaptive_pool("adaptive_max_pool2d"), F.interpolate: interpolate,
    torch.flatten: flatten, torch.reshape: reshape_to, torch.squeeze: reshape_to, torch.unsqueeze: reshape_to,
    torch.permute: permute, torch.transpose: transpose, torch.swapaxes: transpose, torch.swapdims: transpose, torch.cat: cat, torch.concat: cat, torch.stack: stack,
    torch.chunk: chunk, torch.split: split, torch.unbind: unbind, torch.narrow: narrow, torch.select: select,
    torch.mean: reduction("mean"), torch.sum: reduction("sum"), torch.amax: reduction("amax"),
    torch.rsub: reverse_sub, operator.getitem: getitem,
    F.layer_norm: function_layer_norm, torch.layer_norm: function_layer_norm, F.normalize: normalize,
    torch.matmul: matmul, torch.bmm: matmul, operator.matmul: matmul, F.pad: pad, torch.roll: roll,
    torch.einsum: einsum,
}
FUNCTIONS.update({f: binary for f in _BINARY if not isinstance(f, str)})
if _stochastic_depth is not None:
    FUNCTIONS[_stochastic_depth] = identity

METHODS = {
    "relu": unary("relu"), "relu_": unary("relu"), "sigmoid": unary("sigmoid"), "sigmoid_": unary("sigmoid"),
    "tanh": unary("tanh"), "tanh_": unary("tanh"), "clamp": clamp, "clamp_": clamp, "clip": clamp,
    "exp": unary("exp"), "exp_": unary("exp"), "log": unary("log"), "log_": unary("log"), "abs": unary("abs"),
    "abs_": unary("abs"), "floor": unary("floor"), "ceil": unary("ceil"), "round": rounded, "erf": unary("erf"),
    "max": two_tensor("maximum"), "min": two_tensor("minimum"),
    "neg": negate, "negative": negate,
    "softmax": softmax("softmax"), "log_softmax": softmax("log_softmax"),
    "view": reshape_to, "reshape": reshape_to, "flatten": flatten, "squeeze": reshape_to, "unsqueeze": reshape_to,
    "view_as": reshape_to, "reshape_as": reshape_to, "permute": permute, "transpose": transpose,
    "swapaxes": transpose, "swapdims": transpose,
    "contiguous": contiguous, "chunk": chunk, "split": split, "unbind": unbind, "narrow": narrow, "select": select,
    "mean": reduction("mean"), "sum": reduction("sum"), "amax": reduction("amax"), "expand_as": expand, "expand": expand,
    "float": contiguous, "clone": contiguous, "detach": contiguous,
    "matmul": matmul, "bmm": matmul, "__matmul__": matmul, "roll": roll,
}
METHODS.update({m: binary for m in _BINARY if isinstance(m, str)})

MODULES = [
    (nn.Conv2d, module_conv2d), (nn.ConvTranspose2d, module_conv_transpose2d), (nn.Linear, module_linear),
    (nn.Conv1d, module_conv1d), ((nn.MaxPool1d, nn.AvgPool1d, nn.AdaptiveAvgPool1d, nn.AdaptiveMaxPool1d), module_pool1d),
    (nn.LayerNorm, module_layer_norm),
    ((nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d), module_batch_norm),
    ((nn.ReLU, nn.ReLU6, nn.Hardtanh, nn.LeakyReLU, nn.GELU, nn.ELU, nn.Softplus, nn.Softmax, nn.LogSoftmax)
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


from .local_attention import LocalSelfAttention, module_local_self_attention  # noqa: E402
MODULES.append((LocalSelfAttention, module_local_self_attention))
