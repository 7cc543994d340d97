"""vkattn.nn.LocalSelfAttention as one local_self_attention node; when the forward asks for its
map (need_weights), the map becomes the node's second output."""
from ..nn import LocalSelfAttention  # noqa: F401 - what table.py maps to the handler below
from .table import AttentionMap


def module_local_self_attention(ctx, node, m, x, *args, **kwargs):
    need_weights = kwargs.get("need_weights", args[0] if args else False)
    b, _, h, w = x.shape
    weights = {"query.weight": m.query.weight, "key.weight": m.key.weight, "value.weight": m.value.weight,
               "rel_h": m.rel_h, "rel_w": m.rel_w}
    # The forward returns a tuple with the map, so the value's shape is given, not read off the node.
    y = ctx.net.emit("local_self_attention", [ctx.value(x)], (b, m.out_channels, h, w), node.name, name=node.target,
                     weights=weights, kernel_size=int(m.kernel_size), heads=int(m.heads))
    if not need_weights:
        return y
    k = m.kernel_size
    return (y, AttentionMap(ctx.net.nodes[-1], (h, w), ctx.net, (b, m.heads, h * w, k * k)))
