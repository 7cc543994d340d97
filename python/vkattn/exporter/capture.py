"""Graph capture: the forward as a torch.fx graph whose every node also holds the value it had on a
concrete input.

fx's own tracer gives shapes as proxies; on Debian's torch 1.13 under Python 3.11 unpacking one
(`b, c, h, w = x.shape`) fails, as does any Python arithmetic or `if` on a shape. Here every
proxy carries its concrete value, so shapes are plain numbers and the forward's Python runs as it
would: the graph is the one the input takes. Each node's meta holds that `value` and `data`:
whether it depends on the input's values (an activation) or not (a constant, folded on export:
spectral norm's weight, a position table). Branching on an activation's values is refused.
"""
import builtins
import operator
import os
import traceback

import torch
from torch import fx, nn

# Tensor attributes read as plain values (no node): what a forward uses for shape arithmetic.
_ATTRIBUTES = {"shape", "dtype", "device", "ndim", "is_cuda", "layout", "requires_grad", "is_floating_point"}
_QUERIES = {"size", "dim", "numel", "nelement", "element_size", "stride", "is_contiguous", "get_device", "type",
            "is_floating_point", "__len__"}
# Tensors these make depend on another's shape and type only, not its values: constants (Swin's
# shift mask starts as x.new_zeros(...)).
_SHAPE_ONLY_METHODS = {"new_zeros", "new_ones", "new_full", "new_empty", "new_tensor"}
_SHAPE_ONLY_FUNCTIONS = {torch.zeros_like, torch.ones_like, torch.full_like, torch.empty_like}
_IN_PLACE_OPERATORS = {operator.iadd, operator.isub, operator.imul, operator.itruediv, operator.ifloordiv,
                       operator.ipow, operator.iand, operator.ior}


class CaptureError(ValueError):
    """What the forward does that cannot become a graph, as one sentence."""


_OURS = (os.path.dirname(torch.__file__) + os.sep, os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep)


def caller_line():
    """'file.py:12' of the innermost frame of the module's own code (not torch's, not ours)."""
    for frame in reversed(traceback.extract_stack()):
        if not os.path.abspath(frame.filename).startswith(_OURS):
            return "%s:%d" % (frame.filename, frame.lineno)
    return ""


def _map(value, fn):
    return fx.node.map_aggregate(value, fn)


class _Proxy(fx.Proxy):
    """A proxy that knows its value."""

    def __init__(self, node, tracer, value, data):
        super().__init__(node, tracer)
        self.value, self.from_input = value, data

    def __getattr__(self, k):
        if k == "data":  # the same values, outside autograd: the same node here
            return self
        if k in _ATTRIBUTES:
            return getattr(self.value, k)
        if k == "T":  # tensor-valued attributes: the calls they stand for
            return self.permute(*reversed(range(self.value.dim())))
        if k == "mT":
            return self.transpose(-2, -1)
        return super().__getattr__(k)

    def __setattr__(self, k, v):
        if k == "data" and isinstance(v, _Proxy):  # u.data = new: later reads of u see the new value
            object.__setattr__(self, "node", v.node)
            object.__setattr__(self, "value", v.value)
            object.__setattr__(self, "from_input", v.from_input)
            return
        object.__setattr__(self, k, v)

    def __iter__(self):
        if isinstance(self.value, (tuple, list)) or torch.is_tensor(self.value):
            return iter([self[i] for i in range(len(self.value))])
        return super().__iter__()

    def __len__(self):
        return len(self.value)

    def __bool__(self):
        if self.from_input:
            line = caller_line()
            raise CaptureError("the forward branches on a tensor's values%s (data-dependent control flow), which one "
                               "graph cannot hold" % (" at " + line if line else ""))
        return bool(self.value)

    def __index__(self):
        return operator.index(self.value)

    def __setitem__(self, key, value):  # t[a:b] = v: a node that changes t's value in place
        self.tracer.create_proxy("call_function", operator.setitem, (self, key, value), {})

    def keys(self):
        return self.value.keys()


def _concrete(value):
    return _map(value, lambda a: a.value if isinstance(a, _Proxy) else a)


def _has_data(value):
    found = []
    _map(value, lambda a: found.append(a.from_input) if isinstance(a, _Proxy) else None)
    return any(found)


def _has_proxy(value):
    found = []
    _map(value, lambda a: found.append(1) if isinstance(a, fx.Proxy) else None)
    return bool(found)


def _clone_tensors(value):
    return _map(value, lambda a: a.clone() if torch.is_tensor(a) else a)


class ConcreteTracer(fx.Tracer):
    """Traces with concrete values. `leaf(module, path, args, kwargs)` says which modules stay one
    node (the caller's choice, made with the call's concrete arguments)."""

    def __init__(self, inputs, leaf):
        super().__init__(autowrap_functions=())
        self.inputs, self.leaf = inputs, leaf
        self.scopes = []  # the paths of the modules being traced through, innermost last
        self.concrete = 0  # > 0 while plain values are computed: module attributes are then plain too
        self.constants = {}  # plain tensors the forward made, which fx would store on the module

    def create_proxy(self, kind, target, args, kwargs, name=None, type_expr=None, proxy_factory_fn=None):
        cargs, ckwargs = _concrete(args), _concrete(kwargs)
        data = _has_data((args, kwargs)) and not (kind == "call_method" and target in _SHAPE_ONLY_METHODS or
                                                  kind == "call_function" and target in _SHAPE_ONLY_FUNCTIONS)
        in_place = False
        if kind == "placeholder":
            value, data = self.inputs[target], True
        elif kind == "get_attr":
            value = self.fetch(target)
        elif kind == "output":
            value = cargs[0]
        else:
            if kind == "call_method" and target in _QUERIES or kind == "call_function" and target is builtins.getattr:
                return getattr(cargs[0], target)(*cargs[1:], **ckwargs) if kind == "call_method" \
                    else getattr(cargs[0], cargs[1])
            in_place = target in _IN_PLACE_OPERATORS or (isinstance(target, str) and target.endswith("_")
                                                         and not target.startswith("__")) or ckwargs.get("inplace")
            # An activation's earlier values stay as they were; a constant changed in place changes
            # for every view of it (Swin V2 zeroes a slice of a cloned bias).
            if (in_place and data) or kind == "call_module":
                cargs, ckwargs = _clone_tensors(cargs), _clone_tensors(ckwargs)
            self.concrete += 1
            try:
                if kind == "call_function":
                    value = target(*cargs, **ckwargs)
                elif kind == "call_method":
                    value = getattr(cargs[0], target)(*cargs[1:], **ckwargs)
                else:
                    value = self.root.get_submodule(target)(*cargs, **ckwargs)
            finally:
                self.concrete -= 1
        node = self.create_node(kind, target, self.create_arg(args), self.create_arg(kwargs), name, type_expr)
        node.meta["value"], node.meta["data"] = value, data
        node.meta["source"] = caller_line() if kind not in ("placeholder", "output") else ""
        node.meta["module"] = self.scopes[-1] if self.scopes else ""
        proxy = _Proxy(node, self, value, data)
        if kind in ("call_method", "call_function") and in_place and args and isinstance(args[0], _Proxy):
            # x.mul_(2) changes x: later reads of that variable are this node (fx alone would keep
            # reading the old node, as if the call had not happened).
            for k in ("node", "value", "from_input"):
                object.__setattr__(args[0], k, getattr(proxy, k))
        return proxy

    def fetch(self, target):
        if target in self.constants:
            return self.constants[target]
        value = self.root
        self.concrete += 1
        try:
            for part in target.split("."):
                value = getattr(value, part)
        finally:
            self.concrete -= 1
        return value

    def create_arg(self, a):
        if isinstance(a, _Proxy):
            return a.node
        if torch.is_tensor(a) and not isinstance(a, nn.Parameter):
            for name, t in self.constants.items():
                if t is a:
                    return self._constant_node(name)
            for name, b in self.root.named_buffers():
                if b is a:
                    return self._constant_node(name, b)
            name = "_vkattn_constant%d" % len(self.constants)
            self.constants[name] = a
            return self._constant_node(name)
        if isinstance(a, nn.Parameter):
            for name, p in self.root.named_parameters():
                if p is a:
                    return self._constant_node(name, p)
        return super().create_arg(a)

    def _constant_node(self, name, value=None):
        node = self.create_node("get_attr", name, (), {})
        node.meta["value"], node.meta["data"] = self.constants.get(name, value), False
        return node

    def getattr(self, attr, attr_val, parameter_proxy_cache):
        if self.concrete:
            return attr_val
        if isinstance(attr_val, nn.Parameter) or (torch.is_tensor(attr_val) and any(
                attr_val is b for _, b in self.root.named_buffers())):
            for name, p in list(self.root.named_parameters()) + list(self.root.named_buffers()):
                if p is attr_val:
                    if name not in parameter_proxy_cache:
                        parameter_proxy_cache[name] = self.create_proxy("get_attr", name, (), {})
                    return parameter_proxy_cache[name]
        return attr_val

    def call_module(self, m, forward, args, kwargs):
        if not _has_proxy((args, kwargs)):  # a call on plain values (a block's check): no node
            return forward(*args, **kwargs)
        path = self.path_of_module(m)
        self.concrete += 1
        try:
            leaf = self.leaf(m, path, _concrete(args), _concrete(kwargs))
        finally:
            self.concrete -= 1
        if not leaf:
            self.scopes.append(path)
            try:
                return forward(*args, **kwargs)
            finally:
                self.scopes.pop()
        return self.create_proxy("call_module", path, args, kwargs)

    def is_leaf_module(self, m, path):
        return False  # decided in call_module, where the arguments are known


def capture(model, inputs, leaf, known_functions=()):
    """(fx.Graph, the module it reads weights from) for model(*inputs), its nodes' meta holding
    `value` and `data`. inputs: {forward parameter name: tensor}. Functions a library marked with
    torch.fx.wrap (torchvision's shifted_window_attention) are traced into unless they are among
    known_functions, which stay one node."""
    tracer = ConcreteTracer(inputs, leaf)
    wrapped = fx._symbolic_trace._wrapped_fns_to_patch
    saved = list(wrapped)
    wrapped[:] = [(scope, name) for scope, name in saved if scope.get(name) in known_functions]
    try:
        with torch.no_grad():
            graph = tracer.trace(model)
    finally:
        wrapped[:] = saved
    return graph, tracer
