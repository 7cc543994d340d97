"""The network being written: format-2 nodes, their weights, and the passes over them before the
file is written (BatchNorm folded into the convolution or linear layer before it)."""
import torch

from .views import View, is_reshape_of_base


class ExportError(ValueError):
    """What cannot be exported, as one sentence."""


class Network:
    def __init__(self, batch):
        self.batch = batch           # the traced batch size
        self.inputs, self.nodes, self.outputs = [], [], []
        self.output_index = {}       # output name -> which of the forward's returned tensors it is
        self.weights = {}            # name -> tensor
        self.uses = []               # per node, the weight names it reads
        self._names = set()
        self._materialized = {}      # (base, steps) -> View of the copy

    def value_name(self, hint):
        name = hint or "v"
        k = 1
        while name in self._names:
            k += 1
            name = "%s_%d" % (hint, k)
        self._names.add(name)
        return name

    def add_input(self, name, shape):
        self._names.add(name)
        self.inputs.append({"name": name, "shape": [int(d) for d in shape[1:]]})
        return View(name, tuple(shape))

    def weight(self, name, tensor):
        t = tensor.detach().to(torch.float32).contiguous().clone()
        if name in self.weights and not torch.equal(self.weights[name], t):
            k = 2
            while "%s@%d" % (name, k) in self.weights:
                k += 1
            name = "%s@%d" % (name, k)
        self.weights[name] = t
        return name

    def emit(self, kind, inputs, value_shape, hint, weights=None, **keys):
        """A node of that type reading `inputs` (value names), making a value of `shape`; `weights`
        {suffix: tensor} are stored as <name>.<suffix>, the node's "name" (keys["name"])."""
        output = self.value_name(hint)
        node = {"type": kind}
        node.update({k: v for k, v in keys.items() if v is not None})
        node["inputs"], node["output"] = list(inputs), output
        used = []
        if weights:
            prefix = node["name"]
            stored = {suffix: self.weight("%s.%s" % (prefix, suffix), t) for suffix, t in weights.items()}
            if any(n != "%s.%s" % (prefix, s) for s, n in stored.items()):  # the prefix holds other weights
                prefix = self.value_name(prefix + "@")
                stored = {suffix: self.weight("%s.%s" % (prefix, suffix), t) for suffix, t in weights.items()}
                node["name"] = prefix
            used = list(stored.values())
        if "constant" in keys:
            used.append(keys["constant"])
        self.nodes.append(node)
        self.uses.append(used)
        if len(value_shape) == 0 or value_shape[0] != self.batch:
            raise ExportError("a %s gives %s at batch %d: its first dimension is not the batch, which vkattn keeps "
                              "first" % (kind, tuple(value_shape), self.batch))
        return View(output, tuple(value_shape))

    def value(self, view, hint=None):
        """The name of a value holding the view's elements: its base, or a copy that makes the layout."""
        if not view.steps:
            return view.base
        key = (view.base, view.steps)
        if key in self._materialized:
            return self._materialized[key].base
        shape = view.shape
        hint = hint or view.base
        if is_reshape_of_base(view):
            if shape == view.base_shape:
                return view.base
            self._check_batch(shape, "a reshape")
            if len(shape) == 2:  # (B, F): the flatten a classifier head reads
                made = self.emit("flatten", [view.base], shape, hint + ".flat")
            else:
                made = self.emit("reshape", [view.base], shape, hint + ".reshaped", shape=list(shape[1:]))
        else:
            made = self._steps(view, hint)
        self._materialized[key] = made
        return made.base

    def _steps(self, view, hint):
        current = View(view.base, view.base_shape)
        steps = list(view.steps)
        i = 0
        while i < len(steps):
            step = steps[i]
            if step[0] == "reshape":  # consecutive reshapes are one
                while i + 1 < len(steps) and steps[i + 1][0] == "reshape":
                    i += 1
                shape = tuple(steps[i][1])
                if shape != current.base_shape:
                    self._check_batch(shape, "a reshape")
                    current = self.emit("reshape", [current.base], shape, hint + ".reshaped", shape=list(shape[1:]))
            elif step[0] == "permute":
                if step[1][0] != 0:
                    raise ExportError("a permute %s moves the batch dimension (and what follows does not move it "
                                      "back), which vkattn does not run" % (tuple(step[1]),))
                current = self.emit("permute", [current.base], current.then(step).shape, hint + ".permuted",
                                    dims=list(step[1]))
            else:
                _, dim, start, end, stride = step
                if dim == 0:
                    raise ExportError("indexing the batch dimension (x[%d:%d]) is not something vkattn runs: a "
                                      "network file runs on any batch" % (start, end))
                current = self.emit("slice", [current.base], current.then(step).shape, hint + ".sliced", dim=dim,
                                    start=start, end=end, step=stride if stride != 1 else None)
            i += 1
        return current

    def _check_batch(self, shape, what):
        if len(shape) == 0 or shape[0] != self.batch:
            raise ExportError("%s to %s at batch %d merges or moves the batch dimension, which vkattn keeps first"
                              % (what, tuple(shape), self.batch))

    # --- passes ---
    def fold_batch_norms(self):
        """A batch_norm right after a conv2d, conv_transpose2d (one group) or linear that nothing else
        reads is folded into its weights: w' = w * s, b' = b * s + t per output channel,
        s = gamma / sqrt(var + eps), t = beta - mean * s."""
        maker = {n["output"]: i for i, n in enumerate(self.nodes) if "output" in n}
        readers = {}
        for n in self.nodes:
            for v in n["inputs"]:
                readers[v] = readers.get(v, 0) + 1
        for v in self.outputs:
            readers[v] = readers.get(v, 0) + 1
        names = {}
        for n in self.nodes:
            if "name" in n:
                names[n["name"]] = names.get(n["name"], 0) + 1
        drop = set()
        for i, bn in enumerate(self.nodes):
            if bn["type"] != "batch_norm":
                continue
            j = maker.get(bn["inputs"][0])
            if j is None or j in drop:
                continue
            conv = self.nodes[j]
            transposed = conv["type"] == "conv_transpose2d"
            if conv["type"] not in ("conv2d", "linear", "conv_transpose2d") or (transposed and "groups" in conv) or \
                    readers.get(conv["output"]) != 1 or names[conv["name"]] != 1:
                continue
            prefix, p = conv["name"], bn["name"]
            mean, var = self.weights[p + ".running_mean"].double(), self.weights[p + ".running_var"].double()
            scale = torch.rsqrt(var + bn.get("eps", 1e-5))
            if p + ".weight" in self.weights:
                scale = scale * self.weights[p + ".weight"].double()
            shift = -mean * scale + (self.weights[p + ".bias"].double() if p + ".bias" in self.weights else 0)
            w, b = self.weights[prefix + ".weight"].double(), self.weights[prefix + ".bias"].double()
            along = (1, -1, 1, 1) if transposed else (-1,) + (1,) * (w.dim() - 1)  # the output channels' axis
            self.weights[prefix + ".weight"] = (w * scale.reshape(along)).float()
            self.weights[prefix + ".bias"] = (b * scale + shift).float()
            conv["output"] = bn["output"]
            drop.add(i)
        self.nodes = [n for i, n in enumerate(self.nodes) if i not in drop]
        self.uses = [u for i, u in enumerate(self.uses) if i not in drop]

    def document(self):
        used = set(w for u in self.uses for w in u)
        return {"format": 2, "inputs": self.inputs, "nodes": self.nodes, "outputs": self.outputs}, \
            {k: v for k, v in self.weights.items() if k in used}
