"""Layout as data: a View is an engine value seen through reshapes, permutes and slices.

The forward's layout calls (view, flatten, permute, transpose, chunk, x[:, 0], ...) are recorded
as steps, not written as nodes at once. When an op reads a view, the steps are composed on an
index tensor: a composition that only renames the layout (x.flatten(2).transpose(1, 2) and back)
costs nothing, one that is a reshape is one copy, and only the rest runs step by step. So a
sequence that moves the batch for a moment ((N, B, C) tokens) can still be exported when its
composition does not.
"""
import functools
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class View:
    base: str          # the engine value
    base_shape: tuple  # its shape at the traced batch, batch first
    steps: tuple = ()  # ("reshape", shape) | ("permute", dims) | ("slice", dim, start, end, step) |
    #                    ("roll", shifts, dims)

    def then(self, *steps):
        return View(self.base, self.base_shape, self.steps + tuple(steps))

    # Both are computed once per view: the exporter asks them of the same view many times, and the
    # indices of a 224x224 network's views are large.
    @functools.cached_property
    def shape(self):
        return tuple(apply(torch.empty(self.base_shape, device="meta"), self.steps).shape)

    def indices(self):
        """Where each element of the view comes from, as flat indices into the base (not to be
        changed in place: it is kept)."""
        return self._indices

    @functools.cached_property
    def _indices(self):
        count = 1
        for d in self.base_shape:
            count *= d
        return apply(torch.arange(count).reshape(self.base_shape), self.steps)


def apply(t, steps):
    for step in steps:
        if step[0] == "reshape":
            t = t.reshape(step[1])
        elif step[0] == "permute":
            t = t.permute(step[1])
        elif step[0] == "roll":
            t = torch.roll(t, step[1], step[2])
        elif step[0] == "expand":  # broadcast: the same element read again along the new sizes
            t = t.expand(step[1])
        else:
            _, dim, start, end, stride = step
            index = [slice(None)] * t.dim()
            index[dim] = slice(start, end, stride)
            t = t[tuple(index)]
    return t


def batch_local(view, batch):
    """Whether item b of the view (its first dimension the batch) reads only base item b."""
    shape = view.shape
    if len(shape) == 0 or shape[0] != batch or view.base_shape[0] != batch:
        return False
    item = torch.Size(view.base_shape[1:]).numel()
    owner = view.indices() // max(item, 1)
    return bool((owner == torch.arange(batch).reshape((batch,) + (1,) * (len(shape) - 1))).all())


def item_strides(view, batch):
    """(walk shape, strides, offset) when every batch item of the view reads its own base item as
    torch.as_strided would (offset + sum of coordinates times strides, strides >= 0) over the walk
    shape, which is the item shape with dimensions split where a merge of two strided ones asks
    (a transpose then a flatten: (N, h, d) for an item of (N, h * d)); else None."""
    shape = view.shape
    if len(shape) == 0 or shape[0] != batch or view.base_shape[0] != batch:
        return None
    idx = view.indices()
    item = torch.Size(view.base_shape[1:]).numel()
    local = idx - (torch.arange(batch) * item).reshape((batch,) + (1,) * (len(shape) - 1))
    if not bool(((local >= 0) & (local < item)).all()) or not bool((local == local[:1]).all()):
        return None  # an item reads another item's elements: the batch moved
    first = local[0]
    offset = int(first.flatten()[0]) if first.numel() else 0
    walk, strides = [], []
    for d, size in enumerate(first.shape):
        line = first[tuple(0 if k != d else slice(None) for k in range(first.dim()))] - offset
        factors = _factors(line)
        if factors is None:
            return None
        for size_f, stride_f in factors:
            walk.append(size_f)
            strides.append(stride_f)
    expected = torch.full(tuple(walk), offset, dtype=torch.long)
    for d, (size, stride) in enumerate(zip(walk, strides)):
        expected = expected + torch.arange(size).reshape((1,) * d + (size,) + (1,) * (len(walk) - d - 1)) * stride
    if not torch.equal(expected.reshape(first.shape), first):
        return None
    return tuple(walk), strides, offset


# The most dimensions one strided copy walks (kMaxRegionDims in engine/src/ops/layout/layout.cpp).
MAX_COPY_DIMS = 6


def copy_dims(walk, strides):
    """The dimensions the engine's strided copy walks for an as_strided of this walk shape and these
    strides (as layout.cpp's merged(): sizes of 1 dropped, neighbours stepping as one merged)."""
    dims = []
    for size, stride in zip(walk, strides):
        if size == 1:
            continue
        if dims and dims[-1][1] == stride * size:
            dims[-1] = (dims[-1][0] * size, stride)
        else:
            dims.append((size, stride))
    return max(len(dims), 1)


def _factors(line):
    """The sizes and strides, outermost first, whose nested walk visits `line` (offsets from its
    first element): [(n, s)] when it steps evenly, [(n / r, S), (r, s)] when it steps by s for
    runs of r, and so on; None where no such nesting fits or a stride is negative."""
    n = line.numel()
    if n <= 1:
        return [(max(n, 1), 0)]
    step = int(line[1] - line[0])
    run = 1
    while run < n and int(line[run] - line[run - 1]) == step:
        run += 1
    if run == n:
        return [(n, step)] if step >= 0 else None
    if n % run:
        return None
    outer = _factors(line[::run] - line[0])
    if outer is None or step < 0:
        return None
    return outer + [(run, step)]


def is_reshape_of_base(view):
    """Whether the view's elements are the base's in C order: then it is the base reshaped."""
    idx = view.indices()
    return idx.numel() == torch.Size(view.base_shape).numel() and torch.equal(idx.flatten(), torch.arange(idx.numel()))


def reshape_step(view, shape):
    return ("reshape", tuple(int(d) for d in shape))


def slice_step(shape, dim, start, end, stride):
    """A slice along dim with Python's clamping, as (\"slice\", dim, start, end, stride), start and end
    within [0, size]."""
    size = shape[dim]
    start, end, stride = slice(start, end, stride).indices(size)
    return ("slice", dim, start, max(start, end), stride)
