"""Layout as data: a View is an engine value seen through reshapes, permutes and slices.

The forward's layout calls (view, flatten, permute, transpose, chunk, x[:, 0], ...) are recorded
as steps, not written as nodes at once. When an op reads a view, the steps are composed on an
index tensor: a composition that only renames the layout (x.flatten(2).transpose(1, 2) and back)
costs nothing, one that is a reshape is one copy, and only the rest runs step by step. So a
sequence that moves the batch for a moment ((N, B, C) tokens) can still be exported when its
composition does not.
"""
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

    @property
    def shape(self):
        return tuple(apply(torch.empty(self.base_shape, device="meta"), self.steps).shape)

    def indices(self):
        """Where each element of the view comes from, as flat indices into the base."""
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
    """(item shape, strides, offset) when every batch item of the view reads its own base item as
    torch.as_strided would (offset + sum of coordinates times strides, strides >= 0), else None."""
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
    strides, expected = [], torch.full(first.shape, offset, dtype=torch.long)
    for d, size in enumerate(first.shape):
        unit = [0] * first.dim()
        if size > 1:
            unit[d] = 1
        stride = int(first[tuple(unit)]) - offset if size > 1 else 0
        if stride < 0:
            return None
        strides.append(stride)
        coords = torch.arange(size).reshape((1,) * d + (size,) + (1,) * (first.dim() - d - 1))
        expected = expected + coords * stride
    if not torch.equal(expected, first):
        return None
    return tuple(shape[1:]), strides, offset


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
