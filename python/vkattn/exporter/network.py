"""The network being written: format-2 nodes, their weights, and the passes over them before the
file is written (BatchNorm folded into the convolution or linear layer before it)."""
import torch

from .views import MAX_COPY_DIMS, View, copy_dims, is_reshape_of_base, item_strides


class ExportError(ValueError):
    """What cannot be exported, as one sentence."""


class Network:
    def __init__(self, batch):
        self.batch = batch           # the traced batch size
        self.inputs, self.nodes, self.outputs = [], [], []
        self.returned = {}           # output name -> its position among the forward's result's leaves (_leaves)
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
        for key in ("constant", "bias", "mask"):  # layers that name a constant in the file
            if isinstance(keys.get(key), str):
                used.append(keys[key])
        self.nodes.append(node)
        self.uses.append(used)
        if len(value_shape) == 0 or value_shape[0] != self.batch:
            raise ExportError("a %s gives %s at batch %d: its first dimension is not the batch, which vkattn keeps "
                              "first" % (kind, tuple(value_shape), self.batch))
        return View(output, tuple(value_shape))

    def value(self, view, hint=None):
        """The name of a value holding the view's elements: its base, or a copy that makes the layout
        (a reshape, one as_strided copy, or where neither composes, a few of them and rolls)."""
        if not view.steps:
            return view.base
        key = (view.base, view.steps)
        if key not in self._materialized:
            self._check_batch(view.shape, "a view")
            self._materialized[key] = self._copy(view, hint or view.base)
        return self._materialized[key].base

    def value_split(self, view):
        """(name, shape) of a value holding the view's elements with the batch first: a view whose
        first dimension is the batch merged with another ((B * windows, N, C) in Swin) is made as
        (B, windows, N, C), which row-wise ops read as they would the merged one."""
        shape = view.shape
        if len(shape) and shape[0] != self.batch and shape[0] % self.batch == 0:
            view = view.then(("reshape", (self.batch, shape[0] // self.batch) + tuple(shape[1:])))
        return self.value(view), view.shape

    def _copy(self, view, hint):
        shape = view.shape
        if is_reshape_of_base(view):
            if shape == view.base_shape:
                return View(view.base, shape)
            if len(shape) == 2:  # (B, F): the flatten a classifier head reads
                return self.emit("flatten", [view.base], shape, hint + ".flat")
            return self.emit("reshape", [view.base], shape, hint + ".reshaped", shape=list(shape[1:]))
        steps = view.steps
        rolls = [i for i, step in enumerate(steps) if step[0] == "roll"]
        if rolls:  # what comes before the first roll, the roll, then the rest
            i = rolls[0]
            before = View(view.base, view.base_shape, steps[:i])
            _, shifts, dims = steps[i]
            if any(d % len(before.shape) == 0 for d in dims):
                raise ExportError("a roll along the batch dimension is not something vkattn runs")
            rolled = self.emit("roll", [self.value(before, hint)], before.shape, hint + ".rolled", shifts=list(shifts),
                               dims=list(dims))
            return View(self.value(View(rolled.base, rolled.base_shape, steps[i + 1:]), hint), shape)
        # The longest run of steps that one copy makes (with the batch split out where it is merged
        # with another dimension), then the rest on that copy: where the rest only reshapes, the
        # copy's result takes that shape and it is one node.
        too_many = False
        for i in range(len(steps), 0, -1):
            prefix = View(view.base, view.base_shape, steps[:i])
            unsplit = prefix.shape
            first = unsplit[0]
            if first != self.batch:
                if first % self.batch:
                    continue
                prefix = prefix.then(("reshape", (self.batch, first // self.batch) + tuple(prefix.shape[1:])))
            strided = item_strides(prefix, self.batch)
            if not strided:
                continue
            item, strides, offset = strided
            if copy_dims(item, strides) > MAX_COPY_DIMS:  # fewer steps a copy, then
                too_many = True
                continue
            rest = steps[i:]
            if all(step[0] == "reshape" for step in rest):
                return self.emit("as_strided", [view.base], shape, hint + ".view", shape=list(item), strides=strides,
                                 offset=offset or None, result=list(shape[1:]) if tuple(item) != shape[1:] else None)
            if is_reshape_of_base(prefix):
                continue  # a copy of the base as it is: no nearer to the view
            made = self.emit("as_strided", [view.base], prefix.shape, hint + ".view", shape=list(item),
                             strides=strides, offset=offset or None,
                             result=list(prefix.shape[1:]) if tuple(item) != prefix.shape[1:] else None)
            again = (("reshape", unsplit),) if unsplit != prefix.shape else ()  # the rest reads the unsplit layout
            return View(self.value(View(made.base, made.base_shape, again + tuple(rest)), hint), shape)
        change = " then ".join("%s %s" % (step[0], step[1:] if step[0] == "slice" else step[1]) for step in steps)
        if too_many:
            raise ExportError("a layout change %s walks more than %d separate dimensions in one step, more than "
                              "vkattn's copy takes" % (change, MAX_COPY_DIMS))
        raise ExportError("a layout change %s moves the batch dimension among the others, which vkattn does not run"
                          % change)

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
