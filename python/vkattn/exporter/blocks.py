"""Known blocks kept whole: the SAGAN-style self-attention block and squeeze-and-excitation, found
by their parts and confirmed by what they compute (the module's own output on the traced input
against the block vkattn runs), so a module with the same parts that computes something else is
traced through instead, never mistaken for the block."""
import math

import torch
from torch import nn
from torch.nn import functional as F


def _close(a, b):
    return torch.is_tensor(a) and torch.is_tensor(b) and a.shape == b.shape and \
        torch.allclose(a.double(), b.double(), rtol=1e-4, atol=1e-5 * max(1.0, float(b.abs().max()) if b.numel() else 1))


def _tensors(value):
    if torch.is_tensor(value):
        return [value]
    items = value.values() if isinstance(value, dict) else value if isinstance(value, (tuple, list)) else []
    return [t for t in items if torch.is_tensor(t)]


def is_attention_block(m):
    return all(isinstance(getattr(m, p, None), nn.Conv2d) for p in ("query_conv", "key_conv", "value_conv")) and \
        torch.is_tensor(getattr(m, "gamma", None))


def similarity_of(m):
    return str(getattr(m, "similarity", "dot"))


def attention_reference(m, x):
    """(y, map) of vkattn's self_attention layer with m's weights, or None if m's settings are not
    the layer's."""
    if x.dim() != 4 or any(getattr(m, p).kernel_size != (1, 1) or getattr(m, p).groups != 1 or
                           getattr(m, p).padding_mode != "zeros" or getattr(m, p).stride != (1, 1)
                           for p in ("query_conv", "key_conv", "value_conv")):
        return None
    similarity = similarity_of(m)
    if similarity not in ("dot", "scaled_dot", "cosine", "additive") or torch.as_tensor(m.gamma).numel() != 1:
        return None
    b, c, h, w = x.shape
    q = m.query_conv(x).flatten(2).transpose(1, 2)
    k = m.key_conv(x).flatten(2).transpose(1, 2)
    v = m.value_conv(x).flatten(2)
    if v.shape[1] != c:
        return None
    scale = float(getattr(m, "scale", 1 / math.sqrt(q.shape[2]) if similarity == "scaled_dot" else 1.0))
    if similarity == "additive":
        u = getattr(m, "additive", None)
        if not isinstance(u, nn.Linear) or u.bias is not None or u.out_features != 1:
            return None
        s = u(torch.tanh(q[:, :, None, :] + k[:, None, :, :])).squeeze(-1)
    else:
        if similarity == "cosine":
            q, k = F.normalize(q, dim=2), F.normalize(k, dim=2)
        s = torch.bmm(q, k.transpose(1, 2))
    a = torch.softmax(scale * s, dim=-1)
    y = torch.as_tensor(m.gamma).reshape(()) * torch.bmm(v, a.transpose(1, 2)).reshape(b, c, h, w) + x
    return y, a


def is_squeeze_excitation(m):
    return isinstance(getattr(m, "fc1", None), nn.Conv2d) and isinstance(getattr(m, "fc2", None), nn.Conv2d)


def squeeze_excitation_reference(m, x):
    """vkattn's squeeze_excitation layer with m's weights: x * sigmoid(fc2(relu(fc1(mean))))."""
    if x.dim() != 4 or any(c.kernel_size != (1, 1) or c.groups != 1 or c.stride != (1, 1) or c.padding != (0, 0)
                           for c in (m.fc1, m.fc2)):
        return None
    s = torch.sigmoid(m.fc2(torch.relu(m.fc1(x.mean((2, 3), keepdim=True)))))
    return x * s


def confirmed(m, args, kwargs, output):
    """What a known block's call gives, as vkattn runs it: ("self_attention", y, map) or
    ("squeeze_excitation", y, None) when m is that block and its output is the block's on these
    arguments; else None."""
    if kwargs or len(args) != 1 or not torch.is_tensor(args[0]):
        return None
    x = args[0]
    for kind, test, reference in (("self_attention", is_attention_block, attention_reference),
                                  ("squeeze_excitation", is_squeeze_excitation, squeeze_excitation_reference)):
        if not test(m):
            continue
        with torch.no_grad():
            ref = reference(m, x)
        if ref is None:
            return None
        y, a = ref if isinstance(ref, tuple) else (ref, None)
        outs = _tensors(output)
        if not outs or not _close(outs[0], y):
            return None
        if any(not _close(t, y) and not (a is not None and _close(t, a)) for t in outs[1:]):
            return None
        return kind, y, a
    return None
