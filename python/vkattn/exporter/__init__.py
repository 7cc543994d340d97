"""vkattn.export: a PyTorch module as one vkattn network file (format 2, docs/network-format.md).

The forward is captured with torch.fx on a seeded random input at batch 2, every node holding the
value it had (capture.py), so the forward's own Python (shape unpacking, shape arithmetic,
torch._assert) runs as usual. Each node then goes through one mapping table (table.py): modules,
functions and tensor methods become format-2 nodes; layout calls become views that cost nothing
until an op reads them (views.py); what does not depend on the input (a spectral-normed weight, a
constant table) is folded into a weight. Known blocks stay whole: the SAGAN-style attention block
and squeeze-and-excitation, found by their parts and confirmed by their output (blocks.py),
nn.MultiheadAttention as self-attention, and vkattn.nn.AttentionCrop. Eval-mode BatchNorm is
folded into the convolution or linear layer before it when that layer's output has no other
reader. The file runs at any batch size; unless check=False it is run with vkattn at batch 3
against the module before it is kept. What cannot be exported is a ValueError naming the module
path, the op and the source line: "layer1.0 (...): ... at model.py:12".
"""
import inspect
import json
import os

import numpy as np
import torch
from torch import fx, nn

from ..nn import AttentionCrop
from ..safetensors import write_safetensors
from . import blocks, table
from .capture import CaptureError, capture
from .network import ExportError, Network
from .views import View

TRACE_BATCH, CHECK_BATCH = 2, 3


def export(module, path, input_shape, labels=None, metadata=None, check=True, attention_maps=False):
    """Writes module as a vkattn network file and returns the network description (a dict).

    input_shape: the shape of one input item without the batch, e.g. (C, H, W); a list of such
    shapes for a forward with several inputs. labels: class names, stored for the classifier.
    metadata: more str -> str pairs for the file. check: run the file with vkattn and refuse to
    keep it if its outputs differ from the module's. attention_maps: also make each attention
    layer's map (the heads' mean) an output named "<layer>.map", in the order the layers run
    (what `vkattn rollout` reads)."""
    if not isinstance(module, nn.Module):
        raise ValueError("vkattn.export takes a torch.nn.Module, not %s" % type(module).__name__)
    shapes = _input_shapes(input_shape)
    model = module
    if table.module_handler(model) or blocks.is_attention_block(model) or blocks.is_squeeze_excitation(model) or \
            isinstance(model, (nn.MultiheadAttention, AttentionCrop)):
        model = nn.Sequential(model)  # a lone layer or block is node "0", its weights "0.<name>"
    names = _input_names(model, len(shapes))
    dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)
    generator = torch.Generator().manual_seed(0)
    traced = {n: torch.randn((TRACE_BATCH,) + s, generator=generator, dtype=dtype) for n, s in zip(names, shapes)}
    with _evaluating(model):
        known = {}
        try:
            graph, tracer = capture(model, traced, _leaf_rule(known), known_functions=set(table.FUNCTIONS))
        except ExportError:
            raise
        except Exception as e:  # noqa: BLE001 - the forward's own failure, passed on with what was tried
            raise ValueError("the module's forward failed on inputs of shape %s: %s"
                             % (", ".join(str((TRACE_BATCH,) + s) for s in shapes), e)) from e
        net = _map(graph, tracer, known, attention_maps)
    net.fold_batch_norms()
    document, weights = net.document()
    meta = {"vkattn.network": json.dumps(document)}
    if labels is not None:
        meta["vkattn.labels"] = json.dumps([str(label) for label in labels])
    meta.update(metadata or {})
    write_safetensors(path, weights, meta)
    if check:
        try:
            _check(path, model, names, shapes, dtype, net.returned)
        except BaseException:
            os.remove(path)
            raise
    return document


def _input_shapes(input_shape):
    def one(s):
        shape = tuple(int(d) for d in s)
        if not 1 <= len(shape) <= 7 or min(shape) < 1:
            raise ValueError("an input shape must be 1 to 7 positive sizes without the batch, e.g. (C, H, W), not %s"
                             % (tuple(s),))
        return shape
    try:
        if all(isinstance(d, (int, np.integer)) for d in input_shape):
            return [one(input_shape)]
        return [one(s) for s in input_shape]
    except TypeError:
        raise ValueError("input_shape must be the shape of one input item, e.g. (C, H, W), or a list of them, not %r"
                         % (input_shape,)) from None


def _input_names(model, count):
    params = [p for p in inspect.signature(model.forward).parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(params) < count:
        raise ValueError("the module's forward takes %d input%s, but %d input shapes are given"
                         % (len(params), "" if len(params) == 1 else "s", count))
    required = [p for p in params if p.default is inspect.Parameter.empty]
    if len(required) > count:
        raise ValueError("the module's forward needs %d inputs (%s), but %d input shape%s given"
                         % (len(required), ", ".join(p.name for p in required), count, " is" if count == 1 else "s are"))
    return [p.name for p in params[:count]]


class _evaluating:
    """Eval mode while exporting; afterwards the module's modes, parameters and buffers as they were
    (a forward may update power-iteration vectors)."""

    def __init__(self, model):
        self.model = model

    def __enter__(self):
        self.modes = [(m, m.training) for m in self.model.modules()]
        self.saved = {k: v.detach().clone() for k, v in self.model.state_dict(keep_vars=True).items()}
        self.model.eval()

    def __exit__(self, *exc):
        with torch.no_grad():
            for k, v in self.model.state_dict(keep_vars=True).items():
                v.data.copy_(self.saved[k])
        for m, training in self.modes:
            m.training = training


def _leaf_rule(known):
    """Which modules stay one node: the known blocks (confirmed on this call), the layers the table
    maps, and every other torch.nn layer (so an unsupported one is named, not traced into)."""
    def leaf(m, path, args, kwargs):
        if isinstance(m, (AttentionCrop, nn.MultiheadAttention)):
            return True
        if blocks.is_attention_block(m) or blocks.is_squeeze_excitation(m):
            with torch.no_grad():
                output = m(*[a.clone() if torch.is_tensor(a) else a for a in args], **kwargs)
            found = blocks.confirmed(m, args, kwargs, output)
            if found:
                known.setdefault(path, []).append(found)
                return True
            return False
        if table.module_handler(m):
            return True
        return type(m).__module__.startswith("torch.nn") and not isinstance(m, (nn.Sequential, nn.ModuleList,
                                                                                  nn.ModuleDict))
    return leaf


def _where(node, tracer):
    """('layer1.0 (BasicBlock)', ' (at model.py:12)') for an error about node."""
    path = node.target if node.op == "call_module" else node.meta.get("module", "")
    label = "%s (%s)" % (path, type(tracer.root.get_submodule(path)).__name__) if path else "the forward"
    source = node.meta.get("source")
    return label, " (at %s)" % source if source else ""


def op_name(node):
    """How the user wrote the op: F.layer_norm, torch.bmm, Tensor.view(), operator.add."""
    if node.op == "call_method":
        return "Tensor.%s()" % node.target
    module = getattr(node.target, "__module__", None) or ""
    name = getattr(node.target, "__name__", str(node.target))
    prefix = {"torch.nn.functional": "F", "_operator": "operator", "torch._C._nn": "F", "torch._C._VariableFunctions":
              "torch"}.get(module, module.split(".")[0] if module else "torch")
    return "%s.%s" % (prefix, name)


def _map(graph, tracer, known, attention_maps=False):
    net = Network(TRACE_BATCH)
    ctx = table.Context(net, tracer.root)
    ctx.want_maps = bool(attention_maps)
    mapped = {}
    for node in graph.nodes:
        value = node.meta.get("value")
        if node.op == "placeholder":
            mapped[node] = net.add_input(node.target, tuple(value.shape))
            continue
        if node.op == "output":
            _outputs(ctx, node, fx.node.map_arg(node.args[0], lambda n: mapped[n]))
            continue
        if not node.meta.get("data"):
            mapped[node] = value if node.op != "get_attr" else tracer.fetch(node.target)
            continue
        args = fx.node.map_arg(node.args, lambda n: mapped[n])
        kwargs = fx.node.map_arg(node.kwargs, lambda n: mapped[n])
        try:
            mapped[node] = _call(ctx, node, tracer, known, args, kwargs)
        except ExportError as e:
            label, at = _where(node, tracer)
            what = str(e)
            if node.op != "call_module" and not what.startswith(op_name(node)):
                what = "%s: %s" % (op_name(node), what)
            raise ExportError("%s: %s%s" % (label, what, at)) from None
    return net


def _call(ctx, node, tracer, known, args, kwargs):
    if node.op == "call_module":
        m = tracer.root.get_submodule(node.target)
        args, kwargs = ctx.made((args, kwargs))
        if node.target in known:
            return _block(ctx, node, m, known[node.target].pop(0), args)
        if isinstance(m, nn.MultiheadAttention):
            return _multihead(ctx, node, m, args, kwargs)
        if isinstance(m, AttentionCrop):
            return _crop(ctx, node, m, args, kwargs)
        handler = table.module_handler(m)
        if handler is None:
            raise ExportError("%s is not supported" % type(m).__name__)
        return handler(ctx, node, m, *args, **kwargs)
    handler = (table.FUNCTIONS if node.op == "call_function" else table.METHODS).get(node.target)
    if handler is None:
        raise ExportError("%s is not supported" % op_name(node))
    if not getattr(handler, "deferred", False):  # deferred attention is made for anything else
        args, kwargs = ctx.made((args, kwargs))
    return handler(ctx, node, *args, **kwargs)


def _leaves(value, name="y"):
    """(name, leaf) for each leaf of a forward's result, walking tuples, lists and dicts: the names
    the outputs get ("y", "y.1", ... for a tuple; the keys of a dict). The export walks what the
    capture returned and its check walks what the module returned: the same leaves in the same
    order, so a leaf's position names it in both."""
    if isinstance(value, (tuple, list)):
        for i, v in enumerate(value):
            yield from _leaves(v, "%s.%d" % (name, i) if name != "y" or i else name)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, str(k))
    else:
        yield name, value


def _structure(value, pick):
    """value's structure (tensor, tuple, list, dict) with each tensor replaced by pick(tensor)."""
    if torch.is_tensor(value):
        return pick(value)
    if isinstance(value, (tuple, list)):
        return type(value)(_structure(v, pick) for v in value)
    if isinstance(value, dict):
        return {k: _structure(v, pick) for k, v in value.items()}
    return value


class _NotMapped:
    """A tensor a block returns that vkattn does not compute: an error if anything reads it."""

    def __init__(self, what):
        self.what = what


def _block(ctx, node, m, found, args):
    kind, y_ref, map_ref = found
    x = args[0]
    name = node.target
    weights = {}
    for part in ("query_conv", "key_conv", "value_conv") if kind == "self_attention" else ("fc1", "fc2"):
        conv = getattr(m, part)
        weights[part + ".weight"] = conv.weight
        weights[part + ".bias"] = conv.bias if conv.bias is not None else torch.zeros(conv.out_channels)
    keys = {}
    if kind == "self_attention":
        weights["gamma"] = torch.as_tensor(m.gamma).reshape(1)
        similarity = blocks.similarity_of(m)
        if similarity != "dot":
            keys["similarity"] = similarity
        if similarity == "additive":
            weights["additive.weight"] = m.additive.weight
        if hasattr(m, "scale"):
            keys["scale"] = float(m.scale)
    y = ctx.net.emit(kind, [ctx.value(x)], tuple(y_ref.shape), node.name, name=name, weights=weights, **keys)
    attention = None
    if map_ref is not None:
        attention = table.AttentionMap(ctx.net.nodes[-1], tuple(x.shape[2:]), ctx.net, tuple(map_ref.shape))
        ctx.maps[name] = attention

    def pick(t):
        if blocks._close(t, y_ref):
            return y
        if map_ref is not None and blocks._close(t, map_ref):
            return attention
        return _NotMapped("a tensor %s returns besides its output and map" % name)
    return _structure(node.meta["value"], pick)


def _multihead(ctx, node, m, args, kwargs):
    """nn.MultiheadAttention as self-attention over tokens: the input projection (one linear layer
    for q, k and v), one fused attention node over the heads with the masks as its bias, and the
    output projection. Its map, the heads' mean (or each head's), is made only if something reads it."""
    call = dict(zip(("query", "key", "value", "key_padding_mask", "need_weights", "attn_mask",
                     "average_attn_weights"), args))
    call.update(kwargs)
    q, k, v = (call.get(n) for n in ("query", "key", "value"))
    if not (isinstance(q, View) and q == k == v):
        raise ExportError("MultiheadAttention must get one tensor as query, key and value (self-attention)")
    if not m._qkv_same_embed_dim or m.bias_k is not None or m.add_zero_attn:
        raise ExportError("MultiheadAttention with kdim or vdim, add_bias_kv or add_zero_attn is not supported")
    if len(q.shape) != 3:
        raise ExportError("MultiheadAttention on a %d-D input" % len(q.shape))
    net = ctx.net
    x = q if m.batch_first else q.then(("permute", (1, 0, 2)))
    b, n, c = x.shape
    heads = int(m.num_heads)
    d = c // heads
    zeros = torch.zeros(3 * c)
    qkv = net.emit("linear", [ctx.value(x)], (b, n, 3 * c), node.name + ".in_proj", name=node.target + ".in_proj",
                   weights={"weight": m.in_proj_weight,
                            "bias": m.in_proj_bias if m.in_proj_bias is not None else zeros})
    parts = [net.value(qkv.then(("reshape", (b, n, 3, heads, d)), ("slice", 2, i, i + 1, 1),
                                ("reshape", (b, n, heads, d)), ("permute", (0, 2, 1, 3))), node.name + "." + part)
             for i, part in enumerate(("q", "k", "v"))]
    keys, inputs = {"scale": 1.0 / float(d) ** 0.5}, list(parts)
    bias = _attention_bias(ctx, call.get("attn_mask"), call.get("key_padding_mask"), b, heads, n)
    if isinstance(bias, View):
        inputs.append(net.value(bias))
    elif bias is not None:
        keys.update(table.bias_keys(net, node.target, bias))
    attention = net.emit("scaled_dot_product_attention", inputs, (b, heads, n, d), node.name, name=node.target, **keys)
    fused = net.nodes[-1]
    merged = attention.then(("permute", (0, 2, 1, 3)), ("reshape", (b, n, c)))
    y = net.emit("linear", [net.value(merged)], (b, n, c), node.name + ".out_proj", name=node.target + ".out_proj",
                 weights={"weight": m.out_proj.weight,
                          "bias": m.out_proj.bias if m.out_proj.bias is not None else torch.zeros(c)})
    average = call.get("average_attn_weights", True)
    finish = (lambda per_head: net.emit("mean", [net.value(per_head)], (b, n, n), node.name + ".map",
                                        dims=[1])) if average else None
    attention_map = table.AttentionMap(fused, _grid_of(x), net, (b, heads, n, n), finish)
    ctx.maps[node.target] = attention_map
    out = y if m.batch_first else y.then(("permute", (1, 0, 2)))
    return (out, attention_map if call.get("need_weights", True) else None)


def _grid_of(tokens):
    """(H, W) where (B, N, C) tokens are a (B, C, H, W) feature map's positions, flattened and
    transposed as vision code does; else None."""
    base = tokens.base_shape
    if len(base) != 4 or base[1] != tokens.shape[2]:
        return None
    flattened = View(tokens.base, base, (("reshape", base[:2] + (-1,)), ("permute", (0, 2, 1))))
    return tuple(base[2:]) if torch.equal(tokens.indices(), flattened.indices()) else None


def _attention_bias(ctx, attn_mask, key_padding_mask, batch, heads, n):
    """The masks of nn.MultiheadAttention as one additive bias, merged as PyTorch merges them: a
    constant broadcasting to (B, heads, N, N) without the batch, a value (a float key padding mask
    computed from the input), or None."""
    if isinstance(attn_mask, View):
        raise ExportError("MultiheadAttention's attn_mask is computed from the input; vkattn takes it as a constant")
    if isinstance(key_padding_mask, View):
        if attn_mask is not None:
            raise ExportError("MultiheadAttention with an attn_mask and a key_padding_mask computed from the input")
        return key_padding_mask.then(("reshape", (batch, 1, 1, n)))
    mask = None
    if attn_mask is not None:
        mask = attn_mask.reshape((1, 1, n, n) if attn_mask.dim() == 2 else (batch, heads, n, n))
    if key_padding_mask is not None:
        padding = key_padding_mask.reshape(batch, 1, 1, n)
        if padding.dtype == torch.uint8:
            padding = padding.bool()
        if mask is None:
            mask = padding
        elif mask.dtype == torch.bool:
            mask = mask | padding
        else:
            mask = mask.masked_fill(padding, float("-inf"))
    if mask is None:
        return None
    if mask.dtype == torch.bool:
        mask = torch.zeros(mask.shape, dtype=torch.float64).masked_fill(mask, float("-inf"))
    return table.batchless(mask, (batch, heads, n, n), ctx.net.batch)


def _crop(ctx, node, m, args, kwargs):
    if kwargs or len(args) != 3:
        raise ExportError("AttentionCrop must be called as crop(x, attention, grid), by position")
    image, attention, grid = args
    if not isinstance(attention, table.AttentionMap):
        raise ExportError("its attention map is not one that an attention layer before it returned")
    source = next(name for name, a in ctx.maps.items() if a is attention)
    if attention.grid is None:
        raise ExportError("its attention map comes from %s, whose tokens are not a feature map's positions" % source)
    if tuple(int(g) for g in grid) != tuple(attention.grid):
        raise ExportError("its grid %s is not the %dx%d grid of %s's input" % (tuple(grid), *attention.grid, source))
    return ctx.emit(node, "attention_crop", [image, attention], name=node.target, grid=list(attention.grid),
                    threshold=m.threshold, size=list(m.size))


def _outputs(ctx, node, result):
    found, positions = [], []  # the outputs, and where each is among the result's leaves
    for position, (name, value) in enumerate(_leaves(result)):
        if isinstance(value, (View, table.AttentionMap, table.Deferred)):
            found.append((name, value))
            positions.append(position)
        elif isinstance(value, _NotMapped):
            raise ExportError("the module's output %s is %s" % (name, value.what))
        elif isinstance(value, table.Unavailable):
            raise ExportError("the module's output %s is %s" % (name, value.why))
        elif torch.is_tensor(value):
            raise ExportError("the module's output %s does not depend on the input" % name)
    if not found:
        raise ExportError("the module's forward returns no tensor computed from its input")
    returned = len(found)
    if ctx.want_maps:
        found += [(layer + ".map", amap) for layer, amap in ctx.maps.items()]
    net = ctx.net
    for index, (name, value) in enumerate(found):
        made = ctx.value(value)
        if any(made == i["name"] for i in net.inputs):
            raise ExportError("the module's output %s is its input, unchanged" % name)
        if made in net.outputs:
            continue
        net.outputs.append(_rename(net, made, name))
        if index < returned:
            net.returned[net.outputs[-1]] = positions[index]


def _rename(net, value, name):
    """Gives the value the output's name where that name is free."""
    if name in net._names or name == value:
        return value
    net._names.add(name)
    for n in net.nodes:
        n["inputs"] = [name if v == value else v for v in n["inputs"]]
        if n.get("output") == value:
            n["output"] = name
        if value in n.get("outputs", []):
            n["outputs"] = [name if v == value else v for v in n["outputs"]]
    return name


def _check(path, model, names, shapes, dtype, returned):
    from .. import Model  # the engine, loaded only when a check is asked for
    generator = torch.Generator().manual_seed(1)
    xs = {n: torch.randn((CHECK_BATCH,) + s, generator=generator, dtype=dtype) for n, s in zip(names, shapes)}
    with _evaluating(model), torch.no_grad():
        try:
            want = model(*xs.values())
        except Exception as e:  # noqa: BLE001
            raise ValueError("the module's forward fails at batch %d (%s): vkattn's files run at any batch size"
                             % (CHECK_BATCH, e)) from e
    try:
        got = Model(path).run({n: x.numpy() for n, x in xs.items()}, outputs=True)
    except Exception as e:  # noqa: BLE001 - the engine's sentence, passed on
        raise ValueError("vkattn cannot run the exported network: %s" % e) from None
    leaves = [leaf for _, leaf in _leaves(want)]
    for name, position in returned.items():
        w = leaves[position]
        g = got[name]
        w = w.detach().double().numpy().reshape(g.shape) if w.numel() == g.size else None
        scale = max(1.0, float(np.abs(w).max())) if w is not None and w.size else 1.0
        if w is None or not np.allclose(g, w, rtol=0, atol=1e-3 * scale, equal_nan=True):
            worst = float(np.nanmax(np.abs(g - w))) if w is not None else float("nan")
            raise ValueError("the exported network's output '%s' differs from the module's at batch %d (largest "
                             "difference %.3g): an op computes something vkattn's does not" % (name, CHECK_BATCH, worst))

